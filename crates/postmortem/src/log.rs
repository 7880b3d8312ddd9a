//! The binary's log, always on stderr: plain text for people, coloured only when stderr is a
//! terminal (so a file or the journal gets no escape codes, and `NO_COLOR` turns colour off
//! anywhere), or one JSON object per line (`--log-format json`) for log shippers. What `serve`
//! tells its operator goes the same way, so in JSON every line on stderr is an object.

use std::fmt::Display;
use std::io::IsTerminal;
use std::sync::OnceLock;

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people: time, level, where, message.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message` and the event's
    /// fields.
    Json,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Starts the log. `POSTMORTEM_LOG` filters it (`tracing`'s `EnvFilter` syntax).
pub fn init(format: LogFormat) {
    let _ = FORMAT.set(format);
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("POSTMORTEM_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new("warn,postmortem=info,postmortem_server=info")
        });
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            log.with_ansi(std::io::stderr().is_terminal() && !no_color)
                .init();
        }
        LogFormat::Json => log.json().flatten_event(true).init(),
    }
}

fn json() -> bool {
    FORMAT.get() == Some(&LogFormat::Json)
}

/// Tells the operator something: the line as it is in text, an `info` event in JSON.
pub fn say(line: impl Display) {
    if json() {
        tracing::info!(target: "postmortem", "{line}");
    } else {
        eprintln!("{line}");
    }
}

/// Warns the operator: `warning: ...` in text, a `warn` event in JSON.
pub fn warn(line: impl Display) {
    if json() {
        tracing::warn!(target: "postmortem", "{line}");
    } else {
        eprintln!("warning: {line}");
    }
}

/// The error a command ended with: `error: ...` in text, an `error` event in JSON.
pub fn failed(error: &anyhow::Error) {
    if json() {
        tracing::error!(target: "postmortem", "{error:#}");
    } else {
        eprintln!("error: {error:#}");
    }
}
