//! `postmortem demo`: fills the database with a realistic organisation and its incidents.

use super::{DatabaseArgs, open_store};
use crate::config::Config;
use indicatif::{ProgressBar, ProgressStyle};
use postmortem_app::accounts::{NewAccount, create_account, new_secret};
use postmortem_core::{DisplayName, TeamName};
use postmortem_demo::{DemoConfig, incidents, organisation};
use postmortem_store::{Actor, NewTeam, NewUser};
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
    #[command(flatten)]
    database: DatabaseArgs,
}

pub async fn run(config: Config, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let (store, location) = open_store(&config, &args.database).await?;
    let org = organisation(args.seed);
    let mut n_created = 0;
    for person in &org.people {
        if store.user_by_handle(&person.handle).await?.is_none() {
            let user = NewUser {
                handle: person.handle.clone(),
                display_name: person.display_name.clone(),
                role: person.role,
                password_hash: None,
            };
            store.create_user(Actor::SYSTEM, user).await?;
            n_created += 1;
        }
    }
    eprintln!(
        "{n_created} demo people created ({} in the organisation)",
        org.people.len()
    );
    // Teams with their people, so that restricted demo incidents are visible to the members
    // of the teams they name.
    for team in &org.teams {
        let name = TeamName::parse(team.as_str())?;
        if store.team(&name).await?.is_none() {
            let mut display_name = team.as_str().to_owned();
            display_name[..1].make_ascii_uppercase();
            let new = NewTeam {
                name: name.clone(),
                display_name: DisplayName::parse(display_name)?,
            };
            store.create_team(Actor::SYSTEM, new).await?;
        }
        for person in org.people.iter().filter(|p| &p.team == team) {
            if let Some(user) = store.user_by_handle(&person.handle).await? {
                store.add_team_member(Actor::SYSTEM, &name, user.id).await?;
            }
        }
    }
    eprintln!("{} teams with their members", org.teams.len());

    let demo_handle = postmortem_core::Handle::parse("demo")?;
    if store.user_by_handle(&demo_handle).await?.is_none() {
        let password = new_secret()[..16].to_owned();
        let account = NewAccount {
            handle: "demo".into(),
            display_name: "Demo Admin".into(),
            role: "admin".into(),
            password: Some(password.clone()),
            with_token: false,
            token_days: None,
        };
        create_account(store.as_ref(), Actor::SYSTEM, account).await?;
        eprintln!("Sign in as `demo` with the password {password} (shown once).");
    }

    let today = time::OffsetDateTime::now_utc().date();
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
        store.import_bundles(&batch).await?;
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
