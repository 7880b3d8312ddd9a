//! Chat exports: the Slack workspace export fixture (the documented layout), a generic CSV and
//! JSON list, and hostile archives (zip bombs, a 100 MB day file, invalid JSON).

use postmortem_hooks::chat::{
    ChatError, ChatLimits, preselected, read_generic, read_slack_export, slack_channels,
};
use std::io::Write;
use time::macros::datetime;
use zip::write::SimpleFileOptions;

/// Files zipped as Slack zips an export (deflated).
fn zipped(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(*name, SimpleFileOptions::default()).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn export() -> Vec<u8> {
    let f = |name: &str| crate::fixture(&format!("slack/{name}"));
    zipped(&[
        ("users.json", &f("users.json")),
        ("channels.json", &f("channels.json")),
        (
            "incident-checkout/2024-03-14.json",
            &f("incident-checkout/2024-03-14.json"),
        ),
        (
            "incident-checkout/2024-03-20.json",
            &f("incident-checkout/2024-03-20.json"),
        ),
    ])
}

#[test]
fn a_channel_of_a_slack_export_reads_as_its_messages_with_authors_pins_reactions_and_links() {
    let read = read_slack_export(
        &export(),
        "#incident-checkout",
        None,
        None,
        ChatLimits::default(),
    )
    .unwrap();
    assert_eq!(read.channel, "incident-checkout");
    let texts: Vec<&str> = read.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts.len(), 5, "the join notice is left out: {texts:?}");
    let first = &read.messages[0];
    assert_eq!(first.at, datetime!(2024-03-14 12:43:00.0001 UTC));
    assert_eq!(first.author.name, "Ana Ruiz");
    assert_eq!(first.author.handle.as_deref(), Some("ana.ruiz"));
    assert_eq!(first.author.email.as_deref(), Some("ana.ruiz@acme.example"));
    assert_eq!(first.id, "slack:C05INC1:1710420180.000100");
    assert_eq!(
        first.link.as_ref().unwrap().as_str(),
        "https://slack.com/archives/C05INC1/p1710420180000100"
    );
    assert!(
        read.messages[2].pinned,
        "pinned in channels.json and by pinned_to"
    );
    assert_eq!(read.messages[1].reactions, ["eyes"]);
    // Someone no longer in users.json keeps the id Slack gave them.
    assert_eq!(read.messages[3].author.name, "U09GONE");
    assert_eq!(read.messages[3].author.handle, None);

    let pre: Vec<bool> = read
        .messages
        .iter()
        .map(|m| preselected(m, Some(":white_check_mark:")))
        .collect();
    assert_eq!(
        pre,
        [false, true, true, true, false],
        "keywords, the pin and the chosen reaction"
    );
}

#[test]
fn the_channels_of_an_export_are_listed_with_how_many_days_each_holds() {
    let channels = slack_channels(&export(), ChatLimits::default()).unwrap();
    let listed: Vec<(&str, usize)> = channels.iter().map(|c| (c.name.as_str(), c.days)).collect();
    assert_eq!(listed, [("incident-checkout", 2), ("general", 0)]);
    assert!(matches!(
        slack_channels(b"time,author,text", ChatLimits::default()),
        Err(ChatError::NotZip(_))
    ));
}

#[test]
fn a_window_keeps_only_its_messages_and_skips_the_other_days() {
    let read = read_slack_export(
        &export(),
        "incident-checkout",
        Some(datetime!(2024-03-14 12:45 UTC)),
        Some(datetime!(2024-03-14 13:10 UTC)),
        ChatLimits::default(),
    )
    .unwrap();
    assert_eq!(read.messages.len(), 2);
    // A broken day file outside the window is never opened.
    let mut files = vec![
        ("users.json", crate::fixture("slack/users.json")),
        ("channels.json", crate::fixture("slack/channels.json")),
        (
            "incident-checkout/2024-03-14.json",
            crate::fixture("slack/incident-checkout/2024-03-14.json"),
        ),
    ];
    files.push(("incident-checkout/2024-01-02.json", b"{not json".to_vec()));
    let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    let read = read_slack_export(
        &zipped(&borrowed),
        "incident-checkout",
        Some(datetime!(2024-03-14 00:00 UTC)),
        None,
        ChatLimits::default(),
    )
    .unwrap();
    assert_eq!(read.messages.len(), 4);
    let everything = read_slack_export(
        &zipped(&borrowed),
        "incident-checkout",
        None,
        None,
        ChatLimits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(everything, ChatError::BadJson { ref file, .. } if file == "incident-checkout/2024-01-02.json"),
        "{everything}"
    );
}

#[test]
fn an_unknown_channel_or_a_file_that_is_no_export_is_refused_saying_what_to_do() {
    let missing =
        read_slack_export(&export(), "random", None, None, ChatLimits::default()).unwrap_err();
    assert_eq!(
        missing.to_string(),
        "there is no channel `random` in the export; it holds incident-checkout, general"
    );
    let not_zip = read_slack_export(b"hello", "x", None, None, ChatLimits::default()).unwrap_err();
    assert!(matches!(not_zip, ChatError::NotZip(_)), "{not_zip}");
    let no_users = read_slack_export(
        &zipped(&[("channels.json", b"[]")]),
        "x",
        None,
        None,
        ChatLimits::default(),
    )
    .unwrap_err();
    assert!(
        no_users.to_string().contains("`users.json` is missing"),
        "{no_users}"
    );
    let bad = read_slack_export(
        &zipped(&[("users.json", b"[{\"id\": 3}]"), ("channels.json", b"[]")]),
        "x",
        None,
        None,
        ChatLimits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(bad, ChatError::BadJson { ref file, .. } if file == "users.json"),
        "{bad}"
    );
}

