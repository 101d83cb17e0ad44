//! The organization's projects (issue 28): listed, renamed, coloured, archived, restored and
//! given members by admins; created by whoever may create tasks. What is valid and the audit
//! row of each change are `crate::projects`'s.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, QueryParams};
use crate::projects::{self, Actor, Members, NewProject, ProjectChange, ProjectList, ProjectView};
use crate::routes::tasks::may_create;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(change_project))
        .routes(routes!(set_members))
}

const MANAGE_PROJECTS: &str = "manage projects";

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Archived projects and tasks too (default: without them).
    archived: Option<bool>,
}

/// The organization's projects by name, each with its client, colour, members and tasks, and
/// the tasks in no project (admins).
#[utoipa::path(get, tag = "projects", path = "/api/v1/projects", security(("bearer" = [])), params(ListQuery), responses(
    (status = 200, body = ProjectList),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody)))]
pub async fn list_projects(
    State(state): State<AppState>,
    auth: AuthUser,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<ProjectList>, ApiError> {
    auth.require_admin(MANAGE_PROJECTS)?;
    Ok(Json(
        projects::list(&state, &auth.user.org_id, q.archived.unwrap_or(false)).await?,
    ))
}

/// Create a project (admins, and everyone where the organization lets everyone create tasks).
#[utoipa::path(post, tag = "projects", path = "/api/v1/projects", security(("bearer" = [])), request_body = NewProject, responses(
    (status = 201, body = ProjectView),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody),
    (status = 429, body = metron_core::wire::ErrorBody)))]
pub async fn create_project(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(new): JsonBody<NewProject>,
) -> Result<Response, ApiError> {
    may_create(&state, &auth).await?;
    state
        .task_limiter
        .hit(&auth.user.user.id)
        .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
    let created = projects::create_project(&state, &Actor::user(&auth.user), new).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Rename a project, set its client or colour, archive it (its tasks leave the app's and
/// agent's lists; their time stays in every report) or restore it (admins).
#[utoipa::path(patch, tag = "projects", path = "/api/v1/projects/{id}", security(("bearer" = [])), params(("id" = String, Path, description = "The project's id")), request_body = ProjectChange, responses(
    (status = 200, body = ProjectView),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn change_project(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    JsonBody(change): JsonBody<ProjectChange>,
) -> Result<Json<ProjectView>, ApiError> {
    auth.require_admin(MANAGE_PROJECTS)?;
    Ok(Json(
        projects::change_project(&state, &Actor::user(&auth.user), &id, change).await?,
    ))
}

/// Set who sees a project's tasks in the desktop app and the agent (admins): its members and
/// the admins; an empty list: everyone.
#[utoipa::path(put, tag = "projects", path = "/api/v1/projects/{id}/members", security(("bearer" = [])), params(("id" = String, Path, description = "The project's id")), request_body = Members, responses(
    (status = 200, body = Members),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn set_members(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Members>,
) -> Result<Json<Members>, ApiError> {
    auth.require_admin(MANAGE_PROJECTS)?;
    let users = projects::set_members(&state, &Actor::user(&auth.user), &id, body.users).await?;
    Ok(Json(Members { users }))
}
