//! No acknowledged write is lost when the server dies: concurrent clients add timeline entries
//! through the API and count the ones answered `201`, the real server binary is killed with
//! SIGKILL a few times and started again on the same port, and afterwards every acknowledged
//! entry is in the incident (and SQLite's integrity check is `ok`). On both backends, each in
//! well under a minute.

use crate::server::Server;
use postmortem_store::testing::TestDb;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WRITERS: usize = 6;
const KILLS: usize = 3;
/// How long the writers write between two kills.
const BETWEEN_KILLS: Duration = Duration::from_millis(1500);

/// One HTTP/1.1 request on a new connection: the status and the body, or the I/O error
/// (while the server is down).
fn request(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {answer:?}")))?;
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    Ok((status, body))
}

/// Makes an account with a token through the binary, as an operator would.
fn token_for(database: &str) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args("user create dana --name Dana --role contributor --token --database".split(' '))
        .arg(database)
        .env_remove("POSTMORTEM_CONFIG")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Runs the writers across `KILLS` kills of the server and checks what they were told.
fn acknowledged_writes_survive_kills(database: &str, index_dir: &std::path::Path) {
    let started = Instant::now();
    let token = token_for(database);
    let args = [
        "--database",
        database,
        "--index-dir",
        index_dir.to_str().unwrap(),
    ];
    let mut server = Server::start(&args, &[]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let outage = r#"{"title": "Checkout returned 502s", "kind": "outage", "severity": "SEV2", "started_at": "2026-03-01T14:00:00+01:00"}"#;
    let (status, body) = request(&addr, "POST", "/api/v1/incidents", &token, outage).unwrap();
    assert_eq!(status, 201, "{body}");
    let id: serde_json::Value = serde_json::from_str(&body).unwrap();
    let path = format!("/api/v1/incidents/{}/timeline", id["id"]);

    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (stop, acknowledged) = (stop.clone(), acknowledged.clone());
            let (addr, token, path) = (addr.clone(), token.clone(), path.clone());
            std::thread::spawn(move || {
                let mut refused = 0;
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let text = format!("writer {writer} entry {n}");
                    let entry =
                        format!(r#"{{"at": "2026-03-01T14:05:00+01:00", "text": "{text}"}}"#);
                    match request(&addr, "POST", &path, &token, &entry) {
                        Ok((201, _)) => {
                            acknowledged.lock().unwrap().insert(text);
                        }
                        Ok((status, body)) => {
                            panic!("writer {writer} was answered {status}: {body}")
                        }
                        // Cut off by the kill, or refused while the server is down: not
                        // acknowledged, so it may or may not be there.
                        Err(_) => {
                            refused += 1;
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
                refused
            })
        })
        .collect();

    for _ in 0..KILLS {
        std::thread::sleep(BETWEEN_KILLS);
        server.kill();
        server = Server::start_at(&addr, &args, &[]);
    }
    std::thread::sleep(BETWEEN_KILLS);
    stop.store(true, Ordering::Relaxed);
    let refused: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();

    let (status, body) = request(
        &addr,
        "GET",
        &format!("/api/v1/incidents/{}", id["id"]),
        &token,
        "",
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let record: serde_json::Value = serde_json::from_str(&body).unwrap();
    let stored: BTreeSet<String> = record["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect();
    let acknowledged = acknowledged.lock().unwrap();
    let lost: Vec<&String> = acknowledged.difference(&stored).collect();
    eprintln!(
        "{} acknowledged writes from {WRITERS} writers across {KILLS} kills, {} stored, {refused} attempts cut off or refused a connection, {:.1} s",
        acknowledged.len(),
        stored.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(
        acknowledged.len() >= WRITERS * (KILLS + 1),
        "the writers wrote: {}",
        acknowledged.len()
    );
    assert!(refused > 0, "the kills cut some writes off");
    server.kill();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "bounded in time"
    );
}

#[test]
fn acknowledged_writes_survive_kill_9_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("postmortem.db");
    let database = format!("sqlite://{}", file.display());
    acknowledged_writes_survive_kills(&database, &dir.path().join("index"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let verdict: String = runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(&database).await.unwrap();
        sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    assert_eq!(verdict, "ok");
}

#[test]
fn acknowledged_writes_survive_kill_9_on_postgres() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // A fresh schema, migrated; the server processes reach it by its URL.
    let db = runtime.block_on(TestDb::postgres());
    let dir = tempfile::tempdir().unwrap();
    acknowledged_writes_survive_kills(&db.url, &dir.path().join("index"));
}
