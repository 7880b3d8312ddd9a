//! The external version shares only the chosen sections and never leaks a name, a handle, an
//! email address, an internal host or link, an IP address or a customer identifier.

use crate::{TEMPLATES, context};
use postmortem_core::{Handle, SectionName};
use postmortem_markdown::{ExternalSpec, Person, RedactionKind, Replacement, external, parse};

const PLANTED: &str = "---\ntitle: Checkout down for Dana Smith's customers\nseverity: SEV1\n---\n\n## Summary\n\nDana Smith (@dana, dana.smith@corp.example.com) restarted db-7.prod.corp.example.com at 10.20.3.4 after cus_8812XYZ complained in https://acme.slack.com/archives/C1/p2.\n\n## Impact\n\nAlex saw errors on api.internal and https://grafana.corp.example.com/d/abc; customers of acct_991 were affected. See https://status.example.org/incidents/1 for the public notice.\n\n## Detection\n\ndana noticed it first.\n\n## Response\n\nInternal-only: Dana Smith paged alex.kim.\n\n## Timeline\n\n- 2025-03-14 10:00 UTC Dana Smith paged @alex.kim on 192.168.1.10\n- 2025-03-14 10:30 UTC Alex rolled back; resolved\n\n## Action items\n\n- [ ] Alex to add an alert on db-7.prod.corp.example.com\n";

fn people() -> Vec<Person> {
    vec![
        Person {
            handle: Some(Handle::parse("dana").unwrap()),
            name: "Dana Smith".to_owned(),
            role: "an on-call engineer".to_owned(),
        },
        Person {
            handle: Some(Handle::parse("alex.kim").unwrap()),
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
    let spec = ExternalSpec {
        sections: chosen,
        internal_domains: vec!["corp.example.com".to_owned()],
        ..ExternalSpec::default()
    };
    let shared = external(&parsed.document, &spec, &people(), &TEMPLATES);
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

fn shared_summary(summary: &str, spec: ExternalSpec) -> postmortem_markdown::External {
    let text =
        format!("---\ntitle: Checkout errors\nseverity: SEV2\n---\n\n## Summary\n\n{summary}\n");
    let parsed = parse("summary.md", &text, &context()).unwrap();
    let spec = ExternalSpec {
        sections: vec![SectionName::parse("summary").unwrap()],
        ..spec
    };
    external(&parsed.document, &spec, &people(), &TEMPLATES)
}

#[test]
fn ipv6_addresses_chat_channels_numbered_hosts_and_named_customers_are_replaced() {
    let shared = shared_summary(
        "Traffic from 2001:db8::7 and fe80::1%eth0 and [::1]:8080 hit cache-07:6379 and \
         db-primary-03; we talked in #inc-checkout and https://teams.microsoft.com/l/meetup/1, \
         saw http://grafana/d/1 and 10.0.0.0/8. Customer 88123 and account #A-993 were hit. \
         @sam.lee helped; UTF-8 and SHA-256 stayed fine at 10:30.",
        ExternalSpec::default(),
    );
    let text = &shared.markdown;
    for secret in [
        "2001:db8",
        "fe80",
        "::1",
        "cache-07",
        "db-primary-03",
        "#inc-checkout",
        "teams.microsoft",
        "grafana",
        "10.0.0.0",
        "88123",
        "A-993",
        "sam.lee",
    ] {
        assert!(!text.contains(secret), "`{secret}` leaked:\n{text}");
    }
    for kept in ["UTF-8", "SHA-256", "10:30"] {
        assert!(text.contains(kept), "`{kept}` was taken out:\n{text}");
    }
    for kind in [
        RedactionKind::Chat,
        RedactionKind::IpAddress,
        RedactionKind::Host,
        RedactionKind::Customer,
        RedactionKind::Person,
    ] {
        assert!(
            shared.redactions.iter().any(|r| r.kind == kind),
            "no {kind:?}"
        );
    }
}

#[test]
fn an_authors_change_and_addition_are_used_and_listed() {
    let spec = ExternalSpec {
        changes: vec![Replacement::parse("db-primary-03", "our primary database").unwrap()],
        additions: vec![Replacement::parse("Project Falcon", "a new feature").unwrap()],
        ..ExternalSpec::default()
    };
    let shared = shared_summary("Project Falcon overloaded db-primary-03.", spec);
    assert!(
        shared
            .markdown
            .contains("A new feature overloaded our primary database."),
        "{}",
        shared.markdown
    );
    let author = shared
        .redactions
        .iter()
        .find(|r| r.kind == RedactionKind::Author)
        .expect("the addition is listed");
    assert_eq!(
        (author.found.as_str(), author.replaced_by.as_str()),
        ("Project Falcon", "a new feature")
    );
    assert!(
        shared
            .redactions
            .iter()
            .any(|r| r.found == "db-primary-03" && r.replaced_by == "our primary database")
    );
}
