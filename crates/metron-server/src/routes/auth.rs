//! Signing in and out, who is signed in, and the server's health.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use metron_core::wire::{LoginRequest, LoginResponse, User};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::accounts;
use crate::auth::{decoy_hash, new_token, token_hash, verify_password, MAX_EMAIL_BYTES};
use crate::error::ApiError;
use crate::extract::{JsonBody, Session};
use crate::second_factor;
use crate::AppState;
use metron_core::wire::SECOND_FACTOR_SETUP_REQUIRED;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// Health of the server.
#[utoipa::path(get, tag = "auth", path = "/api/v1/health", responses((status = 200, description = "The server is up", body = Value, example = json!({"status": "ok"}))))]
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The client's address: the peer's, or through a trusted proxy the one it forwarded. Absent in
/// oneshot tests that set no connect info.
pub(crate) fn client_address(state: &AppState, parts: &axum::http::request::Parts) -> String {
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

/// Sign in with email and password (and, where the person's two-factor codes are on, a code
/// or a recovery code); answers a bearer token. 401 `second_factor_required: ...` when the
/// password was right and a code is needed, `second_factor_invalid: ...` when the code was
/// wrong, out of its window or used; 403 `second_factor_setup_required: ...` when a device
/// signs in for a person the organization requires codes of who has not set them up (the page
/// signs such a person in to set them up only).
#[utoipa::path(post, tag = "auth", path = "/api/v1/login", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, description = "The organization signs in with its identity provider only, or requires two-factor codes a device can't set up", body = metron_core::wire::ErrorBody),
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
    if req
        .second_factor
        .as_ref()
        .is_some_and(|c| c.len() > second_factor::MAX_SECOND_FACTOR_BYTES)
    {
        return Err(ApiError::BadRequest(format!(
            "second_factor has at most {} bytes",
            second_factor::MAX_SECOND_FACTOR_BYTES
        )));
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
    // SSO-only: the password was right, but the organization signs in through its provider
    // (said only to someone who knew the password, and before any code is asked).
    if let Err(refused) =
        passwords_allowed(&state, &row.org_id, &row.user.email, row.user.admin).await
    {
        state.login_limiter.succeeded(&email, &address);
        return Err(refused);
    }
    second_factor_check(&state, &row, req.second_factor.as_deref(), &email, &address).await?;
    state.login_limiter.succeeded(&email, &address);
    if req.device_id.is_some() && must_set_up(&state, &row).await? {
        // A device can't show the set-up; the page can, with a session good for nothing else.
        return Err(ApiError::Forbidden(format!(
            "{SECOND_FACTOR_SETUP_REQUIRED}: your organization requires two-factor codes; set \
             them up on the web page first, then sign in here"
        )));
    }
    sign_in(&state, row, req.device_id.as_deref())
        .await
        .map(Json)
}

/// The second factor of a person whose password was right, where their codes are on: none
/// given is 401 `second_factor_required` (not a failure: clients ask only when told), a wrong,
/// out-of-window or replayed one is 401 `second_factor_invalid` and counts in the login
/// limiter as a wrong password does. Sign-in, and a reset link, come here.
pub(crate) async fn second_factor_check(
    state: &AppState,
    row: &crate::db::UserRow,
    given: Option<&str>,
    email: &str,
    address: &str,
) -> Result<(), ApiError> {
    if !state.db.second_factor_on(&row.user.id).await? {
        return Ok(());
    }
    let Some(given) = given.filter(|g| !g.trim().is_empty()) else {
        return Err(ApiError::SecondFactorRequired);
    };
    if crate::routes::second_factor::verify(state, &row.user.id, given, true).await? {
        return Ok(());
    }
    state.login_limiter.failed(email, address);
    Err(ApiError::SecondFactorInvalid)
}

/// Whether the organization requires codes of this person and theirs are not on.
async fn must_set_up(state: &AppState, row: &crate::db::UserRow) -> Result<bool, ApiError> {
    Ok(crate::routes::second_factor::required_of(state, row).await?
        && !state.db.second_factor_on(&row.user.id).await?)
}

/// Refuses a password sign-in (a login, an accepted invitation, a used reset link) where the
/// organization signs in with its identity provider only, to all but its break-glass admin.
pub(crate) async fn passwords_allowed(
    state: &AppState,
    org_id: &str,
    email: &str,
    admin: bool,
) -> Result<(), ApiError> {
    match state.db.sso_provider(org_id).await? {
        Some(p) if p.sso_only && !(admin && email.eq_ignore_ascii_case(&p.break_glass_email)) => {
            Err(ApiError::Forbidden(format!(
                "this organization signs in with {} only: use its button on the sign-in page",
                p.name
            )))
        }
        _ => Ok(()),
    }
}

/// Signs `row` in on `device` (its earlier token revoked): what login answers, and what an
/// accepted invitation or a used reset link answers too. A person the organization requires
/// to have two-factor codes, without them, gets a token that may only set them up.
pub(crate) async fn sign_in(
    state: &AppState,
    row: crate::db::UserRow,
    device: Option<&str>,
) -> Result<LoginResponse, ApiError> {
    let enrol_only = must_set_up(state, &row).await?;
    let now = Utc::now().timestamp();
    if let Some(device) = device {
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
        .store_token(&token_hash(&token), &row.user.id, device, now, enrol_only)
        .await?;
    Ok(LoginResponse {
        token,
        user: row.user,
    })
}

/// Hashes a new password off the async workers, within the hashing permits (argon2 takes
/// tens of ms and megabytes: a few at once, the rest told to come back).
pub(crate) async fn hash_new_password(
    state: &AppState,
    password: String,
) -> Result<String, ApiError> {
    let permit = tokio::time::timeout(
        state.limits.hashing_wait,
        Arc::clone(&state.hashing).acquire_owned(),
    )
    .await
    .map_err(|_| ApiError::Busy { retry_after: 1 })?
    .map_err(|_| ApiError::Busy { retry_after: 1 })?;
    tokio::task::spawn_blocking(move || {
        let hash = crate::auth::hash_password(&password);
        drop(permit);
        hash
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Revoke the token used for this request.
#[utoipa::path(post, tag = "auth", path = "/api/v1/logout", security(("bearer" = [])), responses((status = 204), (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn logout(State(state): State<AppState>, auth: Session) -> Result<StatusCode, ApiError> {
    state
        .db
        .revoke_token(&auth.token_hash, Utc::now().timestamp())
        .await?;
    state.auth.evict(&auth.token_hash);
    state.db.bump_revocation_epoch().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, tag = "auth", path = "/api/v1/me", security(("bearer" = [])), responses((status = 200, body = Me), (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn me(State(state): State<AppState>, auth: Session) -> Result<Json<Me>, ApiError> {
    let role = crate::accounts::role_of(&state, &auth.user)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(Me {
        user: auth.user.user,
        role,
        second_factor_setup_required: auth.enrol_only,
    }))
}

/// The signed-in person, with their role: what the page offers them (clients that read only
/// the `User` fields are unaffected).
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub user: User,
    pub role: crate::routes::people::Role,
    /// This session may only set up two-factor codes (the organization requires them of this
    /// person): the page shows the set-up and nothing else.
    #[serde(default)]
    pub second_factor_setup_required: bool,
}
