//! The admins' offboarding API: disable and enable a person, revoke their tokens, set their
//! password, and the organization's settings (who may create tasks). An admin acts only within
//! their own organization; anyone else's users are "not found".

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::accounts;
use crate::auth::AuthUser;
use crate::db::{TaskCreation, UserRow};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::AppState;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(disable))
        .routes(routes!(enable))
        .routes(routes!(revoke_tokens))
        .routes(routes!(set_password))
        .routes(routes!(org_settings, set_org_settings))
}

const MANAGE_PEOPLE: &str = "manage people and the organization";

/// The user `id` of the caller's organization (the caller must be an admin).
async fn member(state: &AppState, auth: &AuthUser, id: &str) -> Result<UserRow, ApiError> {
    auth.require_admin(MANAGE_PEOPLE)?;
    auth.org_member(state, id).await
}

/// Disable a person: they can't sign in, and every token they hold answers 401 at once.
#[utoipa::path(post, tag = "users", path = "/api/v1/users/{id}/disable", security(("bearer" = [])), params(("id" = String, Path, description = "The user's id")), responses(
    (status = 204),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn disable(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = member(&state, &auth, &id).await?;
    if user.user.id == auth.user.user.id {
        return Err(ApiError::BadRequest(
            "you can't disable yourself; ask another admin".into(),
        ));
    }
    accounts::set_disabled(&state, &user, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enable a disabled person again (they sign in anew).
#[utoipa::path(post, tag = "users", path = "/api/v1/users/{id}/enable", security(("bearer" = [])), params(("id" = String, Path, description = "The user's id")), responses(
    (status = 204),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn enable(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = member(&state, &auth, &id).await?;
    accounts::set_disabled(&state, &user, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Revoked {
    /// How many live tokens were revoked.
    pub revoked: u64,
}

/// Revoke every token a person holds (a lost laptop): their devices must sign in again.
#[utoipa::path(post, tag = "users", path = "/api/v1/users/{id}/revoke-tokens", security(("bearer" = [])), params(("id" = String, Path, description = "The user's id")), responses(
    (status = 200, body = Revoked),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn revoke_tokens(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Revoked>, ApiError> {
    let user = member(&state, &auth, &id).await?;
    Ok(Json(Revoked {
        revoked: accounts::revoke_tokens(&state, &user).await?,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewPassword {
    /// 8 to 1,024 bytes.
    pub password: String,
}

/// Set a person's password; their tokens are revoked.
#[utoipa::path(put, tag = "users", path = "/api/v1/users/{id}/password", security(("bearer" = [])), params(("id" = String, Path, description = "The user's id")), request_body = NewPassword, responses(
    (status = 204),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn set_password(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let user = member(&state, &auth, &id).await?;
    let permit = Arc::clone(&state.hashing)
        .try_acquire_owned()
        .map_err(|_| ApiError::Busy { retry_after: 1 })?;
    accounts::set_password(&state, &user, &body.password).await?;
    drop(permit);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrgSettings {
    /// Who may create tasks: `everyone` (the default) or `admins`.
    pub task_creation: TaskCreation,
}

/// The organization's settings (admins).
#[utoipa::path(get, tag = "users", path = "/api/v1/organization/settings", security(("bearer" = [])), responses(
    (status = 200, body = OrgSettings),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody)))]
pub async fn org_settings(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<OrgSettings>, ApiError> {
    auth.require_admin(MANAGE_PEOPLE)?;
    Ok(Json(OrgSettings {
        task_creation: state.db.task_creation(&auth.user.org_id).await?,
    }))
}

/// Change the organization's settings (admins).
#[utoipa::path(put, tag = "users", path = "/api/v1/organization/settings", security(("bearer" = [])), request_body = OrgSettings, responses(
    (status = 200, body = OrgSettings),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn set_org_settings(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(body): JsonBody<OrgSettings>,
) -> Result<Json<OrgSettings>, ApiError> {
    auth.require_admin(MANAGE_PEOPLE)?;
    state
        .db
        .set_task_creation(&auth.user.org_id, body.task_creation)
        .await?;
    Ok(Json(body))
}
