//! The one integration-test binary of `postmortem-server`: the HTTP API, the pages and the browser, through the router and a real server.
//!
//! One binary per crate keeps link time and disk use down; each module is one subject.

mod action_editors;
mod api;
mod audit;
mod authz;
mod browser;
mod changes;
mod chat;
mod common;
mod concurrency;
mod csrf;
mod external;
mod facts;
mod follow_through;
mod hardening;
mod home;
mod import;
mod integrations;
mod items;
mod journey;
mod limits;
mod lint;
mod markdown;
mod oidc;
mod openapi;
mod pages;
mod search;
mod teams;
mod templates;
mod text;
mod words;
mod workflow;
