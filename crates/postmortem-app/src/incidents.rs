//! Incidents: recording one (the policy decides whether a post-mortem is owed and its
//! template), reading it as the person may see it, correcting its facts with the policy's
//! re-evaluation, and naming people on it (who may do that: [`Service::may_manage_members`]).

use crate::{AppError, Service, double_option, given};
use postmortem_core::policy::{
    Decision, Facts, Requirement, add_business_days, status_after_reevaluation,
};
use postmortem_core::{
    Collector, Impact, IncidentFacts, IncidentId, IncidentKind, Name, NewIncident, Permission,
    PostmortemStatus, Severity, TemplateName, Templates, Title, ValidationError, dedup_names,
    parse_instant,
};
use postmortem_store::{FactsOutcome, IncidentRecord, PostmortemStart, Reevaluation};
use serde::Deserialize;
use utoipa::ToSchema;

/// The body of `POST /api/v1/incidents` and of the new-incident form.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Checkout returned 502s", "kind": "outage", "severity": "SEV2", "started_at": "2026-03-01T14:00:00+01:00", "services": ["checkout"], "teams": ["payments"], "impact": {"user_visible": true, "customer_minutes": 47}}))]
pub struct IncidentInput {
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
    pub fn parse(
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
pub struct ImpactPatch {
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
pub struct FactsPatch {
    #[schema(schema_with = crate::vocabulary::title)]
    pub title: Option<String>,
    /// `outage`, `degradation`, `data_loss`, `security` or `near_miss`.
    #[schema(schema_with = crate::vocabulary::incident_kind)]
    pub kind: Option<String>,
    /// `SEV1` (worst) to `SEV4`.
    #[schema(schema_with = crate::vocabulary::severity)]
    pub severity: Option<String>,
    /// RFC 3339 with an offset, or `null` to remove it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::vocabulary::instant_or_null)]
    pub started_at: Option<Option<String>>,
    /// Replaces the services as a whole.
    #[schema(schema_with = crate::vocabulary::names)]
    pub services: Option<Vec<String>>,
    /// Replaces the teams as a whole.
    #[schema(schema_with = crate::vocabulary::names)]
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
pub enum FactsResult {
    /// Changed, and the policy re-evaluated: the incident as it is now.
    Updated(Box<IncidentRecord>),
    /// Nothing was changed because the incident moved on since the writer's version: the
    /// incident as it is now, to compare with.
    Stale(Box<IncidentRecord>),
}

impl crate::Rules {
    /// The incident a body describes, parsed as recording it parses it, and what the policy
    /// decides for it (its template unless the body names one). Pure: `postmortem policy
    /// check` asks it without a database, the web before recording.
    pub fn decide(&self, input: IncidentInput) -> Result<(NewIncident, Decision), AppError> {
        let named_template = given(&input.template).is_some();
        let mut new = input
            .parse(self.severity_levels, &self.templates)
            .map_err(AppError::Invalid)?;
        let decision = self.policy.decide(&Facts {
            kind: new.kind,
            severity: new.severity,
            impact: new.impact,
        });
        if !named_template {
            new.template = decision.template.clone();
        }
        Ok((new, decision))
    }
}

impl Service<'_> {
    /// The whole incident, or 404 when it does not exist or the person may not see it.
    pub async fn incident(&self, id: IncidentId) -> Result<IncidentRecord, AppError> {
        self.app
            .store
            .incident(id, self.seen())
            .await?
            .ok_or(AppError::NotFound("incident"))
    }

    /// Records an incident; the policy decides whether a post-mortem is owed and its template.
    pub async fn create_incident(&self, input: IncidentInput) -> Result<IncidentRecord, AppError> {
        self.require(Permission::Write, "record incidents")?;
        let (new, decision) = self.app.rules.decide(input)?;
        let today = self.app.rules.policy.today(time::OffsetDateTime::now_utc());
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
            .app
            .store
            .create_incident_decided(
                self.actor(),
                new,
                start,
                decision.decision,
                decision.reasons,
            )
            .await?;
        self.app
            .store
            .incident(id, self.seen())
            .await?
            .ok_or_else(|| AppError::internal("a created incident could not be read back"))
    }

    /// Corrects an incident's facts against the version the writer started from (required, as
    /// for sections), then re-evaluates the policy on the new facts and stores its decision
    /// and reasons with them, moving the post-mortem as
    /// [`postmortem_core::policy::status_after_reevaluation`] says.
    pub async fn update_facts(
        &self,
        id: IncidentId,
        base_version: Option<i64>,
        patch: FactsPatch,
    ) -> Result<FactsResult, AppError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "change an incident's facts")?;
        let Some(base_version) = base_version else {
            return Err(AppError::IfMatchRequired);
        };
        if patch
            .restricted
            .is_some_and(|r| r != record.incident.restricted)
            && !self.role().is_admin()
            && self.person_acting().map(|u| u.id) != Some(record.incident.created_by)
        {
            return Err(AppError::Forbidden(
                "only admins and the person who recorded the incident may change who can see it"
                    .to_owned(),
            ));
        }
        let facts = patch
            .apply(record.incident.facts(), self.app.rules.severity_levels)
            .map_err(AppError::Invalid)?;
        let decision = self.app.rules.policy.decide(&Facts {
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
            let today = self.app.rules.policy.today(time::OffsetDateTime::now_utc());
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
            .app
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
    async fn waived(&self, id: IncidentId) -> Result<bool, AppError> {
        let events = self.app.store.audit_events(Some(id), 10_000).await?;
        Ok(events
            .iter()
            .find(|e| e.action == "postmortem.transition")
            .is_some_and(|e| {
                e.details["after"]["status"] == PostmortemStatus::NotRequired.as_str()
            }))
    }

    /// members (recorder, named people, members of its teams) whose role may write.
    pub async fn may_manage_members(&self, record: &IncidentRecord) -> Result<bool, AppError> {
        if self.role().may(Permission::SeeEverything) {
            return Ok(true);
        }
        let Some(user) = self.person_acting() else {
            return Ok(false);
        };
        Ok(user.role.may(Permission::ManageIncidentMembers)
            && self
                .app
                .store
                .is_incident_member(record.incident.id, user.id)
                .await?)
    }

    /// Names a person on an incident (or takes them off), so that they may see it while it
    /// is restricted. Returns the incident's new version.
    pub async fn set_incident_member(
        &self,
        id: IncidentId,
        handle: &str,
        named: bool,
    ) -> Result<i64, AppError> {
        let record = self.incident(id).await?;
        if !self.may_manage_members(&record).await? {
            return Err(AppError::role_may_not(
                "change who is named on this incident; that needs the contributor role and membership of the incident, or the admin role",
            ));
        }
        let person = self.person_in_path(handle).await?;
        let store = &self.app.store;
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
}
