//! The one integration-test binary of `postmortem-lint`: the blameless-language checker's public API, corpus figures, output formats and robustness.
//!
//! One binary per crate keeps link time and disk use down; each module is one subject.

mod api;
mod clean;
mod corpus;
mod evaluation;
mod format;
mod heldout;
mod robustness;
mod training;
