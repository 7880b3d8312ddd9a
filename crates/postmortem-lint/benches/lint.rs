//! Throughput of `lint` on generated, realistic post-mortem Markdown (clean and blameful
//! sentences mixed, about one blameful sentence in six, with headings, lists, code and
//! quotes): a ~1 MB document and a ~20 KB one, plus a p99 latency report for the 20 KB
//! document, and a worst case where every sentence is blameful.
//!
//! Run: `cargo bench -p postmortem-lint`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
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

fn throughput(c: &mut Criterion) {
    let options = LintOptions::default();
    let mut group = c.benchmark_group("lint");
    for (name, size, blame) in [
        ("1MB", 1 << 20, 6),
        ("20KB", 20 << 10, 6),
        ("1MB_all_blameful", 1 << 20, 1),
    ] {
        let doc = document(size, blame);
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

fn main() {
    p99_report();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
