//! What every HTML form shares: the submitted fields, the CSRF token and `Origin` check, and
//! a refused submission kept with its values and per-field errors so the page can show it
//! again without losing what was typed.

use crate::ApiError;
use crate::auth::SESSION_COOKIE;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use maud::{Markup, html};
use postmortem_app::accounts::secret_hash;
use serde_json::Value;

/// The fields of a submitted form, in order, with repeated names kept (a multiple select
/// sends one pair per chosen option).
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of a field, or the empty string when it was not sent.
    pub(crate) fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// A field's value when it was sent and is not blank.
    pub(crate) fn given(&self, name: &str) -> Option<String> {
        Some(self.get(name)).filter(|v| !v.trim().is_empty())
    }

    /// Every value of a repeated field.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether a checkbox was ticked.
    pub(crate) fn ticked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

/// The CSRF token of a browser session: derived from the session secret, so it needs no
/// storage, differs per session, and cannot be computed by another site.
pub(crate) fn csrf_token(headers: &HeaderMap) -> String {
    CookieJar::from_headers(headers)
        .get(SESSION_COOKIE)
        .map(|cookie| secret_hash(&format!("csrf:{}", cookie.value())))
        .unwrap_or_default()
}

tokio::task_local! {
    /// The CSRF token of the request being answered, for forms drawn by the page frame (the
    /// sign-out button), which is shared by every page and so is not handed the headers.
    static REQUEST_CSRF: String;
}

/// Makes the request's CSRF token available to [`request_csrf_token`] while it is answered.
pub(crate) async fn with_request_csrf(request: Request, next: Next) -> Response {
    let token = csrf_token(request.headers());
    REQUEST_CSRF.scope(token, next.run(request)).await
}

/// The CSRF token of the request being answered; empty outside [`with_request_csrf`].
pub(crate) fn request_csrf_token() -> String {
    REQUEST_CSRF.try_with(Clone::clone).unwrap_or_default()
}

/// The hidden field every state-changing form carries.
pub(crate) fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// Whether a POST comes from a page of this site, by the browser's own word: every browser
/// of the last years sends `Sec-Fetch-Site` or `Origin` (usually both) with a POST. When
/// `strict`, a request with neither is refused; otherwise it passes and the caller relies on
/// its CSRF token. The error says why, in words.
pub(crate) fn check_same_origin(headers: &HeaderMap, strict: bool) -> Result<(), &'static str> {
    let fetch_site = headers.get("sec-fetch-site").map(HeaderValue::as_bytes);
    if let Some(site) = fetch_site
        && site != b"same-origin"
    {
        return Err("the form was sent from another site");
    }
    match headers.get(header::ORIGIN) {
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
            let origin_host = origin
                .to_str()
                .ok()
                .and_then(|o| o.split_once("://"))
                .map(|(_, rest)| rest);
            if host.is_none() || origin_host != host {
                return Err("the form was sent from another site");
            }
        }
        None if strict && fetch_site.is_none() => {
            return Err(
                "the request does not say which site sent it (it has neither an Origin nor a Sec-Fetch-Site header)",
            );
        }
        None => {}
    }
    Ok(())
}

/// The refusal of a form that did not come from one of our pages.
pub(crate) fn cross_site(why: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf",
        format!("{why}; reload the page and submit the form again"),
    )
}

/// Refuses a form that did not come from one of our pages: the CSRF token must match the
/// session's, and `Sec-Fetch-Site` and `Origin`, when the browser sends them, must say this
/// site.
pub(crate) fn check_origin_and_token(headers: &HeaderMap, fields: &Fields) -> Result<(), ApiError> {
    check_same_origin(headers, false).map_err(cross_site)?;
    let expected = csrf_token(headers);
    if expected.is_empty() || fields.get("csrf") != expected {
        return Err(cross_site(
            "the form's security token does not match your session",
        ));
    }
    Ok(())
}

/// A refused submission of one form: what was typed and what was wrong with it.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    /// Which form on the page was refused, such as `timeline`.
    pub form: &'static str,
    pub fields: Fields,
    pub status: StatusCode,
    pub message: String,
    /// Field name to what was wrong with it.
    pub errors: Vec<(String, String)>,
    /// The unmet checks of the completeness check, when publishing was refused.
    pub missing: Vec<String>,
    /// Which item the form edits, when the page holds one such form per item.
    pub item: Option<i64>,
}

