//! Storylines planted in the demo: conditions that keep coming back in one service over
//! quarters, fixes that held and fixes that did not, teams that report near misses and teams
//! that do not, and one team that gets faster. Without them every pattern the insights look
//! for is noise.
//!
//! A story owns its service and condition (factor category): other incidents never pair the
//! two, so whether its fix held is decided here alone.

use postmortem_core::{FactorCategory as F, IncidentKind as K};

/// What became of a story's fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The fix was done at `fixed_at` and the condition never came back.
    Held,
    /// The fix was done at `fixed_at`, and the condition kept coming back.
    DidNotHold,
    /// No fix done yet: its action items are open while the condition grows.
    Open,
}

/// One recurring condition in one service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Story {
    pub service: &'static str,
    pub category: F,
    /// When it happens, in thousandths of the history (0 the first day, 1000 today).
    pub span: (u32, u32),
    /// Thousandths of all incidents that belong to it at the start and the end of its span,
    /// in between on a straight line.
    pub rate: (u32, u32),
    pub outcome: Outcome,
    /// When the fix was done, in thousandths of the history.
    pub fixed_at: u32,
    /// The prevent action item that is the fix.
    pub fix: &'static str,
    /// What the incidents after a fix that did not hold ask for next.
    pub next_fix: &'static str,
    /// Its trigger's description.
    pub factor: &'static str,
    /// Titles with the kind of incident they describe.
    pub titles: &'static [(&'static str, K)],
}

impl Story {
    /// Its rate at `at` thousandths of the history, 0 outside its span.
    pub fn rate_at(&self, at: u32) -> u32 {
        let (from, until) = self.span;
        if at < from || at >= until {
            return 0;
        }
        let (first, last) = (i64::from(self.rate.0), i64::from(self.rate.1));
        let progress = i64::from(at - from);
        let length = i64::from((until - from).max(1));
        u32::try_from(first + (last - first) * progress / length).unwrap_or(0)
    }
}

