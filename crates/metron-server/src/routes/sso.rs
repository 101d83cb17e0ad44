//! Signing in with the organization's identity provider: the flows (the page and an app's
//! loopback redirect through `start` and `callback` and the code's trade at `token`; an agent's
//! device code), and the provider's settings (admins). Each ends as a password sign-in does,
//! with a device token (`auth::sign_in`). The browser-facing steps answer a short page, never
//! JSON, when they can't go on; the client's return address is only ever a loopback one or the
//! page itself.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use chrono::Utc;
use metron_core::wire::{
    DeviceAuthorization, DeviceAuthorizationRequest, DeviceTokenRequest, LoginResponse,
    SsoProvider, SsoTokenRequest,
};
use rand::Rng;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{new_token, token_hash};
use crate::db::{CodeRow, DeviceCodeRow, PendingLogin, ProviderRow};
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, QueryParams};
use crate::routes::auth::{client_address, sign_in};
use crate::sso::{callback_url, person, SsoSettingsInput, SsoSettingsView};
use crate::timesheets::org_audit;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(providers))
        .routes(routes!(start))
        .routes(routes!(callback))
        .routes(routes!(token))
        .routes(routes!(device_start))
        .routes(routes!(device_token))
        .routes(routes!(sso_settings, set_sso_settings, remove_sso_settings))
}

/// A sign-in through the provider has this long from start to callback.
const LOGIN_SECS: i64 = 600;
/// The code a client trades for its token, this long.
const CODE_SECS: i64 = 60;
/// An agent's device code, this long; polled at most this often.
const DEVICE_SECS: i64 = 600;
const DEVICE_INTERVAL: u64 = 5;
/// RFC 8628 §6.1: consonants only, no vowels to spell words, no look-alikes.
const USER_CODE_LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
const MANAGE_SSO: &str = "change the organization's sign-in settings";

/// The identity providers people can sign in with.
#[utoipa::path(get, tag = "auth", path = "/api/v1/sso/providers", responses(
    (status = 200, body = Vec<SsoProvider>)))]
pub async fn providers(State(state): State<AppState>) -> Result<Json<Vec<SsoProvider>>, ApiError> {
    Ok(Json(
        state
            .db
            .sso_providers()
            .await?
            .into_iter()
            .map(|p| SsoProvider {
                id: p.org_id,
                name: p.name,
            })
            .collect(),
    ))
}

/// `GET /api/v1/sso/start`'s query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StartQuery {
    /// A provider's `id` from `/api/v1/sso/providers`.
    #[param(max_length = 64)]
    provider: String,
    /// An app's loopback address (`http://127.0.0.1:PORT/...`); absent for the page.
    #[param(max_length = 256)]
    redirect_uri: Option<String>,
    /// The client's own state, given back with the code.
    #[param(max_length = 256)]
    state: Option<String>,
    /// The client's PKCE challenge (S256, base64url, 43 characters).
    #[param(max_length = 128)]
    code_challenge: Option<String>,
    #[param(max_length = 16)]
    code_challenge_method: Option<String>,
    /// An agent's user code: this sign-in approves that agent.
    #[param(max_length = 16)]
    user_code: Option<String>,
}

/// Start a sign-in: the browser goes on to the provider.
#[utoipa::path(get, tag = "auth", path = "/api/v1/sso/start", params(StartQuery), responses(
    (status = 303, description = "On to the identity provider"),
    (status = 400, description = "A page saying what is wrong with the request", content_type = "text/html"),
    (status = 404, description = "A page: no such provider", content_type = "text/html"),
    (status = 503, description = "A page: the server can't offer it (no public_url, the provider unreachable)", content_type = "text/html")))]
pub async fn start(
    State(state): State<AppState>,
    query: Result<QueryParams<StartQuery>, ApiError>,
) -> Response {
    let q = match query {
        Ok(QueryParams(q)) => q,
        Err(e) => return page(StatusCode::BAD_REQUEST, "Can't sign in", &e.to_string()),
    };
    match begin(&state, q).await {
        Ok(url) => redirect(&url),
        Err((status, why)) => page(status, "Can't sign in", &why),
    }
}

type Refusal = (StatusCode, String);

