//! The weekly follow-through digest: reviews owed, overdue action items by owner, what was
//! completed lately with how we know it changed the system, the team's figures, and the three
//! biggest recurring themes (what keeps happening, and whether its fix held).

use maud::html;
use postmortem_core::figures::{Figures, follow_through};
use postmortem_core::insights::{InsightFilter, Insights, Theme};
use postmortem_core::{ActionStatus, IncidentId, Name, PostmortemStatus, format_date};
use postmortem_store::{ActionListItem, ActionQuery, ActionSort, Store, StoreError, Visibility};
use serde::Serialize;
use std::collections::BTreeMap;
use time::{Date, Duration};

/// How far back "recently completed" reaches.
pub const RECENT_DAYS: i64 = 7;
/// The most items of each list a digest carries; the counts stay exact.
pub const MAX_LISTED: usize = 50;
/// How many recurring themes a digest names.
pub const THEMES_LISTED: usize = 3;

/// A review still owed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwedReview {
    pub incident_id: IncidentId,
    pub title: String,
    pub status: PostmortemStatus,
    #[serde(serialize_with = "date_option")]
    pub due_on: Option<Date>,
    pub overdue: bool,
}

/// The digest of one team, or of the whole organisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    #[serde(serialize_with = "date")]
    pub generated_on: Date,
    pub team: Option<Name>,
    pub n_reviews_owed: usize,
    pub n_reviews_overdue: usize,
    pub reviews_owed: Vec<OwedReview>,
    pub n_overdue_actions: usize,
    /// Overdue items per owner handle (`unassigned` for none), most first.
    pub overdue_by_owner: Vec<(String, usize)>,
    pub overdue_actions: Vec<ActionListItem>,
    pub recently_completed: Vec<ActionListItem>,
    pub figures: Figures,
    /// The insights page's finding about themes, in words.
    pub themes_finding: String,
    /// The biggest recurring themes (a condition meeting the same service again), most
    /// incidents first; each links to its incidents.
    pub recurring_themes: Vec<Theme>,
}

fn date<S: serde::Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_date(*date))
}

fn date_option<S: serde::Serializer>(
    date: &Option<Date>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serializer.serialize_str(&format_date(*date)),
        None => serializer.serialize_none(),
    }
}

/// How a digest is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestFormat {
    Text,
    Html,
    Json,
}