pub(crate) const STORIES: &[Story] = &[
    Story {
        service: "tls-certs",
        category: F::Alerting,
        span: (0, 1000),
        rate: (35, 35),
        outcome: Outcome::DidNotHold,
        fixed_at: 300,
        fix: "Renew tls-certs certificates automatically 30 days before expiry",
        next_fix: "Alert when a tls-certs renewal fails, not only before expiry",
        factor: "The tls-certs renewal job failed without telling anyone; the first signal was clients rejecting an expired certificate.",
        titles: &[
            (
                "Edge handshakes failing for {min} minutes after a tls-certs certificate expired",
                K::Outage,
            ),
            (
                "Expired certificate from tls-certs took {region} traffic offline for {min} minutes",
                K::Outage,
            ),
            (
                "Expired intermediate certificate in tls-certs: {pct}% of mobile clients rejected the chain",
                K::Degradation,
            ),
            (
                "Certificate renewal in tls-certs failed silently; {pct}% of {region} clients saw expired certificate errors",
                K::Degradation,
            ),
        ],
    },
    Story {
        service: "payments-api",
        category: F::Capacity,
        span: (0, 450),
        rate: (80, 80),
        outcome: Outcome::Held,
        fixed_at: 450,
        fix: "Size the payments-api connection pool from load test results",
        next_fix: "",
        factor: "The payments-api database connection pool was sized for last year's peak; at {pct}% of this year's peak requests queued for a connection until they timed out.",
        titles: &[
            (
                "Payments-api returning 503s for {min} minutes after connection pool exhaustion",
                K::Outage,
            ),
            (
                "{pct}% of card payments failing in {region} while payments-api waited on its connection pool",
                K::Outage,
            ),
            (
                "Payments-api p99 latency above {ms} ms with its connection pool exhausted",
                K::Degradation,
            ),
        ],
    },
    Story {
        service: "search-indexer",
        category: F::Capacity,
        span: (620, 1000),
        rate: (5, 110),
        outcome: Outcome::Open,
        fixed_at: 1000,
        fix: "Shard the search-indexer queue so indexing keeps up with {n}x today's writes",
        next_fix: "",
        factor: "Writes grew {pct}% in a quarter while search-indexer still runs one consumer per queue, so its backlog grows at every peak.",
        titles: &[
            (
                "Search-indexer backlog reached {n}k documents; results {min} minutes stale",
                K::Degradation,
            ),
            (
                "Search results {min} minutes stale in {region} while the search-indexer backlog grew",
                K::Degradation,
            ),
            (
                "Search-indexer out of memory working through a {n}k document backlog",
                K::Outage,
            ),
        ],
    },
    Story {
        service: "checkout-web",
        category: F::InsufficientTesting,
        span: (100, 600),
        rate: (65, 65),
        outcome: Outcome::Held,
        fixed_at: 600,
        fix: "Test checkout-web migrations on a production-sized snapshot",
        next_fix: "",
        factor: "The checkout-web migration was tested on a dataset {pct} times smaller than production, so the table lock never showed.",
        titles: &[
            (
                "Checkout-web errors for {min} minutes after a migration locked the orders table",
                K::Outage,
            ),
            (
                "Checkout-web timeouts in {region} while a migration rewrote the orders table",
                K::Degradation,
            ),
            (
                "Wrong basket totals in checkout-web after the {ver} migration",
                K::Degradation,
            ),
        ],
    },
    Story {
        service: "config-service",
        category: F::ChangeManagement,
        span: (0, 1000),
        rate: (30, 30),
        outcome: Outcome::DidNotHold,
        fixed_at: 350,
        fix: "Send config-service changes through the canary",
        next_fix: "Make the config-service canary block a push that raises error rates",
        factor: "The config-service push reached every region within a minute; nothing held it back when error rates rose.",
        titles: &[
            (
                "Config-service push reached every region at once; {n} services restarted",
                K::Outage,
            ),
            (
                "Bad config-service push broke routing in {region} for {min} minutes",
                K::Outage,
            ),
            (
                "Error rates up {pct}% after a config-service push skipped the canary",
                K::Degradation,
            ),
        ],
    },
    Story {
        service: "session-store",
        category: F::UnrehearsedPath,
        span: (150, 750),
        rate: (55, 55),
        outcome: Outcome::Held,
        fixed_at: 750,
        fix: "Automate session-store failover and rehearse it every month",
        next_fix: "",
        factor: "Session-store failover had not been exercised in {n} months and needed a manual promotion step nobody had done before.",
        titles: &[
            (
                "Sign-ins failing for {min} minutes during a session-store failover",
                K::Outage,
            ),
            (
                "Session-store failover in {region} stalled for {min} minutes on a manual promotion step",
                K::Outage,
            ),
            (
                "{n}k users signed out in {region} after a session-store failover",
                K::Degradation,
            ),
        ],
    },
    Story {
        service: "alertmanager",
        category: F::Overload,
        span: (700, 1000),
        rate: (5, 70),
        outcome: Outcome::Open,
        fixed_at: 1000,
        fix: "Route non-urgent alertmanager alerts to a daytime queue",
        next_fix: "",
        factor: "The sre on-call had been paged {n} times in the previous 24 hours, most of them for alerts nobody needed to act on at night.",
        titles: &[
            (
                "Alert storm from alertmanager paged the sre on-call {n} times in one night",
                K::Degradation,
            ),
            (
                "A real page waited {min} minutes behind {n} noisy alertmanager pages",
                K::Degradation,
            ),
            (
                "{Svc} page missed in {region} after {n} pages in 24 hours",
                K::Outage,
            ),
        ],
    },
];

/// The weight of near misses among a team's incidents (the others keep theirs): some teams
/// report them often, some never.
pub(crate) fn near_miss_weight(team: &str) -> u32 {
    match team {
        "sre" => 45,
        "platform" => 40,
        "payments" => 35,
        "billing" | "mobile" | "storage" => 0,
        _ => 12,
    }
}

/// How much longer than usual (in percent) detecting and mitigating take for `team` at `at`
/// thousandths of the history: `identity` starts slow and gets fast, the others stay as they
/// are.
pub(crate) fn duration_percent(team: &str, at: u32) -> u32 {
    if team == "identity" {
        400 - 360 * at.min(1000) / 1000
    } else {
        100
    }
}
