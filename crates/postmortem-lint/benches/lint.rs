//! Throughput of `lint` on realistic post-mortem Markdown: the demo data (`postmortem-demo`)
//! exported as text, about 1 MB of it; generated documents that mix clean and blameful
//! sentences (about one blameful sentence in six, with headings, lists, code and quotes) of
//! ~1 MB and ~20 KB; a p99 latency report for the 20 KB document; and a worst case where every
//! sentence is blameful.
//!
//! Run: `cargo bench -p postmortem-lint`.
//!
//! Wall-clock figures are noisy on a shared machine, so the binary also has a profiling mode
//! for instruction counts: with `LINT_PROFILE=demo|mixed|blameful` and `LINT_PROFILE_ITERS=N`
//! it lints that 1 MB document N times and exits, so that
//! `valgrind --tool=callgrind` runs with N = 4 and N = 0 differ by exactly four lint calls.
//! `LINT_PROFILE_SAVE=FILE` also writes the document to FILE (to time the CLI or `alex` on it).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use postmortem_demo::{DemoConfig, incidents, organisation};
use postmortem_lint::{LintOptions, lint};

const NAMES: &[&str] = &[
    "Dana", "Sam", "Priya", "Jonas", "Mei", "Olu", "Carlos", "Ingrid",
];
const ROLES: &[&str] = &[
    "the on-call engineer",
    "the platform team",
    "the release manager",
    "the DBA",
];
const SYSTEMS: &[&str] = &[
    "the ingress controller",
    "the cache tier",
    "the primary database",
    "the deploy pipeline",
];

/// Sentence templates: `{n}` a name, `{r}` a role, `{s}` a system, `{t}` a time.
/// Blameful sentences, drawn for about one sentence in six.
const BLAMEFUL: &[&str] = &[
    "{r} should have checked the replica lag first.",
    "{n} failed to notice the disk alert.",
    "The root cause was operator error during the migration.",
    "It was obvious the config was wrong, yet nobody looked.",
    "The clear warning in the dashboard was ignored.",
    "{r} carelessly approved the change without reading the diff.",
    "Engineers should be more careful when editing production configs.",
    "If {n} had waited for the canary, none of the pods would have crashlooped.",
];

const TEMPLATES: &[&str] = &[
    "At {t} UTC {n} restarted {s} after the second page.",
    "{s} failed to detect that the replica had stopped applying WAL.",
    "{n} believed the alert was a duplicate because both alerts had the same title.",
    "The error rate on {s} rose from 0.1% to 4.2% within three minutes.",
    "A canary stage would have caught the bad config before it reached all regions.",
    "Ownership of {s} was unclear, and nobody had been paged for it in six months.",
    "We will add a confirmation prompt to the failover tool by 2026-05-01.",
    "The alert routing rules now live in version control, so changes to them are reviewed.",
    "{n} ran `kubectl rollout undo` on {s} and posted the output in the incident channel.",
    "Traffic shifted to the secondary region within four minutes, as designed.",
    "Requests larger than about 1.4 KB timed out, while the small health check requests kept passing.",
    "See https://runbooks.example.com/db/failover for the procedure, e.g. step 3.",
    "The p99 latency for the search endpoint rose from 180 ms to 2.4 s after version 1.2.3 shipped.",
    "The on-call engineer escalated to the database team at {t} UTC, after the replica refused promotion.",
    "Because staging and production use identical namespace names, the only visible difference was a suffix.",
    "{n} and {m} paired on the rollback while the support team kept customers updated.",
    "The cache key format changed in the new release, so every request after the deploy was a cache miss.",
    "Alert fatigue was a real factor: the channel had received 312 non-actionable alerts that week.",
    "**What went well:** the incident channel was opened within two minutes and roles were assigned.",
    "The migration took an `ACCESS EXCLUSIVE` lock on the sessions table, which blocked reads for six minutes.",
];