impl Problem {
    pub(crate) fn new(form: &'static str, fields: Fields, error: ApiError) -> Self {
        let mut errors = Vec::new();
        let mut missing = Vec::new();
        if let Value::Array(details) = &error.details {
            for detail in details {
                if let (Some(field), Some(rule)) =
                    (detail["field"].as_str(), detail["rule"].as_str())
                {
                    // `services[2]` and `sections.summary` belong to the form's `services`
                    // and `summary` fields.
                    let field = field.split('[').next().unwrap_or(field);
                    let field = field.rsplit('.').next().unwrap_or(field);
                    errors.push((field.to_owned(), rule.to_owned()));
                } else if let Some(message) = detail["message"].as_str() {
                    missing.push(message.to_owned());
                }
            }
        }
        Self {
            form,
            fields,
            status: error.status,
            message: error.message,
            errors,
            missing,
            item: None,
        }
    }
}

/// Looks up what a form should show: the typed values and errors when this form was refused,
/// defaults otherwise.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FormView<'a> {
    form: &'static str,
    /// The item this copy of the form edits, when there is one form per item.
    item: Option<i64>,
    problem: Option<&'a Problem>,
    /// What a fresh form shows, when it edits something that exists.
    defaults: Option<&'a Fields>,
}

impl<'a> FormView<'a> {
    pub(crate) fn of(form: &'static str, problem: Option<&'a Problem>) -> Self {
        Self {
            form,
            item: None,
            problem: problem.filter(|p| p.form == form && p.item.is_none()),
            defaults: None,
        }
    }

    /// The form that edits `item`, one of several alike on the page: fresh, it shows
    /// `defaults`; refused, what was typed into this one.
    pub(crate) fn for_item(
        form: &'static str,
        item: i64,
        problem: Option<&'a Problem>,
        defaults: &'a Fields,
    ) -> Self {
        Self {
            form,
            item: Some(item),
            problem: problem.filter(|p| p.form == form && p.item == Some(item)),
            defaults: Some(defaults),
        }
    }

    /// A form that edits something: fresh, it shows `defaults` (the current values).
    pub(crate) fn editing(
        form: &'static str,
        problem: Option<&'a Problem>,
        defaults: &'a Fields,
    ) -> Self {
        Self {
            defaults: Some(defaults),
            ..Self::of(form, problem)
        }
    }

    pub(crate) fn refused(&self) -> Option<&'a Problem> {
        self.problem
    }

    /// Whether the form shows values someone chose (typed, or stored), not blank defaults.
    pub(crate) fn has_chosen_values(&self) -> bool {
        self.problem.is_some() || self.defaults.is_some()
    }

    /// The typed value of a field, or `default` when the form is fresh.
    pub(crate) fn value(&self, name: &str, default: &str) -> String {
        match (self.problem, self.defaults) {
            (Some(problem), _) => problem.fields.get(name),
            (None, Some(defaults)) => defaults.get(name),
            (None, None) => default.to_owned(),
        }
    }

    pub(crate) fn ticked(&self, name: &str, default: bool) -> bool {
        match (self.problem, self.defaults) {
            (Some(problem), _) => problem.fields.ticked(name),
            (None, Some(defaults)) => defaults.ticked(name),
            (None, None) => default,
        }
    }

    pub(crate) fn error(&self, name: &str) -> Option<String> {
        let problem = self.problem?;
        let messages: Vec<&str> = problem
            .errors
            .iter()
            .filter(|(field, _)| field == name)
            .map(|(_, rule)| rule.as_str())
            .collect();
        (!messages.is_empty()).then(|| messages.join("; "))
    }

    /// The id of a field's error message, for `aria-describedby`.
    pub(crate) fn error_id(&self, name: &str) -> String {
        format!("{}-error", self.id(name))
    }

    /// The id of a field, unique on the page.
    pub(crate) fn id(&self, name: &str) -> String {
        match self.item {
            Some(item) => format!("{}-{item}-{name}", self.form),
            None => format!("{}-{name}", self.form),
        }
    }

    /// A field's error, shown under it and announced by screen readers.
    pub(crate) fn error_text(&self, name: &str) -> Markup {
        html! {
            @if let Some(message) = self.error(name) {
                span.field-error id=(self.error_id(name)) { (message) }
            }
        }
    }

    /// The summary of a refused form: its message, and errors not tied to a shown field.
    pub(crate) fn summary(&self) -> Markup {
        html! {
            @if let Some(problem) = self.problem {
                div.error role="alert" tabindex="-1" id=(self.id("problem")) {
                    @match problem.errors.len() {
                        // Each field's error sits beside it, in words; the summary only counts them.
                        0 => p { (problem.message) },
                        1 => p { "This was not saved: one field below needs attention." },
                        n => p { "This was not saved: " (n) " fields below need attention." },
                    }
                    @if !problem.missing.is_empty() {
                        ul { @for item in &problem.missing { li { (item) } } }
                    }
                }
            }
        }
    }
}
