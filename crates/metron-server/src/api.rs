//! The HTTP API v1 (SPEC §4): routes and handlers. Handlers stay thin: they check input,
//! call the database trait, and shape answers.

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use metron_core::wire::{
    ActiveDevice, IngestResponse, IngestResult, LoginRequest, LoginResponse, NewTask, Task, User,
};
use metron_core::Interval;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;

use crate::auth::{decoy_hash, new_token, token_hash, verify_password, AuthUser, MAX_EMAIL_BYTES};
use crate::body::{JsonBody, MAX_BODY_BYTES};
use crate::db::TaskCreation;
use crate::error::ApiError;
use crate::ingest::{self, Judged};
use crate::{accounts, openapi, reports, users, AppState};
use metron_core::limits;
use std::sync::Arc;

/// The application: every route of API v1, JSON errors for unknown paths and methods.
pub fn app(state: AppState) -> Router {
    let in_flight = state.limits.max_requests_in_flight;
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/tasks", get(list_tasks).post(create_task))
        .route(
            "/api/v1/intervals",
            get(list_intervals).post(post_intervals),
        )
        .route("/api/v1/devices/active", get(active_devices))
        .route("/api/v1/reports/daily", get(reports::daily))
        .route("/api/v1/reports/daily.csv", get(reports::daily_csv))
        .route("/api/v1/reports/team", get(reports::team))
        .route(
            "/api/v1/rules",
            get(reports::list_rules).post(reports::create_rule),
        )
        .route(
            "/api/v1/rules/{id}",
            axum::routing::put(reports::update_rule).delete(reports::delete_rule),
        )
        .route("/api/v1/users/{id}/disable", post(users::disable))
        .route("/api/v1/users/{id}/enable", post(users::enable))
        .route(
            "/api/v1/users/{id}/revoke-tokens",
            post(users::revoke_tokens),
        )
        .route(
            "/api/v1/users/{id}/password",
            axum::routing::put(users::set_password),
        )
        .route(
            "/api/v1/organization/settings",
            get(users::org_settings).put(users::set_org_settings),
        )
        .route("/openapi.json", get(openapi::serve))
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

/// Health of the server.
#[utoipa::path(get, path = "/api/v1/health", responses((status = 200, description = "The server is up", body = Value, example = json!({"status": "ok"}))))]
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The client's address: the peer's, or through a trusted proxy the one it forwarded. Absent in
/// oneshot tests that set no connect info.
fn client_address(state: &AppState, parts: &axum::http::request::Parts) -> String {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let forwarded = parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    state
        .limits
        .client_address(peer, forwarded)
        .map_or_else(|| "unknown".into(), |a| a.to_string())
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
    parts: axum::http::request::Parts,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    // Refused before any state is kept: a megabyte of email would otherwise sit in the limiter.
    if req.email.len() > MAX_EMAIL_BYTES || req.password.len() > accounts::MAX_PASSWORD_BYTES {
        return Err(ApiError::BadRequest(format!(
            "an email has at most {MAX_EMAIL_BYTES} bytes and a password at most {} bytes",
            accounts::MAX_PASSWORD_BYTES
        )));
    }
    if req.device_id.as_ref().is_some_and(|d| d.len() > 64) {
        return Err(ApiError::BadRequest(
            "device_id has at most 64 bytes".into(),
        ));
    }
    let email = req.email.trim().to_lowercase();
    let address = client_address(&state, &parts);
    state
        .login_limiter
        .check(&email, &address)
        .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
    // argon2 takes tens of ms and megabytes: a few at once, the rest told to come back.
    let permit = tokio::time::timeout(
        state.limits.hashing_wait,
        Arc::clone(&state.hashing).acquire_owned(),
    )
    .await
    .map_err(|_| ApiError::Busy { retry_after: 1 })?
    .map_err(|_| ApiError::Busy { retry_after: 1 })?;
    let found = state.db.user_by_email(&email).await?;
    let hash = found
        .as_ref()
        .map_or_else(|| decoy_hash().to_string(), |(_, hash)| hash.clone());
    let password = req.password;
    // Off the async workers. Unknown emails pay it too (decoy_hash).
    let ok = tokio::task::spawn_blocking(move || {
        let ok = verify_password(&password, &hash);
        drop(permit);
        ok
    })
    .await
    .unwrap_or(false);
    // A disabled user is told no more than a wrong password would tell.
    let Some((row, _)) = found.filter(|(row, _)| ok && !row.disabled) else {
        state.login_limiter.failed(&email, &address);
        return Err(ApiError::BadCredentials);
    };
    state.login_limiter.succeeded(&email, &address);
    let now = Utc::now().timestamp();
    if let Some(device) = req.device_id.as_deref() {
        if state
            .db
            .revoke_user_tokens(&row.user.id, Some(device), now)
            .await?
            > 0
        {
            state.db.bump_revocation_epoch().await?;
        }
    }
    let token = new_token();
    state
        .db
        .store_token(
            &token_hash(&token),
            &row.user.id,
            req.device_id.as_deref(),
            now,
        )
        .await?;
    Ok(Json(LoginResponse {
        token,
        user: row.user,
    }))
}

/// Revoke the token used for this request.
#[utoipa::path(post, path = "/api/v1/logout", security(("bearer" = [])), responses((status = 204), (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn logout(State(state): State<AppState>, auth: AuthUser) -> Result<StatusCode, ApiError> {
    state
        .db
        .revoke_token(&auth.token_hash, Utc::now().timestamp())
        .await?;
    state.auth.evict(&auth.token_hash);
    state.db.bump_revocation_epoch().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", security(("bearer" = [])), responses((status = 200, body = User), (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn me(auth: AuthUser) -> Json<User> {
    Json(auth.user.user)
}

