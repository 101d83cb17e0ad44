//! Invitations over the API (issue 28): admins invite by email, list the pending
//! invitations, re-send and revoke them, and import a CSV of people; the invitee accepts with
//! the link's token, a name and a password and is signed in. The rules live in
//! `crate::invitations`, shared with the command line.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use metron_core::wire::LoginResponse;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::accounts::{self, plain_name};
use crate::auth::token_hash;
use crate::db::NewPerson;
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, TextBody};
use crate::invitations::{
    self, link_refusal, well_formed_token, Invitation, IssuedInvitation, Roster, RowProblem,
};
use crate::routes::auth::{client_address, hash_new_password, sign_in};
use crate::routes::people::Role;
use crate::timesheets::audit;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
        .routes(routes!(resend))
        .routes(routes!(import))
        .routes(routes!(accept))
}

const INVITE: &str = "invite people";

/// An invitation to issue.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// The invitee's email (at most 254 bytes).
    pub email: String,
    /// A name to greet them by (they choose their own when accepting); 200 characters at most.
    #[serde(default)]
    pub name: Option<String>,
    /// Their role once they accept; `member` by default.
    #[serde(default)]
    pub role: Option<Role>,
    /// The id of the person of your organization who will manage them.
    #[serde(default)]
    pub manager_id: Option<String>,
}

/// Invite someone by email (admins): a one-time link, valid 7 days, mailed where SMTP is
/// configured and answered either way to copy.
#[utoipa::path(post, tag = "users", path = "/api/v1/invitations", security(("bearer" = [])), request_body = NewInvitation, responses(
    (status = 201, body = IssuedInvitation),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody, description = "The email is a person's or has a pending invitation"),
    (status = 413, body = metron_core::wire::ErrorBody),
    (status = 429, body = metron_core::wire::ErrorBody, description = "The organization's invitations of the hour are spent (Retry-After)")))]
pub async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(body): JsonBody<NewInvitation>,
) -> Result<(StatusCode, Json<IssuedInvitation>), ApiError> {
    auth.require_admin(INVITE)?;
    let roster = Roster::read(&state, &auth.user.org_id, Utc::now().timestamp()).await?;
    let role = body.role.unwrap_or(Role::Member);
    let checked = roster
        .check(
            &state,
            &body.email,
            body.name.as_deref().unwrap_or(""),
            role.as_str(),
            body.manager_id.as_deref(),
            false,
        )
        .await??;
    let issued = invitations::issue(&state, &auth.user, vec![checked])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal("an issued invitation went missing".into()))?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// The organization's pending invitations, newest first, expired ones included (admins).
#[utoipa::path(get, tag = "users", path = "/api/v1/invitations", security(("bearer" = [])), responses(
    (status = 200, body = Vec<Invitation>),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<Invitation>>, ApiError> {
    auth.require_admin(INVITE)?;
    let now = Utc::now().timestamp();
    Ok(Json(
        state
            .db
            .pending_invitations(&auth.user.org_id)
            .await?
            .iter()
            .map(|row| Invitation::of(row, now))
            .collect(),
    ))
}

/// Revoke a pending invitation: its link stops working (admins).
#[utoipa::path(delete, tag = "users", path = "/api/v1/invitations/{id}", security(("bearer" = [])), params(("id" = String, Path, description = "The invitation's id")), responses(
    (status = 204),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody, description = "Accepted or revoked already")))]
pub async fn revoke(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require_admin(INVITE)?;
    invitations::revoke(&state, &auth.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Re-send an invitation (admins): a new link, valid 7 days from now; the old link stops
/// working. The answer is the new invitation (a new id).
#[utoipa::path(post, tag = "users", path = "/api/v1/invitations/{id}/resend", security(("bearer" = [])), params(("id" = String, Path, description = "The invitation's id")), responses(
    (status = 201, body = IssuedInvitation),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody, description = "Accepted or revoked already"),
    (status = 429, body = metron_core::wire::ErrorBody, description = "The organization's invitations of the hour are spent (Retry-After)")))]
pub async fn resend(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<IssuedInvitation>), ApiError> {
    auth.require_admin(INVITE)?;
    let issued = invitations::resend(&state, &auth.user, &id).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// What an import did, or why it did nothing.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// How many invitations were issued: every row's, or none.
    pub imported: u32,
    /// The invitations issued, in the file's order, each with its link.
    pub invitations: Vec<IssuedInvitation>,
    /// Every bad row, with its line and why; when there is any, nothing was imported.
    pub problems: Vec<RowProblem>,
}

/// Invite many people at once (admins): a CSV (`text/csv`, at most 512 KiB and 1,000 rows)
/// with a header row `email,name,role,manager` (the manager by email; name, role and manager
/// may be empty). Checked whole first: when any row is bad, nothing is imported and the
/// answer (422) names each bad row; otherwise every row becomes an invitation, in one
/// transaction.
#[utoipa::path(post, tag = "users", path = "/api/v1/invitations/import", security(("bearer" = [])), request_body(content = String, content_type = "text/csv", description = "email,name,role,manager"), responses(
    (status = 201, body = ImportReport),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody),
    (status = 422, body = ImportReport, description = "Some rows are bad: nothing was imported"),
    (status = 429, body = metron_core::wire::ErrorBody, description = "The organization's invitations of the hour would be passed (Retry-After)")))]
