//! `postmortem serve`: the web server and API on the configured database.

use super::{DatabaseArgs, open_store};
use crate::config::{Config, DEFAULT_ADDR};
use anyhow::Context;
use postmortem_server::oidc::{IdentityProvider, OidcConfig, SignInError};
use postmortem_server::{AppState, Settings};
use postmortem_store::{Clock, SystemClock};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "POSTMORTEM_ADDR", value_name = "HOST:PORT")]
    addr: Option<String>,
    /// Mark session cookies `Secure` (when people reach the server over HTTPS).
    #[arg(long, env = "POSTMORTEM_COOKIE_SECURE", value_name = "true|false")]
    cookie_secure: Option<bool>,
    /// The header a trusted reverse proxy puts the client's address in, such as
    /// X-Forwarded-For; sign-in throttling counts failures per client address.
    #[arg(long, env = "POSTMORTEM_CLIENT_ADDRESS_HEADER", value_name = "HEADER")]
    client_address_header: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    oidc: OidcArgs,
}

/// Keys of `[oidc]` given as flags or `POSTMORTEM_OIDC_*` variables, each overriding the file.
/// The client secret is best given as a variable: flags show in process lists.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Sign-in through an identity provider (override [oidc])")]
struct OidcArgs {
    /// The provider's issuer URL.
    #[arg(long, env = "POSTMORTEM_OIDC_ISSUER_URL", value_name = "URL")]
    oidc_issuer_url: Option<String>,
    /// The client id the provider gave this server.
    #[arg(long, env = "POSTMORTEM_OIDC_CLIENT_ID", value_name = "ID")]
    oidc_client_id: Option<String>,
    /// The client secret the provider gave this server.
    #[arg(
        long,
        env = "POSTMORTEM_OIDC_CLIENT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    oidc_client_secret: Option<String>,
    /// This server's public base URL; the provider sends people back to BASE/login/oidc/callback.
    #[arg(long, env = "POSTMORTEM_OIDC_BASE_URL", value_name = "URL")]
    oidc_base_url: Option<String>,
    /// The text of the sign-in button.
    #[arg(long, env = "POSTMORTEM_OIDC_BUTTON_LABEL", value_name = "TEXT")]
    oidc_button_label: Option<String>,
    /// The role of a person created at their first sign-in (default: viewer).
    #[arg(long, env = "POSTMORTEM_OIDC_DEFAULT_ROLE", value_name = "ROLE")]
    oidc_default_role: Option<String>,
    /// Only verified emails in these domains may sign in (comma-separated).
    #[arg(
        long,
        env = "POSTMORTEM_OIDC_ALLOWED_EMAIL_DOMAINS",
        value_name = "DOMAINS",
        value_delimiter = ','
    )]
    oidc_allowed_email_domains: Option<Vec<String>>,
}

impl OidcArgs {
    fn into_config(self) -> OidcConfig {
        OidcConfig {
            issuer_url: self.oidc_issuer_url,
            client_id: self.oidc_client_id,
            client_secret: self.oidc_client_secret,
            base_url: self.oidc_base_url,
            button_label: self.oidc_button_label,
            default_role: self.oidc_default_role,
            allowed_email_domains: self.oidc_allowed_email_domains,
        }
    }
}

/// The identity provider from `[oidc]` and its overrides, checked and discovered; `None`
/// when nothing is configured. An unreachable provider is not fatal (sign-in through it
/// shows a page saying so and tries again); a wrong configuration is.
async fn identity_provider(
    config: &Config,
    args: OidcArgs,
) -> anyhow::Result<Option<Arc<IdentityProvider>>> {
    let oidc = config
        .oidc
        .clone()
        .unwrap_or_default()
        .overridden_by(args.into_config());
    if !oidc.is_set() {
        return Ok(None);
    }
    let settings = oidc
        .check()
        .context("the [oidc] table of the configuration is not valid")?;
    let provider = IdentityProvider::new(settings)?;
    let issuer = provider.settings().issuer.as_str().to_owned();
    match provider.discover().await {
        Ok(()) => crate::log::say(format_args!(
            "sign-in through {issuer} is on; register {} as its redirect URI",
            provider.settings().redirect_url.as_str()
        )),
        Err(error @ SignInError::Unreachable(_)) => {
            crate::log::warn(format_args!(
                "{error}; sign-in through {issuer} will try again when used"
            ));
        }
        Err(error) => {
            return Err(error).context(format!(
                "the identity provider at {issuer} does not match the [oidc] table"
            ));
        }
    }
    Ok(Some(Arc::new(provider)))
}

