//! The one place every write goes through: it checks who may do what, parses the input into
//! core types, enforces the review workflow's rules and calls the store. The JSON API and the
//! HTML forms both call it, so the two can never disagree about a rule.
//!
//! Reads go through [`Service::incident`], which answers 404 for a restricted incident the
//! person may not see, so that its existence never leaks through a 403.

mod home;
mod items;

pub(crate) use home::Work;
pub(crate) use items::{FactorPatch, TimelinePatch, first_words};

use crate::api::visibility;
use crate::{ApiError, AppState, Settings};
use axum::http::StatusCode;
use postmortem_core::policy::{Facts, Requirement, add_business_days, status_after_reevaluation};
use postmortem_core::{
    ActionId, ActionItem, ActionKind, ActionStatus, Collector, CommentId, ContributingFactor,
    FactorId, Handle, Impact, IncidentFacts, IncidentId, IncidentKind, Markdown, Marker, Name,
    NewActionItem, NewIncident, NewTimelineEntry, Permission, Perspective, PostmortemStatus,
    Priority, ReviewComment, ReviewDecision, Role, SectionName, Severity, Source, Team, TeamName,
    TemplateName, Templates, TimelineEntry, Title, User, UserId, ValidationError, WebLink,
    dedup_names, missing_for_publication, parse_date, parse_instant,
};
use postmortem_store::{
    ActionUpdate, Actor, FactsOutcome, IncidentRecord, NewTeam, PostmortemStart, Reevaluation,
    SaveOutcome,
};
use serde::{Deserialize, Deserializer};
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The refusal of a write that needs the version the writer started from and came without.
fn if_match_required() -> ApiError {
    ApiError::new(
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
        "send `If-Match` with the ETag of the incident you started from (from GET /api/v1/incidents/{id}), so nobody's edits are overwritten",
    )
}

/// Optional text fields arrive from HTML forms as empty strings; both mean "not given".
fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Lets a JSON field be absent (leave as it is), `null` (clear it) or a value (set it).
fn double_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// The body of `POST /api/v1/incidents` and of the new-incident form.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Checkout returned 502s", "kind": "outage", "severity": "SEV2", "started_at": "2026-03-01T14:00:00+01:00", "services": ["checkout"], "teams": ["payments"], "impact": {"user_visible": true, "customer_minutes": 47}}))]
pub(crate) struct IncidentInput {
    /// One line, at most 200 characters.
    pub title: String,
    /// `outage`, `degradation`, `data_loss`, `security` or `near_miss`.
    pub kind: String,
    /// `SEV1` (worst) to `SEV4`.
    pub severity: String,
    /// RFC 3339 with an offset, such as `2026-03-01T14:00:00+01:00`.
    pub started_at: Option<String>,
    pub services: Option<Vec<String>>,
    pub teams: Option<Vec<String>>,
    /// `user_visible`, `customer_minutes`, `customers_affected`, `data_loss`, `manual_intervention`.
    #[schema(value_type = Option<Object>)]
    pub impact: Option<Impact>,
    /// Hidden from everyone but its members and admins; security incidents default to true.
    pub restricted: Option<bool>,
    /// `full`, `lightweight` or a template of `[[templates]]` in `postmortem.toml`; the
    /// policy chooses when absent.
    pub template: Option<String>,
}

impl IncidentInput {
    /// Parses every field, collecting every error so one answer lists all that is wrong.
    pub(crate) fn parse(
        self,
        severity_levels: u8,
        templates: &Templates,
    ) -> Result<NewIncident, Vec<ValidationError>> {
        let mut errors = Collector::default();
        let title = errors.ok(Title::parse(self.title));
        let kind = errors.ok(IncidentKind::parse(&self.kind));
        let severity = errors.ok(Severity::parse_in_scale(&self.severity, severity_levels));
        let started_at =
            given(&self.started_at).map(|raw| errors.ok(parse_instant("started_at", raw)));
        let services = parse_names("services", self.services.unwrap_or_default(), &mut errors);
        let teams = parse_names("teams", self.teams.unwrap_or_default(), &mut errors);
        let template = given(&self.template).map(|raw| errors.ok(TemplateName::parse(raw)));
        if let Some(Some(template)) = &template
            && templates.get(template).is_none()
        {
            errors.push(ValidationError::new(
                "template",
                format!(
                    "`{template}` is not a template here; use one of: {}",
                    templates.names()
                ),
            ));
        }
        match (title, kind, severity, errors.is_empty()) {
            (Some(title), Some(kind), Some(severity), true) => Ok(NewIncident {
                title,
                kind,
                severity,
                started_at: started_at.flatten(),
                services,
                teams,
                impact: self.impact.unwrap_or_default(),
                restricted: self
                    .restricted
                    .unwrap_or_else(|| NewIncident::restricted_by_default(kind)),
                // Replaced by the policy's template when the writer named none.
                template: template.flatten().unwrap_or_else(TemplateName::full),
            }),
            _ => Err(errors.into_errors()),
        }
    }
}

/// A change to an incident's impact; absent fields stay as they are.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImpactPatch {
    pub user_visible: Option<bool>,
    pub customer_minutes: Option<u32>,
    pub customers_affected: Option<u64>,
    pub data_loss: Option<bool>,
    pub manual_intervention: Option<bool>,
}

