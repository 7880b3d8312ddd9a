//! When a post-mortem is owed: rules over an incident's facts give a decision, the template,
//! a due date in business days, and the reasons, in words a person can check.
//!
//! Rules are data (`[[policy.rules]]` in `postmortem.toml`, deserialised into [`PolicyConfig`]).
//! Every condition of a rule must hold for it to match; the strongest decision among the
//! matching rules wins, and the reasons of every rule that reached it are reported. Types do
//! the checking: an unknown field or a number compared with text fails to deserialise, with
//! the file's line, before the server starts.

use crate::{Impact, IncidentKind, Severity, TemplateName, ValidationError};
use serde::{Deserialize, Serialize};
use time::{Date, UtcOffset, Weekday};

closed_set!(
    /// Whether a review is owed, from weakest to strongest.
    Requirement, field = "decision" {
        NotRequired => "not_required",
        Recommended => "recommended",
        Required => "required",
    }
);

/// The facts a policy looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub kind: IncidentKind,
    pub severity: Severity,
    pub impact: Impact,
}

/// The outcome of a policy, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub decision: Requirement,
    pub template: TemplateName,
    pub due_business_days: Option<u32>,
    pub reasons: Vec<String>,
}

/// A number condition: a bare number means "at least".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum NumberCondition {
    AtLeast(u64),
    Range(NumberRange),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NumberRange {
    pub at_least: Option<u64>,
    pub at_most: Option<u64>,
}

impl<'de> Deserialize<'de> for NumberCondition {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Expecting;
        impl<'de> serde::de::Visitor<'de> for Expecting {
            type Value = NumberCondition;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a whole number (meaning at least), or a table like { at_least = 30, at_most = 120 }")
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Self::Value, E> {
                Ok(NumberCondition::AtLeast(value))
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Self::Value, E> {
                u64::try_from(value)
                    .map(NumberCondition::AtLeast)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(value), &self))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                NumberRange::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(NumberCondition::Range)
            }
        }
        deserializer.deserialize_any(Expecting)
    }
}

impl NumberCondition {
    fn holds(self, value: u64) -> bool {
        match self {
            NumberCondition::AtLeast(min) => value >= min,
            NumberCondition::Range(range) => {
                range.at_least.is_none_or(|min| value >= min)
                    && range.at_most.is_none_or(|max| value <= max)
            }
        }
    }

    fn describe(self, what: &str, value: u64, unit: &str) -> String {
        match self {
            NumberCondition::AtLeast(min)
            | NumberCondition::Range(NumberRange {
                at_least: Some(min),
                at_most: None,
            }) => {
                format!("{what} {value}{unit}, threshold {min}{unit}")
            }
            NumberCondition::Range(range) => format!(
                "{what} {value}{unit}, between {}{unit} and {}{unit}",
                range.at_least.unwrap_or(0),
                range
                    .at_most
                    .map_or_else(|| "any".to_owned(), |max| max.to_string())
            ),
        }
    }
}

/// A severity condition: `"SEV2"` means SEV2 or worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct SeverityAtLeast(pub Severity);

/// One kind, or any of several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Kinds {
    One(IncidentKind),
    Any(Vec<IncidentKind>),
}

impl Kinds {
    fn contains(&self, kind: IncidentKind) -> bool {
        match self {
            Kinds::One(one) => *one == kind,
            Kinds::Any(any) => any.contains(&kind),
        }
    }
}

/// The conditions of a rule; all given ones must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    pub kind: Option<Kinds>,
    pub severity: Option<SeverityAtLeast>,
    pub user_visible: Option<bool>,
    pub customer_minutes: Option<NumberCondition>,
    pub customers_affected: Option<NumberCondition>,
    pub data_loss: Option<bool>,
    pub manual_intervention: Option<bool>,
}

