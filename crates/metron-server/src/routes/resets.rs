//! Password-reset links over the API (issue 28): an admin makes a one-time link for a person
//! of their organization (one hour; mailed where SMTP is configured, answered to copy either
//! way); the person sets a new password with the link's token, every token they held is
//! revoked, and they are signed in. The CLI's `user passwd` stays for a server's shell.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use metron_core::wire::LoginResponse;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::accounts;
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody};
use crate::invitations::{self, link_refusal, IssuedReset};
use crate::routes::auth::{hash_new_password, second_factor_check, sign_in};
use crate::routes::invitations::{guarded_lookup, refuse_unknown};
use crate::timesheets::audit;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reset_link))
        .routes(routes!(reset_password))
}

/// Make a one-time password-reset link for a person (admins): valid an hour, it replaces
/// the person's earlier unused links. A disabled person gets none (409).
#[utoipa::path(post, tag = "users", path = "/api/v1/users/{id}/reset-link", security(("bearer" = [])), params(("id" = String, Path, description = "The user's id")), responses(
    (status = 201, body = IssuedReset),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody, description = "The person is disabled")))]
pub async fn reset_link(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<IssuedReset>), ApiError> {
    auth.require_admin("make a password-reset link")?;
    let person = auth.org_member(&state, &id).await?;
    let issued = invitations::issue_reset(&state, &auth.user, &person).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// A new password by a reset link.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// The token of the link (after `#reset=`): 64 hex digits.
    pub token: String,
    /// 8 to 1,024 bytes.
    pub password: String,
    /// The signing-in device, as at login.
    #[serde(default)]
    pub device_id: Option<String>,
    /// Where the person's two-factor codes are on: a current code or a recovery code (a reset
    /// link replaces the password, not the second factor). Without it such a person's reset
    /// answers 401 `second_factor_required` and the link stays unused.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub second_factor: Option<String>,
}

/// Set a new password with a reset link's token (no sign-in needed): every token the person
/// held is revoked and they are signed in, answering as login does. An unknown token is 404;
/// an expired, used or revoked one 410; a disabled person's 403; a person whose two-factor
/// codes are on and who gave no good code 401, as at login. Nothing changes then.
#[utoipa::path(post, tag = "auth", path = "/api/v1/password-reset", request_body = PasswordReset, responses(
    (status = 200, body = LoginResponse),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody, description = "Their second factor is needed, or was wrong"),
    (status = 403, body = metron_core::wire::ErrorBody, description = "The person is disabled"),
    (status = 404, body = metron_core::wire::ErrorBody, description = "No link has this token"),
    (status = 410, body = metron_core::wire::ErrorBody, description = "Expired, used or revoked"),
    (status = 413, body = metron_core::wire::ErrorBody),
    (status = 429, body = metron_core::wire::ErrorBody),
    (status = 503, body = metron_core::wire::ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    JsonBody(body): JsonBody<PasswordReset>,
) -> Result<Json<LoginResponse>, ApiError> {
    accounts::check_password(&body.password)?;
    if body.device_id.as_ref().is_some_and(|d| d.len() > 64) {
        return Err(ApiError::BadRequest(
            "device_id has at most 64 bytes".into(),
        ));
    }
    let hash = guarded_lookup(&state, &parts, &body.token)?;
    let Some(reset) = state.db.reset_by_token(&hash).await? else {
        return Err(refuse_unknown(&state, &parts));
    };
    let now = Utc::now().timestamp();
    if let Some(refused) =
        crate::db::people::link_state(reset.expires_at, reset.used_at, reset.revoked_at, now)
    {
        return Err(link_refusal("password-reset", refused));
    }
    let person = match state.db.user_by_id(&reset.user_id).await? {
        Some(p) if p.org_id == reset.org_id => p,
        _ => {
            return Err(link_refusal(
                "password-reset",
                crate::db::LinkState::Revoked,
            ))
        }
    };
    if person.disabled {
        return Err(ApiError::Forbidden(
            "your account is disabled: ask your admin to enable it".into(),
        ));
    }
    // SSO-only: a new password would sign in nobody but the break-glass admin; the link stays.
    crate::routes::auth::passwords_allowed(
        &state,
        &person.org_id,
        &person.user.email,
        person.user.admin,
    )
    .await?;
    if body
        .second_factor
        .as_ref()
        .is_some_and(|c| c.len() > crate::second_factor::MAX_SECOND_FACTOR_BYTES)
    {
        return Err(ApiError::BadRequest(
            "second_factor has at most 64 bytes".into(),
        ));
    }
    // The link proves the mailbox, not the phone: a person with codes on gives one here too.
    let address = crate::routes::auth::client_address(&state, &parts);
    let email = person.user.email.to_lowercase();
    state
        .login_limiter
        .check(&email, &address)
        .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
    second_factor_check(
        &state,
        &person,
        body.second_factor.as_deref(),
        &email,
        &address,
    )
    .await?;
    let password_hash = hash_new_password(&state, body.password).await?;
    let record = audit(
        &person,
        &person,
        "password.reset",
        &person.user.id,
        None,
        None,
        "",
    );
    if let Err(refused) = state
        .db
        .use_reset(&hash, Utc::now().timestamp(), &password_hash, &record)
        .await?
    {
        return Err(link_refusal("password-reset", refused));
    }
    // Every instance drops its cached tokens of theirs.
    state.db.bump_revocation_epoch().await?;
    sign_in(&state, person, body.device_id.as_deref())
        .await
        .map(Json)
}
