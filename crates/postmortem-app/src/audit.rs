//! Reading the audit log: who may read which events, and the filters the API and the pages
//! share.
//!
//! - The whole log (`/api/v1/audit`, `/admin/audit`) is for admins; everyone else gets 403.
//! - An incident's history (`/api/v1/incidents/{id}/history`, `/incidents/{id}/history`) is
//!   for admins and the incident's members: whoever recorded it, is named on it (a member,
//!   an action item's owner, a reviewer), or wrote in it (sections, timeline, comments, or any
//!   other change the log shows them making). A restricted incident answers 404 to anyone
//!   who may not see it, as every route does. Someone who may see an open incident but is
//!   not one of its members gets 403: the incident itself is no secret, but who changed what
//!   in it is for the people working on it.

use crate::{AppError, Service};
use postmortem_core::{
    Collector, Handle, IncidentId, SystemActor, User, UserId, ValidationError, parse_date,
    parse_instant,
};
use postmortem_search::Viewer;
use postmortem_store::{AuditPage, AuditQuery, IncidentRecord, Store};
use serde::Deserialize;

/// Query parameters of `GET /api/v1/audit` and of the `/admin/audit` page. Blank values,
/// as empty form fields send them, mean "any".
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// The handle of the person who acted, or the name of a system actor (`system:demo`,
    /// `system:import`, `system:notify`...).
    pub actor: Option<String>,
    /// The id of the incident the events are about.
    pub incident: Option<String>,
    /// A kind of change (`section`) or one action (`section.save`).
    pub action: Option<String>,
    /// Only events at or after this date (`YYYY-MM-DD`, UTC midnight) or RFC 3339 instant.
    pub after: Option<String>,
    /// Only events before this date or instant.
    pub before: Option<String>,
    /// How many events per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Query parameters of `GET /api/v1/incidents/{id}/history` and of its page: the audit
/// filters without `incident`, which the path names.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// The handle of the person who acted, or the name of a system actor (`system:demo`,
    /// `system:import`, `system:notify`...).
    pub actor: Option<String>,
    /// A kind of change (`section`) or one action (`section.save`).
    pub action: Option<String>,
    /// Only events at or after this date (`YYYY-MM-DD`, UTC midnight) or RFC 3339 instant.
    pub after: Option<String>,
    /// Only events before this date or instant.
    pub before: Option<String>,
    /// How many events per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl From<HistoryParams> for AuditParams {
    fn from(params: HistoryParams) -> Self {
        let HistoryParams {
            actor,
            action,
            after,
            before,
            limit,
            cursor,
        } = params;
        AuditParams {
            actor,
            incident: None,
            action,
            after,
            before,
            limit,
            cursor,
        }
    }
}

/// A parameter with its surrounding blanks removed; `None` when absent or blank.
fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl AuditParams {
    /// Parses every filter, collecting every error so one answer lists all that is wrong.
    /// The actor's handle is looked up, so an unknown handle is an error rather than an
    /// empty page that looks like "nobody did anything".
    pub async fn into_query(self, store: &dyn Store) -> Result<AuditQuery, AppError> {
        let mut errors = Collector::default();
        let mut query = AuditQuery::default();
        if let Some(raw) = given(&self.actor)
            && let Some(system) = SystemActor::from_name(raw)
        {
            query.system_actor = Some(system.name().to_owned());
        } else if let Some(raw) = given(&self.actor)
            && let Some(handle) = errors.ok(Handle::parse(raw))
        {
            match store.user_by_handle(&handle).await? {
                Some(person) => query.actor = Some(person.id),
                None => errors.push(ValidationError::new(
                    "actor",
                    format!("no one has the handle `{handle}`"),
                )),
            }
        }
        if let Some(raw) = given(&self.incident) {
            match raw.parse::<i64>() {
                Ok(id) if id > 0 => query.incident = Some(IncidentId::new(id)),
                _ => errors.push(ValidationError::new(
                    "incident",
                    "must be an incident's number, such as 12",
                )),
            }
        }
        query.action = given(&self.action).map(str::to_owned);
        query.after = given(&self.after).and_then(|raw| errors.ok(parse_bound("after", raw)));
        query.before = given(&self.before).and_then(|raw| errors.ok(parse_bound("before", raw)));
        match self.limit {
            Some(limit) if !(1..=200).contains(&limit) => {
                errors.push(ValidationError::new("limit", "must be between 1 and 200"));
            }
            Some(limit) => query.limit = limit,
            None => {}
        }
        query.cursor = given(&self.cursor).map(str::to_owned);
        if errors.is_empty() {
            Ok(query)
        } else {
            Err(AppError::Invalid(errors.into_errors()))
        }
    }
}

