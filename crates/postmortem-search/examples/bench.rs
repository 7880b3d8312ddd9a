//! Measures the search index on demo data: import into SQLite, rebuild rate and size, query
//! latency (p50/p99 over a mixed set of realistic queries, with snippets and facets), and the
//! same words searched with `rg -i` over the incidents exported as Markdown files.
//!
//! `cargo run --release -p postmortem-search --example bench -- [incidents] [work dir]`
//! (defaults: 100000 and /tmp/pm-search-bench; the store and the Markdown files are kept
//! there and reused by later runs with the same count).

use postmortem_core::UserId;
use postmortem_demo::{DemoConfig, incidents, organisation};
use postmortem_search::{SearchIndex, Viewer};
use postmortem_store::{Actor, IncidentRecord, NewUser, Store, SystemClock};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SEED: u64 = 7;
const BATCH: usize = 1000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let work = PathBuf::from(args.next().unwrap_or_else(|| "/tmp/pm-search-bench".into()));
    let work = work.join(n.to_string());
    std::fs::create_dir_all(&work)?;

    let store = fill_store(&work, n).await?;
    let markdown = work.join("md");
    if !markdown.join("done").exists() {
        let started = Instant::now();
        export_markdown(store.as_ref(), &markdown).await?;
        println!(
            "exported {n} incidents as Markdown in {:.1?}",
            started.elapsed()
        );
    }

    let index_dir = work.join("index");
    let _ = std::fs::remove_dir_all(&index_dir);
    let index = SearchIndex::open(&index_dir)?;
    let report = index.rebuild(store.as_ref(), |_| {}).await?;
    let bytes = index.size_on_disk();
    let markdown_bytes = dir_size(&markdown);
    println!(
        "rebuild: {} incidents in {:.1?} = {:.0} incidents/s; index {:.1} MiB on disk ({:.1} KiB per incident; the Markdown is {:.1} MiB)",
        report.incidents,
        report.elapsed,
        report.incidents as f64 / report.elapsed.as_secs_f64(),
        bytes as f64 / 1048576.0,
        bytes as f64 / 1024.0 / report.incidents.max(1) as f64,
        markdown_bytes as f64 / 1048576.0,
    );

    let sample = store.incidents_after(None, 400).await?;
    let queries = queries(&sample);
    let viewer = |i: usize| {
        // Half the queries as a person, so the visibility clause is part of what is timed.
        if i.is_multiple_of(2) {
            Viewer::Everything
        } else {
            Viewer::person(UserId::new(3), vec![])
        }
    };
    for (i, (_, query)) in queries.iter().enumerate() {
        index.search(query, &viewer(i), 10, 0)?; // warm the page cache and the term dictionaries
    }
    let mut timings: Vec<(Duration, &str, &str, u64)> = Vec::new();
    for round in 0..3 {
        for (i, (class, query)) in queries.iter().enumerate() {
            let started = Instant::now();
            let results = index.search(query, &viewer(i + round), 10, 0)?;
            timings.push((started.elapsed(), class, query, results.total));
        }
    }
    let mut all: Vec<Duration> = timings.iter().map(|t| t.0).collect();
    println!(
        "{} queries x 3 rounds ({} searches, 10 hits each with snippets, facets over all matches):",
        queries.len(),
        all.len()
    );
    println!("  all        {}", summary(&mut all));
    for class in [
        "word",
        "words",
        "phrase",
        "prefix",
        "typo",
        "filter",
        "filters only",
    ] {
        let mut of_class: Vec<Duration> = timings
            .iter()
            .filter(|t| t.1 == class)
            .map(|t| t.0)
            .collect();
        if !of_class.is_empty() {
            println!("  {class:<12} {}", summary(&mut of_class));
        }
    }
    timings.sort_by_key(|t| std::cmp::Reverse(t.0));
    println!(
        "  slowest: {}",
        timings
            .iter()
            .take(3)
            .map(|t| format!("{:?} `{}` ({} hits)", t.0, t.2, t.3))
            .collect::<Vec<_>>()
            .join("; ")
    );

    // The same words with ripgrep over one Markdown file per incident.
    let words: Vec<&str> = queries
        .iter()
        .filter(|q| q.0 == "word")
        .map(|q| q.1.as_str())
        .take(20)
        .collect();
    let mut ratios = Vec::new();
    let mut rg_times = Vec::new();
    for word in &words {
        let started = Instant::now();
        let output = Command::new("rg")
            .args(["-i", "-l", "--", word])
            .arg(&markdown)
            .output()?;
        let rg = started.elapsed();
        let rg_hits = output.stdout.iter().filter(|b| **b == b'\n').count();
        let started = Instant::now();
        let results = index.search(word, &Viewer::Everything, 10, 0)?;
        let ours = started.elapsed();
        rg_times.push(rg);
        ratios.push(rg.as_secs_f64() / ours.as_secs_f64().max(1e-9));
        println!(
            "  rg -i {word:<14} {rg:>9.1?} {rg_hits:>6} files | index {ours:>8.1?} {:>6} incidents",
            results.total
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "rg -i over {} Markdown files: median {:.0?} per word; the index is {:.0}x faster (median of {} words; min {:.0}x, max {:.0}x)",
        n,
        median(&mut rg_times),
        ratios[ratios.len() / 2],
        ratios.len(),
        ratios[0],
        ratios[ratios.len() - 1],
    );
    Ok(())
}

