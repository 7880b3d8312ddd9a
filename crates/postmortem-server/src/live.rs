//! Live updates: a background task follows the store's change feed and broadcasts each change,
//! and server-sent event streams pass on the changes of one incident to the people viewing it.
//!
//! Following the feed (rather than announcing writes made by this process) means several
//! server nodes sharing one PostgreSQL all see every write, whichever node took it.

use crate::api::ApiPath;
use crate::api::visibility;
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use postmortem_core::IncidentId;
use postmortem_store::{Change, Store, Visibility};
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::{Stream, StreamExt};

/// How often the feed is polled; a quarter second keeps updates well within a second.
const POLL_EVERY: Duration = Duration::from_millis(250);
/// How many changes are read from the feed in one query.
const BATCH: i64 = 1_000;

/// The broadcast of changes, and whether the task following the feed has started.
#[derive(Debug)]
pub struct Live {
    sender: broadcast::Sender<Change>,
    following: AtomicBool,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1_024).0,
            following: AtomicBool::new(false),
        }
    }
}

impl Live {
    /// Subscribes to every change, starting the task that follows the feed on first use, so
    /// a server nobody watches does not poll its database.
    pub fn subscribe(&self, store: &Arc<dyn Store>) -> broadcast::Receiver<Change> {
        let receiver = self.sender.subscribe();
        if !self.following.swap(true, Ordering::SeqCst) {
            tokio::spawn(follow(store.clone(), self.sender.clone()));
        }
        receiver
    }
}

/// The sequence number of the newest change, so that following starts from now.
async fn newest_seq(store: &dyn Store) -> postmortem_store::Result<i64> {
    let mut seq = 0;
    loop {
        let batch = store.changes_since(seq, 10_000).await?;
        match batch.last() {
            Some(last) => seq = last.seq,
            None => return Ok(seq),
        }
        if batch.len() < 10_000 {
            return Ok(seq);
        }
    }
}

async fn follow(store: Arc<dyn Store>, sender: broadcast::Sender<Change>) {
    let mut seq = loop {
        match newest_seq(store.as_ref()).await {
            Ok(seq) => break seq,
            Err(error) => {
                tracing::warn!(%error, "could not read the change feed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mut ticker = tokio::time::interval(POLL_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match store.changes_since(seq, BATCH).await {
            Ok(changes) => {
                for change in changes {
                    seq = change.seq;
                    // Nobody listening is not an error: the next subscriber starts from now.
                    let _ = sender.send(change);
                }
            }
            Err(error) => tracing::warn!(%error, "following the change feed failed; retrying"),
        }
    }
}

/// The changes of one incident as server-sent events: the event name is what changed
/// (`timeline`, `section`, `postmortem`, `factor`, `action`, `review`, `comment`...), the data
/// `{seq, entity, op}`. A `resync` event means some changes were missed: reload everything.
///
/// Who may see the incident is checked again whenever something that decides it changes: its
/// facts (`incident`: `restricted` and its teams), the people named on it (`member`) or any
/// team's members (`team`). The stream ends when the reader no longer may: someone taken off
/// a restricted incident, or reading an incident that was just restricted, stops hearing of
/// it at once.
fn incident_events(
    receiver: broadcast::Receiver<Change>,
    id: IncidentId,
    store: Arc<dyn Store>,
    reader: Visibility,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let ready = tokio_stream::once(Ok(Event::default().event("ready").data("{}")));
    let changes = BroadcastStream::new(receiver)
        .filter(move |message| match message {
            Ok(change) => change.incident_id == Some(id) || change.entity == "team",
            Err(BroadcastStreamRecvError::Lagged(_)) => true,
        })
        .then(move |message| {
            let store = store.clone();
            async move {
                let change = match message {
                    Ok(change) => change,
                    Err(BroadcastStreamRecvError::Lagged(_)) => {
                        return Some(Some(Event::default().event("resync").data("{}")));
                    }
                };
                if matches!(change.entity.as_str(), "incident" | "member" | "team")
                    && !matches!(store.incident(id, reader).await, Ok(Some(_)))
                {
                    return None;
                }
                if change.incident_id != Some(id) {
                    return Some(None);
                }
                Some(Some(
                    Event::default()
                        .event(change.entity.clone())
                        .id(change.seq.to_string())
                        .data(
                            serde_json::json!({"seq": change.seq, "entity": change.entity, "op": change.op})
                                .to_string(),
                        ),
                ))
            }
        })
        .map_while(|still_visible| still_visible)
        .filter_map(|event| event.map(Ok));
    ready.chain(changes)
}

/// Streams an incident's changes as they happen.
#[utoipa::path(
    get, path = "/api/v1/incidents/{id}/events", tag = "incidents",
    params(("id" = i64, Path, description = "The incident", example = 1)),
    responses(
        (status = 200, description = "A `text/event-stream` of changes: event name is the entity that changed, data `{seq, entity, op}`", content_type = "text/event-stream", body = String),
        (status = 401, description = "Not signed in", body = crate::api::schema::ErrorBody),
        (status = 404, description = "No such incident, or restricted", body = crate::api::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn api_events(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let id = IncidentId::new(id);
    // Permission is checked when subscribing (a restricted incident is a 404 here as well)
    // and again whenever what decides it changes.
    state.app.acting_for(&user).incident(id).await?;
    let receiver = state.live.subscribe(&state.store);
    let events = incident_events(receiver, id, state.store.clone(), visibility(&user));
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
