//! The one integration-test binary of `postmortem-server`: the HTTP API, the pages and the browser, through the router and a real server.
//!
//! One binary per crate keeps link time and disk use down; each module is one subject.

mod api;
mod authz;
mod browser;
mod common;
mod follow_through;
mod lint;
mod openapi;
mod pages;
mod search;
mod teams;
mod workflow;