/// The demo organisation and `n` incidents in a SQLite file, reused if already complete.
async fn fill_store(work: &Path, n: usize) -> Result<Arc<dyn Store>, Box<dyn std::error::Error>> {
    let db = work.join("bench.db");
    let url = format!("sqlite://{}", db.display());
    let complete = work.join("store.done");
    if !complete.exists() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }
    let store = postmortem_store::connect(&url, Arc::new(SystemClock)).await?;
    if complete.exists() {
        return Ok(store);
    }
    let org = organisation(SEED);
    for person in &org.people {
        let user = NewUser {
            handle: person.handle.clone(),
            display_name: person.display_name.clone(),
            role: person.role,
            password_hash: None,
        };
        store.create_user(Actor::DEMO, user).await?;
    }
    let config = DemoConfig {
        n_incidents: n,
        seed: SEED,
        today: time::macros::date!(2026 - 03 - 01),
    };
    let started = Instant::now();
    let (batches, mut ready) = tokio::sync::mpsc::channel(2);
    let generator = std::thread::spawn(move || {
        let org = organisation(config.seed);
        let mut batch = Vec::with_capacity(BATCH);
        for bundle in incidents(&org, &config) {
            batch.push(bundle);
            if batch.len() == BATCH && batches.blocking_send(std::mem::take(&mut batch)).is_err() {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = batches.blocking_send(batch);
        }
    });
    while let Some(batch) = ready.recv().await {
        store.import_bundles(Actor::DEMO, None, &batch).await?;
    }
    generator.join().map_err(|_| "the generator panicked")?;
    println!(
        "imported {n} demo incidents into SQLite in {:.1?}",
        started.elapsed()
    );
    std::fs::write(complete, "")?;
    Ok(store)
}

/// One Markdown file per incident, as a docs-as-code repository would hold them.
async fn export_markdown(store: &dyn Store, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let mut after = None;
    loop {
        let batch = store.incidents_after(after, 1000).await?;
        let Some(last) = batch.last() else { break };
        after = Some(last.incident.id);
        for record in &batch {
            std::fs::write(
                dir.join(format!("{}.md", record.incident.id)),
                markdown(record),
            )?;
        }
    }
    std::fs::write(dir.join("done"), "")?;
    Ok(())
}

fn markdown(record: &IncidentRecord) -> String {
    let mut out = format!("# {}\n\n", record.incident.title);
    for (name, section) in &record.postmortem.sections {
        let _ = write!(out, "## {name}\n\n{}\n\n", section.body);
    }
    out.push_str("## Timeline\n\n");
    for entry in &record.timeline {
        let _ = writeln!(out, "- {}", entry.text);
    }
    out.push_str("\n## Contributing factors\n\n");
    for factor in &record.factors {
        let _ = writeln!(out, "- {}: {}", factor.category, factor.description);
    }
    out.push_str("\n## Action items\n\n");
    for action in &record.actions {
        let _ = writeln!(out, "- {}", action.title);
    }
    out
}

/// A deterministic mix of what people type: single words, two words, phrases, prefixes,
/// typos and filters, taken from real incident text so that they match something.
fn queries(sample: &[IncidentRecord]) -> Vec<(&'static str, String)> {
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |bound: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % bound as u64) as usize
    };
    let words_of = |text: &str| -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 5 && w.chars().all(|c| c.is_ascii_alphabetic()))
            .map(str::to_lowercase)
            .collect()
    };
    let mut queries = Vec::new();
    let severities = ["SEV1", "SEV2", "SEV3", "SEV4"];
    let categories = [
        "capacity",
        "alerting",
        "change_management",
        "hidden_dependency",
        "outdated_docs",
        "third_party",
    ];
    while queries.len() < 240 {
        let record = &sample[next(sample.len())];
        let summary = record
            .postmortem
            .sections
            .iter()
            .find(|(name, _)| name.as_str() == "summary")
            .map(|(_, section)| section.body.to_string())
            .unwrap_or_default();
        let title_words = words_of(record.incident.title.as_str());
        let text_words = words_of(&summary);
        let (Some(word), Some(other)) =
            (pick(&title_words, &mut next), pick(&text_words, &mut next))
        else {
            continue;
        };
        let service = record
            .incident
            .services
            .first()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "checkout".into());
        let query = match queries.len() % 8 {
            0 => ("word", word.clone()),
            1 => ("words", format!("{word} {other}")),
            2 => {
                let tokens: Vec<&str> = summary.split_whitespace().collect();
                if tokens.len() < 3 {
                    continue;
                }
                let at = next(tokens.len() - 2);
                let phrase: String = tokens[at..at + 2]
                    .join(" ")
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == ' ')
                    .collect();
                ("phrase", format!("\"{phrase}\""))
            }
            3 => (
                "prefix",
                format!("{}*", &other[..4.min(other.len()).max(3)]),
            ),
            4 => {
                let at = 1 + next(word.len() - 2);
                let mut typo = word.clone();
                typo.remove(at);
                ("typo", typo)
            }
            5 => (
                "filter",
                format!("{other} service:{service} severity:{}", severities[next(4)]),
            ),
            6 => (
                "filter",
                format!(
                    "{word} factor:{} after:2025-01-01",
                    categories[next(categories.len())]
                ),
            ),
            _ => (
                "filters only",
                format!("service:{service} before:2025-07-01"),
            ),
        };
        queries.push(query);
    }
    queries
}

fn pick(words: &[String], next: &mut impl FnMut(usize) -> usize) -> Option<String> {
    (!words.is_empty()).then(|| words[next(words.len())].clone())
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn summary(times: &mut [Duration]) -> String {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    format!(
        "p50 {:>8.2?}  p90 {:>8.2?}  p99 {:>8.2?}  max {:>8.2?}  (n = {})",
        at(0.50),
        at(0.90),
        at(0.99),
        times[times.len() - 1],
        times.len()
    )
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok()?.metadata().ok())
                .map(|meta| meta.len())
                .sum()
        })
        .unwrap_or(0)
}
