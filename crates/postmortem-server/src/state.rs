//! What every request handler shares: the store, the application layer over it, and the
//! settings.

use postmortem_core::policy::Policy;
use postmortem_store::{LockoutPolicy, Store};
use std::sync::Arc;

/// Settings the server reads once at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Mark cookies `Secure`; set when the server is reached over TLS.
    pub cookie_secure: bool,
    /// How long a browser session lasts.
    pub session_hours: i64,
    /// How many severity levels the organisation uses (SEV1..SEVn).
    pub severity_levels: u8,
    /// When a post-mortem is owed: `[policy]` of `postmortem.toml`, or the built-in rules.
    pub policy: Policy,
    /// How the blameless-language checker is tuned: `[lint]` of `postmortem.toml`. Used for
    /// live hints, the review count and the publish check alike, so they never disagree.
    pub lint: postmortem_lint::LintConfig,
    /// The post-mortem templates: the built-in ones and `[[templates]]` of `postmortem.toml`.
    pub templates: postmortem_core::Templates,
    /// The request header a trusted reverse proxy puts the client's address in (such as
    /// `X-Forwarded-For`; its last entry is used). Without it, the connection's address is
    /// the client's. Failed sign-ins are counted per address as well as per handle.
    pub client_address_header: Option<axum::http::HeaderName>,
    /// How failed sign-ins lock out a handle.
    pub lockout_per_handle: LockoutPolicy,
    /// How failed sign-ins lock out a client address; looser than per handle, because many
    /// people may share an address.
    pub lockout_per_address: LockoutPolicy,
    /// How long webhook bodies received from integrations are kept.
    pub hook_retention: postmortem_app::HookRetention,
    /// Where chat exports uploaded on the chat selection page wait between its steps
    /// (`uploads.rs`): `<data dir>/uploads` when serving, the system's temporary directory
    /// otherwise.
    pub upload_dir: std::path::PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            cookie_secure: false,
            session_hours: 12,
            severity_levels: postmortem_core::Severity::DEFAULT_LEVELS,
            policy: Policy::default(),
            lint: postmortem_lint::LintConfig::default(),
            templates: postmortem_core::Templates::default(),
            client_address_header: None,
            lockout_per_handle: LockoutPolicy {
                free_failures: 5,
                first_lockout: time::Duration::seconds(30),
                longest_lockout: time::Duration::hours(1),
                forget_after: time::Duration::hours(24),
            },
            lockout_per_address: LockoutPolicy {
                free_failures: 20,
                first_lockout: time::Duration::seconds(30),
                longest_lockout: time::Duration::hours(1),
                forget_after: time::Duration::hours(24),
            },
            hook_retention: postmortem_app::HookRetention::default(),
            upload_dir: std::env::temp_dir().join("postmortem-uploads"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The use cases over the same store, with the rules of `settings`: every write and every
    /// read of an incident goes through it.
    pub app: postmortem_app::App,
    pub settings: Arc<Settings>,
    /// The broadcast of the change feed to live pages.
    pub live: Arc<crate::live::Live>,
    /// This node's search index, derived from the store; `None` when search is off.
    pub search: Option<Arc<postmortem_search::SearchIndex>>,
    /// Similar incidents per incident and reader, valid while the index is unchanged.
    pub similar: Arc<crate::similar::SimilarCache>,
    /// How many blameless-language findings each incident's sections hold, by incident
    /// version: linting every section on every page view would cost more than the page.
    pub blame_counts: Arc<
        quick_cache::sync::Cache<postmortem_core::IncidentId, (i64, postmortem_app::BlameSummary)>,
    >,
    /// The organisation's identity provider; `None` when only local accounts sign in.
    pub oidc: Option<Arc<crate::oidc::IdentityProvider>>,
    /// Chat exports between the steps of the chat selection page.
    pub(crate) uploads: Arc<crate::uploads::Uploads>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        let rules = postmortem_app::Rules {
            severity_levels: settings.severity_levels,
            policy: settings.policy.clone(),
            lint: settings.lint.clone(),
            templates: settings.templates.clone(),
            hook_retention: settings.hook_retention,
        };
        Self {
            uploads: Arc::new(crate::uploads::Uploads::new(settings.upload_dir.clone())),
            app: postmortem_app::App::new(store.clone(), rules),
            store,
            settings: Arc::new(settings),
            live: Arc::default(),
            search: None,
            similar: Arc::default(),
            blame_counts: Arc::new(quick_cache::sync::Cache::new(4096)),
            oidc: None,
        }
    }

    /// The same state with a search index; the caller keeps it current (`SearchIndex::follow`).
    #[must_use]
    pub fn with_search(mut self, index: Arc<postmortem_search::SearchIndex>) -> Self {
        self.search = Some(index);
        self
    }

    /// The same state with sign-in through an identity provider beside local accounts.
    #[must_use]
    pub fn with_oidc(mut self, provider: Arc<crate::oidc::IdentityProvider>) -> Self {
        self.oidc = Some(provider);
        self
    }
}
