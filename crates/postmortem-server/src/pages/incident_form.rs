//! The one shape of every form posted from the incident page: an extractor that signs the
//! person in, reads the path and the fields, and checks that the form came from our own page;
//! and one answer, 303 back to the page or the page again with the typed values and errors.
//!
//! A form handler is then three steps, as a JSON handler is: turn the fields into the app's
//! input, call one app function, answer. The JSON handlers of `api/` take the same inputs.

use super::forms::{Fields, Problem, check_origin_and_token};
use super::incident::{not_found, refusal, render};
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use postmortem_app::{AppError, Service};
use postmortem_core::{IncidentId, User};
use serde::de::DeserializeOwned;

/// The path parameters a form is posted to: the incident first, then what on it.
pub(crate) trait FormPath: DeserializeOwned + Send {
    /// The incident whose page sent the form.
    fn incident(&self) -> i64;
    /// The item the form edits, when the page has one such form per item, so that a refused
    /// form's errors show beside that item.
    fn item(&self) -> Option<i64> {
        None
    }
}

/// `/incidents/{id}/...`
impl FormPath for i64 {
    fn incident(&self) -> i64 {
        *self
    }
}

/// `/incidents/{id}/<things>/{item_id}...`
impl FormPath for (i64, i64) {
    fn incident(&self) -> i64 {
        self.0
    }
    fn item(&self) -> Option<i64> {
        Some(self.1)
    }
}

/// `/incidents/{id}/members/{handle}/...`
impl FormPath for (i64, String) {
    fn incident(&self) -> i64 {
        self.0
    }
}

/// A form posted from the incident page by a signed-in person, from our own origin with the
/// page's CSRF token. A form from elsewhere is answered with the refusal page.
pub(crate) struct IncidentForm<P: FormPath = i64> {
    state: AppState,
    user: User,
    headers: HeaderMap,
    /// The path the form was posted to.
    pub path: P,
    /// What the person typed and ticked.
    pub fields: Fields,
}

impl<P: FormPath + 'static> FromRequest<AppState> for IncidentForm<P> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let PageUser(user) = PageUser::from_request_parts(&mut parts, state).await?;
        let Path(path) = Path::<P>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let Form(fields) =
            Form::<Vec<(String, String)>>::from_request(Request::from_parts(parts, body), state)
                .await
                .map_err(IntoResponse::into_response)?;
        let fields = Fields(fields);
        if let Err(error) = check_origin_and_token(&headers, &fields) {
            return Err(refusal(&user, &error));
        }
        Ok(Self {
            state: state.clone(),
            user,
            headers,
            path,
            fields,
        })
    }
}

impl<P: FormPath> IncidentForm<P> {
    /// The app, acting for the person who sent the form.
    pub(crate) fn app(&self) -> Service<'_> {
        self.state.app.acting_for(&self.user)
    }

    /// The incident whose page sent the form.
    pub(crate) fn incident(&self) -> IncidentId {
        IncidentId::new(self.path.incident())
    }

    /// Answers the app's result: 303 to `#anchor` of the incident page when it worked; the
    /// not-found or refusal page when the person may not see or do it; otherwise the page
    /// again with form `form` holding the typed values and the errors (422).
    pub(crate) async fn answer<T>(
        self,
        form: &'static str,
        anchor: &'static str,
        result: Result<T, AppError>,
    ) -> Result<Response, ApiError> {
        let id = self.path.incident();
        match result.map_err(ApiError::from) {
            Ok(_) => Ok(Redirect::to(&format!("/incidents/{id}#{anchor}")).into_response()),
            Err(error) if error.status == StatusCode::NOT_FOUND => Ok(not_found(&self.user, id)),
            Err(error) if error.status == StatusCode::FORBIDDEN => Ok(refusal(&self.user, &error)),
            Err(error) if error.status.is_server_error() => Err(error),
            Err(error) => {
                let problem = Problem {
                    item: self.path.item(),
                    ..Problem::new(form, self.fields, error)
                };
                render(&self.state, &self.user, &self.headers, id, Some(problem)).await
            }
        }
    }

    /// Answers a form whose refusals are not about its fields: 303 to `to` when it worked,
    /// the refusal page in words when it did not.
    pub(crate) fn answer_elsewhere<T>(self, to: &str, result: Result<T, AppError>) -> Response {
        match result {
            Ok(_) => Redirect::to(to).into_response(),
            Err(error) => refusal(&self.user, &ApiError::from(error)),
        }
    }
}
