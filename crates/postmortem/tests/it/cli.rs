//! The binary as a person uses it: real files in, exit status and output checked.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn postmortem(args: &[&str], dir: &std::path::Path, stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args(args)
        .current_dir(dir)
        .env_remove("POSTMORTEM_DATABASE_URL")
        .env_remove("POSTMORTEM_CONFIG")
        .env_remove("POSTMORTEM_OIDC_CLIENT_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn fixture() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/checkout-outage.md"
    )
    .to_owned()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn linting_a_blameful_post_mortem_reports_findings_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let output = postmortem(&["lint", &fixture()], dir.path(), None);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains("checkout-outage.md:19:"),
        "the counterfactual about Sam on line 19: {stdout}"
    );
    assert!(stdout.contains("suggestion:"), "{stdout}");
    assert!(
        !stdout.contains(":16:"),
        "what Dana believed, and why, is fine: {stdout}"
    );
    assert!(
        !stdout.contains("checkout-outage.md:3:"),
        "front matter is not prose: {stdout}"
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("1 file: ") && stderr.contains("a person at the centre of a failure"),
        "the summary on stderr: {stderr}"
    );
}

#[test]
fn json_output_lists_each_file_with_its_findings() {
    let dir = tempfile::tempdir().unwrap();
    let output = postmortem(&["lint", "--format", "json", &fixture()], dir.path(), None);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let findings = report["files"][0]["findings"].as_array().unwrap();
    assert!(findings.len() >= 3, "{report}");
    for key in [
        "rule",
        "category",
        "severity",
        "line",
        "column",
        "end_line",
        "end_column",
        "message",
        "suggestion",
    ] {
        assert!(findings[0].get(key).is_some(), "{key} in {}", findings[0]);
    }
}

#[test]
fn fail_on_error_lets_warnings_pass_and_clean_text_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        postmortem(
            &["lint", "--fail-on", "error", &fixture()],
            dir.path(),
            None
        )
        .status
        .code(),
        Some(0)
    );
    let clean = "The health check failed to detect the stale cache.\n\nAlex ran the failover command on db-2 at 14:02.\n";
    let output = postmortem(&["lint", "-"], dir.path(), Some(clean));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
}

#[test]
fn a_missing_file_is_an_io_error_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = postmortem(&["lint", "no-such-file.md"], dir.path(), None);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("cannot read no-such-file.md"));
    assert_eq!(
        postmortem(&["lint", "--format", "yaml", &fixture()], dir.path(), None)
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn user_create_with_token_prints_the_token_alone_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let output = postmortem(
        &[
            "user",
            "create",
            "alex",
            "--name",
            "Alex Kim",
            "--role",
            "admin",
            "--password-stdin",
            "--token",
        ],
        dir.path(),
        Some("correct horse battery\n"),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.starts_with("pm_"));
    assert!(text(&output.stderr).contains("created alex"));
    assert!(
        dir.path().join("postmortem-data/postmortem.db").is_file(),
        "the embedded database was created"
    );
    let again = postmortem(
        &["user", "create", "alex", "--name", "Other"],
        dir.path(),
        None,
    );
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        text(&again.stderr).trim(),
        "error: the handle `alex` is taken"
    );
}

#[test]
fn serve_with_a_database_it_cannot_use_exits_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for url in ["mysql://localhost/pm", "postgres://nobody@127.0.0.1:1/pm"] {
        let output = postmortem(
            &["serve", "--database", url, "--addr", "127.0.0.1:0"],
            dir.path(),
            None,
        );
        assert_eq!(output.status.code(), Some(1), "{url}");
        let stderr = text(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("error: cannot open the database"),
            "{stderr}"
        );
    }
}

#[test]
fn a_config_file_with_an_unknown_key_stops_the_command_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("postmortem.toml"),
        "addr = \"127.0.0.1:0\"\nlisten = \"x\"\n",
    )
    .unwrap();
    let output = postmortem(&["serve"], dir.path(), None);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("postmortem.toml is not valid") && stderr.contains("line 2"),
        "{stderr}"
    );
}

