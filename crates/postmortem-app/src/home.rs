//! What needs a person, for the home page: reviews asked of them, post-mortems they or their
//! teams owe (overdue first), their open action items (overdue first), their drafts, and
//! what was published lately in their teams. Read through the person's visibility, so a
//! restricted incident they may not see never appears.

use crate::{AppError, Service, visibility};
use postmortem_store::{ActionListItem, ActionQuery, IncidentSummary};
use time::Date;

/// A person's work, each list in the order they should act on it.
#[derive(Debug, Clone)]
pub struct Work {
    /// The organisation's calendar day, on which overdue is judged.
    pub today: Date,
    pub review_requests: Vec<IncidentSummary>,
    /// Owed by the person or their teams: overdue first, then soonest due.
    pub owed: Vec<IncidentSummary>,
    /// Open and in-progress items the person owns: overdue first, then soonest due.
    pub actions: Vec<ActionListItem>,
    pub drafts: Vec<IncidentSummary>,
    pub recently_published: Vec<IncidentSummary>,
}

impl Work {
    /// Whether a post-mortem is past its due date and still owed.
    pub fn is_overdue(&self, summary: &IncidentSummary) -> bool {
        summary.status.is_owed_work() && summary.due_on.is_some_and(|due| due < self.today)
    }
}

impl Service<'_> {
    pub async fn work(&self) -> Result<Work, AppError> {
        let user = self.only_a_person("have work of their own")?;
        let store = &self.app.store;
        let seen = visibility(user);
        let today = self.app.rules.policy.today(time::OffsetDateTime::now_utc());
        let mine = store.personal_incidents(user.id, seen).await?;
        let mut query = ActionQuery::new(seen, today);
        query.owner = Some(user.id);
        query.limit = 200;
        let mut actions: Vec<ActionListItem> = store
            .list_actions(&query)
            .await?
            .items
            .into_iter()
            .filter(|item| item.action.status.is_open())
            .collect();
        // Due-first already puts the longest overdue first; this keeps that explicit.
        actions.sort_by_key(|item| (!item.overdue, item.action.due_on.is_none()));
        let drafting: Vec<_> = mine.drafts.iter().map(|s| s.incident.id).collect();
        let mut owed: Vec<IncidentSummary> = mine
            .owed
            .into_iter()
            // A draft the person writes is listed with their drafts, not twice.
            .filter(|s| !drafting.contains(&s.incident.id))
            .collect();
        owed.sort_by_key(|s| {
            let overdue = s.status.is_owed_work() && s.due_on.is_some_and(|due| due < today);
            (!overdue, s.due_on.is_none(), s.due_on)
        });
        Ok(Work {
            today,
            review_requests: mine.review_requests,
            owed,
            actions,
            drafts: mine.drafts,
            recently_published: mine.recently_published,
        })
    }
}
