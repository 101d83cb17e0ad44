//! The application: every endpoint of API v1, declared once (each resource's module has its
//! handlers, their OpenAPI descriptions (`#[utoipa::path]`) and a `routes()` that registers
//! both, so the router and `/openapi.json` come from the same table and an endpoint can't exist
//! undocumented), put together by [`app`] with `/openapi.json`, the manager's web page, JSON
//! errors for unknown paths and methods, and the limits every request passes (body size,
//! requests in flight).

pub mod audit;
pub mod auth;
pub mod client_version;
pub mod corrections;
pub mod csv;
pub mod devices;
pub mod events;
pub mod intervals;
pub mod invitations;
pub mod manual;
pub mod mydata;
pub mod organization;
pub mod paging;
pub mod people;
pub mod periods;
pub mod projects;
pub mod reports;
pub mod requests;
pub mod resets;
pub mod rules;
pub mod second_factor;
pub mod sheets;
pub mod sso;
pub mod stream;
pub mod tasks;
pub mod unusual;
pub mod users;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::extract::MAX_BODY_BYTES;
use crate::AppState;

pub use devices::ACTIVE_WINDOW_SECS;
pub use intervals::RANGE_CUT_HEADER;

/// The application: every route of API v1, JSON errors for unknown paths and methods.
pub fn app(state: AppState) -> Router {
    let in_flight = state.limits.max_requests_in_flight;
    let (api, doc) = api().split_for_parts();
    // Written once: the document is the same for every request.
    let doc: Arc<str> = serde_json::to_string(&doc)
        .expect("the OpenAPI document serializes")
        .into();
    api.route(
        "/openapi.json",
        get(move || async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                doc.to_string(),
            )
        }),
    )
    .merge(crate::web::router())
    .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
    .method_not_allowed_fallback(|| async {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            Json(json!({"error": "method not allowed"})),
        )
    })
    .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
    .layer(tower_http::trace::TraceLayer::new_for_http())
    // Past `max_requests_in_flight` requests, answer 503 at once rather than queue.
    .layer(
        tower::ServiceBuilder::new()
            .layer(axum::error_handling::HandleErrorLayer::new(
                |_: tower::BoxError| async { ApiError::Busy { retry_after: 1 } },
            ))
            .load_shed()
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(in_flight)),
    )
    .with_state(state)
}

/// The API's routes with the document they describe.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .merge(auth::routes())
        .merge(tasks::routes())
        .merge(projects::routes())
        .merge(intervals::routes())
        .merge(reports::routes())
        .merge(rules::routes())
        .merge(users::routes())
        .merge(people::routes())
        .merge(invitations::routes())
        .merge(resets::routes())
        .merge(organization::routes())
        .merge(client_version::routes())
        .merge(events::routes())
        .merge(devices::routes())
        .merge(unusual::routes())
        .merge(manual::routes())
        .merge(corrections::routes())
        .merge(sheets::routes())
        .merge(periods::routes())
        .merge(audit::routes())
        .merge(mydata::routes())
        .merge(sso::routes())
        .merge(second_factor::routes())
}
