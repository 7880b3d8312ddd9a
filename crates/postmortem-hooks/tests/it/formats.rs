//! Each provider's payload, in the shape of its public documentation, becomes the events it
//! describes.

use crate::fixture;
use postmortem_hooks::{
    AlertEvent, AlertState, DeployEvent, HookKind, Parsed, PayloadError, parse,
};
use time::macros::datetime;

fn alerts(kind: HookKind, name: &str) -> Vec<AlertEvent> {
    match parse(kind, &fixture(name)) {
        Ok(Parsed::Alerts { alerts }) => alerts,
        other => panic!("{name} gave {other:?}"),
    }
}

fn deploys(name: &str) -> Vec<DeployEvent> {
    match parse(HookKind::Deploy, &fixture(name)) {
        Ok(Parsed::Deploys { deploys }) => deploys,
        other => panic!("{name} gave {other:?}"),
    }
}

fn ignored(kind: HookKind, body: &[u8]) -> String {
    match parse(kind, body) {
        Ok(Parsed::Ignored { reason }) => reason,
        other => panic!("expected an ignored event, got {other:?}"),
    }
}

#[test]
fn an_alertmanager_group_gives_one_event_per_alert_with_its_own_state() {
    let alerts = alerts(HookKind::Alertmanager, "alertmanager_firing.json");
    assert_eq!(alerts.len(), 2);
    let firing = &alerts[0];
    assert_eq!(firing.fingerprint, "8c5e0a6b1f3d2c47");
    assert_eq!(firing.state, AlertState::Firing);
    assert_eq!(firing.service.as_ref().unwrap().as_str(), "checkout-api");
    assert_eq!(
        firing.summary,
        "CheckoutErrorRate: 5xx ratio above 5% for 5 minutes"
    );
    assert_eq!(firing.at, datetime!(2025-03-14 13:02:11.412 UTC));
    assert!(
        firing
            .link
            .as_ref()
            .unwrap()
            .as_str()
            .starts_with("https://prometheus.example.com/graph")
    );
    assert!(firing.pages, "severity critical pages");

    let resolved = &alerts[1];
    assert_eq!(resolved.state, AlertState::Resolved);
    assert_eq!(
        resolved.at,
        datetime!(2025-03-14 13:00 +01:00),
        "a resolved alert ends at endsAt"
    );
    assert_eq!(
        resolved.service.as_ref().unwrap().as_str(),
        "checkout-api",
        "the job label names the service"
    );
    assert_eq!(resolved.summary, "CheckoutLatency: p99 above 2s");
    assert_eq!(resolved.link, None, "a relative generatorURL is no link");
    assert_eq!(
        resolved.fingerprint.len(),
        16,
        "a fingerprint is derived from the labels"
    );
    assert!(!resolved.pages);
}