fn bad(why: impl Into<String>) -> Refusal {
    (StatusCode::BAD_REQUEST, why.into())
}

async fn begin(state: &AppState, q: StartQuery) -> Result<String, Refusal> {
    let internal = |e: ApiError| (StatusCode::SERVICE_UNAVAILABLE, e.to_string());
    let p = provider_row(state, &q.provider)
        .await
        .map_err(internal)?
        .ok_or((
            StatusCode::NOT_FOUND,
            "There is no such identity provider here.".to_string(),
        ))?;
    let public_url = public_url(state).ok_or((
        StatusCode::SERVICE_UNAVAILABLE,
        "Signing in with an identity provider needs the server's public_url (server.toml)."
            .to_string(),
    ))?;
    let now = Utc::now().timestamp();
    let mut login = PendingLogin {
        state_hash: String::new(),
        org_id: p.org_id.clone(),
        nonce: new_token(),
        pkce_verifier: new_token(),
        redirect_uri: String::new(),
        client_state: String::new(),
        client_challenge: String::new(),
        device_code_hash: String::new(),
        expires_at: now + LOGIN_SECS,
    };
    if let Some(code) = &q.user_code {
        let code = normalize_user_code(code);
        let row = state
            .db
            .device_code_by_user_code(&code)
            .await
            .map_err(|e| internal(e.into()))?
            .filter(|d| d.status == "pending" && d.expires_at > now && d.org_id == p.org_id)
            .ok_or_else(|| bad("That code is unknown or has expired: start again on the agent."))?;
        login.device_code_hash = row.device_code_hash;
    } else {
        let challenge = q.code_challenge.as_deref().unwrap_or_default();
        if q.code_challenge_method.as_deref() != Some("S256") || !is_challenge(challenge) {
            return Err(bad(
                "A sign-in needs a PKCE code_challenge with the S256 method.",
            ));
        }
        let client_state = q.state.as_deref().unwrap_or_default();
        if client_state.is_empty() || client_state.len() > 256 || !client_state.is_ascii() {
            return Err(bad(
                "A sign-in needs the client's state (1 to 256 ASCII bytes).",
            ));
        }
        if let Some(uri) = &q.redirect_uri {
            check_loopback(uri).map_err(bad)?;
            login.redirect_uri.clone_from(uri);
        }
        login.client_state = client_state.into();
        login.client_challenge = challenge.into();
    }
    let our_state = new_token();
    login.state_hash = token_hash(&our_state);
    let url = state
        .sso
        .providers
        .authorize_url(
            &p,
            &callback_url(&public_url),
            &our_state,
            &login.nonce,
            &login.pkce_verifier,
        )
        .await
        .map_err(|why| {
            tracing::warn!(issuer = %p.issuer, "sso: {why}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{} can't be reached now: {why}", p.name),
            )
        })?;
    state
        .db
        .insert_sso_login(&login)
        .await
        .map_err(|e| internal(e.into()))?;
    Ok(url)
}

/// `GET /api/v1/sso/callback`'s query, as the provider sends it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    #[param(max_length = 2048)]
    code: Option<String>,
    #[param(max_length = 256)]
    state: Option<String>,
    #[param(max_length = 256)]
    error: Option<String>,
    #[param(max_length = 2048)]
    error_description: Option<String>,
}

/// Where the provider sends the browser back.
#[utoipa::path(get, tag = "auth", path = "/api/v1/sso/callback", params(CallbackQuery), responses(
    (status = 200, description = "A page: an agent's sign-in approved", content_type = "text/html"),
    (status = 303, description = "Back to the page or the app, with a code or the reason"),
    (status = 400, description = "A page: the sign-in is unknown, used or expired", content_type = "text/html"),
    (status = 403, description = "A page: an agent's sign-in refused, and why", content_type = "text/html")))]
