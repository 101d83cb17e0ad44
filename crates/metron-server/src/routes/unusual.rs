//! The thresholds of the unusual-activity flags (issue 15): read by everyone in the
//! organization (the rules a day is judged by are no secret to the people judged), set by its
//! admins. The flags themselves are in the day reports (`unusual`) and the team's day.

use axum::extract::State;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody};
use crate::AppState;
use metron_core::report::Thresholds;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(thresholds, set_thresholds))
}

/// The thresholds the organization's days are assessed by (the defaults until an admin sets
/// them).
#[utoipa::path(get, tag = "reports", path = "/api/v1/unusual/thresholds", security(("bearer" = [])), responses(
    (status = 200, body = Thresholds),
    (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn thresholds(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Thresholds>, ApiError> {
    Ok(Json(state.db.unusual_thresholds(&auth.user.org_id).await?))
}

/// Change the thresholds (admins). Fields left out take their defaults; every day, past ones
/// included, is assessed by the new thresholds from now on (days past retention keep the flags
/// they were kept with).
#[utoipa::path(put, tag = "reports", path = "/api/v1/unusual/thresholds", security(("bearer" = [])), request_body = Thresholds, responses(
    (status = 200, body = Thresholds),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn set_thresholds(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> Result<Json<Thresholds>, ApiError> {
    auth.require_admin("change the unusual-activity thresholds")?;
    // Read from an object only: serde would also take the fields in order from an array.
    if !body.is_object() {
        return Err(ApiError::BadRequest(
            "the thresholds must be a JSON object".into(),
        ));
    }
    let thresholds: Thresholds = serde_json::from_value(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid thresholds: {e}")))?;
    thresholds.validate().map_err(ApiError::BadRequest)?;
    let org_id = &auth.user.org_id;
    let before = state.db.unusual_thresholds(org_id).await?;
    let record = crate::timesheets::org_audit(
        org_id,
        Some(&auth.user),
        "organization.unusual_thresholds",
        org_id,
        Some(serde_json::to_value(before).expect("thresholds serialize")),
        Some(serde_json::to_value(thresholds).expect("thresholds serialize")),
    );
    state
        .db
        .set_unusual_thresholds(org_id, &thresholds, &record)
        .await?;
    Ok(Json(thresholds))
}
