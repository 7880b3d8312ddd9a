//! Hostile input ends with a clear error in bounded time and memory, never a panic, and a
//! payload is never half-read: one bad alert refuses the whole payload.

use postmortem_hooks::{HookKind, MAX_PAYLOAD_BYTES, Parsed, PayloadError, parse};
use proptest::prelude::*;

#[test]
fn a_body_over_the_limit_is_refused_before_it_is_read() {
    let body = vec![b' '; MAX_PAYLOAD_BYTES + 1];
    assert!(matches!(
        parse(HookKind::Grafana, &body),
        Err(PayloadError::TooLarge { .. })
    ));
}

#[test]
fn deeply_nested_json_is_refused_not_overflowing_the_stack() {
    let body = format!(
        "{{\"alerts\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(matches!(
        parse(HookKind::Alertmanager, body.as_bytes()),
        Err(PayloadError::NotJson(_))
    ));
}

#[test]
fn invalid_json_says_where_it_broke() {
    let error = parse(HookKind::Opsgenie, b"{\"action\": ").unwrap_err();
    assert!(error.to_string().contains("line 1"), "{error}");
}

#[test]
fn one_bad_alert_refuses_the_whole_group() {
    let body = br#"{"version":"4","alerts":[
        {"status":"firing","labels":{"alertname":"A"},"startsAt":"2025-01-01T00:00:00Z"},
        {"status":"pending","labels":{"alertname":"B"},"startsAt":"2025-01-01T00:00:00Z"}]}"#;
    let error = parse(HookKind::Alertmanager, body).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`alerts[1].status` is `pending`; expected `firing` or `resolved`"
    );
}

#[test]
fn a_resolved_alert_without_an_end_is_refused() {
    let body = br#"{"alerts":[{"status":"resolved","labels":{},"startsAt":"2025-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z"}]}"#;
    let error = parse(HookKind::Grafana, body).unwrap_err();
    assert!(error.to_string().contains("alerts[0].endsAt"), "{error}");
}

#[test]
fn a_huge_summary_is_cut_to_one_timeline_line() {
    let summary = "x".repeat(200_000);
    let body = format!(
        r#"{{"alerts":[{{"status":"firing","labels":{{"alertname":"A"}},"annotations":{{"summary":"{summary}"}},"startsAt":"2025-01-01T00:00:00Z"}}]}}"#
    );
    match parse(HookKind::Grafana, body.as_bytes()).unwrap() {
        Parsed::Alerts { alerts } => assert!(alerts[0].summary.chars().count() <= 500),
        other => panic!("{other:?}"),
    }
}

fn any_kind() -> impl Strategy<Value = HookKind> {
    proptest::sample::select(HookKind::ALL.to_vec())
}

/// JSON values of any shape, with the field names providers use, so the parsers' paths are
/// reached and not only their first refusal.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let names = proptest::sample::select(vec![
        "alerts",
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "fingerprint",
        "version",
        "event",
        "event_type",
        "data",
        "occurred_at",
        "id",
        "title",
        "service",
        "summary",
        "action",
        "alert",
        "alertId",
        "alias",
        "createdAt",
        "updatedAt",
        "tags",
        "deploys",
        "version",
        "at",
        "url",
        "deployment_status",
        "deployment",
        "repository",
        "state",
        "sha",
        "name",
        "created_at",
    ]);
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        proptest::sample::select(vec![
            "firing",
            "resolved",
            "incident.triggered",
            "incident.resolved",
            "Create",
            "Close",
            "success",
            "4",
            "2025-03-14T13:02:00Z",
            "0001-01-01T00:00:00Z",
            "https://e.example/x",
            "payments-api",
            "",
        ])
        .prop_map(serde_json::Value::from),
        "\\PC{0,20}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(names.clone(), inner, 0..6).prop_map(|map| {
                serde_json::Value::Object(map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #[test]
    fn no_bytes_make_a_parser_panic(kind in any_kind(), body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(kind, &body);
    }

    #[test]
    fn no_json_shape_makes_a_parser_panic_and_what_it_keeps_is_bounded(kind in any_kind(), value in json_value()) {
        let body = serde_json::to_vec(&value).unwrap();
        match parse(kind, &body) {
            Ok(Parsed::Alerts { alerts }) => {
                for alert in alerts {
                    prop_assert!(!alert.fingerprint.is_empty());
                    prop_assert!(alert.summary.chars().count() <= 500);
                }
            }
            Ok(Parsed::Deploys { deploys }) => {
                for deploy in deploys {
                    prop_assert!(!deploy.version.is_empty());
                }
            }
            Ok(Parsed::Ignored { reason }) => prop_assert!(!reason.is_empty()),
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }
}