pub async fn callback(
    State(state): State<AppState>,
    query: Result<QueryParams<CallbackQuery>, ApiError>,
) -> Response {
    let q = match query {
        Ok(QueryParams(q)) => q,
        Err(e) => return page(StatusCode::BAD_REQUEST, "Can't sign in", &e.to_string()),
    };
    let now = Utc::now().timestamp();
    let taken = match &q.state {
        Some(s) if s.len() <= 256 => state.db.take_sso_login(&token_hash(s), now).await,
        _ => Ok(None),
    };
    let login =
        match taken {
            Ok(Some(login)) => login,
            Ok(None) => return page(
                StatusCode::BAD_REQUEST,
                "Can't sign in",
                "This sign-in was already used, has expired, or did not start here. Start again.",
            ),
            Err(e) => return ApiError::from(e).into_response(),
        };
    let outcome = finish(&state, &login, &q).await;
    if let Err(why) = &outcome {
        tracing::info!(org = %login.org_id, "sso sign-in refused: {why}");
    }
    if !login.device_code_hash.is_empty() {
        let done = state
            .db
            .finish_device_code(
                &login.device_code_hash,
                outcome.as_ref().map(|u| u.as_str()).map_err(String::as_str),
            )
            .await;
        if let Err(e) = done {
            return ApiError::from(e).into_response();
        }
        return match outcome {
            Ok(_) => page(
                StatusCode::OK,
                "Signed in",
                "The agent that showed you the code is signed in now. You can close this tab.",
            ),
            Err(why) => page(StatusCode::FORBIDDEN, "Sign-in refused", &why),
        };
    }
    let code = match outcome {
        Ok(user_id) => {
            let code = new_token();
            let row = CodeRow {
                user_id,
                challenge: login.client_challenge.clone(),
                redirect_uri: login.redirect_uri.clone(),
                expires_at: now + CODE_SECS,
            };
            if let Err(e) = state.db.insert_sso_code(&token_hash(&code), &row).await {
                return ApiError::from(e).into_response();
            }
            Ok(code)
        }
        Err(why) => Err(why),
    };
    let back = if login.redirect_uri.is_empty() {
        let home = public_url(&state).unwrap_or_default();
        let home = home.trim_end_matches('/');
        match code {
            Ok(code) => format!(
                "{home}/#sso_code={code}&sso_state={}",
                encode(&login.client_state)
            ),
            Err(why) => format!("{home}/#sso_error={}", encode(&why)),
        }
    } else {
        let sep = if login.redirect_uri.contains('?') {
            '&'
        } else {
            '?'
        };
        match code {
            Ok(code) => format!(
                "{}{sep}code={code}&state={}",
                login.redirect_uri,
                encode(&login.client_state)
            ),
            Err(why) => format!(
                "{}{sep}error=access_denied&error_description={}&state={}",
                login.redirect_uri,
                encode(&why),
                encode(&login.client_state)
            ),
        }
    };
    redirect(&back)
}

/// The provider's answer checked and the person found: their id, or why not in words.
async fn finish(
    state: &AppState,
    login: &PendingLogin,
    q: &CallbackQuery,
) -> Result<String, String> {
    let unavailable = |e: ApiError| format!("the server could not finish the sign-in ({e})");
    let p = state
        .db
        .sso_provider(&login.org_id)
        .await
        .map_err(|e| unavailable(e.into()))?
        .ok_or("The organization no longer signs in with an identity provider.")?;
    if let Some(error) = &q.error {
        let detail = q.error_description.as_deref().unwrap_or(error);
        return Err(format!("{} refused the sign-in: {detail}", p.name));
    }
    let code = q
        .code
        .as_deref()
        .ok_or("The identity provider sent no code.")?;
    let public_url = public_url(state).ok_or("The server has no public_url.")?;
    let identity = state
        .sso
        .providers
        .identity(
            &p,
            &callback_url(&public_url),
            code,
            &login.pkce_verifier,
            &login.nonce,
        )
        .await
        .map_err(|why| {
            tracing::warn!(issuer = %p.issuer, "sso: {why}");
            format!("{} could not be trusted for this sign-in: {why}", p.name)
        })?;
    match person::person(state, &p, &identity).await {
        Ok(Ok(row)) => Ok(row.user.id),
        Ok(Err(person::Refused(why))) => Err(why),
        Err(e) => Err(unavailable(e)),
    }
}

