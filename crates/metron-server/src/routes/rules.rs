//! The organization's productivity rules (R2), managed by admins.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::db::StoredRule;
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody};
use crate::AppState;
use metron_core::report::{self, Rule};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(update_rule, delete_rule))
}

const MANAGE_RULES: &str = "manage productivity rules";

fn checked(rule: Rule) -> Result<Rule, ApiError> {
    let rule = Rule {
        pattern: rule.pattern.trim().to_string(),
        ..rule
    };
    report::validate_rule(&rule).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(rule)
}

/// The organization's productivity rules (admins), first match first.
#[utoipa::path(get, tag = "rules", path = "/api/v1/rules", security(("bearer" = [])), responses(
    (status = 200, body = Vec<StoredRule>),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody)))]
pub async fn list_rules(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<StoredRule>>, ApiError> {
    auth.require_admin(MANAGE_RULES)?;
    Ok(Json(state.db.rules(&auth.user.org_id).await?))
}

/// Add a rule (after the others).
#[utoipa::path(post, tag = "rules", path = "/api/v1/rules", security(("bearer" = [])), request_body = Rule, responses(
    (status = 201, body = StoredRule),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn create_rule(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(rule): JsonBody<Rule>,
) -> Result<Response, ApiError> {
    auth.require_admin(MANAGE_RULES)?;
    let created = state
        .db
        .create_rule(&auth.user.org_id, &checked(rule)?)
        .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Change a rule (it keeps its place in the order).
#[utoipa::path(put, tag = "rules", path = "/api/v1/rules/{id}", security(("bearer" = [])), params(("id" = String, Path, description = "The rule's id")), request_body = Rule, responses(
    (status = 200, body = StoredRule),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn update_rule(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    JsonBody(rule): JsonBody<Rule>,
) -> Result<Json<StoredRule>, ApiError> {
    auth.require_admin(MANAGE_RULES)?;
    let rule = checked(rule)?;
    state
        .db
        .update_rule(&auth.user.org_id, &id, &rule)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no rule {id}")))
}

/// Delete a rule.
#[utoipa::path(delete, tag = "rules", path = "/api/v1/rules/{id}", security(("bearer" = [])), params(("id" = String, Path, description = "The rule's id")), responses(
    (status = 204),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require_admin(MANAGE_RULES)?;
    if state.db.delete_rule(&auth.user.org_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no rule {id}")))
    }
}