/// The body of `PATCH /api/v1/incidents/{id}`: the facts to correct. Absent fields stay as
/// they are; `started_at: null` removes the start.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FactsPatch {
    pub title: Option<String>,
    /// `outage`, `degradation`, `data_loss`, `security` or `near_miss`.
    pub kind: Option<String>,
    /// `SEV1` (worst) to `SEV4`.
    pub severity: Option<String>,
    /// RFC 3339 with an offset, or `null` to remove it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub started_at: Option<Option<String>>,
    /// Replaces the services as a whole.
    pub services: Option<Vec<String>>,
    /// Replaces the teams as a whole.
    pub teams: Option<Vec<String>>,
    pub impact: Option<ImpactPatch>,
    /// Only admins and the person who recorded the incident may change who can see it.
    pub restricted: Option<bool>,
}

fn parse_names(field: &str, raw: Vec<String>, errors: &mut Collector) -> Vec<Name> {
    let names = raw
        .into_iter()
        .enumerate()
        .filter_map(|(n, raw)| errors.ok(Name::parse_field(&format!("{field}[{n}]"), raw)))
        .collect();
    dedup_names(names)
}

impl FactsPatch {
    /// The facts after this change, or every error in it.
    fn apply(
        self,
        current: IncidentFacts,
        severity_levels: u8,
    ) -> Result<IncidentFacts, Vec<ValidationError>> {
        let mut errors = Collector::default();
        let mut facts = current;
        if let Some(title) = self.title.and_then(|raw| errors.ok(Title::parse(raw))) {
            facts.title = title;
        }
        if let Some(kind) = self
            .kind
            .and_then(|raw| errors.ok(IncidentKind::parse(&raw)))
        {
            facts.kind = kind;
        }
        if let Some(severity) = self
            .severity
            .and_then(|raw| errors.ok(Severity::parse_in_scale(&raw, severity_levels)))
        {
            facts.severity = severity;
        }
        match self.started_at.as_ref().map(given) {
            None => {}
            Some(None) => facts.started_at = None,
            Some(Some(raw)) => {
                if let Some(at) = errors.ok(parse_instant("started_at", raw)) {
                    facts.started_at = Some(at);
                }
            }
        }
        if let Some(raw) = self.services {
            facts.services = parse_names("services", raw, &mut errors);
        }
        if let Some(raw) = self.teams {
            facts.teams = parse_names("teams", raw, &mut errors);
        }
        if let Some(impact) = self.impact {
            let now = &mut facts.impact;
            now.user_visible = impact.user_visible.unwrap_or(now.user_visible);
            now.customer_minutes = impact.customer_minutes.unwrap_or(now.customer_minutes);
            now.customers_affected = impact.customers_affected.unwrap_or(now.customers_affected);
            now.data_loss = impact.data_loss.unwrap_or(now.data_loss);
            now.manual_intervention = impact
                .manual_intervention
                .unwrap_or(now.manual_intervention);
        }
        if let Some(restricted) = self.restricted {
            facts.restricted = restricted;
        }
        if errors.is_empty() {
            Ok(facts)
        } else {
            Err(errors.into_errors())
        }
    }
}

/// What became of a change to an incident's facts.
#[derive(Debug, Clone)]
pub(crate) enum FactsResult {
    /// Changed, and the policy re-evaluated: the incident as it is now.
    Updated(Box<IncidentRecord>),
    /// Nothing was changed because the incident moved on since the writer's version: the
    /// incident as it is now, to compare with.
    Stale(Box<IncidentRecord>),
}

/// A new timeline entry.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"at": "2026-03-01T14:05:00+01:00", "text": "Error rate alert fired for checkout", "marker": "detected", "source": "alert"}))]
pub(crate) struct TimelineInput {
    /// When it happened: RFC 3339 with an offset; a local time without one is refused.
    pub at: String,
    /// What happened, was seen or was believed, in Markdown.
    pub text: String,
    /// Who did it, if a person did.
    pub actor: Option<String>,
    /// `impact_start`, `detected`, `mitigated` or `resolved`.
    pub marker: Option<String>,
    /// `happened` (default), `observed` or `believed`.
    pub perspective: Option<String>,
    /// `manual` (default), `chat`, `alert`, `deploy` or `import`.
    pub source: Option<String>,
    pub source_url: Option<String>,
}

impl TimelineInput {
    fn parse(self) -> Result<NewTimelineEntry, Vec<ValidationError>> {
        let mut errors = Collector::default();
        let at = errors.ok(parse_instant("at", &self.at));
        let text = errors.ok(Markdown::parse_non_empty("text", self.text.clone()));
        let marker = given(&self.marker).and_then(|raw| errors.ok(Marker::parse(raw)));
        let perspective = given(&self.perspective).map_or(Some(Perspective::Happened), |raw| {
            errors.ok(Perspective::parse(raw))
        });
        let source =
            given(&self.source).map_or(Some(Source::Manual), |raw| errors.ok(Source::parse(raw)));
        let source_url = given(&self.source_url)
            .and_then(|raw| errors.ok(WebLink::parse_field("source_url", raw)));
        match (at, text, perspective, source, errors.is_empty()) {
            (Some(at), Some(text), Some(perspective), Some(source), true) => Ok(NewTimelineEntry {
                at,
                text,
                actor: given(&self.actor).map(str::to_owned),
                marker,
                perspective,
                source,
                source_url,
            }),
            _ => Err(errors.into_errors()),
        }
    }
}