impl Conditions {
    /// Whether every condition holds, and if so a description of why, such as
    /// "user-visible; customer impact 47 min, threshold 30 min".
    fn check(&self, facts: &Facts) -> Option<String> {
        let mut why = Vec::new();
        if let Some(kinds) = &self.kind {
            if !kinds.contains(facts.kind) {
                return None;
            }
            why.push(match facts.kind {
                IncidentKind::Security => "security incident".to_owned(),
                IncidentKind::NearMiss => "near miss".to_owned(),
                IncidentKind::DataLoss => "data loss incident".to_owned(),
                other => format!("{other}"),
            });
        }
        if let Some(SeverityAtLeast(threshold)) = self.severity {
            if !facts.severity.at_least(threshold) {
                return None;
            }
            why.push(format!("{} (threshold {threshold})", facts.severity));
        }
        let flags = [
            (
                self.user_visible,
                facts.impact.user_visible,
                "user-visible",
                "not user-visible",
            ),
            (
                self.data_loss,
                facts.impact.data_loss,
                "data loss",
                "no data loss",
            ),
            (
                self.manual_intervention,
                facts.impact.manual_intervention,
                "manual intervention to recover",
                "no manual intervention",
            ),
        ];
        for (wanted, actual, yes, no) in flags {
            if let Some(wanted) = wanted {
                if wanted != actual {
                    return None;
                }
                why.push(if actual { yes } else { no }.to_owned());
            }
        }
        let numbers = [
            (
                self.customer_minutes,
                u64::from(facts.impact.customer_minutes),
                "customer impact",
                " min",
            ),
            (
                self.customers_affected,
                facts.impact.customers_affected,
                "customers affected",
                "",
            ),
        ];
        for (condition, value, what, unit) in numbers {
            if let Some(condition) = condition {
                if !condition.holds(value) {
                    return None;
                }
                why.push(condition.describe(what, value, unit));
            }
        }
        Some(why.join("; "))
    }
}

/// One rule of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A short name, shown by `postmortem policy explain`.
    pub name: String,
    pub decision: Requirement,
    /// The template this rule asks for; `full` when not given.
    pub template: Option<TemplateName>,
    /// Overrides the policy's due date for this rule.
    pub due_business_days: Option<u32>,
    /// Overrides the generated reason.
    pub reason: Option<String>,
    pub when: Conditions,
}

/// The `[policy]` table of `postmortem.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Business days from the incident to the post-mortem's due date.
    #[serde(default = "default_due_business_days")]
    pub due_business_days: u32,
    /// Replaces the built-in rules when given.
    pub rules: Option<Vec<Rule>>,
    /// The organisation's offset from UTC (`+01:00`), which decides what "today" is for due
    /// dates and for what is overdue.
    #[serde(default = "utc", deserialize_with = "offset")]
    pub utc_offset: UtcOffset,
}

fn default_due_business_days() -> u32 {
    5
}

fn utc() -> UtcOffset {
    UtcOffset::UTC
}

fn offset<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<UtcOffset, D::Error> {
    let raw = String::deserialize(deserializer)?;
    let format = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    match raw.trim() {
        "Z" | "UTC" => Ok(UtcOffset::UTC),
        trimmed => UtcOffset::parse(trimmed, format).map_err(|_| {
            serde::de::Error::custom(format!(
                "`{trimmed}` is not an offset from UTC; write it as +01:00, -05:00 or Z"
            ))
        }),
    }
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            due_business_days: default_due_business_days(),
            rules: None,
            utc_offset: UtcOffset::UTC,
        }
    }
}

/// The policy in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub due_business_days: u32,
    pub rules: Vec<Rule>,
    #[serde(skip)]
    pub utc_offset: UtcOffset,
}

impl Default for Policy {
    fn default() -> Self {
        Self::from_config(PolicyConfig::default()).expect("the built-in policy is valid")
    }
}

