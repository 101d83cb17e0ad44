//! The manager's web page (SPEC R3): static files compiled into the binary and served at `/`,
//! `/app.js`, its modules and `/style.css`. The page is a plain ES module that signs in and reads the
//! report endpoints of API v1 with a bearer token, so it needs no server-side session, no build
//! step and nothing from the internet.

use axum::http::header::{self, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::AppState;

const INDEX_HTML: &str = include_str!("../web/index.html");

/// The page's other files: (path, content type, body). A module the page imports is listed here.
const FILES: &[(&str, &str, &str)] = &[
    ("/app.js", JS, include_str!("../web/app.js")),
    ("/timesheet.js", JS, include_str!("../web/timesheet.js")),
    ("/pages.js", JS, include_str!("../web/pages.js")),
    ("/i18n.js", JS, include_str!("../web/i18n.js")),
    ("/settings.js", JS, include_str!("../web/settings.js")),
    ("/mydata.js", JS, include_str!("../web/mydata.js")),
    ("/account.js", JS, include_str!("../web/account.js")),
    ("/people.js", JS, include_str!("../web/people.js")),
    ("/projects.js", JS, include_str!("../web/projects.js")),
    ("/sso.js", JS, include_str!("../web/sso.js")),
    (
        "/style.css",
        "text/css; charset=utf-8",
        include_str!("../web/style.css"),
    ),
];
const JS: &str = "text/javascript; charset=utf-8";

/// Only the page's own files may run or style it, and it may talk only to this server. Bar widths
/// and timeline positions are set through the CSSOM (`element.style.width`), which
/// `style-src 'self'` allows, so no inline style or script is needed. `blob:` lets the CSV export
/// be saved as a download.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The routes of the page; merged into [`crate::app`].
pub fn router() -> Router<AppState> {
    let index = || async { page("text/html; charset=utf-8", INDEX_HTML) };
    FILES.iter().fold(
        Router::new()
            .route("/", get(index))
            .route("/index.html", get(index)),
        |router, &(path, content_type, body)| {
            router.route(path, get(move || async move { page(content_type, body) }))
        },
    )
}

fn page(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            // The files change only with the binary; revalidating is cheap and avoids a stale
            // app.js talking to a newer API after an upgrade.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        ],
        body,
    )
}
