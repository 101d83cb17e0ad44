//! The admins' offboarding API: disable and enable a person, revoke their tokens, set their
//! password, and say whom a manager reviews. An admin acts only within
//! their own organization; anyone else's users are "not found".

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::accounts;
use crate::db::UserRow;
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody};
use crate::routes::people::Role;
use crate::timesheets::audit;
use crate::AppState;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(disable))
        .routes(routes!(enable))
        .routes(routes!(revoke_tokens))
        .routes(routes!(set_password))
        .routes(routes!(managed, set_managed))
        .routes(routes!(set_role))
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
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody, description = "The organization's last admin")))]
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
    // Refused for the organization's last admin (409), as on the command line.
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

/// A person's new role.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    pub role: Role,
}

/// Set a person's role (admins): `admin`, `manager` (then give them people with PUT
/// /api/v1/users/{id}/managed) or `member` (which takes away the people they managed). The
/// organization's last admin can't be demoted (409).
#[utoipa::path(put, tag = "users", path = "/api/v1/users/{id}/role", security(("bearer" = [])), params(("id" = String, Path, description = "The user's id")), request_body = RoleChange, responses(
    (status = 200, body = RoleChange),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody, description = "The organization's last admin"),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn set_role(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RoleChange>,
) -> Result<Json<RoleChange>, ApiError> {
    let person = member(&state, &auth, &id).await?;
    accounts::set_role(&state, &auth.user, &person, body.role).await?;
    Ok(Json(body))
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

/// The people a manager reviews.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Managed {
    /// User ids of the organization (at most 1,000); empty: not a manager.
    pub users: Vec<String>,
}

/// Whom a person manages (admins, or the person themselves).
#[utoipa::path(get, tag = "timesheets", path = "/api/v1/users/{id}/managed", security(("bearer" = [])), params(("id" = String, Path, description = "The manager's user id")), responses(
    (status = 200, body = Managed),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn managed(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Managed>, ApiError> {
    if id != auth.user.user.id {
        auth.require_admin("read whom another person manages")?;
    }
    let manager = auth.org_member(&state, &id).await?;
    Ok(Json(Managed {
        users: state.db.managed(&manager.user.id).await?,
    }))
}

/// Make a person the manager of others (admins): they then review those people's manual
/// time, corrections and timesheets. An empty list takes the role away.
#[utoipa::path(put, tag = "timesheets", path = "/api/v1/users/{id}/managed", security(("bearer" = [])), params(("id" = String, Path, description = "The manager's user id")), request_body = Managed, responses(
    (status = 200, body = Managed),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn set_managed(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Managed>,
) -> Result<Json<Managed>, ApiError> {
    auth.require_admin("make someone a manager")?;
    let manager = auth.org_member(&state, &id).await?;
    if body.users.len() > 1_000 {
        return Err(ApiError::BadRequest(
            "at most 1,000 people per manager".into(),
        ));
    }
    let mut users: Vec<String> = body.users;
    users.sort();
    users.dedup();
    for user in &users {
        if *user == manager.user.id {
            return Err(ApiError::BadRequest("nobody manages themselves".into()));
        }
        auth.org_member(&state, user).await?;
    }
    let before = state.db.managed(&manager.user.id).await?;
    let record = audit(
        &auth.user,
        &manager,
        "managers.set",
        &manager.user.id,
        Some(serde_json::json!({ "users": before })),
        Some(serde_json::json!({ "users": users })),
        "",
    );
    state
        .db
        .set_managed(&manager.user.id, &users, &record)
        .await?;
    Ok(Json(Managed { users }))
}
