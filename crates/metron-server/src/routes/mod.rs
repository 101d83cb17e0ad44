//! Every endpoint of API v1, declared once: each resource's module has its handlers, their
//! OpenAPI descriptions (`#[utoipa::path]`) and a `routes()` that registers both, so the router
//! and `/openapi.json` come from the same table and an endpoint can't exist undocumented.
//! `crate::api::app` puts them together with the web page, the fallbacks and the limits.

pub mod auth;
pub mod client_version;
pub mod corrections;
pub mod devices;
pub mod events;
pub mod intervals;
pub mod manual;
pub mod reports;
pub mod rules;
pub mod tasks;
pub mod timesheets;
pub mod unusual;
pub mod users;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

/// The API's routes with the document they describe.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .merge(auth::routes())
        .merge(tasks::routes())
        .merge(intervals::routes())
        .merge(reports::routes())
        .merge(rules::routes())
        .merge(users::routes())
        .merge(client_version::routes())
        .merge(events::routes())
        .merge(devices::routes())
        .merge(unusual::routes())
        .merge(manual::routes())
        .merge(corrections::routes())
        .merge(timesheets::routes())
}