pub async fn import(
    State(state): State<AppState>,
    auth: AuthUser,
    TextBody(text): TextBody,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    auth.require_admin(INVITE)?;
    match invitations::check_import(&state, &auth.user, &text).await? {
        Err(problems) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(ImportReport {
                imported: 0,
                invitations: Vec::new(),
                problems,
            }),
        )),
        Ok(checked) => {
            let issued = invitations::issue(&state, &auth.user, checked).await?;
            Ok((
                StatusCode::CREATED,
                Json(ImportReport {
                    imported: u32::try_from(issued.len()).unwrap_or(u32::MAX),
                    invitations: issued,
                    problems: Vec::new(),
                }),
            ))
        }
    }
}

/// An invitation's acceptance.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    /// The token of the link (after `#invite=`): 64 hex digits.
    pub token: String,
    /// The name the person goes by (1 to 200 characters).
    pub name: String,
    /// 8 to 1,024 bytes.
    pub password: String,
    /// The signing-in device, as at login.
    #[serde(default)]
    pub device_id: Option<String>,
}

/// Accept an invitation (no sign-in needed: the token is the proof): creates the person in
/// the inviting organization with the invited role and manager and signs them in, answering
/// as login does. An unknown token is 404; an expired, used or revoked one 410; an email that
/// became a person's meanwhile 409. Nothing is created then.
#[utoipa::path(post, tag = "auth", path = "/api/v1/invitations/accept", request_body = AcceptInvitation, responses(
    (status = 200, body = LoginResponse),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody, description = "No invitation has this token"),
    (status = 409, body = metron_core::wire::ErrorBody, description = "The email is a person's already"),
    (status = 410, body = metron_core::wire::ErrorBody, description = "Expired, used or revoked"),
    (status = 413, body = metron_core::wire::ErrorBody),
    (status = 429, body = metron_core::wire::ErrorBody),
    (status = 503, body = metron_core::wire::ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    JsonBody(body): JsonBody<AcceptInvitation>,
) -> Result<Json<LoginResponse>, ApiError> {
    let name = plain_name(&body.name)?;
    accounts::check_password(&body.password)?;
    if body.device_id.as_ref().is_some_and(|d| d.len() > 64) {
        return Err(ApiError::BadRequest(
            "device_id has at most 64 bytes".into(),
        ));
    }
    let hash = guarded_lookup(&state, &parts, &body.token)?;
    let Some(row) = state.db.invitation_by_token(&hash).await? else {
        return Err(refuse_unknown(&state, &parts));
    };
    let now = Utc::now().timestamp();
    if let Some(refused) =
        crate::db::people::link_state(row.expires_at, row.accepted_at, row.revoked_at, now)
    {
        return Err(link_refusal("invitation", refused));
    }
    if state.db.user_by_email(&row.email).await?.is_some() {
        return Err(ApiError::Conflict(format!(
            "{} is already a person here: sign in instead, or ask your admin",
            row.email
        )));
    }
    let role = Role::parse(&row.role).unwrap_or(Role::Member);
    // SSO-only: the invitee signs in with the provider (which makes them a person), not with a
    // password this link would set; the invitation stays as it was.
    crate::routes::auth::passwords_allowed(&state, &row.org_id, &row.email, role == Role::Admin)
        .await?;
    let password_hash = hash_new_password(&state, body.password).await?;
    let person = NewPerson {
        id: uuid::Uuid::now_v7().to_string(),
        email: row.email.clone(),
        name,
        password_hash,
        admin: role == Role::Admin,
        manager: role == Role::Manager,
    };
    let user = crate::db::UserRow {
        user: metron_core::wire::User {
            id: person.id.clone(),
            email: person.email.clone(),
            name: person.name.clone(),
            admin: person.admin,
        },
        org_id: row.org_id.clone(),
        disabled: false,
    };
    let record = audit(
        &user,
        &user,
        "invitation.accept",
        &row.id,
        None,
        Some(serde_json::json!({ "role": role.as_str(), "manager_id": row.manager_id })),
        "",
    );
    match state
        .db
        .accept_invitation(&hash, Utc::now().timestamp(), &person, &record)
        .await?
    {
        Ok(_) => {}
        Err(refused) => return Err(link_refusal("invitation", refused)),
    }
    sign_in(&state, user, body.device_id.as_deref())
        .await
        .map(Json)
}

/// The hash of a link's token, once the caller's address may try another one (failures are
/// counted with login's, per address): a malformed token is refused like an unknown one.
pub(crate) fn guarded_lookup(
    state: &AppState,
    parts: &axum::http::request::Parts,
    token: &str,
) -> Result<String, ApiError> {
    let address = client_address(state, parts);
    state
        .login_limiter
        .check(LINK_KEY, &address)
        .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
    if !well_formed_token(token) {
        return Err(refuse_unknown(state, parts));
    }
    Ok(token_hash(token))
}

/// The limiter's key for link tokens (no email has it, so it never meets a login's pair).
const LINK_KEY: &str = "#link";

/// Counts a failure against the caller's address and answers "not valid".
pub(crate) fn refuse_unknown(state: &AppState, parts: &axum::http::request::Parts) -> ApiError {
    state
        .login_limiter
        .failed(LINK_KEY, &client_address(state, parts));
    ApiError::NotFound("this link is not valid: check that it was copied whole".into())
}
