//! The normalised events every provider's payload becomes, and the errors of parsing.

use postmortem_core::{Name, WebLink};
use serde::Serialize;
use time::OffsetDateTime;

/// The tools that can send to a receiver, as written in `/hooks/{kind}/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HookKind {
    Alertmanager,
    Grafana,
    Pagerduty,
    Opsgenie,
    Deploy,
}

impl HookKind {
    pub const ALL: [HookKind; 5] = [
        HookKind::Alertmanager,
        HookKind::Grafana,
        HookKind::Pagerduty,
        HookKind::Opsgenie,
        HookKind::Deploy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HookKind::Alertmanager => "alertmanager",
            HookKind::Grafana => "grafana",
            HookKind::Pagerduty => "pagerduty",
            HookKind::Opsgenie => "opsgenie",
            HookKind::Deploy => "deploy",
        }
    }

    /// The name people know the tool by, for entry texts and pages.
    pub fn label(self) -> &'static str {
        match self {
            HookKind::Alertmanager => "Alertmanager",
            HookKind::Grafana => "Grafana",
            HookKind::Pagerduty => "PagerDuty",
            HookKind::Opsgenie => "Opsgenie",
            HookKind::Deploy => "Deploy hook",
        }
    }

    pub fn parse(raw: &str) -> Option<HookKind> {
        HookKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw.trim())
    }

    /// Whether the tool sends alerts (the others send deploys).
    pub fn sends_alerts(self) -> bool {
        self != HookKind::Deploy
    }

    /// PagerDuty signs its bodies with a secret it issues; the others send ours as a bearer token.
    pub fn is_signed(self) -> bool {
        self == HookKind::Pagerduty
    }
}

/// Whether an alert started or stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Firing,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }
}

/// One alert's change of state, as any provider reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEvent {
    /// Stable across deliveries of the same alert: the provider's own id or fingerprint.
    pub fingerprint: String,
    pub state: AlertState,
    /// The service the alert names, if it names one the system could know.
    pub service: Option<Name>,
    /// One line saying what was seen.
    pub summary: String,
    /// Where to look at the alert in the tool that raised it.
    pub link: Option<WebLink>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Whether the tool ranked it as paging someone (critical severity, high urgency, P1).
    pub pages: bool,
}

/// One change that went out to a service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployEvent {
    /// Stable across deliveries of the same deploy.
    pub key: String,
    pub service: Name,
    pub version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub by: Option<String>,
    pub link: Option<WebLink>,
}

/// What a payload said.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Parsed {
    Alerts {
        alerts: Vec<AlertEvent>,
    },
    Deploys {
        deploys: Vec<DeployEvent>,
    },
    /// A well-formed event of a kind that adds nothing to a timeline (an acknowledgement, a
    /// pending deploy); kept, answered 202, and the reason is shown to admins.
    Ignored {
        reason: String,
    },
}

/// Why a payload was refused; the message is sent back to the tool and shown to admins.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the body is {bytes} bytes, more than the {limit} bytes a receiver accepts")]
    TooLarge { bytes: usize, limit: usize },
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("`{field}` {problem}")]
    Invalid { field: String, problem: String },
}

impl PayloadError {
    pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        let field = field.into();
        PayloadError::Invalid {
            field: if field.is_empty() {
                "(body)".to_owned()
            } else {
                field
            },
            problem: problem.into(),
        }
    }
}