/// A new contributing factor.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"category": "risky_default", "description": "The pool size default was sized for the old traffic", "is_trigger": false}))]
pub(crate) struct FactorInput {
    /// One of the taxonomy: `unclear_ownership`, `awkward_tooling`, `alerting`, `overload`,
    /// `confusing_interface`, `risky_default`, `hidden_dependency`, `outdated_docs`,
    /// `unrehearsed_path`, `insufficient_testing`, `capacity`, `change_management`,
    /// `communication`, `third_party`, `other`.
    pub category: String,
    pub description: String,
    /// The trigger is one factor among the conditions that let it bite. An incident has one
    /// trigger at most: while another factor is the trigger, this is refused unless
    /// `replace_trigger` is also `true`.
    pub is_trigger: Option<bool>,
    /// `true` makes this factor the trigger in place of the current one.
    pub replace_trigger: Option<bool>,
}

/// A new action item.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Raise the pool default", "due_on": "2026-04-01", "priority": "p2", "kind": "prevent"}))]
pub(crate) struct ActionInput {
    pub title: String,
    /// The owner's handle.
    pub owner: Option<String>,
    pub team: Option<String>,
    /// `YYYY-MM-DD`.
    pub due_on: Option<String>,
    /// `p1`, `p2` (default) or `p3`.
    pub priority: Option<String>,
    /// `prevent`, `detect`, `mitigate` or `process`.
    pub kind: String,
    /// `open` (default), `in_progress`, `done` or `wont_do`.
    pub status: Option<String>,
    /// Required with `wont_do`.
    pub wont_do_reason: Option<String>,
    pub external_url: Option<String>,
    /// Contributing factors of the same incident that this item addresses.
    pub factor_ids: Option<Vec<i64>>,
    /// How we will know it changed the system.
    pub verification: Option<String>,
}

/// A change to an action item; absent fields stay as they are, `null` clears owner or due date.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "in_progress", "due_on": "2026-04-15"}))]
pub(crate) struct ActionPatch {
    pub title: Option<String>,
    /// `prevent`, `detect`, `mitigate` or `process`.
    pub kind: Option<String>,
    /// `p1`, `p2` or `p3`.
    pub priority: Option<String>,
    /// `open`, `in_progress`, `done` (with a `verification`, given now or before) or
    /// `wont_do` (with a `wont_do_reason`).
    pub status: Option<String>,
    pub wont_do_reason: Option<String>,
    /// A handle, or `null` to leave the item without owner.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub owner: Option<Option<String>>,
    /// `YYYY-MM-DD`, or `null` to remove the due date.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub due_on: Option<Option<String>>,
    pub verification: Option<String>,
}

/// A move of the post-mortem through its lifecycle.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "draft"}))]
pub(crate) struct TransitionInput {
    /// The status to move to: `draft`, `in_review`, `changes_requested`, `approved`,
    /// `published`, `not_required` or `owed`.
    pub to: String,
    /// Handles of the reviewers asked to review; required for `in_review`.
    pub reviewers: Option<Vec<String>>,
    /// What the reviewer says; required for `not_required` (the reason).
    pub comment: Option<String>,
    /// When publishing: `true` publishes although the blameless-language checker still finds
    /// passages at `warning` or above in the sections; without it such a publish is refused.
    pub confirm_findings: Option<bool>,
}

/// A review comment anchored to a section.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"section": "summary", "body": "Say what customers saw first."}))]
pub(crate) struct CommentInput {
    /// A section of the incident's template, such as `summary`.
    pub section: String,
    /// Markdown.
    pub body: String,
}

/// One finding of the blameless-language checker in a written section.
#[derive(Debug, Clone)]
pub(crate) struct SectionFinding {
    pub section: SectionName,
    pub finding: postmortem_lint::Finding,
}

/// The names the checker always takes for people in this incident: whoever the timeline
/// says did something. Capitalised names are recognised anyway; this catches the lower-case
/// handles and nicknames that people type into "Who did it".
pub(crate) fn lint_participants(record: &IncidentRecord) -> Vec<String> {
    let mut names: Vec<String> = record
        .timeline
        .iter()
        .filter_map(|entry| entry.actor.as_deref().map(str::trim))
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The checker's findings at `warning` or above across the written sections, in template
/// order. The review area counts them and publishing asks for confirmation while any remain.
pub(crate) fn blame_findings(settings: &Settings, record: &IncidentRecord) -> Vec<SectionFinding> {
    let options = postmortem_lint::LintOptions {
        participants: lint_participants(record),
        config: settings.lint.clone(),
    };
    let template = settings.templates.resolve(&record.postmortem.template);
    let mut found = Vec::new();
    for section in &template.sections {
        let Some(written) = record.postmortem.sections.get(&section.name) else {
            continue;
        };
        found.extend(
            postmortem_lint::lint(written.body.as_str(), &options)
                .into_iter()
                .filter(|f| f.severity >= postmortem_lint::Severity::Warning)
                .map(|finding| SectionFinding {
                    section: section.name.clone(),
                    finding,
                }),
        );
    }
    found
}

/// The body of `POST /api/v1/teams` and of the new-team form.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TeamInput {
    /// The slug: lowercase letters, digits and single `-`, such as `site-reliability`. It is
    /// the name incidents use in `teams`.
    pub name: String,
    /// The name shown to people, such as `Site Reliability`.
    pub display_name: String,
}

