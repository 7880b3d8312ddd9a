//! The one error of the use cases: each variant has a stable machine code ([`AppError::code`])
//! and a message a person can act on. The HTTP server maps it to its answer in one place; the
//! command line prints it.

use postmortem_core::ValidationError;
use postmortem_store::StoreError;
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// It does not exist, or the person may not see it (which must not be told apart).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The person may see it but not do this; the message says what was refused.
    #[error("{0}")]
    Forbidden(String),
    /// Refused input: every field that was wrong, each with its rule.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<ValidationError>),
    /// A write that must name the version the writer started from came without it.
    #[error(
        "send `If-Match` with the ETag of the incident you started from (from GET /api/v1/incidents/{{id}}), so nobody's edits are overwritten"
    )]
    IfMatchRequired,
    /// The post-mortem's lifecycle does not allow this move.
    #[error("{0}")]
    IllegalTransition(String),
    /// Publishing refused: what is missing, as `[{code, message}]`.
    #[error("{message}")]
    Incomplete { message: String, missing: Value },
    /// Publishing refused while the blameless-language checker finds passages, unless
    /// confirmed: the findings, as `[{code, section, line, ...}]`.
    #[error("{message}")]
    UnconfirmedFindings { message: String, findings: Value },
    /// Something with this name exists already.
    #[error("{0}")]
    Duplicate(String),
    /// The incident moved on since the version the writer started from.
    #[error("{0}")]
    VersionConflict(String),
    /// A paging cursor this system did not hand out.
    #[error("{0}")]
    InvalidCursor(String),
    /// The sender did not prove who it is (a webhook receiver's secret or signature).
    #[error("{0}")]
    Unauthenticated(String),
    /// A webhook body that does not parse: kept for admins as `delivery`, nothing applied.
    #[error("{message}")]
    InvalidPayload { message: String, delivery: i64 },
    /// A failure of the system, not of the request: logged in full, never shown.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    /// "your role may not {what}": the refusal of the role check.
    pub fn role_may_not(what: &str) -> Self {
        Self::Forbidden(format!("your role may not {what}"))
    }

    pub fn internal(what: impl std::fmt::Display) -> Self {
        Self::Internal(what.to_string())
    }

    /// The stable machine-readable code: clients branch on it, so it never changes.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::Forbidden(_) => "forbidden",
            Self::Invalid(_) => "invalid_input",
            Self::IfMatchRequired => "if_match_required",
            Self::IllegalTransition(_) => "illegal_transition",
            Self::Incomplete { .. } => "incomplete",
            Self::UnconfirmedFindings { .. } => "unconfirmed_findings",
            Self::Duplicate(_) => "duplicate",
            Self::VersionConflict(_) => "version_conflict",
            Self::InvalidCursor(_) => "invalid_cursor",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::InvalidPayload { .. } => "invalid_payload",
            Self::Internal(_) => "internal",
        }
    }

    /// What goes with the message: the fields of refused input, what publishing misses or
    /// the findings to confirm; `null` otherwise.
    pub fn details(&self) -> Value {
        match self {
            Self::Invalid(errors) => Value::Array(
                errors
                    .iter()
                    .map(|e| json!({"field": e.field(), "rule": e.rule()}))
                    .collect(),
            ),
            Self::Incomplete { missing, .. } => missing.clone(),
            Self::UnconfirmedFindings { findings, .. } => findings.clone(),
            Self::InvalidPayload { delivery, .. } => json!({"delivery": delivery}),
            _ => Value::Null,
        }
    }
}

impl From<ValidationError> for AppError {
    fn from(error: ValidationError) -> Self {
        Self::Invalid(vec![error])
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Duplicate(message) => Self::Duplicate(message),
            StoreError::VersionConflict { .. } => Self::VersionConflict(error.to_string()),
            StoreError::Invalid(validation) => Self::Invalid(vec![validation]),
            StoreError::Transition(transition) => Self::IllegalTransition(transition.to_string()),
            StoreError::InvalidCursor(_) => Self::InvalidCursor(error.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<crate::accounts::AccountError> for AppError {
    fn from(error: crate::accounts::AccountError) -> Self {
        match error {
            crate::accounts::AccountError::Invalid(validation) => Self::Invalid(vec![validation]),
            crate::accounts::AccountError::Store(store) => store.into(),
            hashing @ crate::accounts::AccountError::Hashing(_) => Self::internal(hashing),
        }
    }
}
