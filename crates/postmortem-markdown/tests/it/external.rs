//! The external version shares only the chosen sections and never leaks a name, a handle, an
//! email address, an internal host or link, an IP address or a customer identifier.

use crate::{TEMPLATES, context};
use postmortem_core::{Handle, SectionName};
use postmortem_markdown::{Person, RedactionKind, external, parse};

const PLANTED: &str = "---\ntitle: Checkout down for Dana Smith's customers\nseverity: SEV1\n---\n\n## Summary\n\nDana Smith (@dana, dana.smith@corp.example.com) restarted db-7.prod.corp.example.com at 10.20.3.4 after cus_8812XYZ complained in https://acme.slack.com/archives/C1/p2.\n\n## Impact\n\nAlex saw errors on api.internal and https://grafana.corp.example.com/d/abc; customers of acct_991 were affected. See https://status.example.org/incidents/1 for the public notice.\n\n## Detection\n\ndana noticed it first.\n\n## Response\n\nInternal-only: Dana Smith paged alex.kim.\n\n## Timeline\n\n- 2025-03-14 10:00 UTC Dana Smith paged @alex.kim on 192.168.1.10\n- 2025-03-14 10:30 UTC Alex rolled back; resolved\n\n## Action items\n\n- [ ] Alex to add an alert on db-7.prod.corp.example.com\n";

fn people() -> Vec<Person> {
    vec![
        Person {
            handle: Handle::parse("dana").unwrap(),
            name: "Dana Smith".to_owned(),
            role: "an on-call engineer".to_owned(),
        },
        Person {
            handle: Handle::parse("alex.kim").unwrap(),
            name: "Alex Kim".to_owned(),
            role: "a database engineer".to_owned(),
        },
    ]
}

#[test]
fn no_name_handle_email_host_ip_or_customer_leaks_into_the_external_version() {
    let parsed = parse("planted.md", PLANTED, &context()).unwrap();
    let chosen: Vec<SectionName> = ["summary", "impact", "detection", "timeline", "action_items"]
        .iter()
        .map(|s| SectionName::parse(s).unwrap())
        .collect();
    let shared = external(
        &parsed.document,
        &chosen,
        &people(),
        &["corp.example.com".to_owned()],
        &TEMPLATES,
    );
    let text = shared.markdown.to_lowercase();
    for secret in [
        "dana",
        "smith",
        "alex",
        "kim",
        "@",
        "corp.example.com",
        "10.20.3.4",
        "192.168.1.10",
        "cus_8812xyz",
        "acct_991",
        "slack.com",
        "api.internal",
        "grafana",
    ] {
        assert!(
            !text.contains(secret),
            "`{secret}` leaked:\n{}",
            shared.markdown
        );
    }
    assert!(text.contains("an on-call engineer"), "{}", shared.markdown);
    assert!(
        text.contains("https://status.example.org/incidents/1"),
        "public links stay"
    );
    assert!(
        !text.contains("internal-only"),
        "an unchosen section stays out"
    );
    for kind in [
        RedactionKind::Person,
        RedactionKind::Email,
        RedactionKind::Host,
        RedactionKind::IpAddress,
        RedactionKind::Link,
        RedactionKind::Customer,
    ] {
        assert!(
            shared.redactions.iter().any(|r| r.kind == kind),
            "no {kind:?} redaction listed"
        );
    }
    insta::assert_snapshot!(shared.markdown);
}
