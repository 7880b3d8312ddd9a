//! The one error type of the API: a stable machine-readable code, an HTTP status and a human
//! message, rendered as `{"error": {"code", "message", "details"}}`. Server-side failures are
//! logged in full and answered with a generic message, so internals never leak.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use postmortem_app::AppError;
use postmortem_core::ValidationError;
use postmortem_store::StoreError;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    #[must_use]
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in, or send `Authorization: Bearer TOKEN` (make a token on your account page, /account, or with `postmortem user create ... --token`)",
        )
    }

    /// A bearer token that exists but may no longer be used, saying why and what to do.
    pub fn token_refused(state: postmortem_store::TokenState) -> Self {
        let (code, why) = match state {
            postmortem_store::TokenState::Expired => {
                ("token_expired", "this API token has expired")
            }
            _ => ("token_revoked", "this API token was revoked"),
        };
        Self::new(
            StatusCode::UNAUTHORIZED,
            code,
            format!(
                "{why}; create a new one on your account page (/account) or with `POST /api/v1/tokens`"
            ),
        )
    }

    pub fn forbidden(what: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("your role may not {what}"),
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// Refused input: every field that was wrong, each with its rule.
    pub fn invalid(errors: Vec<ValidationError>) -> Self {
        let message = errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        let details: Vec<Value> = errors
            .iter()
            .map(|e| json!({"field": e.field(), "rule": e.rule()}))
            .collect();
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
            .with_details(Value::Array(details))
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on the server; the details are in its log",
        )
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        Self::invalid(vec![error])
    }
}

impl From<postmortem_app::accounts::AccountError> for ApiError {
    fn from(error: postmortem_app::accounts::AccountError) -> Self {
        AppError::from(error).into()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        AppError::from(error).into()
    }
}

/// The one place the application's errors become HTTP answers: the code and message stay
/// as the application says, the status follows from the code, and a failure of the system
/// is logged and answered without its details.
impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let status = match &error {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Invalid(errors) => return Self::invalid(errors.clone()),
            AppError::IfMatchRequired => StatusCode::PRECONDITION_REQUIRED,
            AppError::IllegalTransition(_)
            | AppError::Incomplete { .. }
            | AppError::UnconfirmedFindings { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Duplicate(_) => StatusCode::CONFLICT,
            AppError::VersionConflict(_) => StatusCode::PRECONDITION_FAILED,
            AppError::InvalidCursor(_) | AppError::InvalidPayload { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::Internal(_) => return Self::internal(error),
        };
        Self::new(status, error.code(), error.to_string()).with_details(error.details())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            json!({"error": {"code": self.code, "message": self.message, "details": self.details}});
        (self.status, axum::Json(body)).into_response()
    }
}