#[test]
fn a_config_file_that_would_drop_webhook_bodies_at_once_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("postmortem.toml"),
        "addr = \"127.0.0.1:0\"\n[integrations]\nretention_days = 0\n",
    )
    .unwrap();
    let output = postmortem(&["serve"], dir.path(), None);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("[integrations]") && stderr.contains("1 to 3650 days"),
        "{stderr}"
    );
}

#[test]
fn a_config_file_with_a_repeated_template_stops_the_command_with_the_file_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let template = "[[templates]]\nname = \"security\"\ntitle = \"Security review\"\n[[templates.sections]]\nname = \"summary\"\ntitle = \"Summary\"\nquestion = \"What happened?\"\n";
    std::fs::write(
        dir.path().join("postmortem.toml"),
        format!("addr = \"127.0.0.1:0\"\n{template}{template}"),
    )
    .unwrap();
    let output = postmortem(&["serve"], dir.path(), None);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert_eq!(
        stderr.trim(),
        "error: postmortem.toml is not valid: templates[1].name: `security` is declared twice; template names must be unique"
    );
}

#[test]
fn a_config_file_with_a_section_name_that_is_not_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("postmortem.toml"),
        "[[templates]]\nname = \"short\"\ntitle = \"Short\"\n[[templates.sections]]\nname = \"What we believed\"\ntitle = \"Beliefs\"\nquestion = \"What did we believe?\"\n",
    )
    .unwrap();
    let output = postmortem(&["policy", "explain"], dir.path(), None);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: postmortem.toml is not valid: templates[0].sections[0].name: `What we believed` is not a valid name"),
        "{stderr}"
    );
}

#[test]
fn an_incomplete_oidc_table_stops_serve_naming_the_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("postmortem.toml"),
        "addr = \"127.0.0.1:0\"\n[oidc]\nissuer_url = \"https://sso.acme.example\"\nclient_id = \"pm\"\nbase_url = \"https://pm.acme.example\"\n",
    )
    .unwrap();
    let output = postmortem(&["serve"], dir.path(), None);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("[oidc]") && stderr.contains("client_secret: is missing"),
        "{stderr}"
    );
}

#[test]
fn demo_fills_the_database_with_people_and_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let output = postmortem(
        &["demo", "--incidents", "120", "--seed", "7"],
        dir.path(),
        None,
    );
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("120 incidents written"), "{stderr}");
    assert!(stderr.contains("12 teams with their members"), "{stderr}");
    assert!(stderr.contains("Sign in as `demo`"), "{stderr}");
    let users = postmortem(&["user", "list"], dir.path(), None);
    assert!(text(&users.stdout).lines().count() > 50);
}

#[test]
fn export_writes_one_markdown_file_per_incident_that_reads_back_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let demo = postmortem(
        &["demo", "--incidents", "40", "--seed", "3"],
        dir.path(),
        None,
    );
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let output = postmortem(&["export", "--out", "library"], dir.path(), None);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("40 incidents exported"), "{stderr}");
    let library = dir.path().join("library");
    let mut names: Vec<String> = std::fs::read_dir(&library)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 40);
    let templates = postmortem_core::Templates::default();
    let importer = postmortem_core::Handle::parse("someone").unwrap();
    let context = postmortem_markdown::ImportContext {
        templates: &templates,
        importer: &importer,
        now: time::OffsetDateTime::now_utc(),
    };
    for name in &names {
        let file = std::fs::read_to_string(library.join(name)).unwrap();
        let parsed = postmortem_markdown::parse(name, &file, &context).unwrap();
        assert_eq!(&postmortem_markdown::file_name(&parsed.document), name);
        assert_eq!(
            postmortem_markdown::render(&parsed.document, &templates),
            file
        );
    }

    // Exporting again changes no byte; one incident goes to standard output.
    let before = std::fs::read(library.join(&names[0])).unwrap();
    assert!(
        postmortem(&["export", "--out", "library"], dir.path(), None)
            .status
            .success()
    );
    assert_eq!(std::fs::read(library.join(&names[0])).unwrap(), before);
    let id = names[0].split('-').next().unwrap();
    let one = postmortem(
        &["export", "--incident", id, "--out", "-"],
        dir.path(),
        None,
    );
    assert!(one.status.success(), "{}", text(&one.stderr));
    assert_eq!(one.stdout, [before, b"\n".to_vec()].concat());

    let external = postmortem(
        &["export", "--incident", id, "--out", "-", "--external"],
        dir.path(),
        None,
    );
    let shared = text(&external.stdout);
    assert!(!shared.contains("recorded_by"), "{shared}");
    assert!(!shared.contains('@'), "{shared}");

    let missing = postmortem(
        &["export", "--incident", "999999", "--out", "-"],
        dir.path(),
        None,
    );
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("no incident 999999"));
}

