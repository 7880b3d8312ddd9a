//! Integrations: admins register the alerting and deploy tools that send webhooks; the
//! receivers turn what the tools send into timeline entries, as the integration's own actor.
//!
//! A receiver checks the credential first (a wrong one changes nothing), parses the whole
//! body with `postmortem-hooks` (all or nothing), and then keeps the body and writes every
//! entry in one store transaction; an alert becomes an entry on each open incident of its
//! service once per fingerprint and state, however often it is delivered (the store's unique
//! key, not a check before the insert). A body that does not parse is kept with the reason
//! and refused. Kept bodies are pruned after [`HookRetention`].

use crate::{AppError, Service};
use postmortem_core::{
    DisplayName, IncidentId, Markdown, Name, NewTimelineEntry, Permission, Perspective, Source,
    ValidationError,
};
use postmortem_hooks::{AlertEvent, HookKind, Parsed};
use postmortem_store::{
    Actor, HookDelivery, HookOutcome, Integration, NewHookDelivery, NewIntegration, SourcedEntry,
    Store,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use utoipa::ToSchema;

/// How often the receivers prune bodies older than their retention.
const PRUNE_EVERY_SECONDS: i64 = 60;

/// The largest body a receiver reads.
pub use postmortem_hooks::MAX_PAYLOAD_BYTES;

/// How long received bodies are kept for admins to read and replay: `[integrations]
/// retention_days` of `postmortem.toml`, 30 days unless set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookRetention(time::Duration);

impl HookRetention {
    /// At least a day: a shorter time would drop a body before anyone could look at it.
    pub fn days(days: u32) -> Result<Self, ValidationError> {
        if days == 0 || days > 3650 {
            return Err(ValidationError::new(
                "retention_days",
                "must be 1 to 3650 days",
            ));
        }
        Ok(Self(time::Duration::days(i64::from(days))))
    }
}

impl Default for HookRetention {
    fn default() -> Self {
        Self(time::Duration::days(30))
    }
}

/// A new integration, as an admin registers it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "alertmanager", "name": "prod-alertmanager", "services": ["checkout"]}))]
pub struct IntegrationInput {
    /// `alertmanager`, `grafana`, `pagerduty`, `opsgenie` or `deploy`.
    #[schema(schema_with = crate::vocabulary::integration_kind)]
    pub kind: String,
    /// A short name: lowercase letters, digits, `-`, `_`, `.`.
    #[schema(schema_with = crate::vocabulary::name)]
    pub name: String,
    /// The services its alerts are about when an alert names none.
    #[serde(default)]
    #[schema(schema_with = crate::vocabulary::names)]
    pub services: Vec<String>,
    /// PagerDuty: the signing secret PagerDuty showed when the webhook subscription was made
    /// (required). Deploy: the secret set on a GitHub webhook that sends `deployment_status`
    /// (optional; GitHub signs instead of sending a bearer token). An HMAC check needs the
    /// secret itself, so this one is kept as given.
    pub signing_secret: Option<String>,
}

/// A registered integration with its secret, which is shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct Registered {
    #[serde(flatten)]
    pub integration: Integration,
    /// The bearer secret the tool sends (`Authorization: Bearer ...`); `None` for PagerDuty,
    /// which signs with its own secret.
    pub secret: Option<String>,
    /// Where the tool sends: `/hooks/{kind}/{id}`.
    pub path: String,
}

/// How the sender proved who it is.
#[derive(Debug, Clone, Default)]
pub struct HookCredential {
    /// The token of `Authorization: Bearer ...`.
    pub bearer: Option<String>,
    /// `X-PagerDuty-Signature`.
    pub signature: Option<String>,
    /// `X-Hub-Signature-256` (GitHub).
    pub github_signature: Option<String>,
}

/// What a receiver did with a body.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub delivery: i64,
    pub outcome: HookOutcome,
    pub entries_added: i64,
    pub detail: String,
}