/// Trade the code from the redirect, with the PKCE verifier, for a device token.
#[utoipa::path(post, tag = "auth", path = "/api/v1/sso/token", request_body = SsoTokenRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn token(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<SsoTokenRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    if req.code.len() > 128
        || req.redirect_uri.len() > 256
        || req.device_id.as_ref().is_some_and(|d| d.len() > 64)
        || !is_verifier(&req.code_verifier)
    {
        return Err(ApiError::BadRequest(
            "code (128 bytes), code_verifier (43 to 128 unreserved characters), redirect_uri \
             (256 bytes), device_id (64 bytes)"
                .into(),
        ));
    }
    let now = Utc::now().timestamp();
    let code = state
        .db
        .take_sso_code(&token_hash(&req.code), now)
        .await?
        .ok_or_else(|| ApiError::BadRequest("the code is unknown, used or expired".into()))?;
    if code.redirect_uri != req.redirect_uri || challenge_of(&req.code_verifier) != code.challenge {
        return Err(ApiError::BadRequest(
            "the code_verifier or redirect_uri does not match the sign-in's start".into(),
        ));
    }
    let row = state
        .db
        .user_by_id(&code.user_id)
        .await?
        .filter(|r| !r.disabled)
        .ok_or_else(|| ApiError::Forbidden("the account is disabled".into()))?;
    Ok(Json(sign_in(&state, row, req.device_id.as_deref()).await?))
}

/// An agent without a browser asks for a code to show (RFC 8628).
#[utoipa::path(post, tag = "auth", path = "/api/v1/sso/device", request_body = DeviceAuthorizationRequest, responses(
    (status = 200, body = DeviceAuthorization),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody),
    (status = 429, body = metron_core::wire::ErrorBody),
    (status = 503, body = metron_core::wire::ErrorBody)))]
pub async fn device_start(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    JsonBody(req): JsonBody<DeviceAuthorizationRequest>,
) -> Result<Json<DeviceAuthorization>, ApiError> {
    if req.provider.len() > 64 || req.device_id.as_ref().is_some_and(|d| d.len() > 64) {
        return Err(ApiError::BadRequest(
            "provider and device_id have at most 64 bytes".into(),
        ));
    }
    // Codes cost a row each: a few a minute from one address.
    let key = format!("sso-device {}", client_address(&state, &parts));
    state
        .task_limiter
        .hit(&key)
        .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
    let p = provider_row(&state, &req.provider)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such identity provider".into()))?;
    let home = public_url(&state).ok_or(ApiError::Unavailable)?;
    let home = home.trim_end_matches('/');
    let device_code = new_token();
    let user_code = new_user_code();
    let now = Utc::now().timestamp();
    state
        .db
        .insert_device_code(&DeviceCodeRow {
            device_code_hash: token_hash(&device_code),
            user_code: user_code.clone(),
            org_id: p.org_id,
            device_id: req.device_id,
            status: "pending".into(),
            user_id: None,
            reason: String::new(),
            last_poll_at: 0,
            expires_at: now + DEVICE_SECS,
        })
        .await?;
    Ok(Json(DeviceAuthorization {
        device_code,
        verification_uri: format!("{home}/#device"),
        verification_uri_complete: format!("{home}/#device={user_code}"),
        user_code,
        expires_in: DEVICE_SECS as u64,
        interval: DEVICE_INTERVAL,
    }))
}

