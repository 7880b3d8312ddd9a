//! `postmortem serve`: the web server and API on the configured database.

use super::{DatabaseArgs, open_store};
use crate::config::{Config, DEFAULT_ADDR};
use anyhow::Context;
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
}

pub async fn run(config: Config, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let addr = args
        .addr
        .clone()
        .or_else(|| config.addr.clone())
        .unwrap_or_else(|| DEFAULT_ADDR.to_owned());
    let (store, location) = open_store(&config, &args.database).await?;
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    eprintln!(
        "postmortem {} listening on http://{local}",
        env!("CARGO_PKG_VERSION")
    );
    eprintln!("data: {location}");
    if store.count_users().await? == 0 {
        eprintln!("No accounts yet. Create the first admin in another terminal:");
        eprintln!(
            "  postmortem user create admin --name \"Your Name\" --role admin --password-stdin"
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
            eprintln!(
                "reminders and the weekly digest are on (links point to {})",
                notify.base_url
            );
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
    let follower = match postmortem_search::SearchIndex::open(&index_dir) {
        Ok(index) => {
            let index = Arc::new(index);
            state = state.with_search(index.clone());
            eprintln!("search index: {}", index_dir.display());
            let store = store.clone();
            Some(tokio::spawn(async move {
                index
                    .follow(store.as_ref(), std::time::Duration::from_millis(200))
                    .await;
            }))
        }
        Err(error) => {
            eprintln!("search is off: {error}");
            None
        }
    };
    postmortem_server::serve(listener, state, wait(stopped)).await?;
    if let Some(follower) = follower {
        follower.abort();
    }
    if let Some(notifier) = notifier {
        match notifier.await {
            Ok(Err(error)) => eprintln!("the notifier stopped: {error}"),
            Err(error) => eprintln!("the notifier failed: {error}"),
            Ok(Ok(())) => {}
        }
    }
    eprintln!("postmortem stopped");
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
    eprintln!("shutting down");
}
