//! Devices (issue 15, "who and where"): what each of a person's devices reports about itself
//! (host, OS user, domain, OS, time zone), when it was first and last seen, and which are
//! tracking right now. One agent store is one device; its id comes with every interval.

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use metron_core::device::{Device, DeviceInfo};
use metron_core::wire::ActiveDevice;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::db::DeviceRow;
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, QueryParams};
use crate::timesheets::subject;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(devices))
        .routes(routes!(report_device))
        .routes(routes!(active_devices))
}

/// A device id as agents make them (a UUID); anything else is refused before it is stored.
const MAX_DEVICE_ID_BYTES: usize = 64;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DevicesQuery {
    /// Whose devices (admins: anyone in their organization; managers: the people they manage,
    /// only where the organization shares activity detail with managers); default the caller.
    user_id: Option<String>,
    /// `true`: every device of the organization (admins), for the team table.
    team: Option<bool>,
}

/// A person's devices (or, with `team=true`, the organization's), latest seen first.
#[utoipa::path(get, tag = "devices", path = "/api/v1/devices", security(("bearer" = [])), params(DevicesQuery), responses(
    (status = 200, body = Vec<Device>),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn devices(
    State(state): State<AppState>,
    auth: AuthUser,
    QueryParams(q): QueryParams<DevicesQuery>,
) -> Result<Json<Vec<Device>>, ApiError> {
    let rows = if q.team == Some(true) {
        if q.user_id.is_some() {
            return Err(ApiError::BadRequest(
                "give user_id or team=true, not both".into(),
            ));
        }
        auth.require_admin("list the team's devices")?;
        state.db.devices(&auth.user.org_id, None).await?
    } else {
        let person = subject(&state, &auth.user, q.user_id.as_deref()).await?;
        crate::access::require_detail(&state, &auth.user, &person).await?;
        crate::own_data::access::record(
            &state,
            &auth.user,
            &person,
            crate::own_data::access::Read::Devices,
            "",
        )
        .await?;
        state
            .db
            .devices(&person.org_id, Some(&person.user.id))
            .await?
    };
    Ok(Json(rows.into_iter().map(device).collect()))
}

/// The calling device tells who and where it is: its host, OS user, domain, OS and time zone.
/// Agents send it after signing in and whenever it changes; the latest report is kept.
#[utoipa::path(put, tag = "devices", path = "/api/v1/devices/{device_id}", security(("bearer" = [])),
    params(("device_id" = String, Path, description = "The device's id (as in its intervals)", max_length = 64)),
    request_body = DeviceInfo, responses(
    (status = 200, body = Device),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn report_device(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(device_id): Path<String>,
    JsonBody(info): JsonBody<DeviceInfo>,
) -> Result<Json<Device>, ApiError> {
    let device_id = uuid::Uuid::parse_str(&device_id)
        .ok()
        .filter(|_| device_id.len() <= MAX_DEVICE_ID_BYTES)
        .ok_or_else(|| ApiError::BadRequest("device_id must be a UUID".into()))?
        .to_string();
    let info = info
        .checked()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let body = serde_json::to_string(&info).expect("a device report serializes");
    let now = Utc::now().timestamp();
    let user_id = &auth.user.user.id;
    crate::budget::rate(&state, &auth.user)?;
    // A report replaces its device's last one; a new device is a new row, so a person has a
    // bounded number of them.
    let known = state.db.devices(&auth.user.org_id, Some(user_id)).await?;
    let cap = state.limits.max_devices_per_user;
    if known.len() as u64 >= cap && !known.iter().any(|d| d.device_id == device_id) {
        return Err(ApiError::Conflict(format!(
            "you have {cap} devices, the most a person may have"
        )));
    }
    state
        .db
        .report_device(user_id, &device_id, &body, now)
        .await?;
    let row = state
        .db
        .devices(&auth.user.org_id, Some(user_id))
        .await?
        .into_iter()
        .find(|d| d.device_id == device_id)
        .ok_or_else(|| ApiError::Internal("the device report was not stored".into()))?;
    Ok(Json(device(row)))
}

pub(crate) fn device(row: DeviceRow) -> Device {
    let time = |secs: i64| DateTime::from_timestamp(secs, 0).unwrap_or_default();
    Device {
        // Reports are checked before they are stored; a row that doesn't parse (written by a
        // later version, say) reads as "not reported" rather than failing the whole list.
        info: row
            .info
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok()),
        first_seen: time(row.first_seen),
        last_seen: time(row.last_seen),
        reported_at: row.reported_at.map(time),
        device_id: row.device_id,
        user_id: row.user_id,
    }
}

/// How recent an interval's end must be for its device to count as tracking now.
pub const ACTIVE_WINDOW_SECS: i64 = 180;

/// The caller's devices that delivered an interval ending in the last 3 minutes: another device
/// of the same account is probably tracking at the same time.
#[utoipa::path(get, tag = "devices", path = "/api/v1/devices/active", security(("bearer" = [])), responses(
    (status = 200, body = Vec<ActiveDevice>),
    (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn active_devices(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<ActiveDevice>>, ApiError> {
    let since = Utc::now().timestamp() - ACTIVE_WINDOW_SECS;
    Ok(Json(
        state.db.active_devices(&auth.user.user.id, since).await?,
    ))
}