/// The tasks of the user's organization.
#[utoipa::path(get, path = "/api/v1/tasks", security(("bearer" = [])), responses((status = 200, body = Vec<Task>), (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<Task>>, ApiError> {
    Ok(Json(state.db.tasks(&auth.user.org_id).await?))
}

/// Create a task in the user's organization.
#[utoipa::path(post, path = "/api/v1/tasks", security(("bearer" = [])), request_body = NewTask, responses(
    (status = 201, body = Task),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn create_task(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(task): JsonBody<NewTask>,
) -> Result<Response, ApiError> {
    let org = &auth.user.org_id;
    if !auth.user.user.admin && state.db.task_creation(org).await? == TaskCreation::Admins {
        return Err(ApiError::Forbidden(
            "in this organization only admins create tasks".into(),
        ));
    }
    let task = checked_task(task)?;
    state
        .task_limiter
        .hit(&auth.user.user.id)
        .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
    let cap = state.limits.max_tasks_per_org;
    if state.db.count_tasks(org).await? >= cap {
        return Err(ApiError::Conflict(format!(
            "the organization has {cap} tasks, the most it may have"
        )));
    }
    let created = state.db.create_task(org, &task).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// A task's name and project, trimmed and checked against the limits of `metron_core::limits`.
fn checked_task(task: NewTask) -> Result<NewTask, ApiError> {
    let task = NewTask {
        name: task.name.trim().to_string(),
        project: task.project.trim().to_string(),
    };
    limits::check_text("name", &task.name, limits::MAX_TASK_TEXT).map_err(ApiError::BadRequest)?;
    limits::check_text("project", &task.project, limits::MAX_TASK_TEXT)
        .map_err(ApiError::BadRequest)?;
    if task.name.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "a task needs a name of 1 to {} bytes",
            limits::MAX_TASK_TEXT
        )));
    }
    Ok(task)
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
            Judged::Candidate(c) if c.interval.ended_at.timestamp() < oldest => {
                results.push(Some(IngestResult::rejected(
                    Some(c.interval.id.to_string()),
                    format!(
                        "invalid: older than the {} days this server keeps intervals",
                        state.retention_days
                    ),
                )))
            }
            Judged::Candidate(c) => {
                slots.push(results.len());
                results.push(None);
                candidates.push(c);
            }
        }
    }
    let candidates = within_daily_bytes(
        &state,
        &auth.user.user.id,
        candidates,
        &mut slots,
        &mut results,
    )
    .await?;
    if !candidates.is_empty() {
        let stored = state.db.ingest(&auth.user, candidates).await?;
        for (slot, result) in slots.into_iter().zip(stored) {
            results[slot] = Some(result);
        }
    }
    Ok(Json(IngestResponse {
        results: results
            .into_iter()
            .map(|r| r.expect("every slot is filled"))
            .collect(),
    }))
}

