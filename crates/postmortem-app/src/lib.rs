//! The use cases of the post-mortem system, usable without HTTP: who may do what (through
//! [`Permission::least_role`]), parsing input into core types, the review workflow, the
//! policy's re-evaluation, and reading the audit log for whom. The web server and the command
//! line are adapters over this crate, so the two can never disagree about a rule.
//!
//! [`App`] holds the store and the organisation's rules; [`App::acting_for`] gives the
//! [`Service`] acting for one person. Its operations are split by capability, one module each:
//! [`incidents`], [`home`] (what needs the person), [`insights`] (what keeps happening, across incidents), [`writing`], [`review`], [`actions`], [`people`] (teams and people),
//! [`accounts`] (accounts and tokens), [`export`] (stored incidents as Markdown documents), [`external`] (the customer-facing version: drafts, redactions, publishing), [`integrations`] (tools that send webhooks, and their receivers), [`changes`] (deploys before an incident), [`chat`] (chat exports onto the timeline) and [`audit`] (who reads which part of the log). Every failure is one [`AppError`] with a
//! stable code.
//!
//! Reads go through [`Service::incident`], which answers "not found" for a restricted incident
//! the person may not see, so that its existence never leaks through a refusal.
//!
//! This crate must not know about HTTP (axum, hyper, tower, http) or HTML (maud): `cargo xtask
//! test` checks its dependency tree.

pub mod accounts;
pub mod actions;
pub mod audit;
pub mod changes;
pub mod chat;
pub mod digest;
mod error;
pub mod export;
pub mod external;
pub mod home;
pub mod import;
pub mod incidents;
pub mod insights;
pub mod integrations;
pub mod people;
pub mod review;
pub mod vocabulary;
pub mod writing;

pub use actions::{ActionInput, ActionPatch, may_edit_action};
pub use changes::ChangeBefore;
pub use error::AppError;
pub use external::{ExternalInput, ExternalPatch, ExternalView, PublishInput, ReplacementInput};
pub use home::Work;
pub use import::{FieldChange, ImportOptions, ImportOutcome, Imported, Importer};
pub use incidents::{FactsPatch, FactsResult, ImpactPatch, IncidentInput};
pub use insights::InsightsInput;
pub use integrations::{HookCredential, HookRetention, IntegrationInput, Received, Registered};
pub use people::{RoleInput, TeamInput};
pub use review::{
    BlameSummary, CommentInput, PlacedComment, QuoteInput, SectionFinding, TransitionInput,
    Transitioned, blame_findings, blame_summary, lint_participants, place_comments,
};
pub use writing::{
    Conflict, FactorInput, FactorPatch, SaveResult, TimelineInput, TimelinePatch, first_words,
};

use postmortem_core::policy::Policy;
use postmortem_core::{Permission, Role, SystemActor, Templates, User};
use postmortem_store::{Actor, Store, Visibility};
use serde::{Deserialize, Deserializer};
use std::sync::Arc;

/// The organisation's rules the use cases apply, read once at start.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// How many severity levels the organisation uses (SEV1..SEVn).
    pub severity_levels: u8,
    /// When a post-mortem is owed: `[policy]` of `postmortem.toml`, or the built-in rules.
    pub policy: Policy,
    /// How the blameless-language checker is tuned: `[lint]` of `postmortem.toml`.
    pub lint: postmortem_lint::LintConfig,
    /// The post-mortem templates: the built-in ones and `[[templates]]` of `postmortem.toml`.
    pub templates: Templates,
    /// How long received webhook bodies are kept: `[integrations] retention_days`.
    pub hook_retention: HookRetention,
}

