//! `GET /api/v1/events`: the event log (`crate::event_log`) for process mining, as JSON or as
//! XES (IEEE 1849, `crate::xes`).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Duration;
use metron_core::wire::EventRecord;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ApiError;
use crate::event_log;
use crate::extract::{AuthUser, QueryParams};
use crate::routes::intervals::parse_time;
use crate::timesheets::subject;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Whose events (admins: anyone in their organization); default the caller.
    user_id: Option<String>,
    /// Start of the range (RFC 3339).
    #[param(format = DateTime, required = true)]
    from: Option<String>,
    /// End of the range (RFC 3339), exclusive; at most 31 days after `from`.
    #[param(format = DateTime, required = true)]
    to: Option<String>,
    /// `json` (the default) or `xes`.
    #[param(pattern = "^(json|xes)$")]
    format: Option<String>,
}

/// The events of a person in a range, in time order: as JSON, or as an XES event log.
#[utoipa::path(get, tag = "events", path = "/api/v1/events", security(("bearer" = [])), params(EventsQuery), responses(
    (status = 200, description = "The events as JSON; with format=xes an XES event log", content(
        (Vec<EventRecord> = "application/json"),
        (String = "application/xml"))),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    auth: AuthUser,
    QueryParams(q): QueryParams<EventsQuery>,
) -> Result<Response, ApiError> {
    let from = parse_time("from", q.from.as_deref().unwrap_or(""))?;
    let to = parse_time("to", q.to.as_deref().unwrap_or(""))?;
    if to < from {
        return Err(ApiError::BadRequest("to is before from".into()));
    }
    let widest = Duration::from_std(state.limits.max_interval_range).unwrap_or(Duration::MAX);
    if to - from > widest {
        return Err(ApiError::BadRequest(format!(
            "a range spans at most {} days",
            widest.num_days()
        )));
    }
    let xes = match q.format.as_deref() {
        None | Some("json") => false,
        Some("xes") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format is json or xes, not {other:?}"
            )))
        }
    };
    let who = subject(&state, &auth.user, q.user_id.as_deref()).await?;
    let events = event_log::read(&state, &who, from, to).await?;
    if !xes {
        let records: Vec<EventRecord> = events.into_iter().map(|e| e.record).collect();
        return Ok(Json(records).into_response());
    }
    let title = format!(
        "Metron events of {} from {} to {}",
        who.user.email,
        from.to_rfc3339(),
        to.to_rfc3339()
    );
    let body = crate::xes::write(&who.user.email, &title, &events);
    Ok((
        [
            (header::CONTENT_TYPE, "application/xml; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"metron-events.xes\"",
            ),
        ],
        body,
    )
        .into_response())
}