impl Policy {
    /// The practice's defaults: a user-visible outage of 30 minutes or more, any data loss,
    /// any manual intervention, a near miss of SEV2 or worse (lightweight template) and any
    /// security incident require a review; other user-visible impact recommends a light one.
    pub fn builtin_rules() -> Vec<Rule> {
        let rule = |name: &str, decision, template: Option<&str>, when| Rule {
            name: name.to_owned(),
            decision,
            template: template.map(|t| TemplateName::parse(t).expect("a built-in template name")),
            due_business_days: None,
            reason: None,
            when,
        };
        let sev2 = Severity::parse("SEV2").expect("SEV2 is in every scale");
        vec![
            rule(
                "long user-visible impact",
                Requirement::Required,
                Some("full"),
                Conditions {
                    user_visible: Some(true),
                    customer_minutes: Some(NumberCondition::AtLeast(30)),
                    ..Conditions::default()
                },
            ),
            rule(
                "data loss",
                Requirement::Required,
                Some("full"),
                Conditions {
                    data_loss: Some(true),
                    ..Conditions::default()
                },
            ),
            rule(
                "data loss incident",
                Requirement::Required,
                Some("full"),
                Conditions {
                    kind: Some(Kinds::One(IncidentKind::DataLoss)),
                    ..Conditions::default()
                },
            ),
            rule(
                "manual intervention",
                Requirement::Required,
                Some("full"),
                Conditions {
                    manual_intervention: Some(true),
                    ..Conditions::default()
                },
            ),
            rule(
                "security incident",
                Requirement::Required,
                Some("full"),
                Conditions {
                    kind: Some(Kinds::One(IncidentKind::Security)),
                    ..Conditions::default()
                },
            ),
            rule(
                "severe near miss",
                Requirement::Required,
                Some("lightweight"),
                Conditions {
                    kind: Some(Kinds::One(IncidentKind::NearMiss)),
                    severity: Some(SeverityAtLeast(sev2)),
                    ..Conditions::default()
                },
            ),
            rule(
                "short user-visible impact",
                Requirement::Recommended,
                Some("lightweight"),
                Conditions {
                    user_visible: Some(true),
                    ..Conditions::default()
                },
            ),
        ]
    }

    /// Checks a configured policy: every rule needs a name and at least one condition.
    pub fn from_config(config: PolicyConfig) -> Result<Self, ValidationError> {
        let rules = config.rules.unwrap_or_else(Self::builtin_rules);
        for (n, rule) in rules.iter().enumerate() {
            if rule.name.trim().is_empty() {
                return Err(ValidationError::new(
                    format!("policy.rules[{n}].name"),
                    "must not be empty",
                ));
            }
            if rule.when == Conditions::default() {
                return Err(ValidationError::new(
                    format!("policy.rules[{n}].when"),
                    format!(
                        "rule `{}` has no conditions; give at least one, e.g. when = {{ data_loss = true }}",
                        rule.name
                    ),
                ));
            }
        }
        Ok(Self {
            due_business_days: config.due_business_days,
            rules,
            utc_offset: config.utc_offset,
        })
    }