/// A deterministic, varied post-mortem of roughly `target` bytes, in which about one sentence
/// in `blame_one_in` is blameful.
fn document(target: usize, blame_one_in: usize) -> String {
    let mut out = String::from("---\ntitle: Generated incident\n---\n\n# Incident review\n\n");
    let mut state = 0x2545_f491_u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut section = 0;
    while out.len() < target {
        section += 1;
        out.push_str(&format!("## Section {section}\n\n"));
        for _ in 0..3 {
            let sentences = 3 + next(4);
            let bullet = next(4) == 0;
            for _ in 0..sentences {
                let template = if next(blame_one_in) == 0 {
                    BLAMEFUL[next(BLAMEFUL.len())]
                } else {
                    TEMPLATES[next(TEMPLATES.len())]
                };
                let t = template
                    .replace("{m}", NAMES[next(NAMES.len())])
                    .replace("{n}", NAMES[next(NAMES.len())])
                    .replace("{r}", ROLES[next(ROLES.len())])
                    .replace("{s}", SYSTEMS[next(SYSTEMS.len())])
                    .replace("{t}", &format!("{:02}:{:02}", next(24), next(60)));
                let mut sentence = t;
                if let Some(c) = sentence.get(..1) {
                    sentence.replace_range(..1, &c.to_uppercase());
                }
                if bullet {
                    out.push_str("- ");
                }
                out.push_str(&sentence);
                out.push(if bullet { '\n' } else { ' ' });
            }
            out.push_str("\n\n");
        }
        if next(5) == 0 {
            out.push_str("```sh\nkubectl -n prod get pods | grep -v Running\n```\n\n");
        }
        if next(6) == 0 {
            out.push_str(
                "> **14:11 Dana:** provider status page is green, looking at ingress now\n\n",
            );
        }
    }
    out
}

/// The demo data's post-mortems as Markdown, one after another, until `target` bytes: title,
/// every written section, and the timeline as a list, as a writer would see them.
fn demo_document(target: usize) -> String {
    let org = organisation(42);
    let config = DemoConfig {
        n_incidents: 10_000,
        seed: 42,
        today: time::macros::date!(2025 - 06 - 30),
    };
    let mut out = String::new();
    for bundle in incidents(&org, &config) {
        if out.len() >= target {
            break;
        }
        out.push_str(&format!("# {}\n\n", bundle.incident.title.as_str()));
        for section in &bundle.sections {
            if !section.body.is_blank() {
                out.push_str(&format!(
                    "## {}\n\n{}\n\n",
                    section.name.as_str(),
                    section.body.as_str()
                ));
            }
        }
        out.push_str("## Timeline\n\n");
        for entry in &bundle.timeline {
            let at = entry.entry.at;
            out.push_str(&format!(
                "- {:02}:{:02} {}\n",
                at.hour(),
                at.minute(),
                entry.entry.text.as_str()
            ));
        }
        out.push('\n');
    }
    out
}

/// The benchmark inputs: (name, document).
fn inputs() -> Vec<(&'static str, String)> {
    vec![
        ("demo_1MB", demo_document(1 << 20)),
        ("mixed_1MB", document(1 << 20, 6)),
        ("mixed_20KB", document(20 << 10, 6)),
        ("all_blameful_1MB", document(1 << 20, 1)),
    ]
}

fn throughput(c: &mut Criterion) {
    let options = LintOptions::default();
    let mut group = c.benchmark_group("lint");
    for (name, doc) in inputs() {
        group.throughput(Throughput::Bytes(doc.len() as u64));
        group.bench_function(name, |b| b.iter(|| lint(black_box(&doc), &options)));
    }
    group.finish();
}

/// Latency distribution for the 20 KB document (criterion reports means, not tails).
fn p99_report() {
    let doc = document(20 << 10, 6);
    let options = LintOptions::default();
    let _ = lint(&doc, &options);
    let mut times: Vec<Duration> = (0..2000)
        .map(|_| {
            let start = Instant::now();
            black_box(lint(black_box(&doc), &options));
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "20 KB document ({} bytes): p50 {:?}, p99 {:?}, max {:?}",
        doc.len(),
        pct(0.50),
        pct(0.99),
        times[times.len() - 1]
    );
}

criterion_group!(benches, throughput);

/// `LINT_PROFILE=demo|mixed|blameful LINT_PROFILE_ITERS=N`: lint that 1 MB document N times
/// and print its size and finding count (for callgrind); returns false when not asked to.
fn profile() -> bool {
    let Ok(which) = std::env::var("LINT_PROFILE") else {
        return false;
    };
    let iters: usize = std::env::var("LINT_PROFILE_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let doc = match which.as_str() {
        "demo" => demo_document(1 << 20),
        "mixed" => document(1 << 20, 6),
        "blameful" => document(1 << 20, 1),
        other => panic!("LINT_PROFILE must be demo, mixed or blameful, not {other:?}"),
    };
    if let Ok(path) = std::env::var("LINT_PROFILE_SAVE") {
        std::fs::write(&path, &doc).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
    }
    let options = LintOptions::default();
    // The rule set is compiled on first use; do it in every run so that it cancels out.
    black_box(lint("Warm-up.", &options));
    let mut findings = 0;
    for _ in 0..iters {
        findings = black_box(lint(black_box(&doc), &options)).len();
    }
    println!(
        "{which}: {} bytes, {findings} findings, {iters} iterations",
        doc.len()
    );
    true
}

fn main() {
    if profile() {
        return;
    }
    p99_report();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
