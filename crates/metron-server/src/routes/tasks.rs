//! The organization's tasks: listed for everyone (those they may book on), created by whoever
//! the organization allows, renamed, moved, archived and restored by admins.
//!
//! The list answers with a strong ETag, the hash of exactly the bytes it sends this caller,
//! and 304 with no body to an `If-None-Match` that names it: the desktop app and the agent
//! ask every few minutes, and almost always nothing changed.

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::db::TaskCreation;
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody};
use crate::projects::{self, Actor, TaskChange, TaskView};
use crate::AppState;
use metron_core::wire::{NewTask, Task};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tasks, create_task))
        .routes(routes!(change_task))
}

/// The tasks the caller may book on: not archived, in no project or in a project that is not
/// archived and whose members (if it has any) include them; admins see every project's. A
/// strong `ETag` comes with it; send it back in `If-None-Match` to get 304 while the list is
/// the same.
#[utoipa::path(get, tag = "tasks", path = "/api/v1/tasks", security(("bearer" = [])),
    params(("If-None-Match" = Option<String>, Header, description = "The ETag of the list the caller holds")),
    responses(
        (status = 200, body = Vec<Task>, headers(("ETag" = String, description = "The list's strong validator"))),
        (status = 304, description = "The list is the one whose ETag was sent; no body", headers(("ETag" = String))),
        (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = &auth.user;
    let tasks = state
        .db
        .visible_tasks(&user.org_id, &user.user.id, user.user.admin)
        .await?;
    let body = serde_json::to_vec(&tasks).expect("tasks serialize");
    let etag = strong_etag(&body);
    // Private: the list depends on who asks. no-cache: a cache may keep it, but asks first.
    let cache = (CACHE_CONTROL, "private, no-cache");
    let holds = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| none_match_names(v, &etag));
    if holds {
        return Ok((StatusCode::NOT_MODIFIED, [(ETAG, etag.as_str()), cache]).into_response());
    }
    Ok((
        StatusCode::OK,
        [
            (ETAG, etag.as_str()),
            (CONTENT_TYPE, "application/json"),
            cache,
        ],
        body,
    )
        .into_response())
}

/// `"<hex>"`: the first 128 bits of the body's SHA-256, quoted as RFC 9110 wants.
fn strong_etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Whether an `If-None-Match` value (`*` or a list of entity tags) names `etag`, by the weak
/// comparison RFC 9110 §13.1.2 asks for here (a `W/` prefix is ignored). Written out rather
/// than taken from the `headers` crate, which would bring sha1, httpdate and mime for it.
fn none_match_names(value: &str, etag: &str) -> bool {
    value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// Create a task in the user's organization, in the project named `project` (opened if the
/// organization has none of that name; refused if it is archived).
#[utoipa::path(post, tag = "tasks", path = "/api/v1/tasks", security(("bearer" = [])), request_body = NewTask, responses(
    (status = 201, body = Task),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody),
    (status = 429, body = metron_core::wire::ErrorBody)))]
pub async fn create_task(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(task): JsonBody<NewTask>,
) -> Result<Response, ApiError> {
    may_create(&state, &auth).await?;
    // Checked before the limiter counts the call: a malformed one costs nothing.
    projects::checked_name("name", &task.name)?;
    projects::checked_text("project", &task.project)?;
    state
        .task_limiter
        .hit(&auth.user.user.id)
        .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
    let created = projects::create_task(&state, &Actor::user(&auth.user), task).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Whether the caller may create tasks and projects: admins, and everyone where the
/// organization's `task_creation` setting says so.
pub async fn may_create(state: &AppState, auth: &AuthUser) -> Result<(), ApiError> {
    if !auth.user.user.admin
        && state.db.task_creation(&auth.user.org_id).await? == TaskCreation::Admins
    {
        return Err(ApiError::Forbidden(
            "in this organization only admins create tasks".into(),
        ));
    }
    Ok(())
}

/// Rename a task, move it to another project (`project_id`, the empty string for none),
/// archive it (it leaves the app's and agent's lists at their next refresh; its time stays in
/// every report, and intervals for it arriving late are accepted) or restore it (admins).
#[utoipa::path(patch, tag = "tasks", path = "/api/v1/tasks/{id}", security(("bearer" = [])), params(("id" = String, Path, description = "The task's id")), request_body = TaskChange, responses(
    (status = 200, body = TaskView),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn change_task(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    JsonBody(change): JsonBody<TaskChange>,
) -> Result<Json<TaskView>, ApiError> {
    auth.require_admin("rename, move, archive or restore tasks")?;
    Ok(Json(
        projects::change_task(&state, &Actor::user(&auth.user), &id, change).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_names_the_tag_in_a_list_weakly_or_by_star() {
        let tag = strong_etag(b"[]");
        assert_eq!(tag.len(), 34);
        assert!(none_match_names(&tag, &tag));
        assert!(none_match_names(&format!("\"x\", W/{tag}"), &tag));
        assert!(none_match_names("*", &tag));
        assert!(!none_match_names("\"x\"", &tag));
        assert!(!none_match_names(tag.trim_matches('"'), &tag));
        assert_ne!(strong_etag(b"[1]"), tag);
    }
}
