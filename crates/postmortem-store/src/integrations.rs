//! What the store keeps of integrations: the tools registered to send webhooks, the bodies
//! they sent, the deploys they reported, and timeline entries written once per source key.

use postmortem_core::{
    DisplayName, IncidentId, Name, NewTimelineEntry, TimelineEntry, UserId, WebLink,
};
use serde::Serialize;
use time::OffsetDateTime;

/// An integration to register. The store makes its actor (a person with no password, handle
/// `integration-{id}`) in the same transaction.
#[derive(Debug, Clone)]
pub struct NewIntegration {
    /// The tool, as written in `/hooks/{kind}/{id}`; the app layer checks it.
    pub kind: String,
    pub name: Name,
    /// How the integration's actor is shown in timelines and the audit log.
    pub display_name: DisplayName,
    /// The services its alerts are about when an alert names none.
    pub services: Vec<Name>,
    /// The SHA-256 of the bearer secret, or PagerDuty's signing secret.
    pub credential: String,
    /// A deploy integration's GitHub webhook secret, for `X-Hub-Signature-256`.
    pub signing_secret: Option<String>,
}

/// A registered integration. The credential is never serialised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Integration {
    pub id: i64,
    pub kind: String,
    pub name: Name,
    pub services: Vec<Name>,
    /// The person the integration acts as.
    pub actor: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(skip)]
    pub credential: String,
    #[serde(skip)]
    pub signing_secret: Option<String>,
}

/// What became of a body a receiver read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookOutcome {
    /// Parsed and applied (possibly adding nothing, when everything was there already).
    Applied,
    /// Well-formed, but nothing in it belongs on a timeline.
    Ignored,
    /// Not parsed: kept with the reason, nothing applied.
    Refused,
}

impl HookOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            HookOutcome::Applied => "applied",
            HookOutcome::Ignored => "ignored",
            HookOutcome::Refused => "refused",
        }
    }

    pub(crate) fn parse(raw: &str) -> Option<Self> {
        [Self::Applied, Self::Ignored, Self::Refused]
            .into_iter()
            .find(|o| o.as_str() == raw)
    }
}

/// A body received, to keep.
#[derive(Debug, Clone)]
pub struct NewHookDelivery {
    pub integration_id: i64,
    /// The body as received (not UTF-8 bytes replaced, which makes it unparseable anyway).
    pub body: String,
    pub outcome: HookOutcome,
    /// Why it was refused or ignored, or a summary of what it said.
    pub detail: String,
    /// The delivery this one replays, when an admin replayed it.
    pub replay_of: Option<i64>,
    /// The admin who replayed it; the replay is audited as theirs.
    pub replayed_by: Option<UserId>,
}

/// A body received and kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HookDelivery {
    pub id: i64,
    pub integration_id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    pub body: String,
    pub outcome: HookOutcome,
    pub detail: String,
    /// How many timeline entries it added (a repeated delivery adds none).
    pub entries_added: i64,
    pub replay_of: Option<i64>,
}

/// A timeline entry that comes from outside, written at most once per incident and key (an
/// alert's fingerprint and state, a deploy's key, a chat message's id).
#[derive(Debug, Clone)]
pub struct SourcedEntry {
    pub incident: IncidentId,
    pub key: String,
    pub entry: NewTimelineEntry,
}

/// What [`crate::Store::add_sourced_entries`] wrote.
#[derive(Debug, Clone, Default)]
pub struct SourcedOutcome {
    /// The delivery kept, when there was one.
    pub delivery: Option<HookDelivery>,
    /// The entries added; those whose key was there already are left out.
    pub added: Vec<TimelineEntry>,
}

/// A change that went out, as a deploy tool reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeploy {
    /// The same deploy reported twice has the same key and is kept once.
    pub key: String,
    pub service: Name,
    pub version: String,
    pub at: OffsetDateTime,
    pub by: Option<String>,
    pub link: Option<WebLink>,
}

/// A deploy kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deploy {
    pub id: i64,
    /// The integration that reported it; `None` once that integration is deleted.
    pub integration_id: Option<i64>,
    pub key: String,
    pub service: Name,
    pub version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub by: Option<String>,
    pub link: Option<WebLink>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}