/// The refusal for everyone but admins on the whole log.
fn require_admin(role: postmortem_core::Role) -> Result<(), AppError> {
    if role.may(postmortem_core::Permission::ReadAuditLog) {
        Ok(())
    } else {
        Err(AppError::role_may_not(
            "read the audit log; it is for admins (an incident's members can read its history)",
        ))
    }
}

impl Service<'_> {
    /// A page of the whole audit log, for admins.
    pub async fn audit_log(&self, params: AuditParams) -> Result<AuditPage, AppError> {
        require_admin(self.role())?;
        let query = params.into_query(self.app.store.as_ref()).await?;
        Ok(self.app.store.audit_log(&query).await?)
    }

    /// A page of one incident's history with the incident, for admins and its members.
    /// `viewer` is the person as search sees them, with their teams.
    pub async fn incident_history(
        &self,
        id: IncidentId,
        viewer: &Viewer,
        params: HistoryParams,
    ) -> Result<(IncidentRecord, AuditPage), AppError> {
        let record = self.incident(id).await?;
        let user = self.only_a_person("read an incident's history")?;
        if !may_read_history(self.app.store.as_ref(), user, viewer, &record).await? {
            return Err(AppError::role_may_not(
                "read this incident's history; it is for the people who recorded it, are named on it, wrote in it or review it, and admins",
            ));
        }
        let mut query = AuditParams::from(params)
            .into_query(self.app.store.as_ref())
            .await?;
        query.incident = Some(id);
        Ok((record, self.app.store.audit_log(&query).await?))
    }
}

/// Whether `user` may read the history of an incident they can see. `viewer` is the same
/// person as search sees them, with their teams, which the page has already asked for.
pub async fn may_read_history(
    store: &dyn Store,
    user: &User,
    viewer: &Viewer,
    record: &IncidentRecord,
) -> Result<bool, AppError> {
    if user.role.is_admin() || is_named_on(record, user.id) {
        return Ok(true);
    }
    // Members of the incident's teams are its members too, as for restricted incidents.
    if let Viewer::Person { teams, .. } = viewer
        && record
            .incident
            .teams
            .iter()
            .any(|name| teams.iter().any(|team| team.as_str() == name.as_str()))
    {
        return Ok(true);
    }
    // Someone whose text was overwritten since still wrote in it: the log itself says so.
    let query = AuditQuery {
        actor: Some(user.id),
        incident: Some(record.incident.id),
        limit: 1,
        ..AuditQuery::default()
    };
    Ok(!store.audit_log(&query).await?.items.is_empty())
}

/// Whether the incident as it stands names `person` (its teams aside): who recorded it, its members, action
/// owners, reviewers, and the authors of its timeline, comments and sections.
fn is_named_on(record: &IncidentRecord, person: UserId) -> bool {
    record.incident.created_by == person
        || record.members.contains(&person)
        || record.reviews.iter().any(|r| r.reviewer == person)
        || record.actions.iter().any(|a| a.owner == Some(person))
        || record.timeline.iter().any(|e| e.author == person)
        || record.comments.iter().any(|c| c.author == person)
        || record
            .postmortem
            .sections
            .values()
            .any(|s| s.updated_by == Some(person))
}

/// A bound of a time filter: an RFC 3339 instant, or a date meaning its midnight in UTC.
pub fn parse_bound(field: &str, raw: &str) -> Result<time::OffsetDateTime, ValidationError> {
    parse_instant(field, raw).or_else(|_| {
        parse_date(field, raw)
            .map(|date| date.midnight().assume_utc())
            .map_err(|_| {
                ValidationError::new(field, "must be a date (YYYY-MM-DD) or an RFC 3339 instant")
            })
    })
}
