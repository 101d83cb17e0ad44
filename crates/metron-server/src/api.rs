//! The application: API v1's routes (declared in `crate::routes`), `/openapi.json` derived from
//! them, the manager's web page, JSON errors for unknown paths and methods, and the limits every
//! request passes (body size, requests in flight).

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use metron_core::wire::User;
use serde_json::json;
use std::sync::Arc;

use crate::error::ApiError;
use crate::extract::MAX_BODY_BYTES;
use crate::{accounts, AppState};

pub use crate::routes::devices::ACTIVE_WINDOW_SECS;
pub use crate::routes::intervals::RANGE_CUT_HEADER;

/// The application: every route of API v1, JSON errors for unknown paths and methods.
pub fn app(state: AppState) -> Router {
    let in_flight = state.limits.max_requests_in_flight;
    let (api, doc) = crate::routes::api().split_for_parts();
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

/// Creates a user (for the CLI, local mode and tests): see [`accounts::add_user`].
pub async fn add_user(
    state: &AppState,
    org: &str,
    email: &str,
    name: &str,
    password: &str,
    admin: bool,
) -> Result<User, ApiError> {
    Ok(accounts::add_user(state, org, email, name, password, admin).await?)
}
