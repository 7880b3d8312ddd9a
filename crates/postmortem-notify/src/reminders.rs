//! Reminders on events: a post-mortem review or an action item that became overdue queues
//! one webhook delivery per subscribed webhook, once, whichever node notices first.
//!
//! "Became overdue" means its due date passed within the last [`LOOKBACK_DAYS`] days.
//! Items overdue for longer are in every weekly digest already; without the bound, the first
//! start of this feature (or a restore) would flood team channels with old news.

use crate::webhook::{ACTION_OVERDUE, Payload, REVIEW_OVERDUE, slack_escape, slack_link};
use postmortem_core::format_date;
use postmortem_store::{
    ActionListItem, ActionQuery, IncidentSummary, Store, StoreError, Visibility,
};
use time::{Date, Duration, OffsetDateTime};

/// How many days after its due date an item still counts as having just become overdue.
pub const LOOKBACK_DAYS: i64 = 7;

/// A reminder this scan claimed and queued.
#[derive(Debug, Clone, PartialEq)]
pub struct Reminder {
    /// The claim key: `review.overdue:<incident id>` or `action.overdue:<action id>`.
    pub key: String,
    pub event: &'static str,
    pub payload: Payload,
    /// How many webhooks it was queued for.
    pub queued: i64,
}

/// The link to an incident's page.
pub fn incident_url(base_url: &str, incident: impl std::fmt::Display) -> String {
    format!("{}/incidents/{incident}", base_url.trim_end_matches('/'))
}

/// The payload of a review that became overdue.
pub fn review_overdue(base_url: &str, summary: &IncidentSummary) -> Payload {
    let incident = &summary.incident;
    let url = incident_url(base_url, incident.id);
    let due_on = summary.due_on.map(format_date);
    let teams: Vec<&str> = incident.teams.iter().map(|t| t.as_str()).collect();
    let team_text = match teams.as_slice() {
        [] => String::new(),
        teams => format!(", {}", slack_escape(&teams.join(", "))),
    };
    let text = format!(
        "The post-mortem of {} ({}{team_text}) was due on {} and is still {}. \
         Finishing the review while the incident is fresh keeps what we learned from it.",
        slack_link(&url, &format!("#{} {}", incident.id, incident.title)),
        incident.severity,
        due_on.as_deref().unwrap_or("an unknown date"),
        summary.status.as_str().replace('_', " "),
    );
    let data = serde_json::json!({
        "incident_id": incident.id,
        "title": incident.title.as_str(),
        "severity": incident.severity.to_string(),
        "teams": teams,
        "status": summary.status.as_str(),
        "due_on": due_on,
        "url": url,
    });
    Payload::new(REVIEW_OVERDUE, text, data)
}

/// The payload of an action item that became overdue.
pub fn action_overdue(base_url: &str, item: &ActionListItem) -> Payload {
    let action = &item.action;
    let url = incident_url(base_url, action.incident_id);
    let due_on = action.due_on.map(format_date);
    let mut who = Vec::new();
    if let Some(owner) = &item.owner_handle {
        who.push(format!("owner @{}", slack_escape(owner)));
    }
    if let Some(team) = &action.team {
        who.push(format!("team {}", slack_escape(team.as_str())));
    }
    let who = if who.is_empty() {
        " (no owner yet)".to_owned()
    } else {
        format!(" ({})", who.join(", "))
    };
    let text = format!(
        "The action item \u{201c}{}\u{201d}{who} from {} was due on {} and is still {}. \
         If plans changed, a new due date or a reason it will not be done keeps the list honest.",
        slack_escape(action.title.as_str()),
        slack_link(
            &url,
            &format!("#{} {}", action.incident_id, item.incident_title)
        ),
        due_on.as_deref().unwrap_or("an unknown date"),
        action.status.as_str().replace('_', " "),
    );
    let data = serde_json::json!({
        "action_id": action.id,
        "incident_id": action.incident_id,
        "incident_title": item.incident_title,
        "title": action.title.as_str(),
        "owner": item.owner_handle,
        "team": action.team.as_ref().map(|t| t.as_str()),
        "priority": action.priority.as_str(),
        "status": action.status.as_str(),
        "due_on": due_on,
        "url": url,
    });
    Payload::new(ACTION_OVERDUE, text, data)
}

/// Whether a due date passed within the lookback window as seen on `today`.
fn just_passed(due_on: Option<Date>, today: Date) -> bool {
    due_on.is_some_and(|due| due < today && due >= today - Duration::days(LOOKBACK_DAYS))
}

/// Finds reviews and action items that became overdue as of `today` (in the organisation's
/// time zone), claims each at `now` so it fires once across all nodes, and queues its
/// webhook deliveries. Returns the reminders this call claimed. Only unrestricted incidents
/// are read: reminders go to shared channels.
pub async fn scan(
    store: &dyn Store,
    base_url: &str,
    today: Date,
    now: OffsetDateTime,
) -> Result<Vec<Reminder>, StoreError> {
    let visibility = Visibility::unrestricted();
    let mut candidates = Vec::new();
    for summary in store.owed_postmortems(visibility).await? {
        if just_passed(summary.due_on, today) {
            candidates.push((
                format!("{REVIEW_OVERDUE}:{}", summary.incident.id),
                REVIEW_OVERDUE,
                review_overdue(base_url, &summary),
            ));
        }
    }
    let mut query = ActionQuery::new(visibility, today);
    query.overdue = true;
    query.limit = 500;
    loop {
        let page = store.list_actions(&query).await?;
        let n_page = i64::try_from(page.items.len()).unwrap_or(i64::MAX);
        for item in &page.items {
            if just_passed(item.action.due_on, today) {
                candidates.push((
                    format!("{ACTION_OVERDUE}:{}", item.action.id),
                    ACTION_OVERDUE,
                    action_overdue(base_url, item),
                ));
            }
        }
        query.offset += n_page;
        if n_page == 0 || query.offset >= page.total {
            break;
        }
    }
    let mut fired = Vec::new();
    for (key, event, payload) in candidates {
        // Claiming and queueing are one transaction, so a node that stops between them
        // neither loses the reminder nor lets another node send it twice.
        if let Some(queued) = store
            .enqueue_once(&key, now, event, &payload.to_json())
            .await?
        {
            fired.push(Reminder {
                key,
                event,
                payload,
                queued,
            });
        }
    }
    Ok(fired)
}
