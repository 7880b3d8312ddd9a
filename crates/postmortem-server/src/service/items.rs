//! Correcting and removing what an incident is made of after it was added: timeline entries,
//! contributing factors (one trigger at most) and action items. The same rules as adding
//! them: the incident must be visible (else 404), the role must write, and an action item
//! may only be changed by the people [`may_edit_action`] names.

use super::{FactorInput, Service, TimelineInput, double_option, may_edit_action};
use crate::ApiError;
use axum::http::StatusCode;
use postmortem_core::{
    ActionId, ActionItem, Collector, ContributingFactor, FactorCategory, FactorId, IncidentId,
    Markdown, NewFactor, Permission, TimelineEntry, TimelineEntryId, ValidationError,
    format_instant,
};
use postmortem_store::IncidentRecord;
use serde::Deserialize;
use utoipa::ToSchema;

/// A correction of a timeline entry; absent fields stay as they are, `null` clears an
/// optional one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "Error rate alert fired for checkout and payments", "marker": "detected"}))]
pub(crate) struct TimelinePatch {
    /// RFC 3339 with an offset.
    pub at: Option<String>,
    pub text: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub actor: Option<Option<String>>,
    /// `impact_start`, `detected`, `mitigated` or `resolved`; `null` for none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub marker: Option<Option<String>>,
    /// `happened`, `observed` or `believed`.
    pub perspective: Option<String>,
    /// `manual`, `chat`, `alert`, `deploy` or `import`.
    pub source: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub source_url: Option<Option<String>>,
}

impl TimelinePatch {
    /// The whole entry as it will be: the patch over what is stored.
    fn over(self, entry: &TimelineEntry) -> TimelineInput {
        TimelineInput {
            at: self.at.unwrap_or_else(|| format_instant(entry.at)),
            text: self.text.unwrap_or_else(|| entry.text.as_str().to_owned()),
            actor: self.actor.unwrap_or_else(|| entry.actor.clone()),
            marker: self
                .marker
                .unwrap_or_else(|| entry.marker.map(|m| m.as_str().to_owned())),
            perspective: Some(
                self.perspective
                    .unwrap_or_else(|| entry.perspective.as_str().to_owned()),
            ),
            source: Some(
                self.source
                    .unwrap_or_else(|| entry.source.as_str().to_owned()),
            ),
            source_url: self
                .source_url
                .unwrap_or_else(|| entry.source_url.as_ref().map(|u| u.as_str().to_owned())),
        }
    }
}

/// A correction of a contributing factor; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"is_trigger": true, "replace_trigger": true}))]
pub(crate) struct FactorPatch {
    pub category: Option<String>,
    pub description: Option<String>,
    /// Whether this factor is the trigger; while another one is, needs `replace_trigger`.
    pub is_trigger: Option<bool>,
    /// `true` makes this factor the trigger in place of the current one.
    pub replace_trigger: Option<bool>,
}