/// The body of `PATCH /api/v1/users/{handle}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleInput {
    /// `viewer`, `contributor`, `reviewer` or `admin`.
    pub role: String,
}

/// A section someone else saved after the writer's base version, with who saved it.
#[derive(Debug, Clone)]
pub(crate) struct Conflict {
    pub section: SectionName,
    pub current_text: String,
    pub current_version: i64,
    pub updated_by: Option<User>,
}

/// What became of a save of sections.
#[derive(Debug, Clone)]
pub(crate) enum SaveResult {
    Saved {
        version: i64,
    },
    Refused {
        current_version: i64,
        conflicts: Vec<Conflict>,
    },
}

/// Where a post-mortem stands after a transition.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Transitioned {
    pub status: PostmortemStatus,
    pub version: i64,
}

/// Who may change an action item: admins always; otherwise a person with a writing role who
/// owns the item, recorded the incident, last wrote one of its sections, added a timeline
/// entry, or was asked to review it. Everyone else may read the item but not change it,
/// whatever their role.
pub(crate) fn may_edit_action(user: &User, record: &IncidentRecord, action: &ActionItem) -> bool {
    if user.role.is_admin() {
        return true;
    }
    let me = Some(user.id);
    user.role.can_write()
        && (action.owner == me
            || record.incident.created_by == user.id
            || record
                .postmortem
                .sections
                .values()
                .any(|s| s.updated_by == me)
            || record.timeline.iter().any(|e| e.author == user.id)
            || record.reviews.iter().any(|r| r.reviewer == user.id))
}

/// The service acting for one signed-in person.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Service<'a> {
    state: &'a AppState,
    user: &'a User,
}

impl<'a> Service<'a> {
    pub(crate) fn new(state: &'a AppState, user: &'a User) -> Self {
        Self { state, user }
    }

    fn actor(&self) -> Actor {
        Actor::user(self.user.id)
    }

