//! `GET /api/v1/events`: the event log (`crate::event_log`) for process mining, as JSON or as
//! XES (IEEE 1849), streamed a day at a time (`routes::stream`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use chrono::Duration;
use metron_core::wire::EventExport;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ApiError;
use crate::event_log::{self, Format};
use crate::extract::{AuthUser, QueryParams};
use crate::routes::intervals::parse_time;
use crate::routes::stream::streamed;
use crate::timesheets::subject;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Whose events (admins: anyone in their organization; managers: the people they
    /// manage, only where the organization shares activity detail with managers); default
    /// the caller.
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

/// The events of a person in a range, in time order: as JSON, or as an XES event log. The
/// answer is streamed a local day at a time (chunked, no Content-Length). Past the server's
/// export budget the JSON ends with `complete: false` and `resume_from`, the XES with a
/// comment saying where to ask again and no closing `</log>`. An error after the answer
/// started cuts the body before its end (no closing brace or tag).
#[utoipa::path(get, tag = "events", path = "/api/v1/events", security(("bearer" = [])), params(EventsQuery), responses(
    (status = 200, description = "The events as JSON (each window once a day, events refer to it); with format=xes an XES event log", content(
        (EventExport = "application/json"),
        (String = "application/xml"))),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 503, description = "As many exports as the server runs at once are running: try again after Retry-After", body = metron_core::wire::ErrorBody)))]
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
    let format = match q.format.as_deref() {
        None | Some("json") => Format::Json,
        Some("xes") => Format::Xes,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format is json or xes, not {other:?}"
            )))
        }
    };
    let who = subject(&state, &auth.user, q.user_id.as_deref()).await?;
    crate::access::require_detail(&state, &auth.user, &who).await?;
    let scope = format!("{}/{}", from.to_rfc3339(), to.to_rfc3339());
    crate::own_data::access::record(
        &state,
        &auth.user,
        &who,
        crate::own_data::access::Read::Events,
        &scope,
    )
    .await?;
    // Each export holds a day of intervals and a thread while it runs: a few at
    // once, the rest told to come back.
    let permit = tokio::time::timeout(
        state.limits.export_wait,
        Arc::clone(&state.exports).acquire_owned(),
    )
    .await
    .map_err(|_| ApiError::Busy { retry_after: 5 })?
    .map_err(|_| ApiError::Busy { retry_after: 5 })?;
    let (content_type, attachment) = match format {
        Format::Json => ("application/json", None),
        Format::Xes => (
            "application/xml; charset=utf-8",
            Some("attachment; filename=\"metron-events.xes\"".to_string()),
        ),
    };
    let runtime = tokio::runtime::Handle::current();
    let budget = state.limits.max_export_bytes;
    streamed(content_type, attachment, budget, move |sink| {
        let _permit = permit;
        event_log::export(&runtime, &state, &who, (from, to), format, sink)
    })
}
