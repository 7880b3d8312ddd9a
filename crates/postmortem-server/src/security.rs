//! Headers that make the browser enforce what the pages promise: a Content-Security-Policy
//! without inline script or style (all script is `/static/app.js`, all style `/static/app.css`,
//! and stored text is sanitised besides), no MIME sniffing, no framing, and a referrer policy
//! that keeps incident paths from leaking to other sites.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy of every response. `data:` images are allowed for charts and
/// pasted screenshots; `connect-src` falls back to `'self'`, which covers the live-update
/// event stream and the editor's calls to the API.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

/// The referrer sent with links to other sites: the origin only, so incident paths and
/// search queries stay here.
pub const REFERRER_POLICY: &str = "strict-origin-when-cross-origin";

/// Adds the security headers to every response of `router`, unless a handler set its own.
pub fn with_headers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    router
        .layer(header(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(header::REFERRER_POLICY, REFERRER_POLICY))
}
