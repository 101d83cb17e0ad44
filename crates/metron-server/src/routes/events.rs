//! The event log (issue 15): the window and input events the intervals carried, for process
//! mining, as JSON or as XES (IEEE 1849). Each stored event is a time and a type; the window
//! it happened in is the window segment covering its second. Read from the stored intervals,
//! so nothing is kept twice and a person's privacy settings at recording time hold here too.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use metron_core::events::Event;
use metron_core::{Interval, WindowInfo};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::routes::intervals::parse_time;
use crate::routes::reports::subject;
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

/// One event with the interval and task it came in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventRecord {
    #[serde(flatten)]
    pub event: Event,
    pub task_id: String,
    pub interval_id: String,
    #[serde(skip)]
    pub task_name: String,
    /// The person's local day of the event (the interval's UTC offset).
    #[serde(skip)]
    pub local_date: NaiveDate,
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
    let who = subject(&state, &auth, q.user_id.as_deref()).await?;
    // An input event may predate its interval by the pause it ends (under an hour, see
    // Interval::validate), and its window is in the interval covering its second: the
    // intervals of an hour around the range.
    let mut intervals = state
        .db
        .intervals(
            &who.user.id,
            (from - Duration::hours(1)).timestamp(),
            (to + Duration::hours(1)).timestamp(),
        )
        .await?;
    intervals.sort_by_key(|i| i.started_at);
    let names = crate::reports::task_names(&state, &who.org_id).await?;
    let mut records = Vec::new();
    for interval in &intervals {
        let offset = Duration::minutes(i64::from(interval.utc_offset_minutes));
        for e in &interval.events {
            let at = interval.started_at + Duration::seconds(i64::from(e.offset));
            if !(from <= at && at < to) {
                continue;
            }
            let window = window_at(&intervals, at).unwrap_or_else(WindowInfo::unknown);
            records.push(EventRecord {
                event: Event::new(at, e.kind, &window),
                task_id: interval.task_id.clone(),
                interval_id: interval.id.to_string(),
                task_name: names
                    .get(&interval.task_id)
                    .cloned()
                    .unwrap_or(interval.task_id.clone()),
                local_date: (at + offset).date_naive(),
            });
        }
    }
    records.sort_by_key(|r| r.event.at);
    if !xes {
        return Ok(Json(records).into_response());
    }
    let title = format!(
        "Metron events of {} from {} to {}",
        who.user.email,
        from.to_rfc3339(),
        to.to_rfc3339()
    );
    let body = crate::xes::write(&who.user.email, &title, &records);
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

/// The window in front at `at`: the segment covering that second, in the interval covering it
/// (`intervals` sorted by start; they never overlap for one person).
fn window_at(intervals: &[Interval], at: DateTime<Utc>) -> Option<WindowInfo> {
    let after = intervals.partition_point(|i| i.started_at <= at);
    let interval = intervals[..after].last().filter(|i| at < i.ended_at)?;
    let offset = u32::try_from((at - interval.started_at).num_seconds()).ok()?;
    let segment = interval
        .windows
        .iter()
        .find(|w| w.offset <= offset && offset < w.offset.saturating_add(w.seconds))?;
    Some(WindowInfo {
        app: segment.app.clone(),
        title: segment.title.clone(),
        url: segment.url.clone(),
        path: segment.path.clone(),
    })
}