    /// Checks that every rule names a template that exists.
    pub fn check_templates(&self, templates: &crate::Templates) -> Result<(), ValidationError> {
        for (n, rule) in self.rules.iter().enumerate() {
            if let Some(template) = &rule.template
                && templates.get(template).is_none()
            {
                return Err(ValidationError::new(
                    format!("policy.rules[{n}].template"),
                    format!(
                        "rule `{}` asks for `{template}`, which is not a template; the templates are: {}",
                        rule.name,
                        templates.names()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The organisation's calendar day at `now`, on which due dates start and overdue is judged.
    pub fn today(&self, now: time::OffsetDateTime) -> Date {
        now.to_offset(self.utc_offset).date()
    }

    pub fn decide(&self, facts: &Facts) -> Decision {
        let matches: Vec<(&Rule, String)> = self
            .rules
            .iter()
            .filter_map(|rule| rule.when.check(facts).map(|why| (rule, why)))
            .collect();
        let Some(strongest) = matches.iter().map(|(rule, _)| rule.decision).max() else {
            return Decision {
                decision: Requirement::NotRequired,
                template: TemplateName::lightweight(),
                due_business_days: None,
                reasons: vec!["no rule of the policy matched".to_owned()],
            };
        };
        let winners: Vec<&(&Rule, String)> = matches
            .iter()
            .filter(|(rule, _)| rule.decision == strongest)
            .collect();
        let template = if winners
            .iter()
            .any(|(rule, _)| rule.template.as_ref().is_none_or(|t| t.as_str() == "full"))
        {
            TemplateName::full()
        } else {
            winners[0]
                .0
                .template
                .clone()
                .unwrap_or_else(TemplateName::full)
        };
        let mut reasons: Vec<String> = Vec::new();
        for (rule, why) in &winners {
            let reason = rule.reason.clone().unwrap_or_else(|| why.clone());
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
        let due_business_days = (strongest != Requirement::NotRequired).then(|| {
            winners
                .iter()
                .filter_map(|(rule, _)| rule.due_business_days)
                .min()
                .unwrap_or(self.due_business_days)
        });
        Decision {
            decision: strongest,
            template,
            due_business_days,
            reasons,
        }
    }
}

/// Where a post-mortem moves when the policy's decision is re-evaluated after the facts of
/// its incident changed, or `None` to leave it where it is:
///
/// - `not_required` becomes `owed` when the decision is now `required`, unless a reviewer
///   waived it (`waived`): a waiver with a written reason is a person's decision and stands;
/// - `owed` goes back to `not_required` when the decision no longer requires it, but only
///   while nothing is written, so no one's work is set aside by a corrected fact;
/// - every other status (someone is writing, reviewing or has published) stays.
pub fn status_after_reevaluation(
    status: crate::PostmortemStatus,
    decision: Requirement,
    waived: bool,
    anything_written: bool,
) -> Option<crate::PostmortemStatus> {
    use crate::PostmortemStatus::{NotRequired, Owed};
    match (status, decision) {
        (NotRequired, Requirement::Required) if !waived => Some(Owed),
        (Owed, Requirement::Recommended | Requirement::NotRequired) if !anything_written => {
            Some(NotRequired)
        }
        _ => None,
    }
}

/// The date `n` business days after `start`, skipping Saturdays and Sundays.
pub fn add_business_days(start: Date, n: u32) -> Date {
    let mut date = start;
    let mut left = n;
    while left > 0 {
        date = date
            .next_day()
            .expect("dates stay far from the end of the calendar");
        if !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
            left -= 1;
        }
    }
    date
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn facts(kind: IncidentKind, severity: &str, impact: Impact) -> Facts {
        Facts {
            kind,
            severity: Severity::parse(severity).unwrap(),
            impact,
        }
    }

    #[test]
    fn a_long_user_visible_outage_requires_a_full_review_and_says_why() {
        let decision = Policy::default().decide(&facts(
            IncidentKind::Outage,
            "SEV2",
            Impact {
                user_visible: true,
                customer_minutes: 47,
                ..Impact::default()
            },
        ));
        assert_eq!(decision.decision, Requirement::Required);
        assert_eq!(decision.template, TemplateName::full());
        assert_eq!(decision.due_business_days, Some(5));
        assert_eq!(
            decision.reasons,
            ["user-visible; customer impact 47 min, threshold 30 min"]
        );
    }

    #[test]
    fn data_loss_and_manual_intervention_are_both_reasons() {
        let decision = Policy::default().decide(&facts(
            IncidentKind::Degradation,
            "SEV3",
            Impact {
                data_loss: true,
                manual_intervention: true,
                ..Impact::default()
            },
        ));
        assert_eq!(
            decision.reasons,
            ["data loss", "manual intervention to recover"]
        );
    }

    #[test]
    fn a_severe_near_miss_gets_the_lightweight_template() {
        let decision =
            Policy::default().decide(&facts(IncidentKind::NearMiss, "SEV2", Impact::default()));
        assert_eq!(decision.decision, Requirement::Required);
        assert_eq!(decision.template, TemplateName::lightweight());
        assert_eq!(decision.reasons, ["near miss; SEV2 (threshold SEV2)"]);
        let mild =
            Policy::default().decide(&facts(IncidentKind::NearMiss, "SEV3", Impact::default()));
        assert_eq!(mild.decision, Requirement::NotRequired);
        assert_eq!(mild.due_business_days, None);
    }

    #[test]
    fn every_security_incident_requires_a_review() {
        let decision =
            Policy::default().decide(&facts(IncidentKind::Security, "SEV4", Impact::default()));
        assert_eq!(decision.decision, Requirement::Required);
        assert_eq!(decision.reasons, ["security incident"]);
    }

    #[test]
    fn short_user_visible_blips_are_recommended_not_required() {
        let decision = Policy::default().decide(&facts(
            IncidentKind::Degradation,
            "SEV4",
            Impact {
                user_visible: true,
                customer_minutes: 29,
                ..Impact::default()
            },
        ));
        assert_eq!(decision.decision, Requirement::Recommended);
        assert_eq!(decision.template, TemplateName::lightweight());
    }

    #[test]
    fn a_configured_rule_can_use_ranges_kinds_and_its_own_reason_and_due_date() {
        let rule = Rule {
            name: "big customer impact".into(),
            decision: Requirement::Required,
            template: None,
            due_business_days: Some(2),
            reason: Some("many customers affected".into()),
            when: Conditions {
                kind: Some(Kinds::Any(vec![
                    IncidentKind::Outage,
                    IncidentKind::Degradation,
                ])),
                customers_affected: Some(NumberCondition::Range(NumberRange {
                    at_least: Some(1000),
                    at_most: None,
                })),
                ..Conditions::default()
            },
        };
        let policy = Policy::from_config(PolicyConfig {
            due_business_days: 10,
            rules: Some(vec![rule]),
            utc_offset: UtcOffset::UTC,
        })
        .unwrap();
        let big = Impact {
            customers_affected: 5000,
            ..Impact::default()
        };
        let decision = policy.decide(&facts(IncidentKind::Degradation, "SEV3", big));
        assert_eq!(
            (decision.decision, decision.due_business_days),
            (Requirement::Required, Some(2))
        );
        assert_eq!(decision.reasons, ["many customers affected"]);
        assert_eq!(
            policy
                .decide(&facts(IncidentKind::Security, "SEV1", big))
                .decision,
            Requirement::NotRequired
        );
    }

    #[test]
    fn a_rule_without_conditions_is_refused() {
        let rule = Rule {
            name: "everything".into(),
            decision: Requirement::Required,
            template: None,
            due_business_days: None,
            reason: None,
            when: Conditions::default(),
        };
        let error = Policy::from_config(PolicyConfig {
            due_business_days: 5,
            rules: Some(vec![rule]),
            utc_offset: UtcOffset::UTC,
        })
        .unwrap_err();
        assert_eq!(error.field(), "policy.rules[0].when");
    }

    #[test]
    fn today_is_the_organisations_calendar_day() {
        let config: PolicyConfig = serde_json::from_str(r#"{"utc_offset": "+05:30"}"#).unwrap();
        let policy = Policy::from_config(config).unwrap();
        // 20:00 UTC on a Friday is already Saturday in India.
        assert_eq!(
            policy.today(time::macros::datetime!(2026-03-06 20:00 UTC)),
            date!(2026 - 03 - 07)
        );
        assert_eq!(
            Policy::default().today(time::macros::datetime!(2026-03-06 20:00 UTC)),
            date!(2026 - 03 - 06)
        );
        assert!(
            serde_json::from_str::<PolicyConfig>(r#"{"utc_offset": "Europe/Berlin"}"#).is_err()
        );
    }

    #[test]
    fn a_post_mortem_becomes_owed_when_new_facts_require_it_unless_a_reviewer_waived_it() {
        use crate::PostmortemStatus::*;
        let required = Requirement::Required;
        assert_eq!(
            status_after_reevaluation(NotRequired, required, false, false),
            Some(Owed)
        );
        assert_eq!(
            status_after_reevaluation(NotRequired, required, true, false),
            None
        );
        assert_eq!(
            status_after_reevaluation(Owed, required, false, false),
            None
        );
        assert_eq!(
            status_after_reevaluation(Draft, required, false, true),
            None
        );
    }

    #[test]
    fn an_owed_post_mortem_is_released_only_while_nothing_is_written() {
        use crate::PostmortemStatus::*;
        for decision in [Requirement::Recommended, Requirement::NotRequired] {
            assert_eq!(
                status_after_reevaluation(Owed, decision, false, false),
                Some(NotRequired)
            );
            assert_eq!(status_after_reevaluation(Owed, decision, false, true), None);
            assert_eq!(
                status_after_reevaluation(Draft, decision, false, true),
                None
            );
            assert_eq!(
                status_after_reevaluation(Published, decision, false, true),
                None
            );
            assert_eq!(
                status_after_reevaluation(NotRequired, decision, false, false),
                None
            );
        }
    }

    #[test]
    fn business_days_skip_weekends() {
        // 2026-03-06 is a Friday.
        assert_eq!(
            add_business_days(date!(2026 - 03 - 06), 1),
            date!(2026 - 03 - 09)
        );
        assert_eq!(
            add_business_days(date!(2026 - 03 - 06), 5),
            date!(2026 - 03 - 13)
        );
        assert_eq!(
            add_business_days(date!(2026 - 03 - 07), 0),
            date!(2026 - 03 - 07)
        );
    }
}
