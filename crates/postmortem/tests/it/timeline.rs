//! `postmortem timeline import`: a Slack export's channel onto an incident's timeline through
//! the app layer, once however often it runs.

use std::io::Write;
use std::process::{Command, Output};

fn postmortem(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args(args)
        .current_dir(dir)
        .env_remove("POSTMORTEM_DATABASE_URL")
        .env_remove("POSTMORTEM_CONFIG")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The Slack export fixture of `postmortem-hooks`, zipped as Slack zips it.
fn slack_export(dir: &std::path::Path) -> std::path::PathBuf {
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../postmortem-hooks/tests/it/fixtures/slack"
    );
    let path = dir.join("export.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    for name in [
        "users.json",
        "channels.json",
        "incident-checkout/2024-03-14.json",
        "incident-checkout/2024-03-20.json",
    ] {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&std::fs::read(format!("{fixtures}/{name}")).unwrap())
            .unwrap();
    }
    zip.finish().unwrap();
    path
}

#[test]
fn a_slack_channel_is_imported_onto_a_timeline_once_with_its_links() {
    let dir = tempfile::tempdir().unwrap();
    let people = postmortem(&["demo", "--incidents", "0"], dir.path());
    assert!(people.status.success(), "{}", text(&people.stderr));
    let incident = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/checkout-outage.md"
    );
    let imported = postmortem(&["import", "--as", "demo", incident], dir.path());
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let export = slack_export(dir.path());
    let export = export.to_str().unwrap();
    let args = [
        "timeline",
        "import",
        "--incident",
        "1",
        "--slack",
        export,
        "--channel",
        "incident-checkout",
        "--from",
        "2024-03-14T12:00:00Z",
        "--to",
        "2024-03-14T14:00:00Z",
        "--select",
        "keywords",
        "--as",
        "demo",
    ];
    let first = postmortem(&args, dir.path());
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(
        text(&first.stdout),
        "2 message(s) selected: 2 added to incident 1, 0 on its timeline already\n"
    );
    let again = postmortem(&args, dir.path());
    assert_eq!(
        text(&again.stdout),
        "2 message(s) selected: 0 added to incident 1, 2 on its timeline already\n"
    );

    let out = dir.path().join("out");
    let exported = postmortem(
        &["export", "--incident", "1", "--out", out.to_str().unwrap()],
        dir.path(),
    );
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let file = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let markdown = std::fs::read_to_string(file).unwrap();
    assert!(
        markdown.contains("> The 13:48 deploy of checkout-api looks related, rolling back"),
        "{markdown}"
    );
    assert!(
        markdown.contains("https://slack.com/archives/C05INC1/p1710420420000200"),
        "{markdown}"
    );

    let wrong = postmortem(
        &[
            "timeline",
            "import",
            "--incident",
            "1",
            "--slack",
            export,
            "--channel",
            "random",
            "--as",
            "demo",
        ],
        dir.path(),
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong.stderr).contains(
            "there is no channel `random` in the export; it holds incident-checkout, general"
        ),
        "{}",
        text(&wrong.stderr)
    );
}