impl Service<'_> {
    pub(crate) async fn update_timeline_entry(
        &self,
        id: IncidentId,
        entry_id: TimelineEntryId,
        patch: TimelinePatch,
    ) -> Result<TimelineEntry, ApiError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "correct the timeline")?;
        let existing = record
            .timeline
            .iter()
            .find(|e| e.id == entry_id)
            .ok_or_else(|| ApiError::not_found("timeline entry"))?;
        let entry = patch.over(existing).parse().map_err(ApiError::invalid)?;
        Ok(self
            .state
            .store
            .update_timeline_entry(self.actor(), id, entry_id, entry)
            .await?)
    }

    pub(crate) async fn remove_timeline_entry(
        &self,
        id: IncidentId,
        entry_id: TimelineEntryId,
    ) -> Result<(), ApiError> {
        self.incident(id).await?;
        self.require(Permission::Write, "remove timeline entries")?;
        Ok(self
            .state
            .store
            .remove_timeline_entry(self.actor(), id, entry_id)
            .await?)
    }

    pub(crate) async fn update_factor(
        &self,
        id: IncidentId,
        factor_id: FactorId,
        patch: FactorPatch,
    ) -> Result<ContributingFactor, ApiError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "correct contributing factors")?;
        let existing = record
            .factors
            .iter()
            .find(|f| f.id == factor_id)
            .ok_or_else(|| ApiError::not_found("contributing factor"))?;
        let input = FactorInput {
            category: patch
                .category
                .unwrap_or_else(|| existing.category.as_str().to_owned()),
            description: patch
                .description
                .unwrap_or_else(|| existing.description.as_str().to_owned()),
            is_trigger: Some(patch.is_trigger.unwrap_or(existing.is_trigger)),
            replace_trigger: patch.replace_trigger,
        };
        let factor = parse_factor(&record, Some(factor_id), input)?;
        Ok(self
            .state
            .store
            .update_factor(self.actor(), id, factor_id, factor)
            .await?)
    }

    pub(crate) async fn remove_factor(
        &self,
        id: IncidentId,
        factor_id: FactorId,
    ) -> Result<(), ApiError> {
        self.incident(id).await?;
        self.require(Permission::Write, "remove contributing factors")?;
        Ok(self
            .state
            .store
            .remove_factor(self.actor(), id, factor_id)
            .await?)
    }

    /// The action item and its incident, when the person may change the item: 404 when they
    /// may not see it, 403 when they may see but not change it.
    pub(crate) async fn editable_action(
        &self,
        action_id: ActionId,
    ) -> Result<(ActionItem, IncidentRecord), ApiError> {
        let existing = self
            .state
            .store
            .action(action_id)
            .await?
            .ok_or_else(|| ApiError::not_found("action item"))?;
        // An action item of an incident the person may not see does not exist for them.
        let record = self
            .incident(existing.incident_id)
            .await
            .map_err(|_| ApiError::not_found("action item"))?;
        self.require(Permission::Write, "change action items")?;
        if !may_edit_action(self.user, &record, &existing) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "only the action item's owner, the incident's authors (who recorded it or wrote its sections or timeline) and its reviewers may change this action item, and admins",
            ));
        }
        Ok((existing, record))
    }

    pub(crate) async fn remove_action(&self, action_id: ActionId) -> Result<(), ApiError> {
        self.editable_action(action_id).await?;
        Ok(self
            .state
            .store
            .remove_action(self.actor(), action_id)
            .await?)
    }
}

/// Parses a factor for `record`, keeping one trigger at most: ticking the trigger while
/// another factor is the trigger is refused unless `replace_trigger` says to move it.
pub(super) fn parse_factor(
    record: &IncidentRecord,
    this: Option<FactorId>,
    input: FactorInput,
) -> Result<NewFactor, ApiError> {
    let mut errors = Collector::default();
    let category = errors.ok(FactorCategory::parse(&input.category));
    let description = errors.ok(Markdown::parse_non_empty("description", input.description));
    let is_trigger = input.is_trigger.unwrap_or(false);
    let current_trigger = record
        .factors
        .iter()
        .find(|f| f.is_trigger && Some(f.id) != this);
    if let Some(current) = current_trigger
        && is_trigger
        && !input.replace_trigger.unwrap_or(false)
    {
        errors.push(ValidationError::new(
            "is_trigger",
            format!(
                "“{}” is already the trigger, and an incident has one: choose to make this one the trigger instead (`replace_trigger`), or leave it a condition",
                first_words(current.description.as_str())
            ),
        ));
    }
    match (category, description, errors.is_empty()) {
        (Some(category), Some(description), true) => Ok(NewFactor {
            category,
            description,
            is_trigger,
        }),
        _ => Err(ApiError::invalid(errors.into_errors())),
    }
}

/// The start of a text, cut at a word boundary, for naming it in a message.
pub(crate) fn first_words(text: &str) -> String {
    const LIMIT: usize = 60;
    let text = text.trim();
    if text.chars().count() <= LIMIT {
        return text.to_owned();
    }
    let cut: String = text.chars().take(LIMIT).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.']))
}

#[cfg(test)]
mod tests {
    use super::first_words;

    #[test]
    fn a_long_text_is_named_by_its_first_whole_words() {
        assert_eq!(first_words("Pool too small."), "Pool too small.");
        let long = "The connection pool default was sized for the traffic of two years ago, before the launch";
        assert_eq!(
            first_words(long),
            "The connection pool default was sized for the traffic of…"
        );
    }
}
