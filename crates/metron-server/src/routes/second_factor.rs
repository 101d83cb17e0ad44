//! Two-factor codes over the API (issue 29). Each signed-in person manages their own: begin an
//! enrolment (a new secret, its `otpauth://` URI and QR code, ten minutes to confirm), confirm
//! it with a current code (only then are codes on, and the ten recovery codes are answered,
//! once), make new recovery codes, or turn codes off (both with a current code; off is refused
//! while the organization requires codes of them). An admin turns a person's codes off when
//! they lost their phone, with an audit row. Every wrong code counts in the login limiter, as a
//! wrong password does. What sign-in asks of a person is `routes::auth`'s; the codes' arithmetic
//! is `crate::second_factor`'s.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use metron_core::wire::SECOND_FACTOR_INVALID;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::db::UserRow;
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, Session};
use crate::routes::auth::client_address;
use crate::second_factor as codes;
use crate::timesheets::{audit, org_audit};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(begin))
        .routes(routes!(confirm))
        .routes(routes!(new_recovery_codes))
        .routes(routes!(turn_off))
        .routes(routes!(admin_reset))
}

/// Where a person's two-factor codes stand.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SecondFactorStatus {
    /// Whether sign-in asks for a code.
    pub on: bool,
    /// Whether the organization requires codes of this person.
    pub required: bool,
    /// Recovery codes not used yet (0 while off).
    pub recovery_codes_left: i64,
}

/// A begun enrolment: show the QR code (or the secret, to type), then confirm with a code.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SecondFactorEnrolment {
    /// The secret, base32, for apps without a camera.
    pub secret: String,
    /// `otpauth://totp/Metron:<email>?secret=...&issuer=Metron`.
    pub otpauth_uri: String,
    /// The URI's QR code, an SVG document.
    pub qr_svg: String,
    /// When the enrolment is dropped unless confirmed (unix seconds).
    pub expires_at: i64,
}

/// A current code of the person's authenticator (or, where said, a recovery code).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorCode {
    #[schema(max_length = 64)]
    pub code: String,
}

/// Recovery codes, shown once: each signs in once in place of a code.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// Whether the organization requires codes of `user`.
pub(crate) async fn required_of(state: &AppState, user: &UserRow) -> Result<bool, ApiError> {
    Ok(state
        .db
        .org_settings(&user.org_id)
        .await?
        .is_some_and(|s| s.require_second_factor.covers(user.user.admin)))
}

/// Checks `input` (a code, or a recovery code) against the person's codes, which are on, at
/// `now`: a code of a step within ±1 of now and later than the last accepted (which it
/// becomes), or an unused recovery code (used by this). Both are claimed in the database, so
/// two requests with one code succeed once.
pub(crate) async fn verify(
    state: &AppState,
    user_id: &str,
    input: &str,
    allow_recovery: bool,
) -> Result<bool, ApiError> {
    let now = Utc::now().timestamp();
    let Some(stored) = state.db.second_factor(user_id).await? else {
        return Ok(false);
    };
    if stored.confirmed_at.is_none() || input.len() > codes::MAX_SECOND_FACTOR_BYTES {
        return Ok(false);
    }
    if let Some(code) = codes::looks_like_code(input) {
        return match codes::matching_step(&stored.secret, &code, now) {
            Some(step) => Ok(state.db.use_second_factor_step(user_id, step).await?),
            None => Ok(false),
        };
    }
    if !allow_recovery || codes::normalize_recovery(input).len() != 16 {
        return Ok(false);
    }
    Ok(state
        .db
        .use_recovery_code(user_id, &codes::recovery_hash(user_id, input), now)
        .await?)
}

/// [`verify`] for a signed-in person's own change, within the login limiter: 429 while their
/// failures are over it, a failure counted and 400 when the code is not good.
async fn verify_own(
    state: &AppState,
    parts: &axum::http::request::Parts,
    user: &UserRow,
    code: &str,
) -> Result<(), ApiError> {
    if code.len() > codes::MAX_SECOND_FACTOR_BYTES {
        return Err(ApiError::BadRequest(format!(
            "a code has at most {} bytes",
            codes::MAX_SECOND_FACTOR_BYTES
        )));
    }
    let address = client_address(state, parts);
    let email = user.user.email.to_lowercase();
    state
        .login_limiter
        .check(&email, &address)
        .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
    if verify(state, &user.user.id, code, true).await? {
        return Ok(());
    }
    state.login_limiter.failed(&email, &address);
    Err(ApiError::BadRequest(format!(
        "{SECOND_FACTOR_INVALID}: that code is wrong, expired or already used"
    )))
}