    /// The one role check: whether the person's role has `permission` (the table in
    /// [`Permission::least_role`] and the README), else 403 naming what was refused.
    fn require(&self, permission: Permission, what: &str) -> Result<(), ApiError> {
        if self.user.role.may(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(what))
        }
    }

    /// The whole incident, or 404 when it does not exist or the person may not see it.
    pub(crate) async fn incident(&self, id: IncidentId) -> Result<IncidentRecord, ApiError> {
        self.state
            .store
            .incident(id, visibility(self.user))
            .await?
            .ok_or_else(|| ApiError::not_found("incident"))
    }

    /// Records an incident; the policy decides whether a post-mortem is owed and its template.
    pub(crate) async fn create_incident(
        &self,
        input: IncidentInput,
    ) -> Result<IncidentRecord, ApiError> {
        self.require(Permission::Write, "record incidents")?;
        let named_template = given(&input.template).is_some();
        let mut new = input
            .parse(
                self.state.settings.severity_levels,
                &self.state.settings.templates,
            )
            .map_err(ApiError::invalid)?;
        let decision = self.state.settings.policy.decide(&Facts {
            kind: new.kind,
            severity: new.severity,
            impact: new.impact,
        });
        if !named_template {
            new.template = decision.template.clone();
        }
        let today = self
            .state
            .settings
            .policy
            .today(time::OffsetDateTime::now_utc());
        let start = match decision.decision {
            Requirement::Required => PostmortemStart {
                status: PostmortemStatus::Owed,
                due_on: decision
                    .due_business_days
                    .map(|days| add_business_days(today, days)),
            },
            Requirement::Recommended | Requirement::NotRequired => PostmortemStart {
                status: PostmortemStatus::NotRequired,
                due_on: None,
            },
        };
        let id = self
            .state
            .store
            .create_incident_decided(
                self.actor(),
                new,
                start,
                decision.decision,
                decision.reasons,
            )
            .await?;
        self.state
            .store
            .incident(id, visibility(self.user))
            .await?
            .ok_or_else(|| ApiError::internal("a created incident could not be read back"))
    }

    /// Corrects an incident's facts against the version the writer started from (required, as
    /// for sections), then re-evaluates the policy on the new facts and stores its decision
    /// and reasons with them, moving the post-mortem as
    /// [`postmortem_core::policy::status_after_reevaluation`] says.
    pub(crate) async fn update_facts(
        &self,
        id: IncidentId,
        base_version: Option<i64>,
        patch: FactsPatch,
    ) -> Result<FactsResult, ApiError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "change an incident's facts")?;
        let Some(base_version) = base_version else {
            return Err(if_match_required());
        };
        if patch
            .restricted
            .is_some_and(|r| r != record.incident.restricted)
            && !self.user.role.is_admin()
            && record.incident.created_by != self.user.id
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "only admins and the person who recorded the incident may change who can see it",
            ));
        }
        let facts = patch
            .apply(record.incident.facts(), self.state.settings.severity_levels)
            .map_err(ApiError::invalid)?;
        let decision = self.state.settings.policy.decide(&Facts {
            kind: facts.kind,
            severity: facts.severity,
            impact: facts.impact,
        });
        let status = record.postmortem.status;
        let waived = status == PostmortemStatus::NotRequired && self.waived(id).await?;
        let written = record
            .postmortem
            .sections
            .values()
            .any(|s| !s.body.is_blank());
        let moved = status_after_reevaluation(status, decision.decision, waived, written);
        let postmortem = moved.map(|to| {
            let today = self
                .state
                .settings
                .policy
                .today(time::OffsetDateTime::now_utc());
            let start = PostmortemStart {
                status: to,
                due_on: (to == PostmortemStatus::Owed)
                    .then(|| {
                        decision
                            .due_business_days
                            .map(|d| add_business_days(today, d))
                    })
                    .flatten(),
            };
            // Nothing is written yet when a post-mortem becomes owed, so it may as well
            // follow the template the policy now asks for.
            let template = if to == PostmortemStatus::Owed {
                decision.template.clone()
            } else {
                record.postmortem.template.clone()
            };
            (start, template)
        });
        let reevaluation = Reevaluation {
            decision: decision.decision,
            reasons: decision.reasons,
            postmortem,
        };
        let outcome = self
            .state
            .store
            .update_facts(self.actor(), id, base_version, facts, reevaluation)
            .await?;
        let now = self.incident(id).await?;
        Ok(match outcome {
            FactsOutcome::Updated { .. } => FactsResult::Updated(Box::new(now)),
            FactsOutcome::Stale { .. } => FactsResult::Stale(Box::new(now)),
        })
    }

    /// Whether the post-mortem is `not_required` because a reviewer said so: the last move
    /// a person made was to `not_required` (the policy's own moves are audited apart).
    async fn waived(&self, id: IncidentId) -> Result<bool, ApiError> {
        let events = self.state.store.audit_events(Some(id), 10_000).await?;
        Ok(events
            .iter()
            .find(|e| e.action == "postmortem.transition")
            .is_some_and(|e| {
                e.details["after"]["status"] == PostmortemStatus::NotRequired.as_str()
            }))
    }

    /// Saves sections against the incident version the writer started from, which is
    /// required: a save without one could silently overwrite someone. Sections
    /// someone else changed since are not overwritten: the whole save is refused and the
    /// current texts come back, so the writer can merge by hand.
    pub(crate) async fn save_sections(
        &self,
        id: IncidentId,
        base_version: Option<i64>,
        sections: BTreeMap<String, String>,
    ) -> Result<SaveResult, ApiError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "write post-mortems")?;
        let Some(base_version) = base_version else {
            return Err(if_match_required());
        };
        let template = self
            .state
            .settings
            .templates
            .resolve(&record.postmortem.template);
        let valid: Vec<&str> = template.sections.iter().map(|s| s.name.as_str()).collect();
        let mut errors = Collector::default();
        if sections.is_empty() {
            errors.push(ValidationError::new(
                "sections",
                "name at least one section to save",
            ));
        }
        let mut updates = Vec::new();
        for (raw_name, body) in sections {
            let field = format!("sections.{raw_name}");
            let name = SectionName::parse(&raw_name)
                .ok()
                .filter(|name| valid.contains(&name.as_str()));
            let Some(name) = name else {
                errors.push(ValidationError::new(
                    field,
                    format!(
                        "`{raw_name}` is not a section of the `{}` template; its sections are: {}",
                        template.name,
                        valid.join(", ")
                    ),
                ));
                continue;
            };
            if let Some(body) = errors.ok(Markdown::parse_field(&field, body)) {
                updates.push((name, body));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::invalid(errors.into_errors()));
        }
        match self
            .state
            .store
            .save_sections(self.actor(), id, base_version, updates)
            .await?
        {
            SaveOutcome::Saved { mut version } => {
                // Writing starts the draft of an owed post-mortem, and any change to an
                // approved one sends it back to draft, so an approval always covers the text
                // that gets published.
                let status = record.postmortem.status;
                if matches!(status, PostmortemStatus::Owed | PostmortemStatus::Approved) {
                    let note = format!("sections edited while `{status}`");
                    version = self
                        .state
                        .store
                        .set_status(self.actor(), id, PostmortemStatus::Draft, Some(note))
                        .await?;
                }
                Ok(SaveResult::Saved { version })
            }
            SaveOutcome::Conflict {
                current_version,
                sections,
            } => {
                let mut conflicts = Vec::with_capacity(sections.len());
                for section in sections {
                    let updated_by = match section.updated_by {
                        Some(user_id) => self.state.store.user(user_id).await?,
                        None => None,
                    };
                    conflicts.push(Conflict {
                        section: section.name,
                        current_text: section.current_body,
                        current_version: section.current_version,
                        updated_by,
                    });
                }
                Ok(SaveResult::Refused {
                    current_version,
                    conflicts,
                })
            }
        }
    }

    pub(crate) async fn add_timeline_entry(
        &self,
        id: IncidentId,
        input: TimelineInput,
    ) -> Result<TimelineEntry, ApiError> {
        self.incident(id).await?;
        self.require(Permission::Write, "add to the timeline")?;
        let entry = input.parse().map_err(ApiError::invalid)?;
        Ok(self
            .state
            .store
            .add_timeline_entry(self.actor(), id, entry)
            .await?)
    }

    pub(crate) async fn add_factor(
        &self,
        id: IncidentId,
        input: FactorInput,
    ) -> Result<ContributingFactor, ApiError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "add contributing factors")?;
        let factor = items::parse_factor(&record, None, input)?;
        Ok(self
            .state
            .store
            .add_factor(self.actor(), id, factor)
            .await?)
    }

    /// Finds a person by handle for a field that names one.
    async fn person(&self, field: &str, raw: &str) -> Result<User, ValidationError> {
        let handle = Handle::parse(raw).map_err(|e| ValidationError::new(field, e.rule()))?;
        match self.state.store.user_by_handle(&handle).await {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(ValidationError::new(
                field,
                format!("nobody has the handle `{handle}`"),
            )),
            Err(error) => {
                tracing::error!(%error, "looking up a handle failed");
                Err(ValidationError::new(
                    field,
                    "could not be looked up; try again",
                ))
            }
        }
    }

    pub(crate) async fn add_action(
        &self,
        id: IncidentId,
        input: ActionInput,
    ) -> Result<ActionItem, ApiError> {
        self.incident(id).await?;
        self.require(Permission::Write, "add action items")?;
        let mut errors = Collector::default();
        let title = errors.ok(Title::parse_field("title", input.title.clone()));
        let owner = match given(&input.owner) {
            Some(raw) => errors.ok(self.person("owner", raw).await).map(|u| u.id),
            None => None,
        };
        let team = given(&input.team).and_then(|raw| errors.ok(Name::parse_field("team", raw)));
        let due_on = given(&input.due_on).and_then(|raw| errors.ok(parse_date("due_on", raw)));
        let priority = given(&input.priority)
            .map_or(Some(Priority::P2), |raw| errors.ok(Priority::parse(raw)));
        let kind = errors.ok(ActionKind::parse(&input.kind));
        let status = given(&input.status).map_or(Some(ActionStatus::Open), |raw| {
            errors.ok(ActionStatus::parse(raw))
        });
        let external_url = given(&input.external_url)
            .and_then(|raw| errors.ok(WebLink::parse_field("external_url", raw)));
        let (Some(title), Some(priority), Some(kind), Some(status), true) =
            (title, priority, kind, status, errors.is_empty())
        else {
            return Err(ApiError::invalid(errors.into_errors()));
        };
        let action = NewActionItem {
            title,
            owner,
            team,
            due_on,
            priority,
            kind,
            status,
            wont_do_reason: given(&input.wont_do_reason).map(str::to_owned),
            external_url,
            factor_ids: input
                .factor_ids
                .unwrap_or_default()
                .into_iter()
                .map(FactorId::new)
                .collect(),
            verification: given(&input.verification).map(str::to_owned),
        };
        action.check()?;
        Ok(self
            .state
            .store
            .add_action(self.actor(), id, action)
            .await?)
    }

    pub(crate) async fn update_action(
        &self,
        action_id: ActionId,
        patch: ActionPatch,
    ) -> Result<ActionItem, ApiError> {
        let (existing, _) = self.editable_action(action_id).await?;
        let mut errors = Collector::default();
        let title = given(&patch.title).and_then(|raw| errors.ok(Title::parse_field("title", raw)));
        if patch.title.is_some() && given(&patch.title).is_none() {
            errors.push(ValidationError::new(
                "title",
                "must not be empty: say what will change",
            ));
        }
        let kind = given(&patch.kind).and_then(|raw| errors.ok(ActionKind::parse(raw)));
        let priority = given(&patch.priority).and_then(|raw| errors.ok(Priority::parse(raw)));
        let status = given(&patch.status).and_then(|raw| errors.ok(ActionStatus::parse(raw)));
        let verification = given(&patch.verification).map(str::to_owned);
        if status == Some(ActionStatus::Done)
            && existing.status != ActionStatus::Done
            && verification.is_none()
            && existing.verification.is_none()
        {
            errors.push(ValidationError::new(
                "verification",
                "is needed to mark the item done: how do we know it changed the system?",
            ));
        }
        let owner = match &patch.owner {
            None => None,
            Some(raw) => match given(raw) {
                None => Some(None),
                Some(raw) => errors
                    .ok(self.person("owner", raw).await)
                    .map(|user| Some(user.id)),
            },
        };
        let due_on = match &patch.due_on {
            None => None,
            Some(raw) => match given(raw) {
                None => Some(None),
                Some(raw) => errors.ok(parse_date("due_on", raw)).map(Some),
            },
        };
        if !errors.is_empty() {
            return Err(ApiError::invalid(errors.into_errors()));
        }
        let update = ActionUpdate {
            title,
            kind,
            priority,
            status,
            wont_do_reason: given(&patch.wont_do_reason).map(str::to_owned),
            owner,
            due_on,
            verification,
        };
        Ok(self
            .state
            .store
            .update_action(self.actor(), action_id, update)
            .await?)
    }

    /// Moves the post-mortem through its lifecycle, enforcing the review workflow: who may
    /// make which move, which reviewers are asked, and what publishing requires.
    pub(crate) async fn transition(
        &self,
        id: IncidentId,
        input: TransitionInput,
    ) -> Result<Transitioned, ApiError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "change a post-mortem's status")?;
        let to = PostmortemStatus::parse(&input.to).map_err(ApiError::from)?;
        let from = record.postmortem.status;
        from.transition(to).map_err(|error| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "illegal_transition",
                error.to_string(),
            )
        })?;
        let comment = given(&input.comment).map(str::to_owned);
        let store = &self.state.store;
        match to {
            PostmortemStatus::InReview => {
                let reviewers = self.reviewers(input.reviewers.unwrap_or_default()).await?;
                for reviewer in &reviewers {
                    store
                        .set_review(
                            self.actor(),
                            id,
                            reviewer.id,
                            ReviewDecision::Requested,
                            None,
                        )
                        .await?;
                }
            }
            PostmortemStatus::Approved => {
                self.require(Permission::Review, "approve post-mortems")?;
                store
                    .set_review(
                        self.actor(),
                        id,
                        self.user.id,
                        ReviewDecision::Approved,
                        comment.clone(),
                    )
                    .await?;
            }
            PostmortemStatus::ChangesRequested => {
                self.require(Permission::Review, "request changes")?;
                store
                    .set_review(
                        self.actor(),
                        id,
                        self.user.id,
                        ReviewDecision::ChangesRequested,
                        comment.clone(),
                    )
                    .await?;
            }
            PostmortemStatus::NotRequired => {
                self.require(Permission::Review, "waive a post-mortem")?;
                if comment.is_none() {
                    return Err(ValidationError::new(
                        "comment",
                        "say why no post-mortem is needed; the reason is kept in the audit log",
                    )
                    .into());
                }
            }
            PostmortemStatus::Published => {
                let mut missing: Vec<serde_json::Value> = Vec::new();
                if !record
                    .reviews
                    .iter()
                    .any(|r| r.decision == ReviewDecision::Approved)
                {
                    missing.push(json!({"code": "no_approval", "message": "no reviewer has approved this post-mortem yet"}));
                }
                let incomplete = missing_for_publication(
                    self.state
                        .settings
                        .templates
                        .resolve(&record.postmortem.template),
                    &record.postmortem,
                    &record.timeline,
                    &record.factors,
                    &record.actions,
                );
                missing.extend(
                    incomplete
                        .iter()
                        .map(|m| json!({"code": m.code, "message": m.message})),
                );
                if !missing.is_empty() {
                    let message = format!(
                        "the post-mortem is not ready to publish: {}",
                        missing
                            .iter()
                            .filter_map(|m| m["message"].as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    );
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "incomplete",
                        message,
                    )
                    .with_details(serde_json::Value::Array(missing)));
                }
                // Blame in a published post-mortem is hard to take back, so publishing over
                // the checker's warnings is a decision someone makes on purpose.
                let findings = blame_findings(&self.state.settings, &record);
                if !findings.is_empty() && input.confirm_findings != Some(true) {
                    let details: Vec<serde_json::Value> = findings
                        .iter()
                        .map(|SectionFinding { section, finding }| {
                            json!({
                                "code": "blame_language",
                                "section": section,
                                "line": finding.line,
                                "column": finding.column,
                                "rule": finding.rule,
                                "severity": finding.severity,
                                "message": format!(
                                    "{}, line {}:{}: {} {}",
                                    section.as_str().replace('_', " "),
                                    finding.line,
                                    finding.column,
                                    finding.message,
                                    finding.suggestion
                                ),
                            })
                        })
                        .collect();
                    let count = findings.len();
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "unconfirmed_findings",
                        format!(
                            "the blameless-language checker still finds {count} passage{} that may read as blame; rewrite {} in the editor, or confirm that you publish as it is (`confirm_findings`)",
                            if count == 1 { "" } else { "s" },
                            if count == 1 { "it" } else { "them" },
                        ),
                    )
                    .with_details(serde_json::Value::Array(details)));
                }
            }
            PostmortemStatus::Draft | PostmortemStatus::Owed => {}
        }
        let version = store.set_status(self.actor(), id, to, comment).await?;
        Ok(Transitioned {
            status: to,
            version,
        })
    }

    /// The people asked to review: at least one, each with the reviewer or admin role.
    async fn reviewers(&self, handles: Vec<String>) -> Result<Vec<User>, ApiError> {
        let handles: Vec<String> = handles
            .into_iter()
            .filter(|h| !h.trim().is_empty())
            .collect();
        if handles.is_empty() {
            return Err(ValidationError::new(
                "reviewers",
                "name at least one reviewer (a person with the reviewer or admin role)",
            )
            .into());
        }
        let mut errors = Collector::default();
        let mut reviewers: Vec<User> = Vec::new();
        for (n, raw) in handles.iter().enumerate() {
            let field = format!("reviewers[{n}]");
            let Some(user) = errors.ok(self.person(&field, raw).await) else {
                continue;
            };
            if !user.role.can_review() {
                errors.push(ValidationError::new(
                    field,
                    format!(
                        "`{}` is a {}; reviewers need the reviewer or admin role",
                        user.handle, user.role
                    ),
                ));
            } else if !reviewers.iter().any(|r| r.id == user.id) {
                reviewers.push(user);
            }
        }
        if errors.is_empty() {
            Ok(reviewers)
        } else {
            Err(ApiError::invalid(errors.into_errors()))
        }
    }

    pub(crate) async fn add_comment(
        &self,
        id: IncidentId,
        input: CommentInput,
    ) -> Result<ReviewComment, ApiError> {
        let record = self.incident(id).await?;
        self.require(Permission::Review, "comment on a review")?;
        let template = self
            .state
            .settings
            .templates
            .resolve(&record.postmortem.template);
        let mut errors = Collector::default();
        let section = SectionName::parse(&input.section)
            .ok()
            .filter(|name| template.sections.iter().any(|s| &s.name == name));
        if section.is_none() {
            let valid: Vec<&str> = template.sections.iter().map(|s| s.name.as_str()).collect();
            errors.push(ValidationError::new(
                "section",
                format!(
                    "`{}` is not a section of the `{}` template; its sections are: {}",
                    input.section.trim(),
                    template.name,
                    valid.join(", ")
                ),
            ));
        }
        let body = errors.ok(Markdown::parse_non_empty("body", input.body));
        let (Some(section), Some(body)) = (section, body) else {
            return Err(ApiError::invalid(errors.into_errors()));
        };
        Ok(self
            .state
            .store
            .add_comment(self.actor(), id, section, body)
            .await?)
    }

    pub(crate) async fn resolve_comment(
        &self,
        id: IncidentId,
        comment_id: CommentId,
    ) -> Result<(), ApiError> {
        self.incident(id).await?;
        self.require(Permission::Write, "resolve review comments")?;
        Ok(self
            .state
            .store
            .resolve_comment(self.actor(), id, comment_id)
            .await?)
    }

    /// Whether the person may name or un-name people on the incident: admins, and its
    /// members (recorder, named people, members of its teams) whose role may write.
    pub(crate) async fn may_manage_members(
        &self,
        record: &IncidentRecord,
    ) -> Result<bool, ApiError> {
        if self.user.role.may(Permission::SeeEverything) {
            return Ok(true);
        }
        Ok(self.user.role.may(Permission::ManageIncidentMembers)
            && self
                .state
                .store
                .is_incident_member(record.incident.id, self.user.id)
                .await?)
    }

    /// Names a person on an incident (or takes them off), so that they may see it while it
    /// is restricted. Returns the incident's new version.
    pub(crate) async fn set_incident_member(
        &self,
        id: IncidentId,
        handle: &str,
        named: bool,
    ) -> Result<i64, ApiError> {
        let record = self.incident(id).await?;
        if !self.may_manage_members(&record).await? {
            return Err(ApiError::forbidden(
                "change who is named on this incident; that needs the contributor role and membership of the incident, or the admin role",
            ));
        }
        let person = self.person_in_path(handle).await?;
        let store = &self.state.store;
        Ok(if named {
            store
                .add_incident_member(self.actor(), id, person.id)
                .await?
        } else {
            store
                .remove_incident_member(self.actor(), id, person.id)
                .await?
        })
    }

    /// A person named in a URL: 404 when nobody has the handle.
    async fn person_in_path(&self, raw: &str) -> Result<User, ApiError> {
        let handle = Handle::parse(raw).map_err(|_| ApiError::not_found("person"))?;
        self.state
            .store
            .user_by_handle(&handle)
            .await?
            .ok_or_else(|| ApiError::not_found("person"))
    }

    /// A team named in a URL with its members: 404 when there is no such team.
    pub(crate) async fn team(&self, raw: &str) -> Result<(Team, Vec<User>), ApiError> {
        self.require(Permission::Read, "see teams")?;
        let name = TeamName::parse(raw).map_err(|_| ApiError::not_found("team"))?;
        let team = self
            .state
            .store
            .team(&name)
            .await?
            .ok_or_else(|| ApiError::not_found("team"))?;
        let members = self.state.store.team_members(&name).await?;
        Ok((team, members))
    }

    pub(crate) async fn teams(&self) -> Result<Vec<Team>, ApiError> {
        self.require(Permission::Read, "see teams")?;
        Ok(self.state.store.teams().await?)
    }

    pub(crate) async fn create_team(&self, input: TeamInput) -> Result<Team, ApiError> {
        self.require(Permission::ManageTeams, "create teams")?;
        let mut errors = Collector::default();
        let name = errors.ok(TeamName::parse(&input.name));
        let display_name = errors.ok(postmortem_core::DisplayName::parse(&input.display_name)
            .map_err(|e| ValidationError::new("display_name", e.rule())));
        let (Some(name), Some(display_name)) = (name, display_name) else {
            return Err(ApiError::invalid(errors.into_errors()));
        };
        Ok(self
            .state
            .store
            .create_team(self.actor(), NewTeam { name, display_name })
            .await?)
    }

    /// Adds a person to a team, or takes them out of it.
    pub(crate) async fn set_team_member(
        &self,
        team: &str,
        handle: &str,
        member: bool,
    ) -> Result<(), ApiError> {
        self.require(Permission::ManageTeams, "change who is in a team")?;
        let (team, _) = self.team(team).await?;
        let person = self.person_in_path(handle).await?;
        let store = &self.state.store;
        if member {
            store
                .add_team_member(self.actor(), &team.name, person.id)
                .await?;
        } else {
            store
                .remove_team_member(self.actor(), &team.name, person.id)
                .await?;
        }
        Ok(())
    }

    /// Everyone with an account, by handle, for admins managing roles.
    pub(crate) async fn users(&self) -> Result<Vec<User>, ApiError> {
        self.require(Permission::ManagePeople, "list people and their roles")?;
        Ok(self.state.store.users().await?)
    }

    /// Gives a person another role; the store refuses to leave nobody an admin.
    pub(crate) async fn set_role(&self, handle: &str, input: RoleInput) -> Result<User, ApiError> {
        self.require(Permission::ManagePeople, "change roles")?;
        let person = self.person_in_path(handle).await?;
        let role = Role::parse(&input.role)?;
        Ok(self
            .state
            .store
            .set_role(self.actor(), person.id, role)
            .await?)
    }

    /// Everyone with an account, by id, to show names instead of numbers and to offer owners
    /// and reviewers to choose from.
    pub(crate) async fn people(&self) -> Result<BTreeMap<UserId, User>, ApiError> {
        Ok(self
            .state
            .store
            .users()
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect())
    }
}
