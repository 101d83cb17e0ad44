//! The client release an organization announces: read by everyone signed in to it (the agent
//! and the desktop app ask every few hours), set by its admins here or with
//! `metron-server client-version set`. Stored per organization, checked by
//! `metron_core::release` on the way in (and by the clients again on the way out).

use axum::extract::State;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::db::UserRow;
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody};
use crate::timesheets::org_audit;
use crate::AppState;
use metron_core::release;
use metron_core::wire::{ClientVersion, ClientVersionUpdate};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(client_version, set_client_version))
}

/// Checks and stores the organization's announcement with its audit row (the API and the CLI
/// both come here; the CLI has no `actor`).
pub async fn announce(
    state: &AppState,
    org_id: &str,
    actor: Option<&UserRow>,
    update: ClientVersionUpdate,
) -> Result<ClientVersion, ApiError> {
    let update = release::checked(update).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let before = state.db.client_version(org_id).await?;
    let record = org_audit(
        org_id,
        actor,
        "organization.client_version",
        org_id,
        Some(serde_json::to_value(&before).expect("an announcement serializes")),
        Some(serde_json::to_value(&update).expect("an announcement serializes")),
    );
    Ok(state
        .db
        .set_client_version(org_id, &update, &record)
        .await?)
}

/// The newest release of Metron's desktop app and agent that the organization announces
/// (all null when none is).
#[utoipa::path(get, tag = "client-version", path = "/api/v1/client-version", security(("bearer" = [])), responses(
    (status = 200, body = ClientVersion),
    (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn client_version(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<ClientVersion>, ApiError> {
    Ok(Json(state.db.client_version(&auth.user.org_id).await?))
}

/// Announce a release to the organization's clients, or withdraw it with all fields null
/// (admins). Clients tell their person and link to `download_url`; they never download it.
#[utoipa::path(put, tag = "client-version", path = "/api/v1/client-version", security(("bearer" = [])), request_body = ClientVersionUpdate, responses(
    (status = 200, body = ClientVersion),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn set_client_version(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(update): JsonBody<ClientVersionUpdate>,
) -> Result<Json<ClientVersion>, ApiError> {
    auth.require_admin("announce a client release")?;
    Ok(Json(
        announce(&state, &auth.user.org_id, Some(&auth.user), update).await?,
    ))
}