#[test]
fn a_zip_bomb_is_refused_by_its_declared_sizes_before_anything_is_inflated() {
    let zeros = vec![b' '; 40 * 1024 * 1024];
    let bomb = zipped(&[("users.json", b"[]"), ("channels.json", &zeros)]);
    assert!(bomb.len() < 200 * 1024, "{} bytes", bomb.len());
    let refused = read_slack_export(&bomb, "x", None, None, ChatLimits::default()).unwrap_err();
    assert!(matches!(refused, ChatError::TooLarge { .. }), "{refused}");
    assert!(
        refused.to_string().contains("`channels.json` declares"),
        "{refused}"
    );

    // Many small files that add up to too much.
    let limits = ChatLimits {
        max_total_bytes: 1024,
        ..ChatLimits::default()
    };
    let many: Vec<(String, Vec<u8>)> = (0..10)
        .map(|i| (format!("c/2025-01-{:02}.json", i + 1), vec![b' '; 200]))
        .collect();
    let borrowed: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let refused = read_slack_export(&zipped(&borrowed), "c", None, None, limits).unwrap_err();
    assert!(
        refused.to_string().contains("its files declare"),
        "{refused}"
    );
}

#[test]
fn a_zip_that_lies_about_its_sizes_is_refused_when_it_reaches_the_limit() {
    let mut bomb = zipped(&[
        ("users.json", &vec![b' '; 4 * 1024 * 1024]),
        ("channels.json", b"[]"),
    ]);
    // Rewrite the uncompressed size of `users.json` to 2 bytes, in its local header (offset
    // 22) and its central directory record (offset 24).
    for (signature, offset) in [
        ([0x50, 0x4b, 0x03, 0x04], 22),
        ([0x50, 0x4b, 0x01, 0x02], 24),
    ] {
        let at = bomb.windows(4).position(|w| w == signature).unwrap();
        bomb[at + offset..at + offset + 4].copy_from_slice(&2u32.to_le_bytes());
    }
    let limits = ChatLimits {
        max_file_bytes: 1024 * 1024,
        ..ChatLimits::default()
    };
    let refused = read_slack_export(&bomb, "x", None, None, limits).unwrap_err();
    assert!(
        matches!(refused, ChatError::TooLarge { .. } | ChatError::NotZip(_)),
        "{refused}"
    );
    assert!(!matches!(refused, ChatError::BadJson { .. }), "{refused}");
}

#[test]
fn a_100_mb_day_file_is_refused_with_its_name_and_size() {
    let day = vec![b' '; 100 * 1024 * 1024];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in [
        ("users.json", &b"[]"[..]),
        ("channels.json", b"[{\"id\": \"C1\", \"name\": \"big\"}]"),
        ("big/2025-03-14.json", &day),
    ] {
        zip.start_file(name, stored).unwrap();
        zip.write_all(bytes).unwrap();
    }
    let archive = zip.finish().unwrap().into_inner();
    drop(day);
    let refused =
        read_slack_export(&archive, "big", None, None, ChatLimits::default()).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "the archive is larger than allowed once inflated: `big/2025-03-14.json` declares (104857600 bytes, the limit is 33554432); export a shorter time span or one channel"
    );
}

#[test]
fn a_generic_csv_or_json_list_reads_as_messages_and_a_bad_row_is_named_by_its_line() {
    let csv = "time,author,text,link\n2025-03-14T13:02:00Z,ana.ruiz,Error rate alert fired,https://chat.example.com/m/1\n2025-03-14T13:07:00+01:00,ben@acme.example,\"Rolling back, deploy looks related\",\n";
    let read = read_generic(csv.as_bytes(), ChatLimits::default()).unwrap();
    assert_eq!(read.len(), 2);
    assert_eq!(
        read[0].at,
        datetime!(2025-03-14 12:07 UTC),
        "sorted by time"
    );
    assert_eq!(read[0].author.email.as_deref(), Some("ben@acme.example"));
    assert_eq!(read[1].author.handle.as_deref(), Some("ana.ruiz"));
    assert_eq!(
        read[1].link.as_ref().unwrap().as_str(),
        "https://chat.example.com/m/1"
    );
    assert_eq!(
        read_generic(csv.as_bytes(), ChatLimits::default()).unwrap(),
        read,
        "ids are stable"
    );

    let json = r#"[{"time": "2025-03-14T13:02:00Z", "author": "ana.ruiz", "text": "Error rate alert fired"}]"#;
    assert_eq!(
        read_generic(json.as_bytes(), ChatLimits::default())
            .unwrap()
            .len(),
        1
    );

    let bad = "time,author,text\n2025-03-14T13:02:00Z,ana,ok\n14:05,ben,no date\n";
    let refused = read_generic(bad.as_bytes(), ChatLimits::default()).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "line 3: `14:05` is not a time with an offset, such as 2025-03-14T13:02:00Z"
    );
    let refused = read_generic(b"[{\"time\": 1}", ChatLimits::default()).unwrap_err();
    assert!(matches!(refused, ChatError::BadJson { .. }), "{refused}");
}
