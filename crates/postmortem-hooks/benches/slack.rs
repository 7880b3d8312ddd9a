//! Reading a 50,000-message Slack export for the selection page: the export (30 day files of
//! one channel, 40 people, deflated as Slack zips it) read with `read_slack_export`, every
//! message given its pre-selection, and every message checked by the blameless-language
//! checker as quoted speech, as `postmortem-app`'s preview does. Prints the median and the
//! slowest of five runs.
//!
//! Run: `cargo bench -p postmortem-hooks --bench slack`.

use postmortem_hooks::chat::{ChatLimits, preselected, read_slack_export};
use std::io::Write;
use std::time::{Duration, Instant};

const MESSAGES: usize = 50_000;
const DAYS: usize = 30;

const LINES: &[&str] = &[
    "Checkout is returning 502s for about a third of requests",
    "Looking at the dashboards now, error rate started around 13:40",
    "The 13:48 deploy of checkout-api looks related, rolling back",
    "Rollback is out, watching the error rate",
    "Error rate back to normal after the rollback",
    "Can someone check whether the payments queue drained?",
    "Queue is draining, about 4k messages left",
    "I think the connection pool was too small for the new traffic",
    "Customer support says tickets are slowing down",
    "Mitigated for now, keeping the incident open until the fix is reviewed",
];

fn export() -> Vec<u8> {
    let users: Vec<String> = (0..40)
        .map(|i| {
            format!(
                r#"{{"id": "U{i:04}", "name": "person.{i}", "real_name": "Person {i}", "profile": {{"real_name": "Person {i}", "email": "person.{i}@acme.example"}}}}"#
            )
        })
        .collect();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("users.json", options).unwrap();
    zip.write_all(format!("[{}]", users.join(",")).as_bytes())
        .unwrap();
    zip.start_file("channels.json", options).unwrap();
    zip.write_all(
        br#"[{"id": "C0BIG", "name": "incident-big", "pins": [{"id": "1709251200.000100"}]}]"#,
    )
    .unwrap();
    let per_day = MESSAGES / DAYS + 1;
    let start = 1_709_251_200_i64; // 2024-03-01T00:00:00Z
    let mut written = 0;
    for day in 0..DAYS {
        let mut messages = Vec::with_capacity(per_day);
        for n in 0..per_day.min(MESSAGES - written) {
            let offset = i64::try_from(day * 86_400 + n * 86_400 / per_day).unwrap();
            let ts = start + offset;
            let i = written + n;
            let reactions = if i % 17 == 0 {
                r#", "reactions": [{"name": "white_check_mark", "users": ["U0001"], "count": 1}]"#
            } else {
                ""
            };
            messages.push(format!(
                r#"{{"type": "message", "user": "U{:04}", "text": "{}", "ts": "{ts}.{:06}"{reactions}}}"#,
                i % 40,
                LINES[i % LINES.len()],
                100 + n % 900
            ));
        }
        written += messages.len();
        let day_start = start + i64::try_from(day * 86_400).unwrap();
        let date = time::OffsetDateTime::from_unix_timestamp(day_start)
            .unwrap()
            .date();
        zip.start_file(format!("incident-big/{date}.json"), options)
            .unwrap();
        zip.write_all(format!("[{}]", messages.join(",")).as_bytes())
            .unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn main() {
    let export = export();
    let options = postmortem_lint::LintOptions::default();
    let mut runs = Vec::new();
    let mut shown = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let read = read_slack_export(&export, "incident-big", None, None, ChatLimits::default())
            .expect("the export reads");
        let mut findings = 0;
        let mut ticked = 0;
        for message in &read.messages {
            ticked += usize::from(preselected(message, Some("white_check_mark")));
            let quoted: String = message.text.lines().map(|l| format!("> {l}\n")).collect();
            findings += postmortem_lint::lint(&quoted, &options).len();
        }
        runs.push(started.elapsed());
        shown = read.messages.len();
        std::hint::black_box((ticked, findings));
    }
    runs.sort();
    println!(
        "slack export: {} KB zipped, {shown} messages read, pre-selected and checked: median {:.0} ms, slowest {:.0} ms (of {} runs)",
        export.len() / 1024,
        ms(runs[runs.len() / 2]),
        ms(runs[runs.len() - 1]),
        runs.len()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