#[test]
fn import_reads_real_post_mortems_once_reports_bad_files_and_round_trips_through_export() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library");
    std::fs::create_dir(&library).unwrap();
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../postmortem-markdown/tests/it/fixtures/dfds"
    );
    for entry in std::fs::read_dir(fixtures).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, library.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        library.join("broken.md"),
        b"# Broken\n\n## Summary\n\nbad \xff byte\n",
    )
    .unwrap();
    let people = postmortem(&["demo", "--incidents", "0"], dir.path(), None);
    assert!(people.status.success(), "{}", text(&people.stderr));

    let as_system = postmortem(
        &["import", "library/PM2021-004 - ADFS outage.md"],
        dir.path(),
        None,
    );
    assert!(!as_system.status.success());
    assert!(
        text(&as_system.stderr)
            .contains("names nobody with an account here; import it as a person (`--as HANDLE`)"),
        "the system does not make up an author: {}",
        text(&as_system.stderr)
    );
    let dry = postmortem(
        &["import", "--dry-run", "--as", "demo", "library"],
        dir.path(),
        None,
    );
    let shown = text(&dry.stdout);
    assert!(
        shown.contains("PM2021-004 - ADFS outage.md: would create a new incident"),
        "{shown}"
    );
    assert!(shown.contains("`Timeline` → 8 timeline entries"), "{shown}");
    let stderr = text(&dry.stderr);
    assert!(
        stderr.contains("library/broken.md:5: the file is not UTF-8"),
        "{stderr}"
    );
    assert!(
        stderr.contains("5 files read: 4 would be created"),
        "{stderr}"
    );

    let first = postmortem(&["import", "--as", "demo", "library"], dir.path(), None);
    assert_eq!(
        first.status.code(),
        Some(1),
        "a bad file makes the exit status 1"
    );
    assert!(
        text(&first.stderr).contains("4 created"),
        "{}",
        text(&first.stderr)
    );
    std::fs::remove_file(library.join("broken.md")).unwrap();
    let again = postmortem(&["import", "--as", "demo", "library"], dir.path(), None);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("0 created, 0 updated, 4 unchanged"),
        "{}",
        text(&again.stderr)
    );

    // Export, import into an empty database, export again: the same bytes.
    assert!(
        postmortem(&["export", "--out", "first"], dir.path(), None)
            .status
            .success()
    );
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    assert!(
        postmortem(&["demo", "--incidents", "0"], &other, None)
            .status
            .success()
    );
    let imported = postmortem(
        &["import", dir.path().join("first").to_str().unwrap()],
        &other,
        None,
    );
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert!(
        postmortem(&["export", "--out", "second"], &other, None)
            .status
            .success()
    );
    let mut names: Vec<_> = std::fs::read_dir(dir.path().join("first"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4);
    for name in names {
        assert_eq!(
            std::fs::read(dir.path().join("first").join(&name)).unwrap(),
            std::fs::read(other.join("second").join(&name)).unwrap(),
            "{name:?}"
        );
    }

    // Change an exported file and import it again: the dry run lists the change, the import
    // makes it, and a second import of the same file changes nothing.
    let changed = other
        .join("second")
        .join(names_first(&other.join("second")));
    let file = std::fs::read_to_string(&changed).unwrap();
    let severity = file
        .lines()
        .find(|line| line.starts_with("severity: "))
        .unwrap()
        .to_owned();
    let worse = if severity == "severity: SEV1" {
        "severity: SEV2"
    } else {
        "severity: SEV1"
    };
    std::fs::write(&changed, file.replacen(&severity, worse, 1)).unwrap();
    let path = changed.to_str().unwrap();
    let dry = postmortem(&["import", "--dry-run", path], &other, None);
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let worse_level = worse.trim_start_matches("severity: ");
    assert!(
        text(&dry.stdout).contains(&format!(
            "would update incident 1:\n  {}: {} → {worse_level}",
            "severity",
            severity.trim_start_matches("severity: ")
        )),
        "{}",
        text(&dry.stdout)
    );
    let updated = postmortem(&["import", path], &other, None);
    assert!(updated.status.success(), "{}", text(&updated.stderr));
    assert!(
        text(&updated.stdout).contains("updated incident 1 to version 2 (severity)"),
        "{}",
        text(&updated.stdout)
    );
    let same = postmortem(&["import", path], &other, None);
    assert!(
        text(&same.stdout).contains("incident 1 is unchanged"),
        "{}",
        text(&same.stdout)
    );
    // The file still says version 1: once the incident moved on, a different edit of it is
    // refused, and the exit status says so.
    std::fs::write(
        &changed,
        std::fs::read_to_string(&changed).unwrap().replacen(
            "## Summary\n",
            "## Summary\n\nEdited offline.\n",
            1,
        ),
    )
    .unwrap();
    let refused = postmortem(&["import", path], &other, None);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr)
            .contains("changed in postmortem since this file was exported at version 1")
            && text(&refused.stderr).contains("or pass --force"),
        "{}",
        text(&refused.stderr)
    );
}

