//! The one integration-test binary of `postmortem-notify`: digests, reminders, webhooks, email and the scheduler, on a real store and real peers.
//!
//! One binary per crate keeps link time and disk use down; each module is one subject.

mod common;
mod digest;
mod email;
mod reminders;
mod scheduler;
mod webhooks;
