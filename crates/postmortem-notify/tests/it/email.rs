//! The digest email through a real SMTP server (Python's aiosmtpd, started by the test).

use crate::common::{SmtpServer, closed_port, incident, person};
use postmortem_notify::build_digest;
use postmortem_notify::email::{EmailError, Mailer, SmtpConfig};
use postmortem_store::testing::TestDb;
use time::macros::date;

#[tokio::test]
async fn the_digest_arrives_as_one_email_with_text_and_html_alternatives() {
    let db = TestDb::sqlite().await;
    let dana = person(&db, "dana").await;
    incident(
        &db,
        dana,
        "Checkout errors after deploy",
        false,
        Some(date!(2026 - 02 - 27)),
    )
    .await;
    incident(
        &db,
        dana,
        "Leaked credentials",
        true,
        Some(date!(2026 - 02 - 27)),
    )
    .await;
    let digest = build_digest(&*db.store, None, date!(2026 - 03 - 02))
        .await
        .unwrap();
    let server = SmtpServer::start();
    let mailer = Mailer::new(&server.config()).unwrap();

    mailer
        .send_digest(&digest, "https://pm.example.com/")
        .await
        .unwrap();

    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message["mail_from"], "postmortem@example.com");
    assert_eq!(
        message["rcpt_tos"],
        serde_json::json!(["engineering@example.com", "sre@example.com"])
    );
    assert_eq!(
        message["subject"],
        "Follow-through digest for all teams, 2026-03-02"
    );
    assert_eq!(message["type"], "multipart/alternative");
    let parts = message["parts"].as_array().unwrap();
    assert_eq!(
        parts
            .iter()
            .map(|p| p["type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["text/plain", "text/html"]
    );
    let text = parts[0]["content"].as_str().unwrap();
    let html = parts[1]["content"].as_str().unwrap();
    assert!(text.contains("Checkout errors after deploy"), "{text}");
    assert!(
        text.trim_end().ends_with(
            "See everything that is owed and overdue: https://pm.example.com/follow-through"
        ),
        "{text}"
    );
    assert!(
        html.contains("Checkout errors after deploy") && html.contains("</"),
        "{html}"
    );
    assert!(
        !text.contains("Leaked credentials") && !html.contains("Leaked credentials"),
        "a restricted incident never reaches the list"
    );
}

#[tokio::test]
async fn an_smtp_server_that_is_down_is_an_error_naming_it() {
    let db = TestDb::sqlite().await;
    let digest = build_digest(&*db.store, None, date!(2026 - 03 - 02))
        .await
        .unwrap();
    let port = closed_port();
    let config = SmtpServer::config_for(port);
    let error = Mailer::new(&config)
        .unwrap()
        .send_digest(&digest, "https://pm.example.com")
        .await
        .unwrap_err();
    assert!(matches!(error, EmailError::Send { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{port}")),
        "{error}"
    );
}

fn remote() -> SmtpConfig {
    SmtpConfig {
        host: "smtp.example.com".into(),
        port: None,
        starttls: false,
        tls: false,
        username: None,
        password: None,
        from: "postmortem@example.com".into(),
        to: vec!["engineering@example.com".into()],
    }
}

fn refusal(config: &SmtpConfig) -> String {
    Mailer::new(config).unwrap_err().to_string()
}

#[test]
fn a_password_is_never_sent_unencrypted_to_a_remote_server() {
    let mut config = remote();
    config.username = Some("postmortem".into());
    config.password = Some("hunter2-but-longer".into());
    assert!(
        refusal(&config).starts_with("notify.smtp.password: would be sent unencrypted"),
        "{}",
        refusal(&config)
    );
    config.starttls = true;
    assert!(Mailer::new(&config).is_ok());
    assert_eq!(config.effective_port(), 587);
    assert!(
        !format!("{config:?}").contains("hunter2"),
        "the password stays out of debug output"
    );
}

#[test]
fn settings_that_cannot_work_are_refused_with_the_field_named() {
    let mut both = remote();
    both.tls = true;
    both.starttls = true;
    assert!(
        refusal(&both).starts_with("notify.smtp.tls:"),
        "{}",
        refusal(&both)
    );
    let mut bad_from = remote();
    bad_from.from = "not an address".into();
    assert!(
        refusal(&bad_from).starts_with("notify.smtp.from:"),
        "{}",
        refusal(&bad_from)
    );
    let mut nobody = remote();
    nobody.to.clear();
    assert!(
        refusal(&nobody).starts_with("notify.smtp.to:"),
        "{}",
        refusal(&nobody)
    );
    let mut half = remote();
    half.tls = true;
    half.username = Some("postmortem".into());
    assert!(
        refusal(&half).starts_with("notify.smtp.password: is missing"),
        "{}",
        refusal(&half)
    );
    assert_eq!(
        SmtpConfig {
            tls: true,
            ..remote()
        }
        .effective_port(),
        465
    );
    assert_eq!(remote().effective_port(), 25);
}