/// Builds the digest as of `today`, for one team or everyone. Restricted incidents never
/// appear: a digest goes to shared channels.
pub async fn build_digest(
    store: &dyn Store,
    team: Option<&Name>,
    today: Date,
) -> Result<Digest, StoreError> {
    let visibility = Visibility::unrestricted();
    let in_team = |teams: &[Name]| team.is_none_or(|team| teams.contains(team));

    let mut reviews_owed: Vec<OwedReview> = store
        .owed_postmortems(visibility)
        .await?
        .into_iter()
        .filter(|summary| in_team(&summary.incident.teams))
        .map(|summary| OwedReview {
            incident_id: summary.incident.id,
            title: summary.incident.title.to_string(),
            status: summary.status,
            due_on: summary.due_on,
            overdue: summary.due_on.is_some_and(|due| due < today),
        })
        .collect();
    let n_reviews_owed = reviews_owed.len();
    let n_reviews_overdue = reviews_owed.iter().filter(|r| r.overdue).count();
    reviews_owed.truncate(MAX_LISTED);

    let mut overdue = ActionQuery::new(visibility, today);
    overdue.overdue = true;
    overdue.team = team.cloned();
    overdue.limit = 500;
    let mut overdue_actions = Vec::new();
    let mut by_owner: BTreeMap<String, usize> = BTreeMap::new();
    let n_overdue_actions = loop {
        let page = store.list_actions(&overdue).await?;
        let n_page = page.items.len() as i64;
        for item in page.items {
            *by_owner
                .entry(
                    item.owner_handle
                        .clone()
                        .unwrap_or_else(|| "unassigned".to_owned()),
                )
                .or_default() += 1;
            if overdue_actions.len() < MAX_LISTED {
                overdue_actions.push(item);
            }
        }
        overdue.offset += n_page;
        if n_page == 0 || overdue.offset >= page.total {
            break page.total as usize;
        }
    };
    let mut overdue_by_owner: Vec<(String, usize)> = by_owner.into_iter().collect();
    overdue_by_owner.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

    let mut done = ActionQuery::new(visibility, today);
    done.status = Some(ActionStatus::Done);
    done.sort = ActionSort::RecentlyCompleted;
    done.team = team.cloned();
    done.limit = MAX_LISTED as i64;
    let since = today - Duration::days(RECENT_DAYS);
    let recently_completed = store
        .list_actions(&done)
        .await?
        .items
        .into_iter()
        .filter(|item| {
            item.action
                .completed_at
                .is_some_and(|at| at.date() >= since)
        })
        .collect();

    let (actions, publications) = store.follow_through_facts(visibility).await?;
    let (overall, per_team) = follow_through(&actions, &publications, today);
    let figures = match team {
        None => overall,
        Some(team) => per_team
            .into_iter()
            .find(|t| &t.team == team)
            .map(|t| t.figures)
            .unwrap_or_default(),
    };

    // The same report as the insights page, with the digest's shared-channel view: restricted
    // incidents are never counted, so no theme names or links one.
    let filter = InsightFilter {
        team: team.cloned(),
        ..InsightFilter::default()
    };
    let insights = Insights::from_counts(
        &filter,
        store.insight_counts(&filter, visibility, today).await?,
    );
    let themes_finding = insights.themes_finding();
    let mut recurring_themes = insights.themes;
    recurring_themes.sort_by(|a, b| {
        b.incidents
            .count
            .cmp(&a.incidents.count)
            .then_with(|| a.label.cmp(&b.label))
    });
    recurring_themes.truncate(THEMES_LISTED);

    Ok(Digest {
        generated_on: today,
        team: team.cloned(),
        n_reviews_owed,
        n_reviews_overdue,
        reviews_owed,
        n_overdue_actions,
        overdue_by_owner,
        overdue_actions,
        recently_completed,
        figures,
        themes_finding,
        recurring_themes,
    })
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "n/a".to_owned(), |s| format!("{:.0}%", s * 100.0))
}

/// A theme in one line: its words, where, how often and when.
fn theme_line(theme: &Theme) -> String {
    format!(
        "{}: {} incidents in {}, {} to {}",
        theme.label, theme.incidents.count, theme.service, theme.first, theme.last
    )
}

fn days(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |d| format!("{d:.1} days"))
}

impl Digest {
    /// Who the digest is for, as a heading says it.
    pub fn audience(&self) -> String {
        match &self.team {
            Some(team) => format!("team {team}"),
            None => "all teams".to_owned(),
        }
    }

    pub fn render(&self, format: DigestFormat) -> String {
        match format {
            DigestFormat::Json => serde_json::to_string_pretty(self).expect("a digest serialises"),
            DigestFormat::Text => self.text(),
            DigestFormat::Html => self.html(),
        }
    }

    fn days_overdue(&self, item: &ActionListItem) -> i64 {
        item.action
            .due_on
            .map_or(0, |due| (self.generated_on - due).whole_days())
    }