pub async fn run(config: Config, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let addr = args
        .addr
        .clone()
        .or_else(|| config.addr.clone())
        .unwrap_or_else(|| DEFAULT_ADDR.to_owned());
    let (store, location) = open_store(&config, &args.database).await?;
    let oidc = identity_provider(&config, args.oidc).await?;
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    crate::log::say(format_args!(
        "postmortem {} listening on http://{local}",
        env!("CARGO_PKG_VERSION")
    ));
    crate::log::say(format_args!("data: {location}"));
    if store.count_users().await? == 0 {
        crate::log::say("No accounts yet. Create the first admin in another terminal:");
        crate::log::say(
            "  postmortem user create admin --name \"Your Name\" --role admin --password-stdin",
        );
    }
    config
        .lint
        .validate()
        .context("the [lint] table of the configuration is not valid")?;
    let defaults = Settings::default();
    let settings = Settings {
        cookie_secure: args
            .cookie_secure
            .or(config.server.cookie_secure)
            .unwrap_or(defaults.cookie_secure),
        client_address_header: args
            .client_address_header
            .clone()
            .or_else(|| config.server.client_address_header.clone())
            .map(|name| {
                postmortem_server::HeaderName::try_from(name.as_str()).with_context(|| {
                    format!("`{name}` is not a header name (client_address_header)")
                })
            })
            .transpose()?,
        session_hours: config
            .server
            .session_hours
            .unwrap_or(defaults.session_hours),
        policy: postmortem_core::policy::Policy::from_config(config.policy.clone())
            .context("the [policy] table of the configuration is not valid")?,
        lint: config.lint.clone(),
        templates: config.templates()?,
        hook_retention: config.hook_retention()?,
        upload_dir: config.upload_dir(args.database.data_dir.as_deref()),
        ..defaults
    };
    // One signal stops both the server and the notifier; each waits on its own receiver.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let wait = |mut receiver: tokio::sync::watch::Receiver<bool>| async move {
        let _ = receiver.wait_for(|stopped| *stopped).await;
    };
    let notifier = match config.notify.clone() {
        Some(notify) => {
            notify
                .check()
                .context("the [notify] table of the configuration is not valid")?;
            crate::log::say(format_args!(
                "reminders and the weekly digest are on (links point to {})",
                notify.base_url
            ));
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            Some(tokio::spawn(postmortem_notify::run(
                store.clone(),
                notify,
                clock,
                wait(stopped.clone()),
            )))
        }
        None => None,
    };
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    // This node's search index follows the change feed; a missing or damaged index is
    // rebuilt in the background, so the server answers at once and search catches up.
    let index_dir = args.database.index_dir(&config);
    let mut state = AppState::new(store.clone(), settings);
    if let Some(provider) = oidc {
        state = state.with_oidc(provider);
    }
    let follower = match postmortem_search::SearchIndex::open(&index_dir) {
        Ok(index) => {
            let index = Arc::new(index);
            state = state.with_search(index.clone());
            crate::log::say(format_args!("search index: {}", index_dir.display()));
            let store = store.clone();
            Some(tokio::spawn(async move {
                index
                    .follow(store.as_ref(), std::time::Duration::from_millis(200))
                    .await;
            }))
        }
        Err(error) => {
            crate::log::warn(format_args!("search is off: {error}"));
            None
        }
    };
    postmortem_server::serve(listener, state, wait(stopped)).await?;
    if let Some(follower) = follower {
        follower.abort();
    }
    if let Some(notifier) = notifier {
        match notifier.await {
            Ok(Err(error)) => crate::log::warn(format_args!("the notifier stopped: {error}")),
            Err(error) => crate::log::warn(format_args!("the notifier failed: {error}")),
            Ok(Ok(())) => {}
        }
    }
    crate::log::say("postmortem stopped");
    Ok(ExitCode::SUCCESS)
}

/// Completes on Ctrl-C or SIGTERM, so the server stops taking requests and finishes the
/// ones in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    crate::log::say("shutting down");
}