/// Keeps the candidates that fit the user's stored bytes for their UTC day (by start); the
/// others are refused `invalid: ...`. A soft cap: two requests racing for the same day's last
/// bytes may both get in, which only bounds the overshoot to one request's worth.
async fn within_daily_bytes(
    state: &AppState,
    user_id: &str,
    candidates: Vec<crate::db::Candidate>,
    slots: &mut Vec<usize>,
    results: &mut [Option<IngestResult>],
) -> Result<Vec<crate::db::Candidate>, ApiError> {
    let cap = state.limits.max_bytes_per_user_day;
    let mut used: std::collections::HashMap<i64, u64> = std::collections::HashMap::new();
    let mut kept = Vec::with_capacity(candidates.len());
    let mut kept_slots = Vec::with_capacity(slots.len());
    for (candidate, slot) in candidates.into_iter().zip(slots.drain(..)) {
        let day = candidate.interval.started_at.timestamp().div_euclid(86_400) * 86_400;
        let so_far = match used.get(&day) {
            Some(n) => *n,
            None => state.db.stored_bytes(user_id, day, day + 86_400).await?,
        };
        let size = candidate.body.len() as u64;
        if so_far.saturating_add(size) > cap {
            results[slot] = Some(IngestResult::rejected(
                Some(candidate.interval.id.to_string()),
                format!("invalid: over the {cap} bytes one person may store a day"),
            ));
            used.insert(day, so_far);
            continue;
        }
        used.insert(day, so_far + size);
        kept.push(candidate);
        kept_slots.push(slot);
    }
    *slots = kept_slots;
    Ok(kept)
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
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "{name} must be an RFC 3339 time such as 2026-11-23T00:00:00Z"
            ))
        })
}

/// The caller's intervals that overlap [from, to).
#[utoipa::path(get, path = "/api/v1/intervals", security(("bearer" = [])), params(Range), responses(
    (status = 200, body = Vec<Interval>, headers(("metron-range-cut-at" = String, description = "Present when the range was wider than 31 days: the end the answer stops at"))),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn list_intervals(
    State(state): State<AppState>,
    auth: AuthUser,
    range: Result<Query<Range>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(range) =
        range.map_err(|e| ApiError::BadRequest(format!("from and to are required: {e}")))?;
    let (from, to) = (
        parse_time("from", &range.from)?,
        parse_time("to", &range.to)?,
    );
    if to < from {
        return Err(ApiError::BadRequest("to is before from".into()));
    }
    // A wider range is cut to the widest one served, and the answer says where it stops.
    let widest = chrono::Duration::seconds(
        i64::try_from(state.limits.max_interval_range.as_secs()).unwrap_or(i64::MAX),
    );
    let cut_at = from.checked_add_signed(widest).filter(|end| *end < to);
    let to = cut_at.unwrap_or(to);
    let intervals = state
        .db
        .intervals(&auth.user.user.id, from.timestamp(), to.timestamp())
        .await?;
    let mut response = Json(intervals).into_response();
    if let Some(end) = cut_at {
        let value = axum::http::HeaderValue::from_str(
            &end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
        .expect("a time is a valid header");
        response.headers_mut().insert(RANGE_CUT_HEADER, value);
    }
    Ok(response)
}

/// Set on `GET /api/v1/intervals` when the range asked for was wider than the server serves:
/// the end (RFC 3339) the answer stops at. Ask again from there for the rest.
pub const RANGE_CUT_HEADER: &str = "metron-range-cut-at";

/// How recent an interval's end must be for its device to count as tracking now.
pub const ACTIVE_WINDOW_SECS: i64 = 180;

/// The caller's devices that delivered an interval ending in the last 3 minutes: another device
/// of the same account is probably tracking at the same time.
#[utoipa::path(get, path = "/api/v1/devices/active", security(("bearer" = [])), responses(
    (status = 200, body = Vec<ActiveDevice>),
    (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn active_devices(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<ActiveDevice>>, ApiError> {
    let since = Utc::now().timestamp() - ACTIVE_WINDOW_SECS;
    Ok(Json(
        state.db.active_devices(&auth.user.user.id, since).await?,
    ))
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
