//! Outgoing webhooks: JSON payloads with a Slack-compatible `text`, signed with HMAC-SHA256,
//! delivered by a [`Deliverer`] that retries with backoff and records every attempt.
//!
//! # What a receiver gets
//!
//! A `POST` with a JSON body `{"event": ..., "text": ..., "data": {...}}` and these headers:
//!
//! - `X-Postmortem-Event`: the event name, such as `action.overdue`.
//! - `X-Postmortem-Delivery`: the delivery id. A retried delivery keeps its id, so a
//!   receiver that saw it before can ignore it.
//! - `X-Postmortem-Timestamp`: when this attempt was sent, in Unix seconds.
//! - `X-Postmortem-Signature`: `sha256=<hex>`, the HMAC-SHA256 with the webhook's secret of
//!   the timestamp, a full stop and the raw body (`<timestamp>.<body>`). Signing the
//!   timestamp too lets a receiver refuse old requests replayed by someone who saw one.
//!
//! A receiver checks the signature with [`verify`] (or the same computation in its own
//! language), and answers any 2xx status to accept; anything else is retried.

use hmac::{Hmac, Mac};
use postmortem_store::{Clock, DeliveryOutcome, DueDelivery, Store, StoreError};
use serde::Serialize;
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;

pub const EVENT_HEADER: &str = "X-Postmortem-Event";
pub const DELIVERY_HEADER: &str = "X-Postmortem-Delivery";
pub const TIMESTAMP_HEADER: &str = "X-Postmortem-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Postmortem-Signature";

/// The event a review that became overdue sends.
pub const REVIEW_OVERDUE: &str = "review.overdue";
/// The event an action item that became overdue sends.
pub const ACTION_OVERDUE: &str = "action.overdue";
/// The event the weekly digest sends.
pub const DIGEST: &str = "digest";

/// How long one request may take in all. A receiver slower than this is treated as down,
/// so one slow receiver holds up nothing else for longer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How many due deliveries one call of [`Deliverer::deliver_due`] sends, all at once.
pub const BATCH: i64 = 32;

/// A webhook body. `text` is a one-paragraph message in Slack's `mrkdwn` (links written
/// `<url|label>`), so a Slack or Mattermost incoming webhook shows it as it is; `data`
/// carries the same facts for programs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payload {
    pub event: String,
    pub text: String,
    pub data: serde_json::Value,
}

impl Payload {
    pub fn new(event: &str, text: String, data: serde_json::Value) -> Self {
        Self {
            event: event.to_owned(),
            text,
            data,
        }
    }

    /// The body as it is stored, signed and sent.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a payload of strings and JSON values serialises")
    }
}

/// Escapes text for Slack's `mrkdwn`, where `&`, `<` and `>` are control characters.
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack link: `<url|label>`, with the label escaped.
pub fn slack_link(url: &str, label: &str) -> String {
    format!("<{url}|{}>", slack_escape(label).replace('|', "¦"))
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-Postmortem-Signature` value of `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is not of the form sha256=<hex>")]
    Malformed,
    #[error("the timestamp header is not a whole number of seconds")]
    BadTimestamp,
    #[error("the signature does not match the body, the timestamp and the secret")]
    Mismatch,
}

/// Checks a request's signature, in constant time. Receivers should also refuse timestamps
/// far from their own clock (five minutes is usual), which this leaves to them.
pub fn verify(
    secret: &str,
    timestamp: &str,
    body: &[u8],
    signature: &str,
) -> Result<(), SignatureError> {
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    let expected = signature
        .trim()
        .strip_prefix("sha256=")
        .and_then(|hex| hex::decode(hex).ok())
        .ok_or(SignatureError::Malformed)?;
    mac(secret, timestamp, body)
        .verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// What can stop deliveries as a whole (one receiver failing is an outcome, not an error).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("cannot build the HTTP client for webhooks: {0}")]
    Client(#[source] reqwest::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How one round of deliveries went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: usize,
    pub failed: usize,
}

/// Sends due deliveries and records each outcome in the store.
#[derive(Debug, Clone)]
pub struct Deliverer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    client: reqwest::Client,
    timeout: Duration,
}

impl Deliverer {
    /// A deliverer whose requests time out after [`REQUEST_TIMEOUT`].
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Result<Self, WebhookError> {
        Self::with_timeout(store, clock, REQUEST_TIMEOUT)
    }