/// The first file of an export folder by name: the incident with id 1.
fn names_first(dir: &std::path::Path) -> std::ffi::OsString {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    names.sort();
    names.remove(0)
}

/// A demo database whose incidents never move: a fixed seed and a fixed "today" long past,
/// so every action item that will ever be overdue already is.
fn fixed_demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let demo = postmortem(
        &[
            "demo",
            "--incidents",
            "400",
            "--seed",
            "5",
            "--today",
            "2025-06-30",
        ],
        dir.path(),
        None,
    );
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    dir
}

#[test]
fn insights_summarise_what_keeps_happening_as_text_json_and_one_chart_as_csv() {
    let dir = fixed_demo();
    let summary = postmortem(&["insights"], dir.path(), None);
    assert!(summary.status.success(), "{}", text(&summary.stderr));
    insta::assert_snapshot!("insights_text", text(&summary.stdout));

    let team = postmortem(
        &[
            "insights",
            "--team",
            "payments",
            "--from",
            "2024-01-01",
            "--format",
            "csv",
            "--chart",
            "action_effectiveness",
        ],
        dir.path(),
        None,
    );
    assert!(team.status.success(), "{}", text(&team.stderr));
    insta::assert_snapshot!(
        "insights_payments_action_effectiveness_csv",
        text(&team.stdout)
    );

    let json = postmortem(
        &["insights", "--service", "tls-certs", "--format", "json"],
        dir.path(),
        None,
    );
    assert!(json.status.success(), "{}", text(&json.stderr));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["filter"]["service"], "tls-certs");
    let themes = report["themes"].as_array().unwrap();
    assert!(
        themes.iter().all(|t| t["service"] == "tls-certs"),
        "{themes:?}"
    );
    assert_eq!(themes[0]["fix_did_not_hold"], true, "{:?}", themes[0]);
}

#[test]
fn insights_refuse_a_csv_without_a_chart_and_a_bad_day_with_the_choices() {
    let dir = fixed_demo();
    let no_chart = postmortem(&["insights", "--format", "csv"], dir.path(), None);
    assert!(!no_chart.status.success());
    let stderr = text(&no_chart.stderr);
    assert!(
        stderr.contains("recurring_factors, top_services"),
        "{stderr}"
    );
    let bad_day = postmortem(&["insights", "--from", "2025-13-01"], dir.path(), None);
    assert!(!bad_day.status.success());
    assert!(
        text(&bad_day.stderr).contains("from"),
        "{}",
        text(&bad_day.stderr)
    );
}
