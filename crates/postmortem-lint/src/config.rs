//! Tuning: the `[lint]` table of `postmortem.toml` (severity overrides per rule or category,
//! allowed words, extra participants), deserialized by the caller or parsed from a string here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::rules::RuleSet;
use crate::{Category, Severity};

/// A configured level: a severity, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Off,
    Info,
    Warning,
    Error,
}

impl Level {
    fn severity(self) -> Option<Severity> {
        match self {
            Level::Off => None,
            Level::Info => Some(Severity::Info),
            Level::Warning => Some(Severity::Warning),
            Level::Error => Some(Severity::Error),
        }
    }
}

/// Which checkers run: the rules, the statistical model, or both (the default: the rules
/// give spans and rewrites, the model adds what they miss and overrules their false alarms).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Rules,
    Model,
    #[default]
    Both,
}

/// Linter settings, as found in the `[lint]` table of `postmortem.toml`:
///
/// ```toml
/// [lint]
/// allowed_words = ["Sentinel", "blame-aware"]
/// participants = ["Dana Reyes", "Sam"]
/// method = "both"            # or "rules", "model"
///
/// [lint.rules]
/// root-cause-singular = "off"
/// person-failure = "error"
///
/// [lint.categories]
/// people_fix = "warning"
/// ```
///
/// A rule-id override wins over a category override.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LintConfig {
    /// Severity overrides by rule id, e.g. `person-failure = "error"` or `"off"`.
    pub rules: BTreeMap<String, Level>,
    /// Severity overrides by category, e.g. `hindsight = "info"`.
    pub categories: BTreeMap<Category, Level>,
    /// Words or phrases never flagged (case-insensitive): a finding whose matched text contains
    /// one is dropped, and a capitalised allowed word is never taken for a person's name.
    pub allowed_words: Vec<String>,
    /// Extra participants (names of people in the incident) on top of the caller's list.
    pub participants: Vec<String>,
    /// Which checkers run.
    pub method: Method,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid [lint] configuration: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("unknown rule `{0}` in [lint.rules] (known rules: {1})")]
    UnknownRule(String, String),
}

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    lint: LintConfig,
}

impl LintConfig {
    /// Parses the `[lint]` table out of a whole `postmortem.toml` document (other tables are
    /// ignored; a missing `[lint]` table gives the defaults) and validates it.
    pub fn from_postmortem_toml(src: &str) -> Result<LintConfig, ConfigError> {
        let doc: Document = toml::from_str(src)?;
        doc.lint.validate()?;
        Ok(doc.lint)
    }

    /// Checks that every rule id named in `rules` exists.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let set = RuleSet::builtin();
        for id in self.rules.keys() {
            if set.rule_by_id(id).is_none()
                && !crate::model::rule_infos().iter().any(|r| r.id == *id)
            {
                let known: Vec<String> = crate::rules().into_iter().map(|r| r.id).collect();
                return Err(ConfigError::UnknownRule(id.clone(), known.join(", ")));
            }
        }
        Ok(())
    }

    /// Effective severity of a rule (None: turned off).
    pub(crate) fn severity_for(
        &self,
        id: &str,
        category: Category,
        default: Severity,
    ) -> Option<Severity> {
        if let Some(level) = self.rules.get(id) {
            return level.severity();
        }
        if let Some(level) = self.categories.get(&category) {
            return level.severity();
        }
        Some(default)
    }
}
