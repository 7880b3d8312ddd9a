//! What changed before an incident: the deploys its services received in the hours before it
//! started, as deploy tools reported them, and adding one to the timeline (once).

use crate::{AppError, Service};
use postmortem_core::{
    IncidentId, Markdown, NewTimelineEntry, Permission, Perspective, Source, TimelineEntry,
    ValidationError,
};
use postmortem_store::{Deploy, SourcedEntry};
use serde::Serialize;
use std::collections::BTreeSet;

/// How many hours before an incident's start are searched for changes unless asked otherwise.
pub const DEFAULT_HOURS: i64 = 24;
/// The furthest back a search for changes reaches: a week.
pub const MAX_HOURS: i64 = 168;

/// A deploy before the incident, and whether its timeline holds it already.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeBefore {
    #[serde(flatten)]
    pub deploy: Deploy,
    /// Added to this incident's timeline before (and possibly removed since).
    pub on_timeline: bool,
}

/// The key an added deploy is kept under on a timeline, so adding it again adds nothing.
fn deploy_key(deploy: &Deploy) -> String {
    format!("deploy:{}", deploy.key)
}

impl Service<'_> {
    /// Deploys to the incident's services from `hours` (1 to 168, 24 when not given) before
    /// it started (or was recorded, when its start is not known) up to its start, newest
    /// first.
    pub async fn changes_before(
        &self,
        id: IncidentId,
        hours: Option<i64>,
    ) -> Result<Vec<ChangeBefore>, AppError> {
        let record = self.incident(id).await?;
        let hours = hours.unwrap_or(DEFAULT_HOURS);
        if !(1..=MAX_HOURS).contains(&hours) {
            return Err(ValidationError::new(
                "hours",
                format!("must be 1 to {MAX_HOURS} hours before the incident"),
            )
            .into());
        }
        let start = record
            .incident
            .started_at
            .unwrap_or(record.incident.created_at);
        let deploys = self
            .app
            .store
            .deploys_between(
                &record.incident.services,
                start - time::Duration::hours(hours),
                start,
            )
            .await?;
        let added: BTreeSet<String> = self
            .app
            .store
            .source_keys(id, "deploy:")
            .await?
            .into_iter()
            .collect();
        Ok(deploys
            .into_iter()
            .map(|deploy| ChangeBefore {
                on_timeline: added.contains(&deploy_key(&deploy)),
                deploy,
            })
            .collect())
    }

    /// Adds a deploy to one of the incident's services to its timeline (`source: deploy`),
    /// as the person; `None` when the timeline held it already.
    pub async fn add_change_to_timeline(
        &self,
        id: IncidentId,
        deploy_id: i64,
    ) -> Result<Option<TimelineEntry>, AppError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "write post-mortems")?;
        let deploy = self
            .app
            .store
            .deploy(deploy_id)
            .await?
            .filter(|d| record.incident.services.contains(&d.service))
            .ok_or(AppError::NotFound("deploy"))?;
        let entry = NewTimelineEntry {
            at: deploy.at,
            text: Markdown::parse_non_empty(
                "text",
                format!("Deploy of {} {} went out", deploy.service, deploy.version),
            )?,
            actor: deploy.by.clone(),
            marker: None,
            perspective: Perspective::Happened,
            source: Source::Deploy,
            source_url: deploy.link.clone(),
        };
        let sourced = SourcedEntry {
            incident: id,
            key: deploy_key(&deploy),
            entry,
        };
        let written = self
            .app
            .store
            .add_sourced_entries(self.actor(), None, vec![sourced])
            .await?;
        Ok(written.added.into_iter().next())
    }
}
