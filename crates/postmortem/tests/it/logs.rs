//! The log as it lands in a file or a log shipper: no terminal colour codes when stderr is
//! not a terminal, and with `--log-format json` one JSON object per line, the operator's
//! lines and the final error included.

use crate::server::Server;
use serde_json::Value;
use std::process::Command;

fn run(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args(args)
        .env_remove("POSTMORTEM_DATABASE_URL")
        .env_remove("POSTMORTEM_CONFIG")
        .env_remove("POSTMORTEM_LOG_FORMAT")
        .env_remove("NO_COLOR")
        .env("POSTMORTEM_LOG", "debug")
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Each line as a JSON object; panics naming the first line that is not one.
fn objects(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            assert!(
                value["timestamp"].is_string() && value["level"].is_string(),
                "{line}"
            );
            value
        })
        .collect()
}

#[test]
fn a_log_written_to_a_pipe_has_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (code, stderr) = run(&["user", "list", "--data-dir", data.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains(" DEBUG sqlx::query: "), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "an escape code in: {stderr:?}");
}

#[test]
fn a_json_log_is_one_object_per_line_down_to_the_final_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (code, stderr) = run(&[
        "--log-format",
        "json",
        "user",
        "create",
        "dana",
        "--name",
        "Dana",
        "--role",
        "nobody",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    let lines: Vec<String> = stderr.lines().map(str::to_owned).collect();
    let objects = objects(&lines);
    assert!(objects.iter().any(|o| o["target"] == "sqlx::query"));
    let last = objects.last().unwrap();
    assert_eq!(last["level"], "ERROR");
    assert!(
        last["message"].as_str().unwrap().contains("nobody"),
        "the error names the refused role: {last}"
    );
}

#[test]
fn a_server_logging_json_writes_its_operator_lines_as_objects_too() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start(
        &["--log-format", "json", "--data-dir", data.to_str().unwrap()],
        &[],
    );
    server.wait_for("search index", std::time::Duration::from_secs(30));
    let base = server.base.clone();
    let lines = server.kill();
    let objects = objects(&lines);
    let messages: Vec<&str> = objects
        .iter()
        .filter_map(|o| o["message"].as_str())
        .collect();
    assert!(
        messages.contains(
            &format!(
                "postmortem {} listening on {base}",
                env!("CARGO_PKG_VERSION")
            )
            .as_str()
        ),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.starts_with("No accounts yet")),
        "{messages:?}"
    );
    assert!(
        objects.iter().all(|o| o["target"] == "postmortem"),
        "{objects:?}"
    );
}