/// The application: the store and the rules, shared by every caller.
#[derive(Debug, Clone)]
pub struct App {
    store: Arc<dyn Store>,
    rules: Arc<Rules>,
    /// When the receivers last pruned old webhook bodies (Unix seconds), so they prune once
    /// a minute, not once a body (`integrations.rs`).
    last_hook_prune: Arc<std::sync::atomic::AtomicI64>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, rules: Rules) -> Self {
        Self {
            store,
            rules: Arc::new(rules),
            last_hook_prune: Arc::default(),
        }
    }

    /// The use cases acting for `user`, with their role and their memberships.
    pub fn acting_for<'a>(&'a self, user: &'a User) -> Service<'a> {
        Service {
            app: self,
            acting: Acting::Person(user),
        }
    }

    /// The use cases acting as a named part of the system (`system:demo`, `system:import`...):
    /// the same operations and rules as for a person of the actor's role
    /// ([`SystemActor::role`]), audited under its name. What only a person can do (review,
    /// their own work) is refused.
    pub fn as_system(&self, system: SystemActor) -> Service<'_> {
        Service {
            app: self,
            acting: Acting::System(system),
        }
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

/// The use cases acting for one signed-in person, or for a named system actor.
#[derive(Debug, Clone, Copy)]
pub struct Service<'a> {
    app: &'a App,
    acting: Acting<'a>,
}

/// Who a [`Service`] acts for.
#[derive(Debug, Clone, Copy)]
enum Acting<'a> {
    Person(&'a User),
    System(SystemActor),
}

impl<'a> Service<'a> {
    fn actor(&self) -> Actor {
        match self.acting {
            Acting::Person(user) => Actor::user(user.id),
            Acting::System(system) => Actor::System(system),
        }
    }

    /// The role whose permissions apply: the person's, or the system actor's.
    fn role(&self) -> Role {
        match self.acting {
            Acting::Person(user) => user.role,
            Acting::System(system) => system.role(),
        }
    }

    /// The person acting, if a person is.
    fn person_acting(&self) -> Option<&'a User> {
        match self.acting {
            Acting::Person(user) => Some(user),
            Acting::System(_) => None,
        }
    }

    /// The person acting, for what only a person can do (review, their own work); a system
    /// actor is refused, naming what it tried.
    fn only_a_person(&self, what: &str) -> Result<&'a User, AppError> {
        match self.acting {
            Acting::Person(user) => Ok(user),
            Acting::System(system) => Err(AppError::Forbidden(format!(
                "only a person may {what}; {} is part of the system",
                system.name()
            ))),
        }
    }

    /// Whose eyes reads are for: admins (and admin-role system actors) see everything, a
    /// person what they may, other system actors only unrestricted incidents.
    fn seen(&self) -> Visibility {
        match self.acting {
            Acting::Person(user) => visibility(user),
            Acting::System(system) if system.may(Permission::SeeEverything) => {
                Visibility::Everything
            }
            Acting::System(_) => Visibility::unrestricted(),
        }
    }

    /// The one role check: whether the person's role has `permission` (the table in
    /// [`Permission::least_role`] and the README), else a refusal naming what was refused.
    fn require(&self, permission: Permission, what: &str) -> Result<(), AppError> {
        if self.role().may(permission) {
            Ok(())
        } else {
            Err(AppError::role_may_not(what))
        }
    }
}

/// Whose eyes a read is for: admins see everything, others what they may.
pub fn visibility(user: &User) -> Visibility {
    if user.role.may(Permission::SeeEverything) {
        Visibility::Everything
    } else {
        Visibility::Person(user.id)
    }
}

/// Optional text fields arrive from HTML forms as empty strings; both mean "not given".
fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Optional prose (a reason, a verification note) checked against the character rules of
/// [`postmortem_core::check_prose`]: the text to keep, or `None` with the refusal in `errors`.
fn prose(errors: &mut postmortem_core::Collector, field: &str, raw: &str) -> Option<String> {
    errors
        .ok(postmortem_core::check_prose(field, raw))
        .map(|()| raw.to_owned())
}

/// An optional line (a person's name as written on a timeline entry, a label) checked
/// against the character rules of [`postmortem_core::check_line`].
fn line(errors: &mut postmortem_core::Collector, field: &str, raw: &str) -> Option<String> {
    errors
        .ok(postmortem_core::check_line(field, raw))
        .map(|()| raw.to_owned())
}

/// Lets a JSON field be absent (leave as it is), `null` (clear it) or a value (set it).
fn double_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}
