//! Email over SMTP: the weekly digest as one message with a plain-text and an HTML part.
//!
//! Plain SMTP is meant for a relay on the same machine or network (`localhost:25`); a
//! remote server is reached with STARTTLS (`starttls = true`, usually port 587) or TLS from
//! the first byte (`tls = true`, usually port 465), and only then are credentials sent.

use crate::digest::{Digest, DigestFormat};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use postmortem_core::format_date;
use serde::Deserialize;
use std::time::Duration;

/// How long one conversation with the SMTP server may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The `[notify.smtp]` table of `postmortem.toml`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// 25 for plain SMTP, 587 with STARTTLS and 465 with TLS when not given.
    #[serde(default)]
    pub port: Option<u16>,
    /// Upgrade the connection with STARTTLS and refuse to go on without it.
    #[serde(default)]
    pub starttls: bool,
    /// Speak TLS from the first byte (SMTPS).
    #[serde(default)]
    pub tls: bool,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The sender, such as `Post-mortems <postmortem@example.com>`.
    pub from: String,
    /// Who receives the digest, such as the engineering list.
    pub to: Vec<String>,
}

// Written by hand so that the password never reaches a log line.
impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("starttls", &self.starttls)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "(hidden)"))
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

impl SmtpConfig {
    /// The port to connect to: the configured one, or the usual one for the security mode.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(if self.tls {
            465
        } else if self.starttls {
            587
        } else {
            25
        })
    }

    fn is_local(&self) -> bool {
        matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "::1")
    }
}

/// What can go wrong with email.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// The `[notify.smtp]` settings cannot work; the message says which and why.
    #[error("notify.smtp.{field}: {problem}")]
    Config {
        field: &'static str,
        problem: String,
    },
    #[error("the email could not be written: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("the SMTP server {server} did not take the email: {source}")]
    Send {
        server: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
}

fn config_error(field: &'static str, problem: impl Into<String>) -> EmailError {
    EmailError::Config {
        field,
        problem: problem.into(),
    }
}

/// Sends email through the configured SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    server: String,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .field(
                "to",
                &self.to.iter().map(Mailbox::to_string).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Checks the settings and prepares the transport; nothing is sent or connected yet.
    pub fn new(config: &SmtpConfig) -> Result<Self, EmailError> {
        if config.host.trim().is_empty() {
            return Err(config_error("host", "is empty; name the SMTP server"));
        }
        if config.tls && config.starttls {
            return Err(config_error(
                "tls",
                "and starttls are both set; use tls for port 465 or starttls for port 587, not both",
            ));
        }
        let from: Mailbox = config.from.parse().map_err(|e| {
            config_error(
                "from",
                format!("`{}` is not an email address: {e}", config.from),
            )
        })?;
        if config.to.is_empty() {
            return Err(config_error("to", "is empty; name at least one recipient"));
        }
        let to = config
            .to
            .iter()
            .map(|raw| {
                raw.parse::<Mailbox>().map_err(|e| {
                    config_error("to", format!("`{raw}` is not an email address: {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let port = config.effective_port();
        let builder = if config.tls {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)
                .map_err(|e| config_error("host", e.to_string()))?
        } else if config.starttls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                .map_err(|e| config_error("host", e.to_string()))?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
        };
        let mut builder = builder.port(port).timeout(Some(SMTP_TIMEOUT));
        match (&config.username, &config.password) {
            (Some(username), Some(password)) => {
                // A password sent in the clear can be read by anyone on the path; only a
                // relay on this machine is close enough to skip encryption.
                if !(config.tls || config.starttls || config.is_local()) {
                    return Err(config_error(
                        "password",
                        "would be sent unencrypted; set starttls = true (port 587) or tls = true (port 465)",
                    ));
                }
                builder = builder.credentials(Credentials::new(username.clone(), password.clone()));
            }
            (None, None) => {}
            (Some(_), None) => return Err(config_error("password", "is missing for the username")),
            (None, Some(_)) => return Err(config_error("username", "is missing for the password")),
        }
        Ok(Self {
            transport: builder.build(),
            server: format!("{}:{port}", config.host),
            from,
            to,
        })
    }

    /// The digest as one email to every recipient, with text and HTML alternatives. The
    /// text part ends with a link to the follow-through page under `base_url`.
    pub fn digest_message(&self, digest: &Digest, base_url: &str) -> Result<Message, EmailError> {
        let page = format!("{}/follow-through", base_url.trim_end_matches('/'));
        let subject = format!(
            "Follow-through digest for {}, {}",
            digest.audience(),
            format_date(digest.generated_on)
        );
        let text = format!(
            "{}\n\nSee everything that is owed and overdue: {page}\n",
            digest.render(DigestFormat::Text).trim_end()
        );
        let html = digest.render(DigestFormat::Html);
        self.message(&subject, text, html)
    }

    /// An email from the configured sender to every configured recipient.
    pub fn message(
        &self,
        subject: &str,
        text: String,
        html: String,
    ) -> Result<Message, EmailError> {
        let mut builder = Message::builder().from(self.from.clone()).subject(subject);
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        Ok(builder.multipart(MultiPart::alternative_plain_html(text, html))?)
    }

    pub async fn send(&self, message: Message) -> Result<(), EmailError> {
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|source| EmailError::Send {
                server: self.server.clone(),
                source,
            })
    }

    /// Builds and sends the digest email.
    pub async fn send_digest(&self, digest: &Digest, base_url: &str) -> Result<(), EmailError> {
        self.send(self.digest_message(digest, base_url)?).await
    }
}
