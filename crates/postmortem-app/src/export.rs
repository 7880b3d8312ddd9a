//! Stored incidents as Markdown documents: an [`IncidentRecord`] becomes a
//! [`postmortem_markdown::Document`] with people named by handle, for `GET
//! /api/v1/incidents/{id}/markdown` and `postmortem export` alike.

use postmortem_core::{
    BundleAction, BundleReview, BundleSection, BundleTimelineEntry, Handle, IncidentBundle,
    NewActionItem, NewFactor, NewIncident, NewTimelineEntry, User, UserId,
};
use postmortem_markdown::{Document, Person, PolicyNote};
use postmortem_store::{IncidentRecord, Store, StoreError};
use std::collections::HashMap;

/// Everyone with an account, by id: whom a record's ids name.
#[derive(Debug, Clone, Default)]
pub struct People {
    by_id: HashMap<UserId, User>,
}

impl People {
    /// Reads every person once; an export of many incidents shares it.
    pub async fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let by_id = store
            .users()
            .await?
            .into_iter()
            .map(|user| (user.id, user))
            .collect();
        Ok(Self { by_id })
    }

    fn handle(&self, id: UserId) -> Handle {
        self.by_id.get(&id).map_or_else(
            || Handle::parse("unknown").expect("a valid handle"),
            |user| user.handle.clone(),
        )
    }

    /// Everyone as the external version names them: by a role, never by name.
    pub fn as_roles(&self) -> Vec<Person> {
        self.with_roles(|_| "an engineer")
    }

    fn with_roles(&self, role_of: impl Fn(UserId) -> &'static str) -> Vec<Person> {
        let mut people: Vec<Person> = self
            .by_id
            .values()
            .map(|user| Person {
                handle: Some(user.handle.clone()),
                name: user.display_name.to_string(),
                role: role_of(user.id).to_owned(),
            })
            .collect();
        people.sort_by(|a, b| a.handle.cmp(&b.handle));
        people
    }

    /// Everyone as the external version of `record` names them: whoever recorded it or wrote
    /// its timeline as "an on-call engineer", its reviewers as "a reviewer", anyone else as
    /// "an engineer"; and the timeline's free-text actors, who have no account, as "a
    /// responder".
    pub fn roles_on(&self, record: &IncidentRecord) -> Vec<Person> {
        let on_call: std::collections::HashSet<UserId> = record
            .timeline
            .iter()
            .map(|entry| entry.author)
            .chain([record.incident.created_by])
            .collect();
        let mut people = self.with_roles(|id| {
            if on_call.contains(&id) {
                "an on-call engineer"
            } else if record.reviews.iter().any(|review| review.reviewer == id) {
                "a reviewer"
            } else {
                "an engineer"
            }
        });
        let mut actors: Vec<String> = record
            .timeline
            .iter()
            .filter_map(|entry| entry.actor.clone())
            .filter(|actor| !actor.trim().is_empty())
            .collect();
        actors.sort();
        actors.dedup();
        people.extend(actors.into_iter().map(|name| Person {
            handle: None,
            name,
            role: "a responder".to_owned(),
        }));
        people
    }
}

/// The document of a stored incident. The record must already be one the reader may see.
pub fn document_of(record: &IncidentRecord, people: &People) -> Document {
    let incident = &record.incident;
    let postmortem = &record.postmortem;
    let factor_index: HashMap<_, _> = record
        .factors
        .iter()
        .enumerate()
        .map(|(index, factor)| (factor.id, index))
        .collect();
    let bundle = IncidentBundle {
        incident: NewIncident {
            title: incident.title.clone(),
            kind: incident.kind,
            severity: incident.severity,
            started_at: incident.started_at,
            services: incident.services.clone(),
            teams: incident.teams.clone(),
            impact: incident.impact,
            restricted: incident.restricted,
            template: postmortem.template.clone(),
        },
        created_by: people.handle(incident.created_by),
        created_at: incident.created_at,
        status: postmortem.status,
        due_on: postmortem.due_on,
        // The record does not carry when it was first published.
        published_at: None,
        sections: postmortem
            .sections
            .values()
            .filter(|section| !section.body.is_blank())
            .map(|section| BundleSection {
                name: section.name.clone(),
                body: section.body.clone(),
                updated_by: people.handle(section.updated_by.unwrap_or(incident.created_by)),
            })
            .collect(),
        timeline: record
            .timeline
            .iter()
            .map(|entry| BundleTimelineEntry {
                author: people.handle(entry.author),
                entry: NewTimelineEntry {
                    at: entry.at,
                    text: entry.text.clone(),
                    actor: entry.actor.clone(),
                    marker: entry.marker,
                    perspective: entry.perspective,
                    source: entry.source,
                    source_url: entry.source_url.clone(),
                },
            })
            .collect(),
        factors: record
            .factors
            .iter()
            .map(|factor| NewFactor {
                category: factor.category,
                description: factor.description.clone(),
                is_trigger: factor.is_trigger,
            })
            .collect(),
        actions: record
            .actions
            .iter()
            .map(|action| BundleAction {
                owner: action.owner.map(|id| people.handle(id)),
                factor_indexes: action
                    .factor_ids
                    .iter()
                    .filter_map(|id| factor_index.get(id).copied())
                    .collect(),
                item: NewActionItem {
                    title: action.title.clone(),
                    owner: None,
                    team: action.team.clone(),
                    due_on: action.due_on,
                    priority: action.priority,
                    kind: action.kind,
                    status: action.status,
                    wont_do_reason: action.wont_do_reason.clone(),
                    external_url: action.external_url.clone(),
                    factor_ids: Vec::new(),
                    verification: action.verification.clone(),
                },
                completed_at: action.completed_at,
            })
            .collect(),
        reviews: record
            .reviews
            .iter()
            .map(|review| BundleReview {
                reviewer: people.handle(review.reviewer),
                decision: review.decision,
                comment: review.comment.clone(),
            })
            .collect(),
    };
    Document {
        id: Some(incident.id),
        version: Some(incident.version),
        bundle,
        policy: record.decision.as_ref().map(|decision| PolicyNote {
            decision: decision.decision,
            reasons: decision.reasons.clone(),
        }),
        members: record.members.iter().map(|id| people.handle(*id)).collect(),
        imported_from: None,
    }
}
