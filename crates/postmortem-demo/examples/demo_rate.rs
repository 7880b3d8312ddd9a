//! Times generating demo incidents (default 100,000) and prints one, to judge speed and prose.
//!
//! `cargo run --release -p postmortem-demo --example demo_rate -- [count]`

use postmortem_demo::{DemoConfig, incidents, organisation};
use std::time::Instant;

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(100_000);
    let org = organisation(42);
    let config = DemoConfig {
        n_incidents: n,
        seed: 42,
        today: time::macros::date!(2025 - 06 - 30),
    };
    let started = Instant::now();
    // Sum something from each bundle so the work cannot be optimised away.
    let mut entries = 0usize;
    for bundle in incidents(&org, &config) {
        entries += bundle.timeline.len() + bundle.sections.len();
    }
    let elapsed = started.elapsed();
    println!(
        "{n} bundles in {:.2?}: {:.0} bundles/s ({entries} entries and sections)",
        elapsed,
        n as f64 / elapsed.as_secs_f64()
    );
    if let Some(bundle) = incidents(&org, &config).nth(n.saturating_sub(200)) {
        println!("{bundle:#?}");
    }
}
