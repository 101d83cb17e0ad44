//! The organization's tasks: listed for everyone, created by whoever the organization allows.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::db::TaskCreation;
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody};
use crate::AppState;
use metron_core::limits;
use metron_core::wire::{NewTask, Task};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_tasks, create_task))
}

/// The tasks of the user's organization.
#[utoipa::path(get, tag = "tasks", path = "/api/v1/tasks", security(("bearer" = [])), responses((status = 200, body = Vec<Task>), (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<Task>>, ApiError> {
    Ok(Json(state.db.tasks(&auth.user.org_id).await?))
}

/// Create a task in the user's organization.
#[utoipa::path(post, tag = "tasks", path = "/api/v1/tasks", security(("bearer" = [])), request_body = NewTask, responses(
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

/// A task's name and project, trimmed and checked against the limits of `metron_core::limits`
/// (no control characters, format characters such as bidi controls dropped). The API and
/// `metron-server task add` both come here.
pub fn checked_task(task: NewTask) -> Result<NewTask, ApiError> {
    let plain =
        |field, text: &str| limits::plain_text(field, text.trim()).map_err(ApiError::BadRequest);
    let task = NewTask {
        name: plain("name", &task.name)?.trim().to_string(),
        project: plain("project", &task.project)?.trim().to_string(),
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
