//! Post-mortem sections written from the incident's own facts, so no two read the same.

use crate::fill::{Ctx, fill, push_number, write_date};
use crate::rng::{chance, one, pick};
use postmortem_core::{BundleAction, Impact, IncidentKind, Name, NewFactor, Severity};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write;
use time::OffsetDateTime;

/// What a section may draw on: the generated incident, timeline, factors and actions.
#[derive(Debug)]
pub(crate) struct Facts<'a> {
    pub kind: IncidentKind,
    pub severity: Severity,
    pub start: OffsetDateTime,
    pub ttd: u32,
    pub ttm: Option<u32>,
    pub ttr: Option<u32>,
    pub impact: Impact,
    pub services: &'a [Name],
    pub detection: &'a str,
    pub mitigation: Option<&'a str>,
    pub believed: Vec<&'a str>,
    pub steps: Vec<&'a str>,
    pub factors: &'a [NewFactor],
    pub actions: &'a [BundleAction],
}

/// The Markdown body of section `name`.
pub(crate) fn write(rng: &mut ChaCha8Rng, name: &str, facts: &Facts<'_>, ctx: &Ctx<'_>) -> String {
    let mut out = String::with_capacity(512);
    match name {
        "summary" => summary(rng, &mut out, facts, ctx),
        "impact" => impact(rng, &mut out, facts),
        "trigger" => trigger(rng, &mut out, facts),
        "contributing_factors" => factors(rng, &mut out, facts),
        "detection" => detection(rng, &mut out, facts, ctx),
        "response" => response(rng, &mut out, facts, ctx),
        "recovery" => recovery(rng, &mut out, facts, ctx),
        "went_well" => from_bank(rng, &mut out, WENT_WELL, ctx),
        "got_lucky" => from_bank(rng, &mut out, GOT_LUCKY, ctx),
        "surprised" => from_bank(rng, &mut out, SURPRISED, ctx),
        "lessons" => lessons(rng, &mut out, facts, ctx),
        _ => from_bank(rng, &mut out, WENT_WELL, ctx),
    }
    out
}

fn services_list(out: &mut String, services: &[Name]) {
    for (i, service) in services.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == services.len() {
                " and "
            } else {
                ", "
            });
        }
        out.push('`');
        out.push_str(service.as_str());
        out.push('`');
    }
}

fn minutes(out: &mut String, minutes: u32) {
    if minutes >= 120 {
        let _ = write!(out, "{} h {} min", minutes / 60, minutes % 60);
    } else {
        let _ = write!(out, "{minutes} minutes");
    }
}

/// Appends a timeline line as a sentence fragment: first letter lowercased, no final stop.
fn inline(out: &mut String, text: &str) {
    let text = text.trim_end_matches('.');
    let mut chars = text.chars();
    if let Some(first) = chars.next() {
        if chars.clone().next().is_some_and(char::is_lowercase) {
            out.extend(first.to_lowercase());
        } else {
            out.push(first);
        }
        out.push_str(chars.as_str());
    }
}

fn summary(rng: &mut ChaCha8Rng, out: &mut String, facts: &Facts<'_>, ctx: &Ctx<'_>) {
    out.push_str("On ");
    let _ = write_date(out, facts.start.date());
    let _ = write!(
        out,
        " at {:02}:{:02} UTC, ",
        facts.start.hour(),
        facts.start.minute()
    );
    services_list(out, facts.services);
    out.push(' ');
    out.push_str(match facts.kind {
        IncidentKind::Outage => one(rng, &["stopped serving requests", "became unavailable"]),
        IncidentKind::Degradation => one(
            rng,
            &["served requests slowly or with errors", "ran degraded"],
        ),
        IncidentKind::DataLoss => "lost data that could not be fully recovered",
        IncidentKind::Security => "exposed a security weakness",
        IncidentKind::NearMiss => "came close to failing, though no user was affected",
    });
    let _ = write!(out, " ({}). ", facts.severity);
    if let Some(trigger) = facts.factors.iter().find(|f| f.is_trigger) {
        out.push_str("The trigger: ");
        inline(out, trigger.description.as_str());
        out.push_str(". ");
    }
    out.push_str("We noticed after ");
    minutes(out, facts.ttd);
    match (facts.ttm, facts.ttr) {
        (Some(ttm), Some(ttr)) => {
            out.push_str(", mitigated after ");
            minutes(out, ttm);
            out.push_str(" and resolved after ");
            minutes(out, ttr);
            out.push('.');
        }
        (Some(ttm), None) => {
            out.push_str(" and mitigated after ");
            minutes(out, ttm);
            out.push_str("; the incident is still open.");
        }
        _ => out.push_str("; mitigation is still in progress."),
    }
    if chance(rng, 50) {
        out.push(' ');
        fill(
            out,
            one(
                rng,
                &[
                    "This review is about how {svc} and the systems around it behaved, not about who pressed which button.",
                    "The {team} team wrote this review with help from everyone on the incident channel.",
                    "Several conditions had to line up for this to happen; the sections below walk through them.",
                ],
            ),
            ctx,
        );
    }
}