/// New recovery codes and their hashes.
fn recovery_codes(user_id: &str) -> (Vec<String>, Vec<String>) {
    let plain = codes::new_recovery_codes();
    let hashes = plain
        .iter()
        .map(|c| codes::recovery_hash(user_id, c))
        .collect();
    (plain, hashes)
}

/// Where the signed-in person's two-factor codes stand.
#[utoipa::path(get, tag = "auth", path = "/api/v1/me/second-factor", security(("bearer" = [])), responses(
    (status = 200, body = SecondFactorStatus),
    (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<SecondFactorStatus>, ApiError> {
    let id = &session.user.user.id;
    let on = state.db.second_factor_on(id).await?;
    Ok(Json(SecondFactorStatus {
        on,
        required: required_of(&state, &session.user).await?,
        recovery_codes_left: if on {
            state.db.recovery_codes_left(id).await?
        } else {
            0
        },
    }))
}

/// Begin setting up two-factor codes: a new secret (replacing any unconfirmed one), its
/// `otpauth://` URI and QR code. Nothing is on until confirmed, within ten minutes. 409 when
/// the person's codes are already on.
#[utoipa::path(post, tag = "auth", path = "/api/v1/me/second-factor/begin", security(("bearer" = [])), responses(
    (status = 200, body = SecondFactorEnrolment),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody, description = "Codes are already on")))]
pub async fn begin(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<SecondFactorEnrolment>, ApiError> {
    let now = Utc::now().timestamp();
    let user = &session.user.user;
    let secret = codes::new_secret();
    let uri = codes::otpauth_uri(&secret, &user.email)
        .ok_or_else(|| ApiError::Internal("no otpauth URI for a new secret".into()))?;
    let qr =
        codes::qr_svg(&uri).ok_or_else(|| ApiError::Internal("the QR code did not fit".into()))?;
    if !state.db.begin_second_factor(&user.id, &secret, now).await? {
        return Err(ApiError::Conflict(
            "your two-factor codes are already on; turn them off first to use another app".into(),
        ));
    }
    Ok(Json(SecondFactorEnrolment {
        secret,
        otpauth_uri: uri,
        qr_svg: qr,
        expires_at: now + codes::ENROLMENT_SECS,
    }))
}

/// Confirm the begun enrolment with a current code of the app: codes are on from now, and the
/// answer holds ten recovery codes, shown this once. A wrong code is 400 and counts in the
/// login limiter; no enrolment begun in the last ten minutes is 410.
#[utoipa::path(post, tag = "auth", path = "/api/v1/me/second-factor/confirm", security(("bearer" = [])), request_body = SecondFactorCode, responses(
    (status = 200, body = RecoveryCodes),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 410, body = metron_core::wire::ErrorBody, description = "No enrolment begun in the last ten minutes"),
    (status = 413, body = metron_core::wire::ErrorBody),
    (status = 429, body = metron_core::wire::ErrorBody)))]
pub async fn confirm(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    session: Session,
    JsonBody(body): JsonBody<SecondFactorCode>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    if body.code.len() > codes::MAX_SECOND_FACTOR_BYTES {
        return Err(ApiError::BadRequest(format!(
            "a code has at most {} bytes",
            codes::MAX_SECOND_FACTOR_BYTES
        )));
    }
    let now = Utc::now().timestamp();
    let user = &session.user;
    let begun_after = now - codes::ENROLMENT_SECS;
    let pending = state
        .db
        .second_factor(&user.user.id)
        .await?
        .filter(|s| s.confirmed_at.is_none() && s.created_at > begun_after);
    let Some(pending) = pending else {
        return Err(ApiError::Gone(
            "no two-factor set-up was begun in the last ten minutes: begin again".into(),
        ));
    };
    let address = client_address(&state, &parts);
    let email = user.user.email.to_lowercase();
    state
        .login_limiter
        .check(&email, &address)
        .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
    let step = codes::looks_like_code(&body.code)
        .and_then(|code| codes::matching_step(&pending.secret, &code, now));
    let Some(step) = step else {
        state.login_limiter.failed(&email, &address);
        return Err(ApiError::BadRequest(format!(
            "{SECOND_FACTOR_INVALID}: that is not the app's current 6-digit code"
        )));
    };
    let (plain, hashes) = recovery_codes(&user.user.id);
    let record = audit(
        user,
        user,
        "second_factor.on",
        &user.user.id,
        None,
        None,
        "",
    );
    if !state
        .db
        .confirm_second_factor(&user.user.id, begun_after, step, now, &hashes, &record)
        .await?
    {
        return Err(ApiError::Gone(
            "this two-factor set-up was replaced or has expired: begin again".into(),
        ));
    }
    // The person's set-up-only sessions are whole now: every instance reads them again.
    state.db.bump_revocation_epoch().await?;
    Ok(Json(RecoveryCodes {
        recovery_codes: plain,
    }))
}

