//! `postmortem policy ...`: try the post-mortem policy on an incident before rolling it out,
//! and print the rules in force.

use crate::config::Config;
use anyhow::Context;
use postmortem_core::policy::{Facts, NumberCondition, Policy, Rule};
use postmortem_core::{Collector, Impact, IncidentKind, Severity, ValidationError};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Evaluate the policy for an incident given as JSON (the body of POST /api/v1/incidents).
    Check(CheckArgs),
    /// Print the rules in force.
    Explain,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The incident as JSON; `-` reads standard input.
    file: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub fn run(config: Config, command: PolicyCommand) -> anyhow::Result<ExitCode> {
    let policy = Policy::from_config(config.policy)
        .context("the [policy] table of the configuration is not valid")?;
    match command {
        PolicyCommand::Explain => {
            print!("{}", explain(&policy));
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Check(args) => {
            let text = if args.file.as_os_str() == "-" {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("cannot read standard input")?;
                text
            } else {
                std::fs::read_to_string(&args.file)
                    .with_context(|| format!("cannot read {}", args.file.display()))?
            };
            let facts = facts_from_json(&text).map_err(|errors| {
                anyhow::anyhow!(
                    "{} does not describe an incident: {}",
                    args.file.display(),
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            })?;
            let decision = policy.decide(&facts);
            match args.format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&decision)?),
                Format::Text => {
                    println!("decision: {}", decision.decision);
                    println!("template: {}", decision.template);
                    if let Some(days) = decision.due_business_days {
                        println!("due: {days} business days after the incident");
                    }
                    for reason in &decision.reasons {
                        println!("because: {reason}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Reads the policy's facts from an incident in the API's JSON shape; other fields of the
/// body (title, services...) are allowed and ignored.
pub fn facts_from_json(text: &str) -> Result<Facts, Vec<ValidationError>> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        vec![ValidationError::new(
            "json",
            format!("is not valid JSON: {e}"),
        )]
    })?;
    let mut errors = Collector::default();
    let field = |name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| ValidationError::new(name, "is required, as a string"))
    };
    let kind = errors.ok(field("kind").and_then(IncidentKind::parse));
    let severity = errors
        .ok(field("severity").and_then(|s| Severity::parse_in_scale(s, Severity::MAX_LEVELS)));
    let impact = match value.get("impact") {
        None | Some(serde_json::Value::Null) => Some(Impact::default()),
        Some(impact) => errors.ok(serde_json::from_value::<Impact>(impact.clone())
            .map_err(|e| ValidationError::new("impact", e.to_string()))),
    };
    match (kind, severity, impact) {
        (Some(kind), Some(severity), Some(impact)) if errors.is_empty() => Ok(Facts {
            kind,
            severity,
            impact,
        }),
        _ => Err(errors.into_errors()),
    }
}

/// The rules in force, one paragraph each.
pub fn explain(policy: &Policy) -> String {
    let mut out = format!(
        "A post-mortem is due {} business days after the incident unless a rule says otherwise.\n\
         The strongest decision among the matching rules wins (required > recommended > not_required).\n\n",
        policy.due_business_days
    );
    for (n, rule) in policy.rules.iter().enumerate() {
        out.push_str(&format!(
            "{}. {}: {}{}\n   when {}\n",
            n + 1,
            rule.name,
            rule.decision,
            rule.template
                .as_ref()
                .map(|t| format!(", {t} template"))
                .unwrap_or_default(),
            describe(rule)
        ));
    }
    out
}

fn describe(rule: &Rule) -> String {
    let when = &rule.when;
    let number = |what: &str, condition: Option<NumberCondition>| {
        condition.map(|c| match c {
            NumberCondition::AtLeast(min) => format!("{what} >= {min}"),
            NumberCondition::Range(range) => format!(
                "{what} in {}..={}",
                range.at_least.unwrap_or(0),
                range
                    .at_most
                    .map_or_else(|| "any".to_owned(), |max| max.to_string())
            ),
        })
    };
    let kinds = when.kind.as_ref().map(|kinds| match kinds {
        postmortem_core::policy::Kinds::One(kind) => format!("kind is {kind}"),
        postmortem_core::policy::Kinds::Any(kinds) => {
            format!(
                "kind is one of {}",
                kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    });
    [
        kinds,
        when.severity
            .map(|s| format!("severity is {} or worse", s.0)),
        when.user_visible.map(|v| format!("user_visible is {v}")),
        number("customer_minutes", when.customer_minutes),
        number("customers_affected", when.customers_affected),
        when.data_loss.map(|v| format!("data_loss is {v}")),
        when.manual_intervention
            .map(|v| format!("manual_intervention is {v}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" and ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_body_gives_the_policys_facts() {
        let facts = facts_from_json(
            r#"{"title": "x", "kind": "outage", "severity": "SEV2", "services": ["a"], "impact": {"user_visible": true, "customer_minutes": 47}}"#,
        )
        .unwrap();
        let decision = Policy::default().decide(&facts);
        assert_eq!(
            decision.reasons,
            ["user-visible; customer impact 47 min, threshold 30 min"]
        );
    }

    #[test]
    fn a_body_without_kind_or_with_a_bad_severity_names_both_fields() {
        let errors = facts_from_json(r#"{"severity": "SEV12"}"#).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(ValidationError::field).collect();
        assert_eq!(fields, ["kind", "severity"]);
    }

    #[test]
    fn the_explanation_lists_every_rule_with_its_conditions() {
        let text = explain(&Policy::default());
        assert!(text.contains("1. long user-visible impact: required, full template\n   when user_visible is true and customer_minutes >= 30"), "{text}");
        assert!(text.contains("severity is SEV2 or worse"), "{text}");
    }
}
