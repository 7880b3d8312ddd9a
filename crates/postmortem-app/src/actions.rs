//! Action items: adding, changing and removing them. Who may change an item is decided here,
//! in [`may_edit_action`], and enforced by [`Service::editable_action`] for every change.

use crate::{AppError, Service, double_option, given, prose};
use postmortem_core::{
    ActionId, ActionItem, ActionKind, ActionStatus, Collector, FactorId, IncidentId, Name,
    NewActionItem, Permission, Priority, Title, User, ValidationError, WebLink, parse_date,
};
use postmortem_store::{ActionUpdate, IncidentRecord};
use serde::Deserialize;
use utoipa::ToSchema;

/// A new action item.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Raise the pool default", "due_on": "2026-04-01", "priority": "p2", "kind": "prevent"}))]
pub struct ActionInput {
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
pub struct ActionPatch {
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

/// Who may change an action item: admins always; otherwise a person with a writing role who
/// owns the item, recorded the incident, last wrote one of its sections, added a timeline
/// entry, or was asked to review it. Everyone else may read the item but not change it,
/// whatever their role.
pub fn may_edit_action(user: &User, record: &IncidentRecord, action: &ActionItem) -> bool {
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

impl Service<'_> {
    pub async fn add_action(
        &self,
        id: IncidentId,
        input: ActionInput,
    ) -> Result<ActionItem, AppError> {
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
        let wont_do_reason =
            given(&input.wont_do_reason).and_then(|raw| prose(&mut errors, "wont_do_reason", raw));
        let verification =
            given(&input.verification).and_then(|raw| prose(&mut errors, "verification", raw));
        let (Some(title), Some(priority), Some(kind), Some(status), true) =
            (title, priority, kind, status, errors.is_empty())
        else {
            return Err(AppError::Invalid(errors.into_errors()));
        };
        let action = NewActionItem {
            title,
            owner,
            team,
            due_on,
            priority,
            kind,
            status,
            wont_do_reason,
            external_url,
            factor_ids: input
                .factor_ids
                .unwrap_or_default()
                .into_iter()
                .map(FactorId::new)
                .collect(),
            verification,
        };
        action.check()?;
        Ok(self.app.store.add_action(self.actor(), id, action).await?)
    }

    pub async fn update_action(
        &self,
        action_id: ActionId,
        patch: ActionPatch,
    ) -> Result<ActionItem, AppError> {
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
        let verification =
            given(&patch.verification).and_then(|raw| prose(&mut errors, "verification", raw));
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
        let wont_do_reason =
            given(&patch.wont_do_reason).and_then(|raw| prose(&mut errors, "wont_do_reason", raw));
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors.into_errors()));
        }
        let update = ActionUpdate {
            title,
            kind,
            priority,
            status,
            wont_do_reason,
            owner,
            due_on,
            verification,
        };
        Ok(self
            .app
            .store
            .update_action(self.actor(), action_id, update)
            .await?)
    }
}

impl Service<'_> {
    /// The action item and its incident, when the person may change the item: 404 when they
    /// may not see it, 403 when they may see but not change it.
    pub async fn editable_action(
        &self,
        action_id: ActionId,
    ) -> Result<(ActionItem, IncidentRecord), AppError> {
        let existing = self
            .app
            .store
            .action(action_id)
            .await?
            .ok_or(AppError::NotFound("action item"))?;
        // An action item of an incident the person may not see does not exist for them.
        let record = self
            .incident(existing.incident_id)
            .await
            .map_err(|_| AppError::NotFound("action item"))?;
        self.require(Permission::Write, "change action items")?;
        let allowed = match self.person_acting() {
            Some(user) => may_edit_action(user, &record, &existing),
            None => self.role().is_admin(),
        };
        if !allowed {
            return Err(AppError::Forbidden("only the action item's owner, the incident's authors (who recorded it or wrote its sections or timeline) and its reviewers may change this action item, and admins".to_owned()));
        }
        Ok((existing, record))
    }

    pub async fn remove_action(&self, action_id: ActionId) -> Result<(), AppError> {
        self.editable_action(action_id).await?;
        Ok(self
            .app
            .store
            .remove_action(self.actor(), action_id)
            .await?)
    }
}