fn impact(rng: &mut ChaCha8Rng, out: &mut String, facts: &Facts<'_>) {
    let i = &facts.impact;
    if i.user_visible {
        out.push_str("Users could see the problem: about ");
        push_number(out, i.customers_affected);
        out.push_str(" customers were affected over ");
        minutes(out, i.customer_minutes);
        out.push_str(". ");
    } else if facts.kind == IncidentKind::NearMiss {
        out.push_str("No user saw anything. Had it gone the other way, every request to ");
        services_list(out, &facts.services[..1]);
        out.push_str(" would have failed. ");
    } else {
        out.push_str("Nothing was visible to users. ");
    }
    if i.data_loss {
        out.push_str("Some data was lost for good; the affected accounts were contacted. ");
    }
    if chance(rng, 70) {
        out.push_str("\n\n- **Services:** ");
        services_list(out, facts.services);
        out.push_str("\n- **Customer minutes:** ");
        push_number(out, i.customer_minutes);
        out.push_str("\n- **Manual intervention:** ");
        out.push_str(if i.manual_intervention { "yes" } else { "no" });
        out.push('\n');
    }
}

fn trigger(rng: &mut ChaCha8Rng, out: &mut String, facts: &Facts<'_>) {
    let trigger = facts
        .factors
        .iter()
        .find(|f| f.is_trigger)
        .or(facts.factors.first());
    if let Some(trigger) = trigger {
        out.push_str(trigger.description.as_str());
        out.push(' ');
    }
    out.push_str(one(
        rng,
        &[
            "On its own this would have been a small event; the conditions in the next section let it bite.",
            "The same change had gone out safely before, which is why it did not look risky at the time.",
            "It is one condition among several, and not the one we can most cheaply change.",
        ],
    ));
}

fn factors(rng: &mut ChaCha8Rng, out: &mut String, facts: &Facts<'_>) {
    out.push_str(one(
        rng,
        &[
            "These conditions let the trigger turn into an incident:",
            "What made this possible, beyond the trigger:",
            "We found these contributing factors:",
        ],
    ));
    out.push_str("\n\n");
    for factor in facts.factors {
        out.push_str("- **");
        out.push_str(factor.category.label());
        out.push_str(if factor.is_trigger {
            "** (trigger): "
        } else {
            "**: "
        });
        out.push_str(factor.description.as_str());
        out.push('\n');
    }
}

fn detection(rng: &mut ChaCha8Rng, out: &mut String, facts: &Facts<'_>, ctx: &Ctx<'_>) {
    out.push_str("We found out ");
    minutes(out, facts.ttd);
    out.push_str(" after it began: ");
    inline(out, facts.detection);
    out.push_str(". ");
    if facts.ttd > 10 {
        fill(
            out,
            one(
                rng,
                &[
                    "A symptom-based alert on `{svc}` error rate would have caught it sooner.",
                    "The existing alert on {svc} watches averages, which hid the spike for a while.",
                    "Nothing paged until customers noticed; the dashboards showed it, but nobody was looking.",
                ],
            ),
            ctx,
        );
    } else {
        out.push_str("Detection worked as designed, and the page reached the right team.");
    }
}

