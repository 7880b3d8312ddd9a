//! `postmortem demo`: fills the database with a realistic organisation and its incidents.

use super::{DatabaseArgs, open_app};
use crate::config::Config;
use indicatif::{ProgressBar, ProgressStyle};
use postmortem_app::TeamInput;
use postmortem_app::accounts::{NewAccount, new_secret};
use postmortem_core::SystemActor;
use postmortem_demo::{DemoConfig, incidents, organisation};
use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Instant;

/// Incidents per transaction: large enough to amortise the commit, small enough to show
/// progress and keep memory flat.
const BATCH: usize = 1000;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How many incidents to create.
    #[arg(long, default_value_t = 500)]
    incidents: usize,
    /// Seed of the generator: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The day the demo takes as today (YYYY-MM-DD; default: today): incidents fall in the two
    /// years before it, so the same seed and day give the same incidents.
    #[arg(long, value_name = "DAY")]
    today: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

pub async fn run(config: Config, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let (app, location) = open_app(&config, &args.database).await?;
    // Everything the demo writes goes through the app layer as `system:demo`: the same
    // parsing and permission checks as an admin on the web, audited under that name.
    let demo = app.as_system(SystemActor::Demo);
    let org = organisation(args.seed);
    let existing: HashSet<String> = demo
        .users()
        .await?
        .into_iter()
        .map(|user| user.handle.to_string())
        .collect();
    let mut n_created = 0;
    for person in &org.people {
        if !existing.contains(person.handle.as_str()) {
            demo.create_account(NewAccount {
                handle: person.handle.to_string(),
                display_name: person.display_name.to_string(),
                role: person.role.to_string(),
                password: None,
                with_token: false,
                token_days: None,
            })
            .await?;
            n_created += 1;
        }
    }
    eprintln!(
        "{n_created} demo people created ({} in the organisation)",
        org.people.len()
    );
    // Teams with their people, so that restricted demo incidents are visible to the members
    // of the teams they name.
    let teams: HashSet<String> = demo
        .teams()
        .await?
        .into_iter()
        .map(|team| team.name.to_string())
        .collect();
    for team in &org.teams {
        if !teams.contains(team.as_str()) {
            let mut display_name = team.as_str().to_owned();
            display_name[..1].make_ascii_uppercase();
            demo.create_team(TeamInput {
                name: team.as_str().to_owned(),
                display_name,
            })
            .await?;
        }
        for person in org.people.iter().filter(|p| &p.team == team) {
            demo.set_team_member(team.as_str(), person.handle.as_str(), true)
                .await?;
        }
    }
    eprintln!("{} teams with their members", org.teams.len());

    if !existing.contains("demo") {
        let password = new_secret()[..16].to_owned();
        let account = NewAccount {
            handle: "demo".into(),
            display_name: "Demo Admin".into(),
            role: "admin".into(),
            password: Some(password.clone()),
            with_token: false,
            token_days: None,
        };
        demo.create_account(account).await?;
        eprintln!("Sign in as `demo` with the password {password} (shown once).");
    }

    let today = match &args.today {
        Some(day) => postmortem_core::parse_date("today", day)?,
        None => time::OffsetDateTime::now_utc().date(),
    };
    let config = DemoConfig {
        n_incidents: args.incidents,
        seed: args.seed,
        today,
    };
    let progress = ProgressBar::new(args.incidents as u64).with_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} incidents ({per_sec}, {eta} left)")
            .expect("a valid progress template"),
    );
    let started = Instant::now();
    // Generation runs on its own thread, a couple of batches ahead, so the database never
    // waits for the generator.
    let (batches, mut ready) = tokio::sync::mpsc::channel(2);
    let generator = std::thread::spawn(move || {
        let org = organisation(config.seed);
        let mut batch = Vec::with_capacity(BATCH);
        for bundle in incidents(&org, &config) {
            batch.push(bundle);
            if batch.len() == BATCH
                && batches
                    .blocking_send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .is_err()
            {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = batches.blocking_send(batch);
        }
    });
    while let Some(batch) = ready.recv().await {
        demo.import_bundles(None, &batch).await?;
        progress.inc(batch.len() as u64);
    }
    generator
        .join()
        .map_err(|_| anyhow::anyhow!("the demo generator stopped unexpectedly"))?;
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{} incidents written to {location} in {seconds:.1} s ({:.0} incidents/s)",
        args.incidents,
        args.incidents as f64 / seconds.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}