    fn text(&self) -> String {
        let mut out = format!(
            "Follow-through digest for {}, {}\n\n",
            self.audience(),
            format_date(self.generated_on)
        );
        out.push_str(&format!(
            "Reviews owed: {} ({} overdue)\n",
            self.n_reviews_owed, self.n_reviews_overdue
        ));
        for review in &self.reviews_owed {
            out.push_str(&format!(
                "  - #{} {} ({}{}){}\n",
                review.incident_id,
                review.title,
                review.status.as_str().replace('_', " "),
                review
                    .due_on
                    .map(|d| format!(", due {}", format_date(d)))
                    .unwrap_or_default(),
                if review.overdue { " OVERDUE" } else { "" }
            ));
        }
        out.push_str(&format!(
            "\nOverdue action items: {}\n",
            self.n_overdue_actions
        ));
        if !self.overdue_by_owner.is_empty() {
            let owners: Vec<String> = self
                .overdue_by_owner
                .iter()
                .map(|(owner, n)| format!("{owner} ({n})"))
                .collect();
            out.push_str(&format!("  by owner: {}\n", owners.join(", ")));
        }
        for item in &self.overdue_actions {
            out.push_str(&format!(
                "  - {} (incident #{}), owner {}, {} days overdue\n",
                item.action.title,
                item.action.incident_id,
                item.owner_handle.as_deref().unwrap_or("unassigned"),
                self.days_overdue(item)
            ));
        }
        out.push_str(&format!(
            "\nCompleted in the last {RECENT_DAYS} days: {}\n",
            self.recently_completed.len()
        ));
        for item in &self.recently_completed {
            out.push_str(&format!(
                "  - {} (incident #{})\n",
                item.action.title, item.action.incident_id
            ));
            if let Some(verification) = &item.action.verification {
                out.push_str(&format!("    verified: {verification}\n"));
            }
        }
        let f = &self.figures;
        out.push_str(&format!(
            "\nFigures: actions done on time {}; median age of open actions {}; won't do {}; resolved to published median {}\n",
            percent(f.done_on_time_share),
            days(f.median_open_age_days),
            percent(f.wont_do_share),
            days(f.median_days_resolved_to_published)
        ));
        out.push_str(&format!(
            "\nWhat keeps happening: {}\n",
            self.themes_finding
        ));
        for theme in &self.recurring_themes {
            out.push_str(&format!("  - {}\n", theme_line(theme)));
            if let Some(why) = &theme.why {
                out.push_str(&format!("    the fix did not hold: {why}\n"));
            }
            if let Some(list) = &theme.incidents.list {
                out.push_str(&format!("    incidents: {list}\n"));
            }
        }
        out
    }

    fn html(&self) -> String {
        let f = &self.figures;
        html! {
            h1 { "Follow-through digest for " (self.audience()) ", " (format_date(self.generated_on)) }
            h2 { "Reviews owed: " (self.n_reviews_owed) " (" (self.n_reviews_overdue) " overdue)" }
            ul { @for review in &self.reviews_owed { li {
                "#" (review.incident_id) " " (review.title) " (" (review.status.as_str().replace('_', " "))
                @if let Some(due) = review.due_on { ", due " (format_date(due)) } ")"
                @if review.overdue { " " strong { "overdue" } }
            } } }
            h2 { "Overdue action items: " (self.n_overdue_actions) }
            @if !self.overdue_by_owner.is_empty() {
                p { "By owner: " @for (n, (owner, count)) in self.overdue_by_owner.iter().enumerate() { @if n > 0 { ", " } (owner) " (" (count) ")" } }
            }
            ul { @for item in &self.overdue_actions { li {
                (item.action.title.as_str()) " (incident #" (item.action.incident_id) "), owner "
                (item.owner_handle.as_deref().unwrap_or("unassigned")) ", " (self.days_overdue(item)) " days overdue"
            } } }
            h2 { "Completed in the last " (RECENT_DAYS) " days: " (self.recently_completed.len()) }
            ul { @for item in &self.recently_completed { li {
                (item.action.title.as_str()) " (incident #" (item.action.incident_id) ")"
                @if let Some(verification) = &item.action.verification { br; "Verified: " (verification) }
            } } }
            h2 { "Figures" }
            table {
                tr { th scope="row" { "Actions done on time" } td { (percent(f.done_on_time_share)) } }
                tr { th scope="row" { "Median age of open actions" } td { (days(f.median_open_age_days)) } }
                tr { th scope="row" { "Closed as won't do" } td { (percent(f.wont_do_share)) } }
                tr { th scope="row" { "Resolved to published (median)" } td { (days(f.median_days_resolved_to_published)) } }
            }
            h2 { "What keeps happening" }
            p { (self.themes_finding) }
            ul { @for theme in &self.recurring_themes { li {
                @match &theme.incidents.list {
                    Some(list) => a href=(list) { (theme_line(theme)) },
                    None => (theme_line(theme)),
                }
                @if let Some(why) = &theme.why { br; "The fix did not hold: " (why) }
            } } }
        }
        .into_string()
    }
}