#[test]
fn a_fingerprint_derived_from_labels_does_not_depend_on_their_order() {
    let body = |labels: &str| {
        format!(
            r#"{{"version":"4","alerts":[{{"status":"firing","labels":{labels},"startsAt":"2025-01-01T00:00:00Z"}}]}}"#
        )
    };
    let first = parse(
        HookKind::Alertmanager,
        body(r#"{"a":"1","b":"2"}"#).as_bytes(),
    )
    .unwrap();
    let second = parse(
        HookKind::Alertmanager,
        body(r#"{"b":"2","a":"1"}"#).as_bytes(),
    )
    .unwrap();
    let third = parse(
        HookKind::Alertmanager,
        body(r#"{"b":"2","a":"3"}"#).as_bytes(),
    )
    .unwrap();
    let fingerprint = |parsed: Parsed| match parsed {
        Parsed::Alerts { alerts } => alerts[0].fingerprint.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(fingerprint(first.clone()), fingerprint(second));
    assert_ne!(fingerprint(first), fingerprint(third));
}

#[test]
fn another_alertmanager_version_is_refused_with_the_version_it_reads() {
    let error = parse(HookKind::Alertmanager, br#"{"version":"3","alerts":[]}"#).unwrap_err();
    assert!(error.to_string().contains("version \"4\""), "{error}");
}

#[test]
fn a_grafana_alert_links_to_the_panel_someone_looked_at() {
    let alerts = alerts(HookKind::Grafana, "grafana_firing.json");
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert_eq!(alert.fingerprint, "c6eadffa33fcdf37");
    assert_eq!(alert.state, AlertState::Firing);
    assert_eq!(alert.service.as_ref().unwrap().as_str(), "search");
    assert_eq!(
        alert.summary,
        "High memory usage: Memory above 90% on search nodes"
    );
    assert_eq!(
        alert.link.as_ref().unwrap().as_str(),
        "https://grafana.example.com/d/search-nodes?viewPanel=4"
    );
    assert_eq!(alert.at, datetime!(2025-06-02 09:51:03.157076 +02:00));
}

#[test]
fn a_pagerduty_incident_fires_when_triggered_and_resolves_when_resolved() {
    let triggered = alerts(HookKind::Pagerduty, "pagerduty_triggered.json");
    let resolved = alerts(HookKind::Pagerduty, "pagerduty_resolved.json");
    assert_eq!(triggered[0].fingerprint, "Q2ZHK6JAQJ2BXE");
    assert_eq!(
        triggered[0].fingerprint, resolved[0].fingerprint,
        "both are the same incident"
    );
    assert_eq!(triggered[0].state, AlertState::Firing);
    assert_eq!(resolved[0].state, AlertState::Resolved);
    assert_eq!(
        triggered[0].summary,
        "#4412 Replication lag above 30s on payments-db"
    );
    assert_eq!(
        triggered[0].service.as_ref().unwrap().as_str(),
        "payments-db"
    );
    assert_eq!(
        triggered[0].link.as_ref().unwrap().as_str(),
        "https://acme.pagerduty.com/incidents/Q2ZHK6JAQJ2BXE"
    );
    assert_eq!(triggered[0].at, datetime!(2025-03-14 13:03:40.318 UTC));
    assert_eq!(resolved[0].at, datetime!(2025-03-14 13:41:02 UTC));
    assert!(triggered[0].pages, "high urgency pages");
}

#[test]
fn a_pagerduty_acknowledgement_or_ping_is_accepted_and_adds_nothing() {
    let acknowledged = String::from_utf8(fixture("pagerduty_triggered.json"))
        .unwrap()
        .replace("incident.triggered", "incident.acknowledged");
    assert!(
        ignored(HookKind::Pagerduty, acknowledged.as_bytes()).contains("incident.acknowledged")
    );
    assert!(
        ignored(
            HookKind::Pagerduty,
            br#"{"event":{"event_type":"pagey.ping"}}"#
        )
        .contains("ping")
    );
}

#[test]
fn a_pagerduty_v2_body_is_refused_with_what_v3_looks_like() {
    let error = parse(
        HookKind::Pagerduty,
        br#"{"messages":[{"event":"incident.trigger"}]}"#,
    )
    .unwrap_err();
    assert!(error.to_string().contains("v3"), "{error}");
}

#[test]
fn an_opsgenie_alert_is_keyed_by_its_alias_and_ends_when_closed() {
    let created = alerts(HookKind::Opsgenie, "opsgenie_create.json");
    let closed = alerts(HookKind::Opsgenie, "opsgenie_close.json");
    assert_eq!(created[0].fingerprint, "payments-auth-failures");
    assert_eq!(created[0].state, AlertState::Firing);
    assert_eq!(closed[0].state, AlertState::Resolved);
    assert_eq!(
        created[0].at,
        datetime!(2025-03-14 13:02:41 UTC),
        "createdAt is in milliseconds"
    );
    assert_eq!(
        closed[0].at,
        datetime!(2025-03-14 13:40:00.123456789 UTC),
        "updatedAt is in nanoseconds"
    );
    assert_eq!(
        created[0].service.as_ref().unwrap().as_str(),
        "payments-api",
        "a service: tag wins over the entity"
    );
    assert_eq!(
        created[0].link.as_ref().unwrap().as_str(),
        "https://app.opsgenie.com/alert/detail/70413a06-38d6-4c85-92b8-5ebc900d42e2/details"
    );
    assert!(created[0].pages, "P1 pages");
    assert!(
        ignored(HookKind::Opsgenie, &fixture("opsgenie_acknowledge.json")).contains("Acknowledge")
    );
}

#[test]
fn a_plain_deploy_keeps_who_shipped_what_and_where_to_read_about_it() {
    let deploys = deploys("deploy_plain.json");
    assert_eq!(deploys.len(), 1);
    let deploy = &deploys[0];
    assert_eq!(deploy.service.as_str(), "checkout-api");
    assert_eq!(deploy.version, "2025.03.14-2");
    assert_eq!(deploy.at, datetime!(2025-03-14 12:48 +01:00));
    assert_eq!(deploy.by.as_deref(), Some("deploy-bot"));
    assert_eq!(
        deploy.link.as_ref().unwrap().as_str(),
        "https://ci.example.com/pipelines/8812"
    );
    let again = deploys_of(
        br#"{"service":"checkout-api","version":"2025.03.14-2","at":"2025-03-14T11:48:00Z"}"#,
    );
    assert_eq!(
        again[0].key, deploy.key,
        "the same deploy sent again has the same key"
    );
}

fn deploys_of(body: &[u8]) -> Vec<DeployEvent> {
    match parse(HookKind::Deploy, body) {
        Ok(Parsed::Deploys { deploys }) => deploys,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_deploy_without_a_time_zone_is_refused_with_how_to_write_it() {
    let error = parse(
        HookKind::Deploy,
        br#"{"service":"api","version":"1","at":"2025-03-14 12:00"}"#,
    )
    .unwrap_err();
    assert_eq!(
        error,
        PayloadError::Invalid {
            field: "at".into(),
            problem: "`2025-03-14 12:00` is not an RFC 3339 instant such as 2025-03-14T13:02:00Z"
                .into()
        }
    );
    let error = parse(HookKind::Deploy, br#"{"deploys":[{"service":"api","version":"1","at":"2025-03-14T12:00:00Z"},{"service":"Bad Name!","version":"1","at":"2025-03-14T12:00:00Z"}]}"#).unwrap_err();
    assert!(
        error.to_string().starts_with("`deploys[1].service`"),
        "{error}"
    );
}

#[test]
fn a_successful_github_deployment_status_is_a_deploy_of_the_repository() {
    let deploys = deploys("github_deployment_status.json");
    let deploy = &deploys[0];
    assert_eq!(deploy.key, "github:1405287741");
    assert_eq!(deploy.service.as_str(), "checkout-api");
    assert_eq!(deploy.version, "v2.14.0 (7c3f2e9a0b1d)");
    assert_eq!(deploy.at, datetime!(2025-03-14 11:47:55 UTC));
    assert_eq!(deploy.by.as_deref(), Some("ana-ruiz"));
    assert_eq!(
        deploy.link.as_ref().unwrap().as_str(),
        "https://github.com/acme/checkout-api/actions/runs/8270433344/job/22626101731"
    );
}

#[test]
fn a_pending_or_failed_github_deployment_is_accepted_and_adds_nothing() {
    let body = String::from_utf8(fixture("github_deployment_status.json")).unwrap();
    for state in ["pending", "failure", "in_progress"] {
        let body = body.replace("\"state\": \"success\"", &format!("\"state\": \"{state}\""));
        assert!(ignored(HookKind::Deploy, body.as_bytes()).contains(state));
    }
}

#[test]
fn every_kind_reads_back_from_its_name() {
    for kind in HookKind::ALL {
        assert_eq!(HookKind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(HookKind::parse("datadog"), None);
}