impl Service<'_> {
    /// Registers an integration; the answer carries its secret, which is not kept.
    pub async fn register_integration(
        &self,
        input: IntegrationInput,
    ) -> Result<Registered, AppError> {
        self.require(Permission::ManageWebhooks, "manage integrations")?;
        let mut errors = postmortem_core::Collector::default();
        let kind = HookKind::parse(&input.kind);
        if kind.is_none() {
            errors.push(ValidationError::new(
                "kind",
                format!(
                    "`{}` is not a kind of integration; use one of alertmanager, grafana, pagerduty, opsgenie, deploy",
                    input.kind.trim()
                ),
            ));
        }
        let name = errors.ok(Name::parse_field("name", input.name.clone()));
        let services: Vec<Name> = input
            .services
            .iter()
            .filter_map(|s| errors.ok(Name::parse_field("services", s.clone())))
            .collect();
        let signing_secret = input
            .signing_secret
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if signing_secret.is_some_and(|s| s.chars().count() < 16) {
            errors.push(ValidationError::new(
                "signing_secret",
                "must be at least 16 characters",
            ));
        }
        let bearer = || {
            let secret = crate::accounts::new_secret();
            (crate::accounts::secret_hash(&secret), Some(secret))
        };
        let ((credential, secret), signing_secret) = match (kind, signing_secret) {
            (Some(HookKind::Pagerduty), Some(given)) => ((given.to_owned(), None), None),
            (Some(HookKind::Pagerduty), None) => {
                errors.push(ValidationError::new(
                    "signing_secret",
                    "give the signing secret PagerDuty showed for the webhook subscription",
                ));
                ((String::new(), None), None)
            }
            (Some(HookKind::Deploy), given) => (bearer(), given.map(str::to_owned)),
            (_, Some(_)) => {
                errors.push(ValidationError::new(
                    "signing_secret",
                    "only PagerDuty and deploy integrations take a signing secret; the others send the bearer secret we give",
                ));
                ((String::new(), None), None)
            }
            (_, None) => (bearer(), None),
        };
        let (Some(kind), Some(name), true) = (kind, name, errors.is_empty()) else {
            return Err(AppError::Invalid(errors.into_errors()));
        };
        let display_name = DisplayName::parse(format!("{} ({})", name, kind.label()))?;
        let integration = self
            .app
            .store
            .create_integration(
                self.actor(),
                NewIntegration {
                    kind: kind.as_str().to_owned(),
                    name,
                    display_name,
                    services,
                    credential,
                    signing_secret,
                },
            )
            .await?;
        let path = format!("/hooks/{}/{}", kind.as_str(), integration.id);
        Ok(Registered {
            integration,
            secret,
            path,
        })
    }

    pub async fn integrations(&self) -> Result<Vec<Integration>, AppError> {
        self.require(Permission::ManageWebhooks, "manage integrations")?;
        Ok(self.app.store.integrations().await?)
    }

    pub async fn delete_integration(&self, id: i64) -> Result<(), AppError> {
        self.require(Permission::ManageWebhooks, "manage integrations")?;
        Ok(self.app.store.delete_integration(self.actor(), id).await?)
    }

    /// The bodies received, newest first, of one integration or all.
    pub async fn hook_deliveries(
        &self,
        integration: Option<i64>,
        limit: i64,
    ) -> Result<Vec<HookDelivery>, AppError> {
        self.require(Permission::ManageWebhooks, "manage integrations")?;
        Ok(self.app.store.hook_deliveries(integration, limit).await?)
    }

    /// Applies a kept body again, as its integration, audited as the admin's replay: what
    /// it would add that is there already is not added twice.
    pub async fn replay_delivery(&self, id: i64) -> Result<Received, AppError> {
        self.require(Permission::ManageWebhooks, "manage integrations")?;
        let delivery = self
            .app
            .store
            .hook_delivery(id)
            .await?
            .ok_or(AppError::NotFound("delivery"))?;
        let integration = self
            .app
            .store
            .integration(delivery.integration_id)
            .await?
            .ok_or(AppError::NotFound("integration"))?;
        apply(
            self.app.store.as_ref(),
            &integration,
            delivery.body.as_bytes(),
            Some((delivery.id, self.actor())),
        )
        .await
    }
}

