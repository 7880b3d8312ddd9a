//! `postmortem policy ...`: try the post-mortem policy on an incident before rolling it out,
//! and print the rules in force.

use crate::config::Config;
use anyhow::Context;
use postmortem_app::{AppError, IncidentInput, Rules};
use postmortem_core::ValidationError;
use postmortem_core::policy::{Decision, NumberCondition, Policy, Rule};
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
    let rules = config.rules()?;
    match command {
        PolicyCommand::Explain => {
            print!("{}", explain(&rules.policy));
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
            let decision = decide(&rules, &text).with_context(|| {
                format!(
                    "{} is not an incident as POST /api/v1/incidents takes it",
                    args.file.display()
                )
            })?;
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

/// What the policy decides for an incident in the API's JSON shape, parsed and decided by the
/// app layer exactly as recording it on the web would (`system:policy` writes nothing, so
/// nothing is audited).
pub fn decide(rules: &Rules, text: &str) -> Result<Decision, AppError> {
    let input: IncidentInput = serde_json::from_str(text).map_err(|e| {
        AppError::Invalid(vec![ValidationError::new(
            "json",
            format!("is not valid: {e}"),
        )])
    })?;
    Ok(rules.decide(input)?.1)
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

    fn rules() -> Rules {
        Rules {
            severity_levels: postmortem_core::Severity::DEFAULT_LEVELS,
            ..Rules::default()
        }
    }

    #[test]
    fn the_api_body_gives_the_policys_decision() {
        let decision = decide(
            &rules(),
            r#"{"title": "x", "kind": "outage", "severity": "SEV2", "services": ["a"], "impact": {"user_visible": true, "customer_minutes": 47}}"#,
        )
        .unwrap();
        assert_eq!(
            decision.reasons,
            ["user-visible; customer impact 47 min, threshold 30 min"]
        );
    }

    #[test]
    fn a_body_with_an_unknown_kind_and_a_bad_severity_names_both_fields() {
        let Err(AppError::Invalid(errors)) = decide(
            &rules(),
            r#"{"title": "x", "kind": "explosion", "severity": "SEV12"}"#,
        ) else {
            panic!("refused as invalid input")
        };
        let fields: Vec<&str> = errors.iter().map(ValidationError::field).collect();
        assert_eq!(fields, ["kind", "severity"]);
    }

    #[test]
    fn a_body_the_api_would_refuse_is_refused_here_too() {
        let error = decide(&rules(), r#"{"kind": "outage", "severity": "SEV2"}"#).unwrap_err();
        assert!(
            error.to_string().contains("missing field `title`"),
            "{error}"
        );
    }

    #[test]
    fn the_explanation_lists_every_rule_with_its_conditions() {
        let text = explain(&Policy::default());
        assert!(text.contains("1. long user-visible impact: required, full template\n   when user_visible is true and customer_minutes >= 30"), "{text}");
        assert!(text.contains("severity is SEV2 or worse"), "{text}");
    }
}
