//! What the notification tests share: people, incidents and action items on a real store, a
//! real HTTP receiver for webhooks, and a real SMTP server process for email.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use postmortem_core::{
    ActionKind, ActionStatus, DisplayName, Handle, Impact, IncidentId, IncidentKind, Name,
    NewActionItem, NewIncident, PostmortemStatus, Priority, Role, Severity, TemplateName, Title,
    UserId,
};
use postmortem_notify::webhook::{
    DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use postmortem_store::testing::TestDb;
use postmortem_store::{Actor, NewUser, PostmortemStart};
use std::io::BufRead;
use std::sync::{Arc, Mutex, OnceLock};
use time::Date;

pub const SECRET: &str = "a-secret-of-sixteen";
pub const BASE_URL: &str = "https://pm.example.com";

pub async fn person(db: &TestDb, handle: &str) -> UserId {
    let user = NewUser {
        handle: Handle::parse(handle).unwrap(),
        display_name: DisplayName::parse(handle).unwrap(),
        role: Role::Contributor,
        password_hash: None,
    };
    db.store.create_user(Actor::DEMO, user).await.unwrap().id
}

/// An incident of team `payments` whose post-mortem is owed by `due_on`.
pub async fn incident(
    db: &TestDb,
    by: UserId,
    title: &str,
    restricted: bool,
    due_on: Option<Date>,
) -> IncidentId {
    let new = NewIncident {
        title: Title::parse(title).unwrap(),
        kind: IncidentKind::Outage,
        severity: Severity::parse("SEV2").unwrap(),
        started_at: None,
        services: vec![Name::parse("checkout").unwrap()],
        teams: vec![Name::parse("payments").unwrap()],
        impact: Impact::default(),
        restricted,
        template: TemplateName::full(),
    };
    let start = PostmortemStart {
        status: PostmortemStatus::Owed,
        due_on,
    };
    db.store
        .create_incident(Actor::user(by), new, start)
        .await
        .unwrap()
}

/// An open action item owned by `owner` in team `sre`, due on `due_on`.
pub async fn action(
    db: &TestDb,
    owner: UserId,
    incident: IncidentId,
    title: &str,
    due_on: Date,
) -> postmortem_core::ActionItem {
    let item = NewActionItem {
        title: Title::parse(title).unwrap(),
        owner: Some(owner),
        team: Some(Name::parse("sre").unwrap()),
        due_on: Some(due_on),
        priority: Priority::P2,
        kind: ActionKind::Prevent,
        status: ActionStatus::Open,
        wont_do_reason: None,
        external_url: None,
        factor_ids: vec![],
        verification: None,
    };
    db.store
        .add_action(Actor::user(owner), incident, item)
        .await
        .unwrap()
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub event: String,
    pub delivery: String,
    pub body: String,
    /// Whether the signature matched the receiver's secret.
    pub verified: bool,
}

/// A webhook receiver on a real socket. It checks each request's signature with its own
/// secret (401 when it does not match), then answers the statuses it was given in turn,
/// and 200 once they run out.
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Receiver {
    pub async fn start(secret: &str, answers: &[u16]) -> Self {
        Self::start_slow(secret, answers, std::time::Duration::ZERO).await
    }

    /// A receiver that takes `delay` before answering.
    pub async fn start_slow(secret: &str, answers: &[u16], delay: std::time::Duration) -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let secret = secret.to_owned();
        let answers = answers.to_vec();
        let log = received.clone();
        let handler = move |headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            let secret = secret.clone();
            let answers = answers.clone();
            async move {
                tokio::time::sleep(delay).await;
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let verified = postmortem_notify::verify(
                    &secret,
                    &header(TIMESTAMP_HEADER),
                    &body,
                    &header(SIGNATURE_HEADER),
                )
                .is_ok();
                let mut log = log.lock().unwrap();
                let answer = if !verified {
                    StatusCode::UNAUTHORIZED
                } else {
                    let n_verified = log.iter().filter(|r: &&Received| r.verified).count();
                    StatusCode::from_u16(answers.get(n_verified).copied().unwrap_or(200)).unwrap()
                };
                log.push(Received {
                    event: header(EVENT_HEADER),
                    delivery: header(DELIVERY_HEADER),
                    body: String::from_utf8_lossy(&body).into_owned(),
                    verified,
                });
                (answer, "thanks")
            }
        };
        let app = axum::Router::new().route("/hook", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url,
            received,
            server,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// A local port nothing listens on.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const SMTP_SERVER: &str = r#"
import asyncio, email, email.policy, json, os, sys
from aiosmtpd.smtp import SMTP

class Keep:
    def __init__(self, out):
        self.out = out
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        parts = [
            {"type": part.get_content_type(), "content": part.get_content()}
            for part in message.walk()
            if not part.is_multipart()
        ]
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "to": str(message["to"]),
            "type": message.get_content_type(),
            "parts": parts,
        }
        path = os.path.join(self.out, f"{self.n}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 Message accepted for delivery"

async def main():
    handler = Keep(sys.argv[1])
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="localhost"), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"#;

/// The Python that has `aiosmtpd`: `POSTMORTEM_TEST_PYTHON` (`cargo xtask test` sets it), else
/// the locked tools' environment `cargo xtask python-tools` makes in the workspace's `target/`,
/// else `python3`. Nothing is installed here: an unpinned install is how a CI run flakes.
fn smtp_python() -> std::path::PathBuf {
    static PYTHON: OnceLock<std::path::PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/ci-venv/bin/python");
            let python = std::env::var_os("POSTMORTEM_TEST_PYTHON")
                .map(std::path::PathBuf::from)
                .or_else(|| venv.exists().then_some(venv))
                .unwrap_or_else(|| "python3".into());
            let present = std::process::Command::new(&python)
                .args(["-c", "import aiosmtpd"])
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            assert!(
                present,
                "{} has no aiosmtpd; install the locked Python tools with `cargo xtask python-tools`",
                python.display()
            );
            python
        })
        .clone()
}

/// A real SMTP server (Python's aiosmtpd) that writes each message it accepts, decoded by
/// Python's own `email` package, to a JSON file.
pub struct SmtpServer {
    pub port: u16,
    dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpServer {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("smtp_server.py");
        std::fs::write(&script, SMTP_SERVER).unwrap();
        let out = dir.path().join("messages");
        std::fs::create_dir(&out).unwrap();
        let mut child = std::process::Command::new(smtp_python())
            .arg(&script)
            .arg(&out)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("Python starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the SMTP server did not start: {line:?}"));
        Self { port, dir, child }
    }

    /// The messages accepted so far, in order.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let out = self.dir.path().join("messages");
        let mut messages = Vec::new();
        for n in 1.. {
            match std::fs::read_to_string(out.join(format!("{n}.json"))) {
                Ok(raw) => messages.push(serde_json::from_str(&raw).unwrap()),
                Err(_) => break,
            }
        }
        messages
    }

    pub fn config(&self) -> postmortem_notify::SmtpConfig {
        Self::config_for(self.port)
    }

    /// Plain SMTP to a local port, from the system to two lists.
    pub fn config_for(port: u16) -> postmortem_notify::SmtpConfig {
        postmortem_notify::SmtpConfig {
            host: "127.0.0.1".into(),
            port: Some(port),
            starttls: false,
            tls: false,
            username: None,
            password: None,
            from: "Post-mortems <postmortem@example.com>".into(),
            to: vec!["engineering@example.com".into(), "sre@example.com".into()],
        }
    }
}
