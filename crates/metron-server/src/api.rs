//! The HTTP API v1 (SPEC §4): routes and handlers. Handlers stay thin: they check input,
//! call the database trait, and shape answers.

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use metron_core::wire::{ActiveDevice, IngestResponse, IngestResult, LoginRequest, LoginResponse, NewTask, Task, User};
use metron_core::Interval;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;

use crate::auth::{decoy_hash, hash_password, new_token, token_hash, verify_password, AuthUser};
use crate::body::{JsonBody, MAX_BODY_BYTES};
use crate::error::ApiError;
use crate::ingest::{self, Judged};
use crate::{openapi, reports, AppState};

/// The application: every route of API v1, JSON errors for unknown paths and methods.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/tasks", get(list_tasks).post(create_task))
        .route("/api/v1/intervals", get(list_intervals).post(post_intervals))
        .route("/api/v1/devices/active", get(active_devices))
        .route("/api/v1/reports/daily", get(reports::daily))
        .route("/api/v1/reports/daily.csv", get(reports::daily_csv))
        .route("/api/v1/reports/team", get(reports::team))
        .route("/api/v1/rules", get(reports::list_rules).post(reports::create_rule))
        .route("/api/v1/rules/{id}", axum::routing::put(reports::update_rule).delete(reports::delete_rule))
        .route("/openapi.json", get(openapi::serve))
        .merge(crate::web::router())
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .method_not_allowed_fallback(|| async { (StatusCode::METHOD_NOT_ALLOWED, Json(json!({"error": "method not allowed"}))) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Health of the server.
#[utoipa::path(get, path = "/api/v1/health", responses((status = 200, description = "The server is up", body = Value, example = json!({"status": "ok"}))))]
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The peer address, when the server was started with connect info (absent in oneshot tests).
fn peer(req_ext: &axum::http::Extensions) -> String {
    req_ext.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// Sign in with email and password; answers a bearer token.
#[utoipa::path(post, path = "/api/v1/login", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody),
    (status = 429, body = metron_core::wire::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ext: axum::http::Extensions,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let email = req.email.trim().to_lowercase();
    state
        .login_limiter
        .check(&[format!("email:{email}"), format!("ip:{}", peer(&ext))])
        .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
    let found = state.db.user_by_email(&email).await?;
    let hash = found.as_ref().map_or_else(|| decoy_hash().to_string(), |(_, hash)| hash.clone());
    let password = req.password;
    // argon2 takes tens of ms: off the async workers. Unknown emails pay it too (decoy_hash).
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false);
    let Some((row, _)) = found.filter(|_| ok) else { return Err(ApiError::BadCredentials) };
    let token = new_token();
    state.db.store_token(&token_hash(&token), &row.user.id, Utc::now().timestamp()).await?;
    Ok(Json(LoginResponse { token, user: row.user }))
}

/// Revoke the token used for this request.
#[utoipa::path(post, path = "/api/v1/logout", security(("bearer" = [])), responses((status = 204), (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn logout(State(state): State<AppState>, auth: AuthUser) -> Result<StatusCode, ApiError> {
    state.db.revoke_token(&auth.token_hash, Utc::now().timestamp()).await?;
    state.auth.evict(&auth.token_hash);
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", security(("bearer" = [])), responses((status = 200, body = User), (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn me(auth: AuthUser) -> Json<User> {
    Json(auth.user.user)
}

/// The tasks of the user's organization.
#[utoipa::path(get, path = "/api/v1/tasks", security(("bearer" = [])), responses((status = 200, body = Vec<Task>), (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn list_tasks(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Vec<Task>>, ApiError> {
    Ok(Json(state.db.tasks(&auth.user.org_id).await?))
}