/// The agent asks whether the person has signed in yet.
#[utoipa::path(post, tag = "auth", path = "/api/v1/sso/device/token", request_body = DeviceTokenRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 400, description = "`authorization_pending`, `slow_down` or `expired_token`", body = metron_core::wire::ErrorBody),
    (status = 403, description = "The sign-in was refused, and why", body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn device_token(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<DeviceTokenRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let expired = || ApiError::BadRequest("expired_token".into());
    if req.device_code.len() > 128 {
        return Err(expired());
    }
    let now = Utc::now().timestamp();
    let row = state
        .db
        .poll_device_code(&token_hash(&req.device_code), now)
        .await?
        .filter(|r| r.expires_at > now)
        .ok_or_else(expired)?;
    match row.status.as_str() {
        "approved" => {
            let user = match &row.user_id {
                Some(id) => state.db.user_by_id(id).await?,
                None => None,
            };
            let user = user
                .filter(|u| !u.disabled)
                .ok_or_else(|| ApiError::Forbidden("the account is disabled".into()))?;
            Ok(Json(sign_in(&state, user, row.device_id.as_deref()).await?))
        }
        "refused" => Err(ApiError::Forbidden(row.reason)),
        // Polls closer than the interval (a second's grace for the clock's rounding).
        _ if row.last_poll_at > 0 && now - row.last_poll_at < DEVICE_INTERVAL as i64 - 1 => {
            Err(ApiError::BadRequest("slow_down".into()))
        }
        _ => Err(ApiError::BadRequest("authorization_pending".into())),
    }
}

/// The organization's identity provider (admins).
#[utoipa::path(get, tag = "users", path = "/api/v1/organization/sso", security(("bearer" = [])), responses(
    (status = 200, body = SsoSettingsView),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn sso_settings(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<SsoSettingsView>, ApiError> {
    auth.require_admin(MANAGE_SSO)?;
    let org = &auth.user.org_id;
    let p = state
        .db
        .sso_provider(org)
        .await?
        .ok_or_else(|| ApiError::NotFound("no identity provider is set".into()))?;
    Ok(Json(SsoSettingsView::of(
        &p,
        state.sso.file_org.as_deref() == Some(org),
        state.public_url.as_deref(),
    )))
}

/// Set the organization's identity provider (admins); with `sso_only`, passwords sign in only
/// the break-glass admin.
#[utoipa::path(put, tag = "users", path = "/api/v1/organization/sso", security(("bearer" = [])), request_body = SsoSettingsInput, responses(
    (status = 200, body = SsoSettingsView),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn set_sso_settings(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(body): JsonBody<SsoSettingsInput>,
) -> Result<Json<SsoSettingsView>, ApiError> {
    auth.require_admin(MANAGE_SSO)?;
    let org = auth.user.org_id.clone();
    if state.sso.file_org.as_deref() == Some(&org) {
        return Err(ApiError::Conflict(
            "the identity provider is set in server.toml; change it there".into(),
        ));
    }
    let row = put(&state, &org, Some(&auth.user), &body).await?;
    Ok(Json(SsoSettingsView::of(
        &row,
        false,
        state.public_url.as_deref(),
    )))
}

/// Checks and stores `body` as `org`'s provider, with its audit row (by `actor`, or the
/// command line when the file sets it).
pub async fn put(
    state: &AppState,
    org: &str,
    actor: Option<&crate::db::UserRow>,
    body: &SsoSettingsInput,
) -> Result<ProviderRow, ApiError> {
    let before = state.db.sso_provider(org).await?;
    let now = Utc::now().timestamp();
    let row = body
        .row(org, before.as_ref().map(|b| b.client_secret.as_str()), now)
        .map_err(ApiError::BadRequest)?;
    if row.sso_only {
        let admin = state
            .db
            .user_by_email(&row.break_glass_email)
            .await?
            .is_some_and(|(u, _)| u.org_id == org && u.user.admin && !u.disabled);
        if !admin {
            return Err(ApiError::BadRequest(
                "break_glass_email must be an enabled admin of the organization".into(),
            ));
        }
    }
    let shown = |p: &ProviderRow| {
        serde_json::to_value(SsoSettingsView::of(p, false, None)).unwrap_or_default()
    };
    let same = before.as_ref().is_some_and(|b| {
        ProviderRow {
            updated_at: now,
            ..b.clone()
        } == row
    });
    if !same {
        let record = org_audit(
            org,
            actor,
            "organization.sso",
            org,
            before.as_ref().map(shown),
            Some(shown(&row)),
        );
        state.db.put_sso_provider(&row, &record).await?;
    }
    Ok(row)
}

/// Stop signing in with an identity provider (admins): passwords sign everyone in again.
#[utoipa::path(delete, tag = "users", path = "/api/v1/organization/sso", security(("bearer" = [])), responses(
    (status = 204, description = "Removed"),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody)))]