impl crate::App {
    /// A receiver: checks who sent `body` to `/hooks/{kind}/{id}`, then keeps and applies it.
    /// An unknown integration, a kind that is not the integration's and a wrong credential
    /// are one refusal, so a sender learns nothing about which integrations exist.
    pub async fn receive_hook(
        &self,
        kind: &str,
        id: i64,
        credential: &HookCredential,
        body: &[u8],
    ) -> Result<Received, AppError> {
        let integration = match self.store.integration(id).await? {
            Some(integration)
                if integration.kind == kind && authentic(&integration, credential, body) =>
            {
                integration
            }
            _ => {
                return Err(AppError::Unauthenticated(
                    "this receiver takes `Authorization: Bearer SECRET` with the secret shown when the integration was registered (PagerDuty: `X-PagerDuty-Signature` under its signing secret)".to_owned(),
                ));
            }
        };
        let received = apply(self.store.as_ref(), &integration, body, None).await;
        // Pruning is a write of its own; once a minute keeps the bodies within their retention
        // to the minute without doubling the writes of a busy receiver (every write waits for
        // SQLite's one writer).
        let now = self.store.now();
        let last = self.last_hook_prune.load(Ordering::Relaxed);
        if now.unix_timestamp() - last >= PRUNE_EVERY_SECONDS
            && self
                .last_hook_prune
                .compare_exchange(
                    last,
                    now.unix_timestamp(),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
            && let Err(error) = self
                .store
                .prune_hook_deliveries(now - self.rules.hook_retention.0)
                .await
        {
            tracing::warn!(%error, "pruning old webhook bodies failed; it is tried again in a minute");
        }
        received
    }
}

fn authentic(integration: &Integration, credential: &HookCredential, body: &[u8]) -> bool {
    if integration.kind == HookKind::Pagerduty.as_str() {
        credential.signature.as_deref().is_some_and(|header| {
            postmortem_hooks::verify_pagerduty_signature(
                integration.credential.as_bytes(),
                body,
                header,
            )
        })
    } else {
        let github = integration
            .signing_secret
            .as_deref()
            .zip(credential.github_signature.as_deref())
            .is_some_and(|(secret, header)| {
                postmortem_hooks::verify_github_signature(secret.as_bytes(), body, header)
            });
        github
            || credential.bearer.as_deref().is_some_and(|secret| {
                let hash = crate::accounts::secret_hash(secret);
                // Both are hex SHA-256 digests; compare without stopping at the first difference.
                hash.len() == integration.credential.len()
                    && hash
                        .bytes()
                        .zip(integration.credential.bytes())
                        .fold(0_u8, |acc, (a, b)| acc | (a ^ b))
                        == 0
            })
    }
}

/// Parses a body and keeps it with what it added, in one transaction; a body that does not
/// parse is kept with the reason and answered as refused.
async fn apply(
    store: &dyn Store,
    integration: &Integration,
    body: &[u8],
    replay: Option<(i64, Actor)>,
) -> Result<Received, AppError> {
    let kind = HookKind::parse(&integration.kind)
        .ok_or_else(|| AppError::internal(format!("integration kind `{}`", integration.kind)))?;
    let (outcome, detail, entries) = match postmortem_hooks::parse(kind, body) {
        Err(error) => (HookOutcome::Refused, error.to_string(), Vec::new()),
        Ok(Parsed::Ignored { reason }) => (HookOutcome::Ignored, reason, Vec::new()),
        Ok(Parsed::Alerts { alerts }) => {
            let entries = alert_entries(store, kind, integration, &alerts).await?;
            let detail = format!("{} alert change(s)", alerts.len());
            (HookOutcome::Applied, detail, entries)
        }
        Ok(Parsed::Deploys { deploys }) => {
            return record_deploys(store, integration, body, deploys, replay).await;
        }
    };
    let delivery = NewHookDelivery {
        integration_id: integration.id,
        body: String::from_utf8_lossy(body).into_owned(),
        outcome,
        detail: detail.clone(),
        replay_of: replay.map(|(id, _)| id),
        replayed_by: replay.and_then(|(_, by)| by.person()),
    };
    let written = store
        .add_sourced_entries(Actor::user(integration.actor), Some(delivery), entries)
        .await?;
    let delivery = written
        .delivery
        .ok_or_else(|| AppError::internal("a delivery was not kept"))?;
    if outcome == HookOutcome::Refused {
        return Err(AppError::InvalidPayload {
            message: format!("the body was not applied: {detail}"),
            delivery: delivery.id,
        });
    }
    Ok(Received {
        delivery: delivery.id,
        outcome,
        entries_added: delivery.entries_added,
        detail,
    })
}

/// Keeps the deploys a body reported (each once, by its key) with the body.
async fn record_deploys(
    store: &dyn Store,
    integration: &Integration,
    body: &[u8],
    deploys: Vec<postmortem_hooks::DeployEvent>,
    replay: Option<(i64, Actor)>,
) -> Result<Received, AppError> {
    let count = deploys.len();
    let deploys = deploys
        .into_iter()
        .map(|d| postmortem_store::NewDeploy {
            key: d.key,
            service: d.service,
            version: d.version,
            at: d.at,
            by: d.by,
            link: d.link,
        })
        .collect();
    let detail = format!("{count} deploy(s)");
    let delivery = NewHookDelivery {
        integration_id: integration.id,
        body: String::from_utf8_lossy(body).into_owned(),
        outcome: HookOutcome::Applied,
        detail: detail.clone(),
        replay_of: replay.map(|(id, _)| id),
        replayed_by: replay.and_then(|(_, by)| by.person()),
    };
    let (kept, new) = store.record_deploys(delivery, deploys).await?;
    Ok(Received {
        delivery: kept.id,
        outcome: HookOutcome::Applied,
        entries_added: 0,
        detail: format!("{detail}, {new} new"),
    })
}

/// One entry per alert change and open incident of its service (the alert's own, else the
/// integration's), keyed by the tool, the fingerprint and the state.
async fn alert_entries(
    store: &dyn Store,
    kind: HookKind,
    integration: &Integration,
    alerts: &[AlertEvent],
) -> Result<Vec<SourcedEntry>, AppError> {
    let mut open: BTreeMap<(Name, i128), Vec<IncidentId>> = BTreeMap::new();
    let mut entries = Vec::new();
    for alert in alerts {
        let services = match &alert.service {
            Some(service) => std::slice::from_ref(service),
            None => integration.services.as_slice(),
        };
        for service in services {
            let lookup = (service.clone(), alert.at.unix_timestamp_nanos());
            let incidents = match open.get(&lookup) {
                Some(incidents) => incidents.clone(),
                None => {
                    let found = store.open_incidents(service, alert.at).await?;
                    open.insert(lookup, found.clone());
                    found
                }
            };
            for incident in incidents {
                entries.push(SourcedEntry {
                    incident,
                    key: format!(
                        "alert:{}:{}:{}",
                        kind.as_str(),
                        alert.fingerprint,
                        alert.state.as_str()
                    ),
                    entry: alert_entry(kind, alert)?,
                });
            }
        }
    }
    Ok(entries)
}

fn alert_entry(kind: HookKind, alert: &AlertEvent) -> Result<NewTimelineEntry, AppError> {
    let state = match alert.state {
        postmortem_hooks::AlertState::Firing => "fired",
        postmortem_hooks::AlertState::Resolved => "resolved",
    };
    Ok(NewTimelineEntry {
        at: alert.at,
        text: Markdown::parse_non_empty(
            "text",
            format!("{} alert {state}: {}", kind.label(), alert.summary),
        )?,
        actor: None,
        marker: None,
        perspective: Perspective::Observed,
        source: Source::Alert,
        source_url: alert.link.clone(),
    })
}
