//! The organization's own settings (admins; the settings page's first card): its name, who
//! may create tasks, whether managers read their people's detail, what the server keeps of
//! page addresses, and how many days of detail are kept. A PUT changes only the fields it
//! carries, and every change is one audit row written with it.

use axum::extract::State;
use axum::Json;
use metron_core::limits::plain_text;
use metron_core::UrlPolicy;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::db::{OrgSettingsRow, TaskCreation};
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody};
use crate::timesheets::org_audit;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(org_settings, set_org_settings))
}

const MANAGE_ORGANIZATION: &str = "change the organization's settings";
/// The longest organization name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// The organization's settings.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrgSettings {
    #[schema(max_length = 200)]
    pub name: String,
    /// Who may create tasks: `everyone` (the default) or `admins`.
    pub task_creation: TaskCreation,
    /// Whether managers also read the window titles, addresses, event log and devices of the
    /// people they manage (always: their figures and timesheets). Off by default.
    pub managers_see_detail: bool,
    /// What the server keeps of each page address, whatever a desktop app sends: `full` (what
    /// arrives; the app's own setting decides), `host_only` or `drop`.
    #[schema(value_type = String, pattern = "^(full|host_only|drop)$")]
    pub url_policy: UrlPolicy,
    /// Days of raw detail (intervals, titles, events) kept before a day is kept as totals
    /// only; null: the server's `retention_days`.
    pub retention_days: Option<u32>,
    /// The server's `retention_days`: an organization may keep detail for less, not more.
    pub server_retention_days: u32,
}

/// A change to the settings: only the fields present change.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct OrgSettingsUpdate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub task_creation: Option<TaskCreation>,
    pub managers_see_detail: Option<bool>,
    #[schema(value_type = Option<String>, pattern = "^(full|host_only|drop)$")]
    pub url_policy: Option<UrlPolicy>,
    /// 1 up to the server's `retention_days`; null goes back to the server's.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 1)]
    pub retention_days: Option<Option<u32>>,
}

/// A field that is present (even as null) reads as `Some`; an absent one stays `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(d).map(Some)
}

fn view(row: OrgSettingsRow, server_retention_days: u32) -> OrgSettings {
    OrgSettings {
        name: row.name,
        task_creation: row.task_creation,
        managers_see_detail: row.managers_see_detail,
        url_policy: row.url_policy,
        retention_days: row.retention_days,
        server_retention_days,
    }
}

/// What the audit row says the settings were or became.
fn audited(row: &OrgSettingsRow) -> serde_json::Value {
    serde_json::json!({
        "name": row.name,
        "task_creation": row.task_creation,
        "managers_see_detail": row.managers_see_detail,
        "url_policy": row.url_policy,
        "retention_days": row.retention_days,
    })
}

async fn stored(state: &AppState, org_id: &str) -> Result<OrgSettingsRow, ApiError> {
    state
        .db
        .org_settings(org_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such organization".into()))
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
    auth.require_admin(MANAGE_ORGANIZATION)?;
    let row = stored(&state, &auth.user.org_id).await?;
    Ok(Json(view(row, state.retention_days)))
}

/// Change the organization's settings (admins): the fields given change, the others stay.
#[utoipa::path(put, tag = "users", path = "/api/v1/organization/settings", security(("bearer" = [])), request_body = OrgSettingsUpdate, responses(
    (status = 200, body = OrgSettings),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn set_org_settings(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(body): JsonBody<OrgSettingsUpdate>,
) -> Result<Json<OrgSettings>, ApiError> {
    auth.require_admin(MANAGE_ORGANIZATION)?;
    let org_id = &auth.user.org_id;
    let before = stored(&state, org_id).await?;
    let mut after = before.clone();
    if let Some(name) = body.name {
        let name = plain_text("name", name.trim()).map_err(ApiError::BadRequest)?;
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_NAME_CHARS {
            return Err(ApiError::BadRequest(format!(
                "the name must have 1 to {MAX_NAME_CHARS} characters, not {chars}"
            )));
        }
        after.name = name;
    }
    if let Some(who) = body.task_creation {
        after.task_creation = who;
    }
    if let Some(on) = body.managers_see_detail {
        after.managers_see_detail = on;
    }
    if let Some(policy) = body.url_policy {
        after.url_policy = policy;
    }
    if let Some(days) = body.retention_days {
        let most = state.retention_days;
        if let Some(d) = days {
            if d == 0 || d > most {
                return Err(ApiError::BadRequest(format!(
                    "retention_days must be 1 to {most} (the server's retention_days), or null"
                )));
            }
        }
        after.retention_days = days;
    }
    if after != before {
        let record = org_audit(
            org_id,
            Some(&auth.user),
            "organization.settings",
            org_id,
            Some(audited(&before)),
            Some(audited(&after)),
        );
        state.db.set_org_settings(org_id, &after, &record).await?;
        state.org_settings.forget(org_id);
    }
    Ok(Json(view(after, state.retention_days)))
}