/// Replace the recovery codes with ten new ones (the old ones stop working), given a current
/// code or a recovery code. A wrong code is 400 and counts in the login limiter.
#[utoipa::path(post, tag = "auth", path = "/api/v1/me/second-factor/recovery-codes", security(("bearer" = [])), request_body = SecondFactorCode, responses(
    (status = 200, body = RecoveryCodes),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody, description = "Codes are off"),
    (status = 413, body = metron_core::wire::ErrorBody),
    (status = 429, body = metron_core::wire::ErrorBody)))]
pub async fn new_recovery_codes(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    session: Session,
    JsonBody(body): JsonBody<SecondFactorCode>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let user = &session.user;
    if !state.db.second_factor_on(&user.user.id).await? {
        return Err(ApiError::Conflict("your two-factor codes are off".into()));
    }
    verify_own(&state, &parts, user, &body.code).await?;
    let (plain, hashes) = recovery_codes(&user.user.id);
    let record = audit(
        user,
        user,
        "second_factor.recovery_codes",
        &user.user.id,
        None,
        None,
        "",
    );
    state
        .db
        .replace_recovery_codes(&user.user.id, &hashes, &record)
        .await?;
    Ok(Json(RecoveryCodes {
        recovery_codes: plain,
    }))
}

/// Turn the signed-in person's codes off, given a current code or a recovery code. Refused
/// (409) while the organization requires codes of them, or when they are off.
#[utoipa::path(post, tag = "auth", path = "/api/v1/me/second-factor/off", security(("bearer" = [])), request_body = SecondFactorCode, responses(
    (status = 204),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody, description = "Required by the organization, or already off"),
    (status = 413, body = metron_core::wire::ErrorBody),
    (status = 429, body = metron_core::wire::ErrorBody)))]
pub async fn turn_off(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    session: Session,
    JsonBody(body): JsonBody<SecondFactorCode>,
) -> Result<StatusCode, ApiError> {
    let user = &session.user;
    if !state.db.second_factor_on(&user.user.id).await? {
        return Err(ApiError::Conflict("your two-factor codes are off".into()));
    }
    if required_of(&state, user).await? {
        return Err(ApiError::Conflict(
            "your organization requires two-factor codes: they stay on".into(),
        ));
    }
    verify_own(&state, &parts, user, &body.code).await?;
    let record = audit(
        user,
        user,
        "second_factor.off",
        &user.user.id,
        None,
        None,
        "",
    );
    state
        .db
        .remove_second_factor(&user.user.id, &record)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Turns `person`'s codes off for `actor` (an admin; `None`: the server's command line), with
/// the audit row; whether they were on.
pub async fn reset(
    state: &AppState,
    actor: Option<&UserRow>,
    person: &UserRow,
) -> Result<bool, ApiError> {
    let record = match actor {
        Some(admin) => audit(
            admin,
            person,
            "second_factor.reset",
            &person.user.id,
            None,
            None,
            "",
        ),
        None => {
            let mut row = org_audit(
                &person.org_id,
                None,
                "second_factor.reset",
                &person.user.id,
                None,
                None,
            );
            row.user_id = person.user.id.clone();
            row
        }
    };
    Ok(state
        .db
        .remove_second_factor(&person.user.id, &record)
        .await?)
}

/// Turn a person's two-factor codes off (admins; a lost phone): they sign in with their
/// password alone, and set codes up again where the organization requires them. 409 when
/// their codes are off.
#[utoipa::path(delete, tag = "users", path = "/api/v1/users/{id}/second-factor", security(("bearer" = [])), params(("id" = String, Path, description = "The user's id")), responses(
    (status = 204),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody, description = "Their codes are off")))]
pub async fn admin_reset(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require_admin("turn a person's two-factor codes off")?;
    let person = auth.org_member(&state, &id).await?;
    if reset(&state, Some(&auth.user), &person).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::Conflict(format!(
            "{} has no two-factor codes",
            person.user.email
        )))
    }
}
