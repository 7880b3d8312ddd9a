//! The one integration-test binary of `postmortem-search`: the search index beside a real store: queries, facets, permissions and its life cycle.
//!
//! One binary per crate keeps link time and disk use down; each module is one subject.

mod common;
mod lifecycle;
mod robustness;
mod search;
