//! Concurrent writers through the HTTP API: racing saves of one section, sent to two server
//! nodes on one PostgreSQL, have exactly one winner per version and lose nothing.

use crate::common::TestApp;
use axum::http::StatusCode;
use postmortem_core::IncidentId;
use serde_json::{Value, json};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_saves_through_two_nodes_have_one_winner_and_the_losers_get_the_current_text() {
    let (node, other_node) = TestApp::two_nodes_on_postgres().await;
    let (node, other_node) = (Arc::new(node), Arc::new(other_node));
    let dana = node.person("dana", "contributor").await;
    let id = node.incident(&dana).await;
    let path = format!("/api/v1/incidents/{id}/postmortem");
    for round in 0..8 {
        let etag = node.etag(id, &dana).await;
        let saves: Vec<_> = (0..6)
            .map(|writer| {
                let app = if writer % 2 == 0 {
                    node.clone()
                } else {
                    other_node.clone()
                };
                let (path, dana, etag) = (path.clone(), dana.clone(), etag.clone());
                let body =
                    json!({"sections": {"summary": format!("Round {round}, writer {writer}")}});
                tokio::spawn(async move { app.patch_json(&path, &dana, Some(&etag), body).await })
            })
            .collect();
        let mut saved = Vec::new();
        for (writer, save) in saves.into_iter().enumerate() {
            let reply = save.await.unwrap();
            match reply.status {
                StatusCode::OK => saved.push(json!(format!("Round {round}, writer {writer}"))),
                StatusCode::PRECONDITION_FAILED => {
                    let error = reply.json();
                    assert_eq!(error["error"]["code"], "edit_conflict", "{error}");
                    assert!(
                        error["error"]["details"]
                            .to_string()
                            .contains(&format!("Round {round}")),
                        "the loser gets the winner's text: {error}"
                    );
                }
                other => panic!("round {round}: unexpected {other}: {}", reply.body),
            }
        }
        assert_eq!(
            saved.len(),
            1,
            "round {round}: exactly one of six racing saves wins"
        );
        let read = other_node
            .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
            .await
            .json();
        assert_eq!(
            read["postmortem"]["sections"]["summary"], saved[0],
            "both nodes read the winner's text"
        );
    }
    let mut saves = node
        .db
        .store
        .audit_events(Some(IncidentId::new(id)), 100)
        .await
        .unwrap();
    saves.retain(|e| e.action == "section.save");
    saves.reverse();
    assert_eq!(saves.len(), 8);
    for pair in saves.windows(2) {
        assert_eq!(
            pair[1].details["before"]["summary"], pair[0].details["after"]["summary"],
            "the audit chain is unbroken"
        );
    }
    assert_eq!(saves[0].details["before"]["summary"], Value::Null);
}