fn response(rng: &mut ChaCha8Rng, out: &mut String, facts: &Facts<'_>, ctx: &Ctx<'_>) {
    out.push_str(one(
        rng,
        &[
            "What responders saw and believed, and why it made sense at the time:",
            "The response, in the words of the people who were there:",
        ],
    ));
    out.push_str("\n\n");
    let mut written = 0;
    for text in facts.believed.iter().chain(facts.steps.iter()).take(4) {
        out.push_str("- ");
        out.push_str(text);
        out.push('\n');
        written += 1;
    }
    if written == 0 {
        out.push_str("- ");
        inline(out, facts.detection);
        out.push_str(".\n");
    }
    out.push('\n');
    fill(
        out,
        one(
            rng,
            &[
                "Given what the dashboards showed, waiting {min} minutes before rolling back was a reasonable call.",
                "Nobody had run `kubectl rollout undo` on {svc} under pressure before, so each step was checked twice.",
                "Coordination in #inc-{svc} worked well once an incident commander was named.",
            ],
        ),
        ctx,
    );
}

fn recovery(rng: &mut ChaCha8Rng, out: &mut String, facts: &Facts<'_>, ctx: &Ctx<'_>) {
    match facts.mitigation {
        Some(text) => {
            out.push_str(text);
            out.push(' ');
        }
        None => out.push_str("Mitigation is still in progress. "),
    }
    if let Some(ttr) = facts.ttr {
        out.push_str("Full recovery took ");
        minutes(out, ttr);
        out.push_str(". ");
    }
    fill(
        out,
        one(
            rng,
            &[
                "Recovery was slowed because the rollback for {svc} needs several manual steps.",
                "Recovery was quick once traffic left {region}; finding that lever took longest.",
                "Restarting {svc2} consumers in batches of {n} kept the backlog from overwhelming {svc}.",
            ],
        ),
        ctx,
    );
}

fn lessons(rng: &mut ChaCha8Rng, out: &mut String, facts: &Facts<'_>, ctx: &Ctx<'_>) {
    from_bank(rng, out, LESSONS, ctx);
    if !facts.actions.is_empty() {
        out.push_str("\n\nWhat we are changing:\n\n");
        for action in facts.actions {
            out.push_str("- ");
            out.push_str(action.item.title.as_str());
            out.push('\n');
        }
    }
}

/// Two or three distinct sentences from a bank.
fn from_bank(rng: &mut ChaCha8Rng, out: &mut String, bank: &[&str], ctx: &Ctx<'_>) {
    let first = pick(rng, bank.len());
    let step = 1 + pick(rng, bank.len() - 1);
    let count = if chance(rng, 50) { 2 } else { 3 };
    for k in 0..count {
        if k > 0 {
            out.push(' ');
        }
        fill(out, bank[(first + k * step) % bank.len()], ctx);
    }
}

const WENT_WELL: &[&str] = &[
    "The page reached the {team} on-call within a minute.",
    "People joined #inc-{svc} quickly and said what they were looking at.",
    "The rollback path for {svc} worked first time.",
    "Status updates went out every 30 minutes without anyone being asked.",
    "The {svc2} team offered help before they were paged.",
    "Dashboards for {svc} showed the problem clearly once someone looked.",
    "Handing incident command to a second person let the on-call engineer focus on debugging.",
];

const GOT_LUCKY: &[&str] = &[
    "It happened outside the {region} peak; an hour later it would have hit {n} times the traffic.",
    "The engineer who built {svc2} happened to be online.",
    "The backup from the night before had finished {min} minutes before the trigger.",
    "A planned deploy of {svc} was postponed that morning for unrelated reasons.",
    "Only one region was affected because {region} had not yet received the change.",
    "Customer support spotted the pattern in tickets before it spread.",
];

const SURPRISED: &[&str] = &[
    "We believed {svc} would shed load gracefully; instead it queued requests until they timed out.",
    "We did not know {svc} depended on {svc2} at request time.",
    "The runbook said failover is automatic; it needs a manual promotion step.",
    "We thought the alert covered all regions; it only watched {region}.",
    "A default of 100 connections had survived {n} releases without anyone revisiting it.",
    "Retries we believed were bounded were in fact unbounded for one client library.",
];

const LESSONS: &[&str] = &[
    "Defaults deserve the same review as code: the one that bit us was set years ago.",
    "Rehearsed paths are fast paths; the steps we had practised took minutes, the others took an hour.",
    "Dependencies we cannot see are dependencies we cannot plan for; {svc} needs an up-to-date service map.",
    "Alerts that fire too often teach people to wait; fewer, sharper alerts on {svc} help more.",
    "Writing down what we believed at each point made the gaps in our tooling obvious.",
    "A change that cannot be rolled back in one step needs a canary, whatever its size.",
];
