//! The incident generator: one seeded random stream per incident, turned into a bundle.
//!
//! Over 900 lines: one `Generator` whose steps (facts, timeline, sections, factors, actions,
//! review) draw from the incident's random stream in a fixed order; the demo's determinism and
//! the exported-incident snapshot depend on that order, so a split must move steps without
//! reordering their draws. The planted recurring stories live in `stories.rs`.

use crate::fill::{Ctx, filled, push_number};
use crate::org::DemoOrg;
use crate::phrases as p;
use crate::rng::{between, chance, one, pick, rng_for, weighted};
use crate::sections::{self, Facts};
use crate::stories::{self, Outcome, STORIES, Story};
use postmortem_core::{
    ActionKind, ActionStatus, BundleAction, BundleReview, BundleSection, BundleTimelineEntry,
    FactorCategory, Handle, Impact, IncidentBundle, IncidentKind, Markdown, Marker, Name,
    NewActionItem, NewFactor, NewIncident, NewTimelineEntry, Perspective, PostmortemStatus,
    Priority, ReviewDecision, SectionName, Severity, Source, Template, TemplateName, Title,
    WebLink,
};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::fmt::Write;
use time::{Date, Duration, OffsetDateTime, Weekday};

/// What to generate: how many incidents, from which seed, and the day the demo is "today".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoConfig {
    pub n_incidents: usize,
    pub seed: u64,
    /// Incidents fall in the two years before this day; statuses and overdue actions are as
    /// seen on it.
    pub today: Date,
}

/// How far back incidents go.
const HISTORY_DAYS: i64 = 730;

/// The incidents of a demo, in chronological order, as an iterator of bundles.
///
/// Incident `i` depends only on the seed, `i`, `n_incidents` and `today`, so the range can be
/// split (`split_at`) across threads or progress steps and still give the same data.
#[derive(Debug, Clone)]
pub struct DemoIncidents<'a> {
    generator: Generator<'a>,
    next: usize,
    end: usize,
}

/// Generates `config.n_incidents` incidents for `org`.
pub fn incidents<'a>(org: &'a DemoOrg, config: &DemoConfig) -> DemoIncidents<'a> {
    DemoIncidents {
        generator: Generator::new(org, *config),
        next: 0,
        end: config.n_incidents,
    }
}

impl DemoIncidents<'_> {
    /// Incident `index` (0-based, below `n_incidents`) on its own.
    pub fn bundle(&self, index: usize) -> IncidentBundle {
        self.generator.bundle(index)
    }

    /// Splits the remaining incidents into those before `index` and those from it on.
    pub fn split_at(self, index: usize) -> (Self, Self) {
        let mid = index.clamp(self.next, self.end);
        let first = Self {
            generator: self.generator.clone(),
            next: self.next,
            end: mid,
        };
        let second = Self { next: mid, ..self };
        (first, second)
    }
}

impl Iterator for DemoIncidents<'_> {
    type Item = IncidentBundle;

    fn next(&mut self) -> Option<IncidentBundle> {
        if self.next >= self.end {
            return None;
        }
        let bundle = self.generator.bundle(self.next);
        self.next += 1;
        Some(bundle)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.end - self.next;
        (left, Some(left))
    }

    fn nth(&mut self, n: usize) -> Option<IncidentBundle> {
        self.next = self.next.saturating_add(n).min(self.end);
        self.next()
    }
}

impl ExactSizeIterator for DemoIncidents<'_> {}

/// Everything that does not change between incidents, looked up once.
#[derive(Debug, Clone)]
struct Generator<'a> {
    org: &'a DemoOrg,
    config: DemoConfig,
    full: Vec<SectionName>,
    lightweight: Vec<SectionName>,
    /// Per team (as in `org.teams`), the people who may write (contributors and up).
    writers_by_team: Vec<Vec<usize>>,
    /// Per service, its team's index in `org.teams`.
    team_of_service: Vec<usize>,
    /// People who may review.
    reviewers: Vec<usize>,
    writers: Vec<usize>,
    now: OffsetDateTime,
    /// The stories whose service the organisation has, with that service's index.
    stories: Vec<(usize, &'static Story)>,
    /// Per service, the story it belongs to (an index into `stories`).
    story_of_service: Vec<Option<usize>>,
}

