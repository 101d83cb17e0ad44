//! Intervals: delivered in batches (judged one by one) and read back by range.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ApiError;
use crate::extract::{AuthUser, BodyBytes, QueryParams};
use crate::ingest;
use crate::AppState;
use chrono::{DateTime, Utc};
use metron_core::wire::IngestResponse;
use metron_core::Interval;
use serde::Deserialize;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_intervals, post_intervals))
}

/// Deliver intervals: 1..=500 a request, one result per interval in request order.
#[utoipa::path(post, tag = "intervals", path = "/api/v1/intervals", security(("bearer" = [])), request_body = crate::openapi::IntervalBatch, responses(
    (status = 200, body = IngestResponse),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody),
    (status = 503, body = metron_core::wire::ErrorBody)))]
pub async fn post_intervals(
    State(state): State<AppState>,
    auth: AuthUser,
    BodyBytes(body): BodyBytes,
) -> Result<Json<IngestResponse>, ApiError> {
    let items = ingest::items(&body)?;
    let results = ingest::ingest(&state, &auth.user, items, Utc::now().timestamp()).await?;
    Ok(Json(IngestResponse { results }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Range {
    /// Start of the range (RFC 3339).
    #[param(format = DateTime)]
    from: String,
    /// End of the range (RFC 3339), exclusive.
    #[param(format = DateTime)]
    to: String,
}

pub(crate) fn parse_time(name: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    let t = DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "{name} must be an RFC 3339 time such as 2026-11-23T00:00:00Z"
            ))
        })?;
    in_service_time(name, t)
}

/// `t`, if it lies from 2000-01-01 to the end of 2100 (UTC), the times Metron holds.
pub(crate) fn in_service_time(name: &str, t: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    use metron_core::report::{FIRST_DATE, LAST_DATE};
    let first = FIRST_DATE.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let end = (LAST_DATE + chrono::Days::new(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    if (first..=end).contains(&t) {
        Ok(t)
    } else {
        Err(ApiError::BadRequest(format!(
            "{name} must lie from {FIRST_DATE} to {LAST_DATE}"
        )))
    }
}

/// The caller's intervals that overlap [from, to).
#[utoipa::path(get, tag = "intervals", path = "/api/v1/intervals", security(("bearer" = [])), params(Range), responses(
    (status = 200, body = Vec<Interval>, headers(("metron-range-cut-at" = String, description = "Present when the range was wider than 31 days: the end the answer stops at"))),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn list_intervals(
    State(state): State<AppState>,
    auth: AuthUser,
    QueryParams(range): QueryParams<Range>,
) -> Result<Response, ApiError> {
    let (from, to) = (
        parse_time("from", &range.from)?,
        parse_time("to", &range.to)?,
    );
    if to < from {
        return Err(ApiError::BadRequest("to is before from".into()));
    }
    // A wider range is cut to the widest one served, and the answer says where it stops.
    let widest = chrono::Duration::seconds(
        i64::try_from(state.limits.max_interval_range.as_secs()).unwrap_or(i64::MAX),
    );
    let cut_at = from.checked_add_signed(widest).filter(|end| *end < to);
    let to = cut_at.unwrap_or(to);
    let intervals = state
        .db
        .intervals(&auth.user.user.id, from.timestamp(), to.timestamp())
        .await?;
    let mut response = Json(intervals).into_response();
    if let Some(end) = cut_at {
        let value = axum::http::HeaderValue::from_str(
            &end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
        .expect("a time is a valid header");
        response.headers_mut().insert(RANGE_CUT_HEADER, value);
    }
    Ok(response)
}

/// Set on `GET /api/v1/intervals` when the range asked for was wider than the server serves:
/// the end (RFC 3339) the answer stops at. Ask again from there for the rest.
pub const RANGE_CUT_HEADER: &str = "metron-range-cut-at";
