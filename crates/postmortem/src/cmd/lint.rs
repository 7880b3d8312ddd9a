//! `postmortem lint`: the blameless-language checker over Markdown files, for editors and CI.
//!
//! Exit status: 0 when nothing at or above `--fail-on` was found, 1 when something was, 2 on
//! a usage or I/O error (clap exits with 2 for usage errors itself).

use crate::config::Config;
use postmortem_lint::{Finding, LintOptions, Severity, format, lint};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// `path:line:col: severity [rule] message`, the suggestion underneath.
    Text,
    /// `{"files": [{"path", "findings": [...]}]}`.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// reviewdog's rdjsonl, with suggested changes.
    Rdjsonl,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FailOn {
    Info,
    Warning,
    Error,
}

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Markdown files to check; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// The lowest severity that makes the exit status 1.
    #[arg(long, value_enum, default_value = "warning")]
    fail_on: FailOn,
    /// A person involved in the incident (repeatable), always recognised as a person.
    #[arg(long = "participant", value_name = "NAME")]
    participants: Vec<String>,
}

pub fn run(config: Config, args: LintArgs) -> anyhow::Result<ExitCode> {
    if let Err(error) = config.lint.validate() {
        eprintln!("error: the [lint] table of the configuration is not valid: {error}");
        return Ok(ExitCode::from(2));
    }
    let options = LintOptions {
        participants: args.participants.clone(),
        config: config.lint.clone(),
    };
    let mut documents: Vec<(String, Vec<Finding>)> = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let (name, text) = match read(path) {
            Ok(document) => document,
            Err(error) => {
                eprintln!("error: cannot read {}: {error}", path.display());
                return Ok(ExitCode::from(2));
            }
        };
        let findings = lint(&text, &options);
        documents.push((name, findings));
    }
    let borrowed: Vec<(&str, &[Finding])> = documents
        .iter()
        .map(|(name, findings)| (name.as_str(), findings.as_slice()))
        .collect();
    let output = match args.format {
        Format::Text => format::text(&borrowed),
        Format::Json => format::json(&borrowed),
        Format::Sarif => format::sarif(&borrowed),
        Format::Rdjsonl => format::rdjsonl(&borrowed),
    };
    print!("{output}");
    if !output.is_empty() && !output.ends_with('\n') {
        println!();
    }
    if matches!(args.format, Format::Text) {
        // On stderr, so that piped findings stay one per line.
        eprintln!("{}", summary(&documents));
    }
    let threshold = match args.fail_on {
        FailOn::Info => Severity::Info,
        FailOn::Warning => Severity::Warning,
        FailOn::Error => Severity::Error,
    };
    let failing = documents
        .iter()
        .flat_map(|(_, findings)| findings)
        .any(|f| f.severity >= threshold);
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One line for people: how many findings at each level, and how many sentences put a
/// person at the centre of a failure (the count the review page shows beside completeness).
fn summary(documents: &[(String, Vec<Finding>)]) -> String {
    let count = |level: Severity| {
        documents
            .iter()
            .flat_map(|(_, findings)| findings)
            .filter(|f| f.severity == level)
            .count()
    };
    let centred: usize = documents
        .iter()
        .map(|(_, findings)| postmortem_lint::person_centred_sentences(findings))
        .sum();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{}: {}, {}, {}; {} a person at the centre of a failure",
        plural(documents.len(), "file", "files"),
        plural(count(Severity::Error), "error", "errors"),
        plural(count(Severity::Warning), "warning", "warnings"),
        plural(count(Severity::Info), "note", "notes"),
        plural(centred, "sentence puts", "sentences put"),
    )
}

fn read(path: &std::path::Path) -> std::io::Result<(String, String)> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        return Ok(("<stdin>".to_owned(), text));
    }
    let bytes = std::fs::read(path)?;
    // Invalid UTF-8 is replaced rather than refused: the checker reads prose, and one stray
    // byte should not hide every finding in a file.
    Ok((
        path.display().to_string(),
        String::from_utf8_lossy(&bytes).into_owned(),
    ))
}