pub async fn remove_sso_settings(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<StatusCode, ApiError> {
    auth.require_admin(MANAGE_SSO)?;
    let org = &auth.user.org_id;
    if state.sso.file_org.as_deref() == Some(org) {
        return Err(ApiError::Conflict(
            "the identity provider is set in server.toml; remove it there".into(),
        ));
    }
    let record = org_audit(org, Some(&auth.user), "organization.sso", org, None, None);
    if state.db.delete_sso_provider(org, &record).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("no identity provider is set".into()))
    }
}

/// The provider of organization `id`, if it has one.
async fn provider_row(state: &AppState, id: &str) -> Result<Option<ProviderRow>, ApiError> {
    if id.is_empty() || id.len() > 64 {
        return Ok(None);
    }
    Ok(state.db.sso_provider(id).await?)
}

fn public_url(state: &AppState) -> Option<String> {
    state.public_url.as_deref().map(str::to_string)
}

/// RFC 8252 §7.3: an app's redirect is plain http to a loopback address with a port.
fn check_loopback(uri: &str) -> Result<(), String> {
    let refuse = || {
        "redirect_uri must be http://127.0.0.1:PORT/..., http://[::1]:PORT/... or \
         http://localhost:PORT/..."
            .to_string()
    };
    let url = openidconnect::url::Url::parse(uri).map_err(|_| refuse())?;
    let loopback = match url.host() {
        Some(openidconnect::url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(openidconnect::url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(openidconnect::url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    if url.scheme() != "http"
        || !loopback
        || url.port().is_none()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        return Err(refuse());
    }
    Ok(())
}

fn is_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
fn is_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn challenge_of(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn new_user_code() -> String {
    let mut rng = rand::rng();
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        code.push(char::from(
            USER_CODE_LETTERS[rng.random_range(0..USER_CODE_LETTERS.len())],
        ));
    }
    code
}

/// A typed user code as stored: capitals, the dash in the middle, whatever else typed.
fn normalize_user_code(code: &str) -> String {
    let letters: String = code
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .take(8)
        .collect();
    if letters.len() == 8 {
        format!("{}-{}", &letters[..4], &letters[4..])
    } else {
        letters
    }
}

/// Percent-encodes everything but unreserved characters (a query value, a fragment's).
fn encode(s: &str) -> String {
    openidconnect::url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn redirect(to: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, to.to_string()),
            (header::CACHE_CONTROL, "no-store".into()),
            (header::REFERRER_POLICY, "no-referrer".into()),
        ],
    )
        .into_response()
}

/// A short page for a step the browser shows: the title and the sentence, escaped.
fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;")
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Metron</title><link rel=\"stylesheet\" href=\"/style.css\"></head>\
         <body><main class=\"sso-page card\"><h1>{title}</h1><p id=\"sso-message\">{message}</p>\
         <p><a href=\"/\">Metron</a></p></main></body></html>",
        title = escape(title),
        message = escape(message),
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'self'; frame-ancestors 'none'",
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_with_a_port_take_an_apps_code() {
        for (uri, ok) in [
            ("http://127.0.0.1:49152/callback", true),
            ("http://[::1]:8080/", true),
            ("http://localhost:5000/cb", true),
            ("http://127.0.0.1/callback", false),
            ("https://127.0.0.1:49152/callback", false),
            ("http://evil.example:49152/", false),
            ("http://127.0.0.1.evil.example:80/", false),
            ("http://user@127.0.0.1:80/", false),
            ("not a url", false),
        ] {
            assert_eq!(check_loopback(uri).is_ok(), ok, "{uri}");
        }
    }

    #[test]
    fn user_codes_are_eight_consonants_and_read_back_as_typed() {
        let code = new_user_code();
        assert_eq!(code.len(), 9);
        assert!(code[..4]
            .bytes()
            .chain(code[5..].bytes())
            .all(|b| USER_CODE_LETTERS.contains(&b)));
        assert_eq!(
            normalize_user_code(&code.to_lowercase().replace('-', " ")),
            code
        );
        assert_eq!(normalize_user_code("bcdf"), "BCDF");
    }

    #[test]
    fn pkce_is_rfc_7636s_s256() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(is_verifier(verifier));
        assert_eq!(
            challenge_of(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(is_challenge(&challenge_of(verifier)));
        assert!(!is_verifier("short"));
        assert!(!is_verifier(&"a".repeat(129)));
    }
}
