//! Realistic, varied and deterministic demo data: an organisation and its incidents.
//!
//! This is the newcomer's first look at a living system and the data behind every benchmark,
//! so it must read like real post-mortems and come out the same on every machine: the same
//! seed always gives the same organisation and the same incidents. Generation is pure (no
//! I/O) and fast: text comes from phrase banks filled with plain string pushes, and every
//! value still goes through the core's validating constructors.
//!
//! ```
//! use postmortem_demo::{DemoConfig, incidents, organisation};
//! let org = organisation(42);
//! let config = DemoConfig { n_incidents: 10, seed: 42, today: time::macros::date!(2025 - 06 - 30) };
//! let bundles: Vec<_> = incidents(&org, &config).collect();
//! assert_eq!(bundles.len(), 10);
//! ```

mod fill;
mod generate;
mod org;
mod phrases;
mod rng;
mod sections;
mod stories;

pub use generate::{DemoConfig, DemoIncidents, incidents};
pub use org::{DemoOrg, DemoPerson, DemoService, organisation};
