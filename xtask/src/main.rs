//! Project chores, run as `cargo xtask <task>`:
//!
//! - `test`: formatting, lints, the dependency rules of ARCHITECTURE.md, and every test on
//!   SQLite and PostgreSQL (starting the local PostgreSQL when it is installed and down, and
//!   installing the npm packages of the OpenID Connect provider the sign-in tests run).
//! - `bench`: the benchmarks whose figures the closing notes report.

use std::env;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Crates that must stay free of I/O frameworks, and what they must not depend on.
const PURE_CRATES: &[(&str, &[&str])] = &[
    (
        "postmortem-core",
        &["sqlx", "tokio", "axum", "hyper", "tantivy"],
    ),
    (
        "postmortem-lint",
        &["sqlx", "tokio", "axum", "hyper", "tantivy"],
    ),
    (
        "postmortem-demo",
        &["sqlx", "tokio", "axum", "hyper", "tantivy"],
    ),
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("bench") => bench(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask test [-- extra cargo test args]\n       cargo xtask bench"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut command = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

fn run(step: &str, command: &mut Command) -> Result<(), String> {
    eprintln!("\n== {step}");
    let status = command
        .status()
        .map_err(|e| format!("{step}: cannot start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}

fn test(extra: &[String]) -> Result<(), String> {
    let postgres_url =
        env::var("POSTMORTEM_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    ensure_postgres()?;
    drop_old_test_schemas(&postgres_url);
    run(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--check"]),
    )?;
    run(
        "cargo clippy --all-targets -- -D warnings",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    check_pure_crates()?;
    install_test_provider()?;
    let mut test = cargo();
    // The browser tests drive Debian's Chromium; they run wherever it is installed (.ci/run
    // installs it), and say so when they are skipped.
    let browser =
        Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists();
    if browser {
        test.env("POSTMORTEM_BROWSER_TESTS", "1");
    } else {
        eprintln!(
            "note: Chromium or chromedriver is missing; the browser tests will be skipped (apt-get install chromium chromium-driver)"
        );
    }
    test.args(["test", "--workspace"])
        .args(extra)
        .env("POSTMORTEM_TEST_POSTGRES_URL", &postgres_url);
    run("cargo test (SQLite and PostgreSQL)", &mut test)?;
    eprintln!("\nxtask test: all checks passed");
    Ok(())
}

/// The sign-in tests run a real OpenID Connect provider under Node; its npm packages are
/// installed from the committed lock file when missing or older than it. Without npm this
/// fails in CI (`CI` set), where the tests must run, and is a note elsewhere.
fn install_test_provider() -> Result<(), String> {
    let dir = workspace_root().join("crates/postmortem-server/tests/oidc");
    let modified = |path: PathBuf| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let installed = modified(dir.join("node_modules/.package-lock.json"));
    let locked = modified(dir.join("package-lock.json"));
    if installed.is_some() && installed >= locked {
        return Ok(());
    }
    let npm_found = Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !npm_found {
        let message = "Node and npm are missing, so the OpenID Connect sign-in tests cannot run (apt-get install nodejs npm)";
        if env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0") {
            return Err(message.into());
        }
        eprintln!("note: {message}; they will say they were skipped");
        return Ok(());
    }
    run(
        "npm ci (the OpenID Connect provider the sign-in tests run)",
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir),
    )
}

/// Starts the local PostgreSQL cluster when it is installed but not listening.
fn ensure_postgres() -> Result<(), String> {
    let listening = || {
        TcpStream::connect_timeout(
            &"127.0.0.1:5432".parse().expect("an address"),
            Duration::from_secs(1),
        )
        .is_ok()
    };
    if listening() {
        return Ok(());
    }
    eprintln!("PostgreSQL is not listening on 127.0.0.1:5432; starting it");
    let versions: Vec<String> = std::fs::read_dir("/etc/postgresql")
        .map_err(|_| "PostgreSQL is not installed (no /etc/postgresql); install it or set POSTMORTEM_TEST_POSTGRES_URL".to_owned())?
        .filter_map(|entry| entry.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    for version in versions {
        let _ = Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &version, "main", "start"])
            .status();
    }
    for _ in 0..30 {
        if listening() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Err("PostgreSQL did not start on 127.0.0.1:5432".into())
}

/// Each storage test makes its own schema; drop the ones earlier runs left behind.
fn drop_old_test_schemas(url: &str) {
    let sql = "DO $$ DECLARE s text; BEGIN FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pmtest\\_%' LOOP EXECUTE 'DROP SCHEMA ' || quote_ident(s) || ' CASCADE'; END LOOP; END $$;";
    let dropped = Command::new("psql").args([url, "-q", "-c", sql]).output();
    if !matches!(dropped, Ok(ref output) if output.status.success()) {
        eprintln!("note: could not drop old test schemas (psql missing or refused); continuing");
    }
}

/// Enforces ARCHITECTURE.md: the domain, the checker and the demo generator do no I/O, so
/// they must not pull in a database driver, an async runtime or a web framework.
fn check_pure_crates() -> Result<(), String> {
    eprintln!("\n== dependency rules");
    for (krate, forbidden) in PURE_CRATES {
        if !workspace_root().join("crates").join(krate).is_dir() {
            continue;
        }
        let output = cargo()
            .args([
                "tree", "-p", krate, "-e", "normal", "--prefix", "none", "--format", "{p}",
            ])
            .output()
            .map_err(|e| format!("cargo tree: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "cargo tree -p {krate} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let tree = String::from_utf8_lossy(&output.stdout);
        let offending: Vec<&str> = tree
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .filter(|name| forbidden.contains(name))
            .collect();
        if !offending.is_empty() {
            return Err(format!(
                "{krate} must not depend on {offending:?} (see ARCHITECTURE.md)"
            ));
        }
        eprintln!("{krate}: depends on none of {forbidden:?}");
    }
    Ok(())
}

fn bench(extra: &[String]) -> Result<(), String> {
    run(
        "cargo bench",
        cargo().args(["bench", "--workspace"]).args(extra),
    )
}
