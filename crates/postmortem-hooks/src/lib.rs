//! Incoming webhook payloads of alerting and deploy tools, parsed into normalised events, and
//! chat exports read into messages ([`chat`]).
//!
//! Each provider's documented webhook body (Prometheus Alertmanager v4, Grafana alerting,
//! PagerDuty v3 incident events, Opsgenie's webhook integration, a plain deploy hook and
//! GitHub's `deployment_status` event) becomes a [`Parsed`] value: alert state changes with a
//! stable fingerprint, or deploys with a stable key. Parsing is pure (no I/O, no clock), bounded
//! (the body size is checked first, serde_json limits nesting, every kept string is cut to a
//! known length) and all-or-nothing: a payload with one bad alert is refused as a whole with the
//! reason, so nothing is ever half-applied.

mod alertmanager;
pub mod chat;
mod deploy;
mod event;
mod fields;
mod opsgenie;
mod pagerduty;
mod signature;

pub use event::{AlertEvent, AlertState, DeployEvent, HookKind, Parsed, PayloadError};
pub use signature::{
    github_signature, pagerduty_signature, verify_github_signature, verify_pagerduty_signature,
};

/// The largest body any receiver reads. Alertmanager groups are capped by `max_alerts` and the
/// largest documented payloads are a few kilobytes; a megabyte leaves room for big groups.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

/// The most alerts or deploys one payload may carry.
pub const MAX_EVENTS_PER_PAYLOAD: usize = 1000;

/// Parses a webhook body sent to a receiver of `kind`.
pub fn parse(kind: HookKind, body: &[u8]) -> Result<Parsed, PayloadError> {
    if body.len() > MAX_PAYLOAD_BYTES {
        return Err(PayloadError::TooLarge {
            bytes: body.len(),
            limit: MAX_PAYLOAD_BYTES,
        });
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| PayloadError::NotJson(error.to_string()))?;
    if !value.is_object() {
        return Err(PayloadError::invalid(
            "",
            "the body must be a JSON object, as every supported provider sends",
        ));
    }
    match kind {
        HookKind::Alertmanager => alertmanager::parse(&value, alertmanager::Flavour::Alertmanager),
        HookKind::Grafana => alertmanager::parse(&value, alertmanager::Flavour::Grafana),
        HookKind::Pagerduty => pagerduty::parse(&value),
        HookKind::Opsgenie => opsgenie::parse(&value),
        HookKind::Deploy => deploy::parse(&value),
    }
}