impl<'a> Generator<'a> {
    fn new(org: &'a DemoOrg, config: DemoConfig) -> Self {
        let names = |t: Template| t.sections.into_iter().map(|s| s.name).collect();
        let team_index = |team: &Name| org.teams.iter().position(|t| t == team);
        let writers: Vec<usize> = (0..org.people.len())
            .filter(|&i| org.people[i].role.can_write())
            .collect();
        let writers_by_team = org
            .teams
            .iter()
            .map(|team| {
                writers
                    .iter()
                    .copied()
                    .filter(|&i| &org.people[i].team == team)
                    .collect()
            })
            .collect();
        assert!(!org.services.is_empty(), "the organisation needs services");
        assert!(!writers.is_empty(), "the organisation needs contributors");
        let stories: Vec<(usize, &'static Story)> = STORIES
            .iter()
            .filter_map(|story| {
                let service = org
                    .services
                    .iter()
                    .position(|s| s.name.as_str() == story.service)?;
                Some((service, story))
            })
            .collect();
        let story_of_service = (0..org.services.len())
            .map(|service| stories.iter().position(|(s, _)| *s == service))
            .collect();
        Self {
            stories,
            story_of_service,
            org,
            config,
            full: names(Template::full()),
            lightweight: names(Template::lightweight()),
            writers_by_team,
            team_of_service: org
                .services
                .iter()
                .map(|s| team_index(&s.team).unwrap_or(usize::MAX))
                .collect(),
            reviewers: (0..org.people.len())
                .filter(|&i| org.people[i].role.can_review())
                .collect(),
            writers,
            now: config.today.midnight().assume_utc(),
        }
    }

    fn handle(&self, person: usize) -> Handle {
        self.org.people[person].handle.clone()
    }

    fn bundle(&self, index: usize) -> IncidentBundle {
        let rng = &mut rng_for(self.config.seed, index as u64);
        let org = self.org;

        // When: incident i falls in the i-th slice of the two years, so the stream is in
        // chronological order and evenly spread whatever the count.
        let window = (HISTORY_DAYS - 1) * 86_400;
        let n = self.config.n_incidents.max(1) as i64;
        let slot = (window / n).max(1);
        let offset = window * index as i64 / n + rng.gen_range(0..slot);
        let start = self.now - Duration::days(HISTORY_DAYS) + Duration::seconds(offset);
        let start = start - Duration::seconds(i64::from(start.second()));
        let age_days = (self.now - start).whole_days();

        // Which story, if any: a story's share of incidents depends on when it happens.
        let history_at = (offset * 1000 / window.max(1)) as u32;
        let roll = rng.gen_range(0..1000u32);
        let mut reach = 0;
        let story = self
            .stories
            .iter()
            .find(|(_, story)| {
                reach += story.rate_at(history_at);
                roll < reach
            })
            .copied();

        // Where: the primary service (a story's own), and the condition no other incident may
        // pair with it (its story's).
        let primary = match story {
            Some((service, _)) => service,
            None => pick(rng, org.services.len()),
        };
        let taken = match story {
            Some(_) => None,
            None => self.story_of_service[primary].map(|s| self.stories[s].1.category),
        };

        // What: a story tells its own titles; other incidents follow the team's habit of
        // reporting near misses, and the service's weak spot steers the title some of the time.
        use IncidentKind as K;
        let (kind, title_template, trigger_category) = match story {
            Some((_, story)) => {
                let (title, kind) = one(rng, story.titles);
                (kind, title, story.category)
            }
            None => {
                let near_miss = stories::near_miss_weight(org.services[primary].team.as_str());
                let kind = K::ALL[weighted(rng, &[30, 45, 4, 5, near_miss])];
                let titles = match kind {
                    K::Outage => p::OUTAGE_TITLES,
                    K::Degradation => p::DEGRADATION_TITLES,
                    K::DataLoss => p::DATA_LOSS_TITLES,
                    K::Security => p::SECURITY_TITLES,
                    K::NearMiss => p::NEAR_MISS_TITLES,
                };
                let weak_spot = org.services[primary].weak_spot;
                let prefer = (chance(rng, 15) && Some(weak_spot) != taken).then_some(weak_spot);
                let (title, category) = titles[pick_title(rng, titles, prefer, taken)];
                (kind, title, category)
            }
        };
        let severity_weights: &[u32] = match kind {
            K::Outage => &[8, 22, 40, 30],
            K::Degradation => &[2, 10, 40, 48],
            K::DataLoss => &[15, 35, 35, 15],
            K::Security => &[15, 30, 35, 20],
            K::NearMiss => &[0, 5, 35, 60],
        };
        let level = weighted(rng, severity_weights) + 1;
        let severity =
            Severity::parse(["SEV1", "SEV2", "SEV3", "SEV4"][level - 1]).expect("SEV1-4 parse");
        let weak_spot = org.services[primary].weak_spot;
        let mentions_second = title_template.contains("vc2}");
        // Other services join an incident only when no story owns them, so a story's
        // condition in its service is the story's alone.
        // A near miss stays within the team that caught it, so its report is that team's. A
        // story names its service alone: the services around it would be themes of their own.
        let within_team = kind == K::NearMiss;
        let candidate =
            (primary + 1 + pick(rng, org.services.len().max(2) - 1)) % org.services.len();
        let second = if within_team {
            self.team_mate(candidate, primary)
        } else {
            self.free_service(candidate, primary)
        };
        let n_services = match weighted(rng, &[55, 33, 12]) + 1 {
            1 if mentions_second => 2,
            n => n,
        };
        let mut service_indexes = vec![primary];
        if n_services >= 2 && second != primary && story.is_none() {
            service_indexes.push(second);
        }
        if n_services == 3 && !within_team && story.is_none() {
            let third = self.free_service(pick(rng, org.services.len()), primary);
            if !service_indexes.contains(&third) {
                service_indexes.push(third);
            }
        }
        let services: Vec<Name> = service_indexes
            .iter()
            .map(|&s| org.services[s].name.clone())
            .collect();
        let teams = postmortem_core::dedup_names(
            service_indexes
                .iter()
                .map(|&s| org.services[s].team.clone())
                .collect(),
        );

        let mut ctx = Ctx {
            svc: org.services[primary].name.as_str(),
            svc2: org.services[second].name.as_str(),
            team: org.services[primary].team.as_str(),
            region: one(rng, p::REGIONS),
            vendor: one(rng, p::VENDORS),
            ver: (between(rng, 1, 9), between(rng, 0, 40), between(rng, 0, 12)),
            pr: 0,
            n: 0,
            pct: 0,
            ms: 0,
            min: 0,
            at: (0, 0),
            date: start.date(),
        };
        ctx.reroll(rng);
        let title = Title::parse(filled(title_template, &ctx)).expect("titles from the bank fit");

        // How long: minutes from impact to detection, mitigation and resolution, skewed short.
        let ttd = match weighted(rng, &[70, 25, 5]) {
            0 => between(rng, 1, 8),
            1 => between(rng, 8, 45),
            _ => between(rng, 45, 240),
        };
        let ttm = ttd
            + match weighted(rng, &[50, 35, 15]) {
                0 => between(rng, 5, 30),
                1 => between(rng, 30, 90),
                _ => between(rng, 90, 300),
            };
        // One team gets faster over the two years; the others stay as they are.
        let pace = stories::duration_percent(org.services[primary].team.as_str(), history_at);
        let paced = |minutes: u32| (minutes * pace / 100).max(1);
        let (ttd, ttm) = (paced(ttd), paced(ttd) + paced(ttm - ttd));
        let ttr = ttm + between(rng, 10, 480);
        // A few of the last days' incidents are still open: not resolved, maybe not mitigated.
        let ongoing = age_days < 3 && chance(rng, 40);
        let mitigated = !ongoing || chance(rng, 50);
        let resolved = !ongoing;

        // Impact, consistent with the kind.
        let user_visible = match kind {
            K::Outage => true,
            K::Degradation => chance(rng, 85),
            K::DataLoss => chance(rng, 70),
            K::Security => chance(rng, 30),
            K::NearMiss => false,
        };
        let customer_minutes = if user_visible { ttm.min(600) } else { 0 };
        let customers_affected = if user_visible {
            let per_minute = match level {
                1 => between(rng, 200, 2000),
                2 => between(rng, 40, 400),
                3 => between(rng, 5, 80),
                _ => between(rng, 1, 15),
            };
            u64::from(customer_minutes.max(1)) * u64::from(per_minute)
        } else if kind == K::DataLoss {
            u64::from(between(rng, 1, 60))
        } else {
            0
        };
        let manual_intervention = chance(
            rng,
            match kind {
                K::Outage => 60,
                K::Degradation => 35,
                K::DataLoss => 90,
                K::Security => 70,
                K::NearMiss => 50,
            },
        );
        let impact = Impact {
            user_visible,
            customer_minutes,
            customers_affected,
            data_loss: kind == K::DataLoss,
            manual_intervention,
        };

        // Policy: small SEV4 degradations owe no review; everything else does.
        let required = !(level == 4 && kind == K::Degradation && !manual_intervention);
        let status = self.status(rng, required, age_days, ongoing);
        let template = if kind == K::NearMiss || (level == 4 && chance(rng, 80)) {
            TemplateName::lightweight()
        } else {
            TemplateName::full()
        };
        let restricted = kind == K::Security || chance(rng, 3);

        // Who: two to four writers from the involved teams, the first one on call.
        let mut pool: Vec<usize> = Vec::with_capacity(16);
        for &s in &service_indexes {
            if let Some(members) = self.writers_by_team.get(self.team_of_service[s]) {
                for &member in members {
                    if !pool.contains(&member) {
                        pool.push(member);
                    }
                }
            }
        }
        if pool.is_empty() {
            pool.extend_from_slice(&self.writers);
        }
        let n_authors = (between(rng, 2, 4) as usize).min(pool.len());
        for i in 0..n_authors {
            let j = i + pick(rng, pool.len() - i);
            pool.swap(i, j);
        }
        let authors = &pool[..n_authors];

        // The timeline.
        let mut timeline = Vec::with_capacity(14);
        let n_markers = 2 + usize::from(mitigated) + usize::from(resolved);
        let total = [4usize, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
            [weighted(rng, &[6, 10, 14, 16, 15, 12, 9, 7, 5, 3, 3])];
        let n_plain = total.saturating_sub(n_markers);
        let at = |minutes: u32| start + Duration::minutes(i64::from(minutes));
        let detected_at = at(ttd);
        let page = detected_at - Duration::minutes(i64::from(between(rng, 3, 40)));
        let local_page = page.to_offset(self.org.people[authors[0]].utc_offset);
        ctx.at = (local_page.hour(), local_page.minute());

        let (starts, detections, mitigations) = if kind == K::NearMiss {
            (
                p::NEAR_MISS_STARTS,
                p::NEAR_MISS_DETECTIONS,
                p::NEAR_MISS_MITIGATIONS,
            )
        } else {
            (p::STARTS, p::DETECTIONS, p::MITIGATIONS)
        };
        let (text, source) = one(rng, starts);
        // The second author writes up how it started, so every timeline has two voices.
        self.entry_by(
            rng,
            &mut timeline,
            &ctx,
            authors[1 % authors.len()],
            start,
            text,
            source,
            Some(Marker::ImpactStart),
            Perspective::Happened,
        );
        let (text, source) = one(rng, detections);
        ctx.reroll(rng);
        self.entry_by(
            rng,
            &mut timeline,
            &ctx,
            authors[0],
            detected_at,
            text,
            source,
            Some(Marker::Detected),
            Perspective::Observed,
        );

        let plain_end = if mitigated { ttm } else { ttd + 60 };
        let mut minutes: Vec<u32> = (0..n_plain).map(|_| between(rng, ttd, plain_end)).collect();
        minutes.sort_unstable();
        let mut believed: Vec<usize> = Vec::new();
        let mut steps: Vec<usize> = Vec::new();
        for m in minutes {
            ctx.reroll(rng);
            let (text, source, perspective) = match weighted(rng, &[40, 35, 25]) {
                0 => {
                    let (t, s) = one(rng, p::HAPPENED);
                    (t, s, Perspective::Happened)
                }
                1 => {
                    let (t, s) = one(rng, p::OBSERVED);
                    (t, s, Perspective::Observed)
                }
                _ => {
                    let source = if chance(rng, 60) {
                        Source::Manual
                    } else {
                        Source::Chat
                    };
                    (one(rng, p::BELIEVED), source, Perspective::Believed)
                }
            };
            if perspective == Perspective::Believed {
                believed.push(timeline.len());
            } else {
                steps.push(timeline.len());
            }
            self.entry(
                rng,
                &mut timeline,
                &ctx,
                authors,
                at(m),
                text,
                source,
                None,
                perspective,
            );
        }
        let mut mitigation_text = None;
        if mitigated {
            let (text, source) = one(rng, mitigations);
            ctx.reroll(rng);
            mitigation_text = Some(timeline.len());
            self.entry(
                rng,
                &mut timeline,
                &ctx,
                authors,
                at(ttm),
                text,
                source,
                Some(Marker::Mitigated),
                Perspective::Happened,
            );
        }
        if resolved {
            let (text, source) = one(rng, p::RESOLUTIONS);
            self.entry(
                rng,
                &mut timeline,
                &ctx,
                authors,
                at(ttr),
                text,
                source,
                Some(Marker::Resolved),
                Perspective::Happened,
            );
        }

        // Contributing factors: the trigger first, then conditions, often the service's weak spot.
        let reviewed = matches!(
            status,
            PostmortemStatus::InReview
                | PostmortemStatus::ChangesRequested
                | PostmortemStatus::Approved
                | PostmortemStatus::Published
        );
        // A story's incidents name its condition and at least one other, so their other
        // action items have somewhere to point.
        let min_factors = if reviewed || story.is_some() { 2 } else { 1 };
        let n_factors = (weighted(rng, &[20, 40, 28, 12]) + 1).max(min_factors);
        let mut categories = vec![trigger_category];
        while categories.len() < n_factors {
            let category = if chance(rng, 15) {
                weak_spot
            } else {
                FactorCategory::ALL
                    [weighted(rng, &[6, 7, 12, 5, 5, 8, 9, 8, 7, 9, 10, 10, 6, 5, 1])]
            };
            if !categories.contains(&category) && Some(category) != taken {
                categories.push(category);
            }
        }
        // Most incidents name exactly one trigger; a few leave it undecided, unless reviewed.
        let has_trigger = reviewed || chance(rng, 90);
        let factors: Vec<NewFactor> = categories
            .iter()
            .enumerate()
            .map(|(i, &category)| {
                ctx.reroll(rng);
                let text = match story {
                    Some((_, story)) if i == 0 => story.factor,
                    _ => one(rng, p::factor_texts(category)),
                };
                NewFactor {
                    category,
                    description: Markdown::parse_non_empty("description", filled(text, &ctx))
                        .expect("factor texts are short and not blank"),
                    is_trigger: has_trigger && i == 0,
                }
            })
            .collect();

        // Action items, matched to age: old ones done or decided, recent ones open.
        let n_actions = match status {
            PostmortemStatus::NotRequired => weighted(rng, &[60, 30, 10]),
            PostmortemStatus::Published | PostmortemStatus::Approved => {
                1 + weighted(rng, &[25, 30, 25, 12, 8])
            }
            _ => weighted(rng, &[10, 20, 25, 22, 15, 8]),
        };
        // A story's condition gets the story's own action item; the others point elsewhere.
        let (n_actions, first_factor) = match story {
            Some(_) => (n_actions.min(4), 1),
            None => (n_actions, 0),
        };
        let mut actions: Vec<BundleAction> = Vec::with_capacity(n_actions + 1);
        if let Some((_, story)) = story {
            actions.push(self.story_action(rng, &ctx, &pool, start, age_days, story));
        }
        for _ in 0..n_actions {
            let factor = first_factor + pick(rng, factors.len() - first_factor);
            let (text, action_kind) = one(rng, p::action_texts(factors[factor].category));
            ctx.reroll(rng);
            let title = filled(text, &ctx);
            if actions.iter().any(|a| a.item.title.as_str() == title) {
                continue;
            }
            let mut action = self.action(
                rng,
                &ctx,
                &pool,
                start,
                age_days,
                factor,
                title,
                action_kind,
                factors.len(),
            );
            action.factor_indexes.retain(|&f| f >= first_factor);
            actions.push(action);
        }

        // The document.
        let section_names = if template == TemplateName::lightweight() {
            &self.lightweight
        } else {
            &self.full
        };
        let written: Vec<usize> = match status {
            PostmortemStatus::NotRequired | PostmortemStatus::Owed => Vec::new(),
            PostmortemStatus::Draft => {
                // A few sections, always starting with the summary.
                let count = between(rng, 1, section_names.len() as u32 - 1) as usize;
                let mut chosen = vec![0];
                while chosen.len() < count {
                    let s = 1 + pick(rng, section_names.len() - 1);
                    if !chosen.contains(&s) {
                        chosen.push(s);
                    }
                }
                chosen.sort_unstable();
                chosen
            }
            _ => (0..section_names.len()).collect(),
        };
        let sections = if written.is_empty() {
            Vec::new()
        } else {
            let facts = Facts {
                kind,
                severity,
                start,
                ttd,
                ttm: mitigated.then_some(ttm),
                ttr: resolved.then_some(ttr),
                impact,
                services: &services,
                detection: timeline[1].entry.text.as_str(),
                mitigation: mitigation_text.map(|i| timeline[i].entry.text.as_str()),
                believed: believed
                    .iter()
                    .map(|&i| timeline[i].entry.text.as_str())
                    .collect(),
                steps: steps
                    .iter()
                    .map(|&i| timeline[i].entry.text.as_str())
                    .collect(),
                factors: &factors,
                actions: &actions,
            };
            written
                .into_iter()
                .map(|s| {
                    ctx.reroll(rng);
                    let name = &section_names[s];
                    BundleSection {
                        name: name.clone(),
                        body: Markdown::parse(sections::write(rng, name.as_str(), &facts, &ctx))
                            .expect("sections are far below the size limit"),
                        updated_by: self.handle(one(rng, authors)),
                    }
                })
                .collect()
        };

        let reviews = self.reviews(rng, status, authors);
        let due_on = required.then(|| add_business_days(start.date(), between(rng, 5, 10)));
        let created_at = detected_at + Duration::minutes(i64::from(between(rng, 1, 15)));
        // Published reviews appear a few days to a few weeks after resolution, the spread
        // that the follow-through figures measure.
        let published_at = (status == PostmortemStatus::Published && resolved).then(|| {
            (start
                + Duration::minutes(i64::from(ttr))
                + Duration::hours(i64::from(between(rng, 30, 500))))
            .min(self.now)
        });

        IncidentBundle {
            incident: NewIncident {
                title,
                kind,
                severity,
                started_at: Some(start),
                services,
                teams,
                impact,
                restricted,
                template,
            },
            created_by: self.handle(authors[0]),
            created_at: created_at.min(self.now),
            status,
            due_on,
            published_at,
            sections,
            timeline,
            factors,
            actions,
            reviews,
        }
    }

    /// `candidate`, or the next service after it that no story owns and is not `primary`.
    fn free_service(&self, candidate: usize, primary: usize) -> usize {
        let len = self.org.services.len();
        (0..len)
            .map(|step| (candidate + step) % len)
            .find(|&s| s != primary && self.story_of_service[s].is_none())
            .unwrap_or(primary)
    }

    /// `candidate`, or the next service after it of `primary`'s team that no story owns;
    /// `primary` itself when there is none.
    fn team_mate(&self, candidate: usize, primary: usize) -> usize {
        let len = self.org.services.len();
        let team = self.team_of_service[primary];
        (0..len)
            .map(|step| (candidate + step) % len)
            .find(|&s| {
                s != primary
                    && self.team_of_service[s] == team
                    && self.story_of_service[s].is_none()
            })
            .unwrap_or(primary)
    }

    /// The story's own prevent action item on one of its incidents: before the story's fix
    /// was done, the fix itself (done when it shipped, on every incident that asked for it);
    /// after a fix that did not hold, the next attempt; in a story with no fix yet, open.
    #[allow(clippy::too_many_arguments)]
    fn story_action(
        &self,
        rng: &mut ChaCha8Rng,
        ctx: &Ctx<'_>,
        pool: &[usize],
        start: OffsetDateTime,
        age_days: i64,
        story: &Story,
    ) -> BundleAction {
        let history_start = self.now - Duration::days(HISTORY_DAYS);
        let window = (HISTORY_DAYS - 1) * 86_400;
        let fixed = history_start + Duration::seconds(window * i64::from(story.fixed_at) / 1000);
        let before_fix = start < fixed;
        let text = match story.outcome {
            Outcome::DidNotHold if !before_fix => story.next_fix,
            _ => story.fix,
        };
        let title = filled(text, ctx);
        let mut action = self.action(
            rng,
            ctx,
            pool,
            start,
            age_days,
            0,
            title,
            ActionKind::Prevent,
            1,
        );
        use ActionStatus as St;
        let item = &mut action.item;
        match story.outcome {
            Outcome::Held | Outcome::DidNotHold if before_fix => {
                let done = fixed.max(start) + Duration::hours(i64::from(between(rng, 1, 72)));
                let done = done.min(self.now - Duration::minutes(1));
                let mut note_ctx = ctx.clone();
                note_ctx.date = done.date();
                item.status = St::Done;
                item.wont_do_reason = None;
                item.verification = Some(filled(one(rng, p::VERIFICATIONS), &note_ctx));
                action.completed_at = Some(done);
            }
            Outcome::Open if !item.status.is_open() => {
                item.status = St::InProgress;
                item.wont_do_reason = None;
                item.verification = None;
                action.completed_at = None;
            }
            _ => {}
        }
        action
    }

    /// The post-mortem's status on `today`, given policy and how long ago the incident was.
    fn status(
        &self,
        rng: &mut ChaCha8Rng,
        required: bool,
        age_days: i64,
        ongoing: bool,
    ) -> PostmortemStatus {
        use PostmortemStatus as S;
        if !required {
            return S::NotRequired;
        }
        if ongoing {
            return [S::Owed, S::Draft][weighted(rng, &[70, 30])];
        }
        let all = [
            S::Owed,
            S::Draft,
            S::InReview,
            S::ChangesRequested,
            S::Approved,
            S::Published,
        ];
        let weights: &[u32] = match age_days {
            0..7 => &[45, 40, 12, 3, 0, 0],
            7..21 => &[10, 25, 25, 10, 15, 15],
            21..60 => &[5, 10, 12, 6, 12, 55],
            _ => &[3, 4, 3, 2, 3, 85],
        };
        all[weighted(rng, weights)]
    }

    #[allow(clippy::too_many_arguments)]
    fn entry(
        &self,
        rng: &mut ChaCha8Rng,
        timeline: &mut Vec<BundleTimelineEntry>,
        ctx: &Ctx<'_>,
        authors: &[usize],
        at: OffsetDateTime,
        text: &str,
        source: Source,
        marker: Option<Marker>,
        perspective: Perspective,
    ) {
        let author = one(rng, authors);
        self.entry_by(
            rng,
            timeline,
            ctx,
            author,
            at,
            text,
            source,
            marker,
            perspective,
        );
    }

    /// Adds a timeline entry written by `author`, in their time zone.
    #[allow(clippy::too_many_arguments)]
    fn entry_by(
        &self,
        rng: &mut ChaCha8Rng,
        timeline: &mut Vec<BundleTimelineEntry>,
        ctx: &Ctx<'_>,
        author: usize,
        at: OffsetDateTime,
        text: &str,
        source: Source,
        marker: Option<Marker>,
        perspective: Perspective,
    ) {
        let person = &self.org.people[author];
        let source_url = source_url(rng, source, at, ctx);
        // People did the things that happened by hand; tools did the rest.
        let actor = (perspective == Perspective::Happened && source == Source::Manual)
            .then(|| person.handle.as_str().to_owned());
        timeline.push(BundleTimelineEntry {
            author: person.handle.clone(),
            entry: NewTimelineEntry {
                at: at.to_offset(person.utc_offset),
                text: Markdown::parse_non_empty("text", filled(text, ctx))
                    .expect("timeline lines are short and not blank"),
                actor,
                marker,
                perspective,
                source,
                source_url,
            },
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn action(
        &self,
        rng: &mut ChaCha8Rng,
        ctx: &Ctx<'_>,
        pool: &[usize],
        start: OffsetDateTime,
        age_days: i64,
        factor: usize,
        title: String,
        kind: ActionKind,
        n_factors: usize,
    ) -> BundleAction {
        let owner = one(rng, pool);
        let priority = Priority::ALL[weighted(rng, &[20, 50, 30])];
        let due_days = match priority {
            Priority::P1 => between(rng, 7, 21),
            Priority::P2 => between(rng, 21, 45),
            Priority::P3 => between(rng, 45, 90),
        };
        let due_on = start.date() + Duration::days(i64::from(due_days));
        let past_due = due_on < self.config.today;
        use ActionStatus as St;
        let status = if past_due {
            [St::Done, St::WontDo, St::Open, St::InProgress][weighted(rng, &[68, 10, 13, 9])]
        } else {
            [St::Open, St::InProgress, St::Done][weighted(rng, &[45, 35, 20])]
        };
        let completed_at = matches!(status, St::Done | St::WontDo).then(|| {
            // Somewhere between the day after the incident and a little past due, never later
            // than today.
            let latest = (i64::from(due_days) + 20).min(age_days - 1).max(1);
            let completed = start
                + Duration::days(rng.gen_range(1..=latest))
                + Duration::minutes(i64::from(between(rng, 0, 600)));
            completed.min(self.now - Duration::minutes(1))
        });
        let mut note_ctx = ctx.clone();
        if let Some(completed) = completed_at {
            note_ctx.date = completed.date();
        }
        let verification =
            (status == St::Done).then(|| filled(one(rng, p::VERIFICATIONS), &note_ctx));
        let wont_do_reason =
            (status == St::WontDo).then(|| filled(one(rng, p::WONT_DO_REASONS), ctx));
        let person = &self.org.people[owner];
        let external_url = chance(rng, 40).then(|| {
            let mut url = String::with_capacity(48);
            url.push_str("https://tracker.example.com/browse/");
            url.extend(
                person
                    .team
                    .as_str()
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .take(4)
                    .map(|c| c.to_ascii_uppercase()),
            );
            url.push('-');
            push_number(&mut url, between(rng, 100, 4999));
            WebLink::parse(url).expect("tracker links are absolute https")
        });
        let mut factor_indexes = vec![factor];
        if n_factors > 1 && chance(rng, 20) {
            let other = pick(rng, n_factors);
            if other != factor {
                factor_indexes.push(other);
            }
        }
        BundleAction {
            owner: Some(person.handle.clone()),
            factor_indexes,
            item: NewActionItem {
                title: Title::parse_field("title", title).expect("action titles are short"),
                owner: None,
                team: Some(person.team.clone()),
                due_on: Some(due_on),
                priority,
                kind,
                status,
                wont_do_reason,
                external_url,
                factor_ids: Vec::new(),
                verification,
            },
            completed_at,
        }
    }

    /// One or two reviewers whose decisions agree with the status.
    fn reviews(
        &self,
        rng: &mut ChaCha8Rng,
        status: PostmortemStatus,
        authors: &[usize],
    ) -> Vec<BundleReview> {
        use PostmortemStatus as S;
        use ReviewDecision as D;
        if !matches!(
            status,
            S::InReview | S::ChangesRequested | S::Approved | S::Published
        ) || self.reviewers.is_empty()
        {
            return Vec::new();
        }
        let n = 1 + usize::from(chance(rng, 40) && self.reviewers.len() > 1);
        let mut chosen: Vec<usize> = Vec::with_capacity(2);
        // Prefer reviewers who did not write the timeline; a fresh pair of eyes.
        for _ in 0..8 {
            if chosen.len() == n {
                break;
            }
            let r = one(rng, &self.reviewers);
            if !chosen.contains(&r) && !authors.contains(&r) {
                chosen.push(r);
            }
        }
        if chosen.is_empty() {
            chosen.push(self.reviewers[0]);
        }
        chosen
            .iter()
            .enumerate()
            .map(|(i, &r)| {
                let (decision, comment) = match (status, i) {
                    (S::InReview, 0) => (D::Requested, None),
                    (S::InReview, _) => {
                        if chance(rng, 50) {
                            (D::Approved, Some(one(rng, p::APPROVAL_COMMENTS)))
                        } else {
                            (D::Requested, None)
                        }
                    }
                    (S::ChangesRequested, 0) => {
                        (D::ChangesRequested, Some(one(rng, p::CHANGE_REQUESTS)))
                    }
                    (S::ChangesRequested, _) => (D::Requested, None),
                    _ => (
                        D::Approved,
                        chance(rng, 60).then(|| one(rng, p::APPROVAL_COMMENTS)),
                    ),
                };
                BundleReview {
                    reviewer: self.handle(r),
                    decision,
                    comment: comment.map(str::to_owned),
                }
            })
            .collect()
    }
}

/// A title's index: one whose trigger is `prefer` when given and there is one, never one
/// whose trigger is `taken` (a story's condition in this service).
fn pick_title(
    rng: &mut ChaCha8Rng,
    titles: &[(&str, FactorCategory)],
    prefer: Option<FactorCategory>,
    taken: Option<FactorCategory>,
) -> usize {
    let nth_where = |rng: &mut ChaCha8Rng, keep: &dyn Fn(FactorCategory) -> bool| {
        let matching = titles.iter().filter(|(_, c)| keep(*c)).count();
        (matching > 0).then(|| {
            let nth = pick(rng, matching);
            titles
                .iter()
                .enumerate()
                .filter(|(_, (_, c))| keep(*c))
                .nth(nth)
                .map_or(0, |(i, _)| i)
        })
    };
    if let Some(prefer) = prefer
        && let Some(index) = nth_where(rng, &|c| c == prefer)
    {
        return index;
    }
    nth_where(rng, &|c| Some(c) != taken).unwrap_or(0)
}

/// A link for entries that came from chat, alerts or deploys, shaped like the real tools'.
fn source_url(
    rng: &mut ChaCha8Rng,
    source: Source,
    at: OffsetDateTime,
    ctx: &Ctx<'_>,
) -> Option<WebLink> {
    let mut url = String::with_capacity(64);
    match source {
        Source::Chat => {
            url.push_str("https://chat.example.com/archives/C04INC");
            push_number(&mut url, between(rng, 10, 99));
            url.push_str("/p");
            push_number(&mut url, at.unix_timestamp());
            let _ = write!(url, "{:06}", between(rng, 0, 999_999));
        }
        Source::Alert => {
            url.push_str("https://alerts.example.com/incidents/");
            push_number(&mut url, at.unix_timestamp() % 10_000_000);
        }
        Source::Deploy => {
            url.push_str("https://deploy.example.com/");
            url.push_str(ctx.svc);
            url.push_str("/releases/");
            push_number(&mut url, ctx.pr);
        }
        Source::Manual | Source::Import => return None,
    }
    Some(WebLink::parse(url).expect("source links are absolute https without spaces"))
}

/// `date` plus `days` working days, skipping weekends.
fn add_business_days(date: Date, days: u32) -> Date {
    let mut date = date;
    let mut left = days;
    while left > 0 {
        date = date
            .next_day()
            .expect("demo dates are far from the end of time");
        if !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
            left -= 1;
        }
    }
    date
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn business_days_skip_the_weekend() {
        // 2025-03-07 is a Friday.
        assert_eq!(
            add_business_days(date!(2025 - 03 - 07), 1),
            date!(2025 - 03 - 10)
        );
        assert_eq!(
            add_business_days(date!(2025 - 03 - 07), 5),
            date!(2025 - 03 - 14)
        );
    }
}
