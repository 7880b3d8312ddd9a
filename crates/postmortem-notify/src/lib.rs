//! Follow-through that outlives the incident: the weekly digest of overdue actions and owed
//! reviews, outgoing webhooks (signed, retried, logged) and email, and the reminders that
//! fire when a review or an action becomes overdue.
//!
//! Nothing here reads incidents that a team channel may not see: digests, reminders and
//! webhooks are built with `Visibility::unrestricted()`, so restricted incidents never appear.

pub mod digest;
pub mod email;
pub mod reminders;
pub mod scheduler;
pub mod webhook;

pub use digest::{Digest, DigestFormat, build_digest};
pub use email::{EmailError, Mailer, SmtpConfig};
pub use reminders::{Reminder, scan};
pub use scheduler::{Notifier, NotifyConfig, NotifyError, TickReport, run};
pub use webhook::{Deliverer, DeliveryReport, Payload, SignatureError, WebhookError, sign, verify};