    /// A deliverer whose requests time out after `timeout`.
    pub fn with_timeout(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        timeout: Duration,
    ) -> Result<Self, WebhookError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            // A redirect would send the signed body somewhere the admin did not name.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("postmortem-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(WebhookError::Client)?;
        Ok(Self {
            store,
            clock,
            client,
            timeout,
        })
    }

    /// Sends up to [`BATCH`] due deliveries concurrently and records how each went. The
    /// store leases them first, so another node running the same loop does not send them
    /// too.
    pub async fn deliver_due(&self) -> Result<DeliveryReport, WebhookError> {
        let due = self.store.due_deliveries(self.clock.now(), BATCH).await?;
        let mut sends = tokio::task::JoinSet::new();
        for delivery in due {
            let this = self.clone();
            sends.spawn(async move {
                let outcome = this.send(&delivery).await;
                let id = delivery.id;
                if let DeliveryOutcome::Failed { error, .. } = &outcome {
                    tracing::warn!(delivery = id, url = %delivery.url, %error, "webhook delivery failed");
                }
                this.store.record_delivery_attempt(id, outcome).await
            });
        }
        let mut report = DeliveryReport::default();
        let mut first_error = None;
        while let Some(joined) = sends.join_next().await {
            match joined {
                Ok(Ok(recorded)) if recorded.delivered_at.is_some() => report.delivered += 1,
                Ok(Ok(_)) => report.failed += 1,
                // Keep recording the others; the lease makes an unrecorded one due again.
                Ok(Err(error)) => {
                    first_error.get_or_insert(error);
                }
                Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
            }
        }
        match first_error {
            Some(error) => Err(error.into()),
            None => Ok(report),
        }
    }

    /// Makes one attempt; every way it can go wrong becomes a failed outcome.
    async fn send(&self, delivery: &DueDelivery) -> DeliveryOutcome {
        let timestamp = self.clock.now().unix_timestamp();
        let signature = sign(&delivery.secret, timestamp, delivery.payload.as_bytes());
        let sent = self
            .client
            .post(&delivery.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_HEADER, &delivery.event)
            .header(DELIVERY_HEADER, delivery.id.to_string())
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(delivery.payload.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => DeliveryOutcome::Delivered {
                response_code: response.status().as_u16(),
            },
            Ok(response) => {
                let status = response.status();
                // The start of the answer usually says why; the timeout bounds the read.
                let body = response.text().await.unwrap_or_default();
                let gist: String = body.chars().take(300).collect();
                DeliveryOutcome::Failed {
                    response_code: Some(status.as_u16()),
                    error: format!("the receiver answered {status}: {}", gist.trim()),
                }
            }
            Err(error) => DeliveryOutcome::Failed {
                response_code: None,
                error: describe(&error, self.timeout),
            },
        }
    }
}

/// A reqwest error with its causes, which hold the useful part ("connection refused").
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    let mut text = if error.is_timeout() {
        format!("no answer within {:.1} seconds", timeout.as_secs_f64())
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_its_secret_and_timestamp_only() {
        let body = br#"{"event":"digest"}"#;
        let signature = sign("a-secret-of-sixteen", 1_772_442_000, body);
        assert!(signature.starts_with("sha256="));
        assert_eq!(
            verify("a-secret-of-sixteen", "1772442000", body, &signature),
            Ok(())
        );
        assert_eq!(
            verify("another-secret-here", "1772442000", body, &signature),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("a-secret-of-sixteen", "1772442001", body, &signature),
            Err(SignatureError::Mismatch),
            "a replay with a fresh timestamp does not verify"
        );
        assert_eq!(
            verify("a-secret-of-sixteen", "1772442000", b"{}", &signature),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("a-secret-of-sixteen", "1772442000", body, "md5=00"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify("a-secret-of-sixteen", "soon", body, &signature),
            Err(SignatureError::BadTimestamp)
        );
    }

    #[test]
    fn the_signature_is_the_plain_hmac_of_timestamp_dot_body() {
        // Computed independently with Python's `hmac` module, as a receiver would.
        assert_eq!(
            sign("Jefe", 0, b"what do ya want for nothing?"),
            "sha256=37f471929915ccd2cbbe79feb84ffcff4f2bb25e15fc41c2506687331ae179cc"
        );
    }

    #[test]
    fn slack_text_escapes_control_characters_and_links_keep_their_label() {
        assert_eq!(slack_escape("a < b & c > d"), "a &lt; b &amp; c &gt; d");
        assert_eq!(
            slack_link(
                "https://pm.example.com/incidents/7",
                "DB <failover> | drill"
            ),
            "<https://pm.example.com/incidents/7|DB &lt;failover&gt; ¦ drill>"
        );
    }
}