/// Create a task in the user's organization.
#[utoipa::path(post, path = "/api/v1/tasks", security(("bearer" = [])), request_body = NewTask, responses(
    (status = 201, body = Task),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn create_task(State(state): State<AppState>, auth: AuthUser, JsonBody(task): JsonBody<NewTask>) -> Result<Response, ApiError> {
    let name = task.name.trim();
    if name.is_empty() || name.chars().count() > 200 || task.project.chars().count() > 200 {
        return Err(ApiError::BadRequest("a task needs a name of 1 to 200 characters (project at most 200)".into()));
    }
    let task = NewTask { name: name.to_string(), project: task.project.trim().to_string() };
    let created = state.db.create_task(&auth.user.org_id, &task).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Deliver intervals: 1..=500 a request, one result per interval in request order.
#[utoipa::path(post, path = "/api/v1/intervals", security(("bearer" = [])), request_body = crate::openapi::IntervalBatch, responses(
    (status = 200, body = IngestResponse),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody),
    (status = 503, body = metron_core::wire::ErrorBody)))]
pub async fn post_intervals(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<IngestResponse>, ApiError> {
    let items = ingest::items(body)?;
    let now = Utc::now().timestamp();
    let mut results = Vec::with_capacity(items.len());
    let mut candidates = Vec::new();
    let mut slots = Vec::new();
    // A day past retention is kept only as its report: an interval for it could not be added.
    let oldest = now - i64::from(state.retention_days) * 86_400;
    for item in items {
        match ingest::judge(item, now) {
            Judged::Decided(result) => results.push(Some(result)),
            Judged::Candidate(c) if c.interval.ended_at.timestamp() < oldest => results.push(Some(IngestResult::rejected(
                Some(c.interval.id.to_string()),
                format!("invalid: older than the {} days this server keeps intervals", state.retention_days),
            ))),
            Judged::Candidate(c) => {
                slots.push(results.len());
                results.push(None);
                candidates.push(c);
            }
        }
    }
    if !candidates.is_empty() {
        let stored = state.db.ingest(&auth.user, candidates).await?;
        for (slot, result) in slots.into_iter().zip(stored) {
            results[slot] = Some(result);
        }
    }
    Ok(Json(IngestResponse { results: results.into_iter().map(|r| r.expect("every slot is filled")).collect() }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Range {
    /// Start of the range (RFC 3339).
    #[param(format = DateTime)]
    from: String,
    /// End of the range (RFC 3339), exclusive.
    #[param(format = DateTime)]
    to: String,
}

fn parse_time(name: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ApiError::BadRequest(format!("{name} must be an RFC 3339 time such as 2026-11-23T00:00:00Z")))
}

/// The caller's intervals that overlap [from, to).
#[utoipa::path(get, path = "/api/v1/intervals", security(("bearer" = [])), params(Range), responses(
    (status = 200, body = Vec<Interval>),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn list_intervals(
    State(state): State<AppState>,
    auth: AuthUser,
    range: Result<Query<Range>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Interval>>, ApiError> {
    let Query(range) = range.map_err(|e| ApiError::BadRequest(format!("from and to are required: {e}")))?;
    let (from, to) = (parse_time("from", &range.from)?, parse_time("to", &range.to)?);
    if to < from {
        return Err(ApiError::BadRequest("to is before from".into()));
    }
    Ok(Json(state.db.intervals(&auth.user.user.id, from.timestamp(), to.timestamp()).await?))
}

/// How recent an interval's end must be for its device to count as tracking now.
pub const ACTIVE_WINDOW_SECS: i64 = 180;

/// The caller's devices that delivered an interval ending in the last 3 minutes: another device
/// of the same account is probably tracking at the same time.
#[utoipa::path(get, path = "/api/v1/devices/active", security(("bearer" = [])), responses(
    (status = 200, body = Vec<ActiveDevice>),
    (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn active_devices(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Vec<ActiveDevice>>, ApiError> {
    let since = Utc::now().timestamp() - ACTIVE_WINDOW_SECS;
    Ok(Json(state.db.active_devices(&auth.user.user.id, since).await?))
}

/// Creates a user (for the CLI and tests): hashes the password, creates the organization.
pub async fn add_user(state: &AppState, org: &str, email: &str, name: &str, password: &str, admin: bool) -> Result<User, ApiError> {
    if password.len() < 8 {
        return Err(ApiError::BadRequest("a password needs at least 8 characters".into()));
    }
    let org_id = state.db.organization(org).await?;
    let hash = hash_password(password)?;
    Ok(state.db.create_user(&org_id, &email.trim().to_lowercase(), name, &hash, admin).await?.user)
}
