//! The one error a domain constructor returns: which field was wrong and which rule it broke.

use std::fmt;

/// A value was refused. `field` names the input field as the API spells it, `rule` says in
/// plain words what a valid value looks like, so a person can fix it without reading code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    field: String,
    rule: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }

    /// The input field that was refused, e.g. `title` or `impact.customer_minutes`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What a valid value looks like.
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// The same error for a field nested inside another, e.g. `at` inside `timeline[3]`.
    #[must_use]
    pub fn within(mut self, parent: &str) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

/// Collects the errors of many fields, so one answer can list everything that is wrong.
#[derive(Debug, Default)]
pub struct Collector(Vec<ValidationError>);

impl Collector {
    /// The value if it parsed; otherwise remembers the error and gives `None`.
    pub fn ok<T>(&mut self, parsed: Result<T, ValidationError>) -> Option<T> {
        parsed.map_err(|error| self.0.push(error)).ok()
    }

    pub fn push(&mut self, error: ValidationError) {
        self.0.push(error);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_errors(self) -> Vec<ValidationError> {
        self.0
    }
}
