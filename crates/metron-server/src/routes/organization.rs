//! The organization's own settings (admins; the settings page's first card): its name, who
//! may create tasks, whether managers read their people's detail, what the server keeps of
//! page addresses, how many days of detail are kept, and who must have two-factor codes. A PUT changes only the fields it
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
use crate::second_factor::Requirement;
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
    /// Who must sign in with two-factor codes: `off` (the default), `admins` or `everyone`.
    pub require_second_factor: Requirement,
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
    /// `off`, `admins` or `everyone`. An admin it covers turns it on only once their own
    /// codes are on (409 otherwise).
    pub require_second_factor: Option<Requirement>,
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
        require_second_factor: row.require_second_factor,
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
        "require_second_factor": row.require_second_factor,
    })
}

async fn stored(state: &AppState, org_id: &str) -> Result<OrgSettingsRow, ApiError> {
    state
        .db
        .org_settings(org_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such organization".into()))
}

/// The organization's settings as the API shows them.
pub async fn read(state: &AppState, org_id: &str) -> Result<OrgSettings, ApiError> {
    Ok(view(stored(state, org_id).await?, state.retention_days))
}

/// Applies `body` to the organization's settings, with its audit row (by `actor`, or by the
/// command line): the API and `metron-server org set` both come here.
pub async fn update(
    state: &AppState,
    org_id: &str,
    actor: Option<&crate::db::UserRow>,
    body: OrgSettingsUpdate,
) -> Result<OrgSettings, ApiError> {
    let before = stored(state, org_id).await?;
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
    if let Some(required) = body.require_second_factor {
        // An admin who would be required and has no codes could not sign their devices in
        // any more: they set up their own first (the command line has no such person).
        if let Some(actor) = actor {
            if required.covers(actor.user.admin)
                && !before.require_second_factor.covers(actor.user.admin)
                && !state.db.second_factor_on(&actor.user.id).await?
            {
                return Err(ApiError::Conflict(
                    "set up your own two-factor codes before requiring them".into(),
                ));
            }
        }
        after.require_second_factor = required;
    }
    if after != before {
        let record = org_audit(
            org_id,
            actor,
            "organization.settings",
            org_id,
            Some(audited(&before)),
            Some(audited(&after)),
        );
        state.db.set_org_settings(org_id, &after, &record).await?;
        state.org_settings.forget(org_id);
    }
    Ok(view(after, state.retention_days))
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
    Ok(Json(read(&state, &auth.user.org_id).await?))
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
    Ok(Json(
        update(&state, &auth.user.org_id, Some(&auth.user), body).await?,
    ))
}
