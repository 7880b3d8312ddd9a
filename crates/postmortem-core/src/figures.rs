//! Follow-through figures: are action items done on time, how old are the open ones, how
//! often do we decide against them, and how long from resolution to a published review.

use crate::{ActionStatus, Name};
use serde::Serialize;
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime};

/// What the figures need of one action item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionFact {
    pub team: Option<Name>,
    pub status: ActionStatus,
    pub due_on: Option<Date>,
    pub created_at: OffsetDateTime,
    pub completed_at: Option<OffsetDateTime>,
}

/// What the figures need of one incident's post-mortem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationFact {
    pub teams: Vec<Name>,
    /// The earliest `resolved` marker of the timeline.
    pub resolved_at: Option<OffsetDateTime>,
    pub published_at: Option<OffsetDateTime>,
}

/// The figures of one team, or of everyone.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub n_actions: usize,
    pub n_open: usize,
    pub n_overdue: usize,
    pub n_done: usize,
    pub n_wont_do: usize,
    /// Of the done items that had a due date, the share completed by it.
    pub done_on_time_share: Option<f64>,
    /// Median age in days of the items still open.
    pub median_open_age_days: Option<f64>,
    /// Of the closed items, the share closed as `wont_do`.
    pub wont_do_share: Option<f64>,
    /// Median days from an incident's resolution to its published post-mortem.
    pub median_days_resolved_to_published: Option<f64>,
    pub n_published: usize,
}

/// Figures for one team.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamFigures {
    pub team: Name,
    #[serde(flatten)]
    pub figures: Figures,
}

/// Overall figures and one set per team (actions count for their own team; publications for
/// every team of the incident), as seen on `today`.
pub fn follow_through(
    actions: &[ActionFact],
    publications: &[PublicationFact],
    today: Date,
) -> (Figures, Vec<TeamFigures>) {
    let overall = compute(actions.iter(), publications.iter(), today);
    let mut teams: BTreeMap<&Name, (Vec<&ActionFact>, Vec<&PublicationFact>)> = BTreeMap::new();
    for action in actions {
        if let Some(team) = &action.team {
            teams.entry(team).or_default().0.push(action);
        }
    }
    for publication in publications {
        for team in &publication.teams {
            teams.entry(team).or_default().1.push(publication);
        }
    }
    let per_team = teams
        .into_iter()
        .map(|(team, (actions, publications))| TeamFigures {
            team: team.clone(),
            figures: compute(actions.into_iter(), publications.into_iter(), today),
        })
        .collect();
    (overall, per_team)
}

fn compute<'a>(
    actions: impl Iterator<Item = &'a ActionFact>,
    publications: impl Iterator<Item = &'a PublicationFact>,
    today: Date,
) -> Figures {
    let mut figures = Figures::default();
    let mut open_ages = Vec::new();
    let (mut n_due_done, mut n_on_time) = (0_usize, 0_usize);
    for action in actions {
        figures.n_actions += 1;
        match action.status {
            ActionStatus::Open | ActionStatus::InProgress => {
                figures.n_open += 1;
                open_ages.push((today - action.created_at.date()).whole_days() as f64);
                if action.due_on.is_some_and(|due| due < today) {
                    figures.n_overdue += 1;
                }
            }
            ActionStatus::Done => {
                figures.n_done += 1;
                if let (Some(due), Some(completed)) = (action.due_on, action.completed_at) {
                    n_due_done += 1;
                    if completed.date() <= due {
                        n_on_time += 1;
                    }
                }
            }
            ActionStatus::WontDo => figures.n_wont_do += 1,
        }
    }
    let share = |part: usize, whole: usize| (whole > 0).then(|| part as f64 / whole as f64);
    figures.done_on_time_share = share(n_on_time, n_due_done);
    figures.wont_do_share = share(figures.n_wont_do, figures.n_done + figures.n_wont_do);
    figures.median_open_age_days = median(&mut open_ages);
    let mut delays: Vec<f64> = publications
        .filter_map(|p| Some((p.published_at? - p.resolved_at?).as_seconds_f64() / 86_400.0))
        .filter(|days| *days >= 0.0)
        .collect();
    figures.n_published = delays.len();
    figures.median_days_resolved_to_published = median(&mut delays);
    figures
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn action(
        team: &str,
        status: ActionStatus,
        due_on: Option<Date>,
        created: OffsetDateTime,
        completed: Option<OffsetDateTime>,
    ) -> ActionFact {
        ActionFact {
            team: Some(Name::parse(team).unwrap()),
            status,
            due_on,
            created_at: created,
            completed_at: completed,
        }
    }

    #[test]
    fn figures_count_on_time_overdue_ages_and_wont_do() {
        let today = date!(2026 - 03 - 31);
        let actions = [
            action(
                "sre",
                ActionStatus::Done,
                Some(date!(2026 - 03 - 10)),
                datetime!(2026-03-01 0:00 UTC),
                Some(datetime!(2026-03-09 12:00 UTC)),
            ),
            action(
                "sre",
                ActionStatus::Done,
                Some(date!(2026 - 03 - 10)),
                datetime!(2026-03-01 0:00 UTC),
                Some(datetime!(2026-03-12 12:00 UTC)),
            ),
            action(
                "sre",
                ActionStatus::Open,
                Some(date!(2026 - 03 - 20)),
                datetime!(2026-03-21 0:00 UTC),
                None,
            ),
            action(
                "payments",
                ActionStatus::InProgress,
                None,
                datetime!(2026-03-01 0:00 UTC),
                None,
            ),
            action(
                "payments",
                ActionStatus::WontDo,
                None,
                datetime!(2026-03-01 0:00 UTC),
                Some(datetime!(2026-03-05 0:00 UTC)),
            ),
        ];
        let publications = [PublicationFact {
            teams: vec![Name::parse("sre").unwrap()],
            resolved_at: Some(datetime!(2026-03-01 10:00 UTC)),
            published_at: Some(datetime!(2026-03-08 10:00 UTC)),
        }];
        let (overall, teams) = follow_through(&actions, &publications, today);
        assert_eq!(
            (
                overall.n_actions,
                overall.n_open,
                overall.n_overdue,
                overall.n_done,
                overall.n_wont_do
            ),
            (5, 2, 1, 2, 1)
        );
        assert_eq!(overall.done_on_time_share, Some(0.5));
        assert_eq!(
            overall.median_open_age_days,
            Some(20.0),
            "ages 10 and 30 days"
        );
        assert_eq!(overall.wont_do_share, Some(1.0 / 3.0));
        assert_eq!(overall.median_days_resolved_to_published, Some(7.0));
        assert_eq!(
            teams.iter().map(|t| t.team.as_str()).collect::<Vec<_>>(),
            ["payments", "sre"]
        );
        assert_eq!(teams[1].figures.n_published, 1);
        assert_eq!(
            teams[0].figures.done_on_time_share, None,
            "no done item with a due date"
        );
    }

    #[test]
    fn no_actions_give_no_shares_rather_than_zeroes() {
        let (overall, teams) = follow_through(&[], &[], date!(2026 - 03 - 31));
        assert_eq!(overall.done_on_time_share, None);
        assert_eq!(overall.median_open_age_days, None);
        assert!(teams.is_empty());
    }
}
