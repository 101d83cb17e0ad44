//! Intervals: delivered in batches (judged one by one) and read back by range.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::ingest::{self, Judged};
use crate::AppState;
use chrono::{DateTime, Utc};
use metron_core::wire::{IngestResponse, IngestResult, IngestStatus};
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
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<IngestResponse>, ApiError> {
    let items = ingest::items(body)?;
    let now = Utc::now().timestamp();
    let mut results = Vec::with_capacity(items.len());
    let mut candidates = Vec::new();
    let mut slots = Vec::new();
    // A day past retention is kept only as its report: an interval for it could not be added.
    let oldest = now - i64::from(state.retention_days) * 86_400;
    for item in items {
        match ingest::judge(item, now) {
            Judged::Decided(result) => results.push(Some(result)),
            Judged::Candidate(c) if c.interval.ended_at.timestamp() < oldest => {
                results.push(Some(IngestResult::rejected(
                    Some(c.interval.id.to_string()),
                    format!(
                        "invalid: older than the {} days this server keeps intervals",
                        state.retention_days
                    ),
                )))
            }
            Judged::Candidate(c) => {
                slots.push(results.len());
                results.push(None);
                candidates.push(c);
            }
        }
    }
    let candidates = within_daily_bytes(
        &state,
        &auth.user.user.id,
        candidates,
        &mut slots,
        &mut results,
    )
    .await?;
    if !candidates.is_empty() {
        let sizes: Vec<(i64, u64)> = candidates
            .iter()
            .map(|c| (utc_day(&c.interval), c.body.len() as u64))
            .collect();
        let stored = state.db.ingest(&auth.user, candidates).await?;
        for ((slot, result), (day, size)) in slots.into_iter().zip(stored).zip(sizes) {
            if result.status == IngestStatus::Accepted {
                state.daily_bytes.add(&auth.user.user.id, day, size);
            }
            results[slot] = Some(result);
        }
    }
    Ok(Json(IngestResponse {
        results: results
            .into_iter()
            .map(|r| r.expect("every slot is filled"))
            .collect(),
    }))
}

/// The UTC day (its first second) an interval counts in for the byte cap: the day it starts.
fn utc_day(interval: &Interval) -> i64 {
    interval.started_at.timestamp().div_euclid(86_400) * 86_400
}

/// Keeps the candidates that fit the user's stored bytes for their UTC day (by start); the
/// others are refused `invalid: ...`. A soft cap: two requests racing for the same day's last
/// bytes may both get in, which only bounds the overshoot to one request's worth.
async fn within_daily_bytes(
    state: &AppState,
    user_id: &str,
    candidates: Vec<crate::db::Candidate>,
    slots: &mut Vec<usize>,
    results: &mut [Option<IngestResult>],
) -> Result<Vec<crate::db::Candidate>, ApiError> {
    let cap = state.limits.max_bytes_per_user_day;
    let mut used: std::collections::HashMap<i64, u64> = std::collections::HashMap::new();
    let mut kept = Vec::with_capacity(candidates.len());
    let mut kept_slots = Vec::with_capacity(slots.len());
    for (candidate, slot) in candidates.into_iter().zip(slots.drain(..)) {
        let day = utc_day(&candidate.interval);
        let so_far = match used.get(&day) {
            Some(n) => *n,
            None => {
                state
                    .daily_bytes
                    .stored(state.db.as_ref(), user_id, day)
                    .await?
            }
        };
        let size = candidate.body.len() as u64;
        if so_far.saturating_add(size) > cap {
            results[slot] = Some(IngestResult::rejected(
                Some(candidate.interval.id.to_string()),
                format!("invalid: over the {cap} bytes one person may store a day"),
            ));
            used.insert(day, so_far);
            continue;
        }
        used.insert(day, so_far + size);
        kept.push(candidate);
        kept_slots.push(slot);
    }
    *slots = kept_slots;
    Ok(kept)
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
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "{name} must be an RFC 3339 time such as 2026-11-23T00:00:00Z"
            ))
        })
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
