//! Corrections of tracked time (issue 16): a person moves one of their intervals to another
//! task, removes it, or cuts its idle tail, inside the organization's edit window. Nothing
//! stored is changed: a correction is its own record that reports apply. Removing and cutting
//! only take time away and are in force at once; a move follows the policy (in force,
//! pending a reviewer, or refused). Every step is in the audit trail.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use metron_core::timesheet::{self, Change, Permission, Status};
use metron_core::wire::{CorrectionView, Decision, NewCorrection, Withdrawal};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::budget::charge;
use crate::db::timesheets::{CorrectionRow, Page, MAX_ROWS};
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, QueryParams};
use crate::routes::requests::settle;
use crate::routes::requests::{
    self, outside_edit_window, parse_range, plain_note, time, ListQuery, Reviewed,
};
use crate::timesheets::{audit, ensure_open, subject};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(withdraw))
        .routes(routes!(decide))
}

impl TryFrom<&CorrectionRow> for CorrectionView {
    type Error = ApiError;

    fn try_from(r: &CorrectionRow) -> Result<Self, ApiError> {
        Ok(CorrectionView {
            id: r.id.clone(),
            user_id: r.user_id.clone(),
            interval_id: r.interval_id.clone(),
            interval_started_at: time(r.interval_started_at),
            change: serde_json::from_str(&r.change)
                .map_err(|e| ApiError::Internal(format!("stored correction {}: {e}", r.id)))?,
            reason: r.reason.clone(),
            status: Status::parse(&r.status).unwrap_or(Status::Denied),
            created_at: time(r.created_at),
            created_by: r.created_by.clone(),
            decided_by: r.decided_by.clone(),
            decided_at: r.decided_at.map(time),
            decision_note: r.decision_note.clone(),
        })
    }
}

/// Correct one of a person's intervals. Their own correction must lie inside the edit
/// window; a move to another task follows the policy (`approved`, `pending` or refused),
/// removing and cutting are in force at once. A reviewer's correction of someone is in force
/// at once. Refused (409) in a submitted or approved period.
#[utoipa::path(post, tag = "timesheets", path = "/api/v1/corrections", security(("bearer" = [])), request_body = NewCorrection, responses(
    (status = 201, body = CorrectionView),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(mut body): JsonBody<NewCorrection>,
) -> Result<Response, ApiError> {
    body.reason = plain_note("reason", &body.reason)?;
    let who = subject(&state, &auth.user, body.user_id.as_deref()).await?;
    let bound = who.user.id == auth.user.user.id && !auth.user.user.admin;
    let interval_id = body.interval_id.to_string();
    let interval = state
        .db
        .interval_of(&who.user.id, &interval_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no interval {interval_id} of this person")))?;
    let policy = state.db.timesheet_policy(&who.org_id).await?;
    let now = Utc::now();
    if bound && interval.started_at < policy.window_start(now) {
        return Err(outside_edit_window(&policy));
    }
    match &body.change {
        Change::Move { task_id } => {
            if task_id.is_empty() || task_id.len() > 200 {
                return Err(ApiError::BadRequest("task_id must be a task's id".into()));
            }
            if !state
                .db
                .tasks(&who.org_id)
                .await?
                .iter()
                .any(|t| &t.id == task_id)
            {
                return Err(ApiError::BadRequest(format!(
                    "no task {task_id} in the organization"
                )));
            }
            if bound && policy.moves == Permission::Forbidden {
                return Err(ApiError::Forbidden(
                    "your organization does not allow moving tracked time to another task".into(),
                ));
            }
        }
        Change::Remove => {}
        Change::Trim { until } => {
            if *until <= interval.started_at
                || *until >= interval.ended_at
                || until.timestamp_subsec_nanos() != 0
            {
                return Err(ApiError::BadRequest(
                    "until must be a whole second inside the interval".into(),
                ));
            }
        }
    }
    ensure_open(
        &state,
        &who,
        interval.started_at,
        interval.ended_at,
        Some(interval.utc_offset_minutes),
    )
    .await?;
    // What the interval already holds: a repeated edit replaces the last one, a second
    // removal is refused, and an interval holds a few corrections at most.
    let start = interval.started_at.timestamp();
    let held_rows: Vec<CorrectionRow> = state
        .db
        .corrections(&who.user.id, start, start + 1, &Page::first(MAX_ROWS))
        .await?
        .into_iter()
        .filter(|r| r.interval_id == interval_id)
        .filter(|r| Status::parse(&r.status).is_some_and(|s| s.holds_time()))
        .collect();
    let held: Vec<(String, Change)> = held_rows
        .iter()
        .map(|r| Ok((r.id.clone(), r.correction()?.change)))
        .collect::<Result<_, crate::db::DbError>>()?;
    let superseded: Vec<String> = timesheet::admit(&held, &body.change)
        .map_err(ApiError::Conflict)?
        .into_iter()
        .map(String::from)
        .collect();
    let status = if bound && !body.change.only_removes() && policy.moves == Permission::Approval {
        Status::Pending
    } else {
        Status::Approved
    };
    charge(&state, &auth.user, &who).await?;
    // A correction in force at once replaces the held ones of its kind; one that waits for a
    // decision replaces only those waiting too (the one in force stays until it is decided).
    let replaces = |r: &CorrectionRow| {
        superseded.contains(&r.id) && (status == Status::Approved || r.status == "pending")
    };
    for row in held_rows.into_iter().filter(replaces) {
        let from = Status::parse(&row.status).unwrap_or(Status::Pending);
        let _replaced = settle(
            &state,
            &auth,
            &who,
            row,
            from,
            Status::Withdrawn,
            "replaced by a later correction of the same kind",
        )
        .await?;
    }
    let row = CorrectionRow {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: who.user.id.clone(),
        interval_id,
        interval_started_at: interval.started_at.timestamp(),
        change: serde_json::to_string(&body.change).expect("changes serialize"),
        reason: body.reason.clone(),
        status: status.as_str().into(),
        created_at: now.timestamp(),
        created_by: auth.user.user.id.clone(),
        decided_by: None,
        decided_at: None,
        decision_note: None,
    };
    let view = CorrectionView::try_from(&row)?;
    // The before of a correction is the interval as it was stored (its task and span).
    let before = serde_json::json!({
        "interval_id": interval.id,
        "task_id": interval.task_id,
        "started_at": interval.started_at,
        "ended_at": interval.ended_at,
    });
    let record = audit(
        &auth.user,
        &who,
        "correction.create",
        &row.id,
        Some(before),
        Some(serde_json::to_value(&view).expect("views serialize")),
        &row.reason,
    );
    state.db.insert_correction(&row, &record).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// A person's corrections of any status, of intervals that started in [from, to), in the
/// order they were made.
#[utoipa::path(get, tag = "timesheets", path = "/api/v1/corrections", security(("bearer" = [])), params(ListQuery), responses(
    (status = 200, body = Vec<CorrectionView>),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    uri: axum::extract::OriginalUri,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Response, ApiError> {
    let (from, to) = parse_range(q.from.as_deref(), q.to.as_deref())?;
    let page = crate::routes::paging::page_of(q.limit, q.after.as_deref())?;
    let who = subject(&state, &auth.user, q.user_id.as_deref()).await?;
    let scope = format!("{}/{}", from.to_rfc3339(), to.to_rfc3339());
    crate::own_data::access::record(
        &state,
        &auth.user,
        &who,
        crate::own_data::access::Read::Corrections,
        &scope,
    )
    .await?;
    let rows = state
        .db
        .corrections(&who.user.id, from.timestamp(), to.timestamp(), &page)
        .await?;
    let views = rows
        .iter()
        .map(CorrectionView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(crate::routes::paging::respond(views, &page, &uri.0, |v| {
        (v.created_at.timestamp(), v.id.clone())
    }))
}

/// Take a correction back (the interval counts as stored again): the person or a reviewer,
/// inside the edit window and an open period. It stays on record as `withdrawn`.
#[utoipa::path(post, tag = "timesheets", path = "/api/v1/corrections/{id}/withdraw", security(("bearer" = [])), params(("id" = String, Path, description = "The correction's id")), request_body = Withdrawal, responses(
    (status = 200, body = CorrectionView),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody)))]
pub async fn withdraw(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    JsonBody(mut body): JsonBody<Withdrawal>,
) -> Result<Json<CorrectionView>, ApiError> {
    body.reason = plain_note("reason", &body.reason)?;
    let (row, owner) =
        requests::in_org(&state, &auth, &id, state.db.correction(&id).await?).await?;
    requests::withdraw(&state, &auth, row, owner, &body.reason).await
}

/// Approve or deny a pending correction (an admin, or the person's manager; never one's own).
#[utoipa::path(post, tag = "timesheets", path = "/api/v1/corrections/{id}/decision", security(("bearer" = [])), params(("id" = String, Path, description = "The correction's id")), request_body = Decision, responses(
    (status = 200, body = CorrectionView),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    JsonBody(mut body): JsonBody<Decision>,
) -> Result<Json<CorrectionView>, ApiError> {
    body.note = plain_note("note", &body.note)?;
    let (row, owner) =
        requests::in_org(&state, &auth, &id, state.db.correction(&id).await?).await?;
    let to = requests::decision(&state, &auth, &row, &owner, body.decision).await?;
    requests::settle(&state, &auth, &owner, row, Status::Pending, to, &body.note).await
}

impl Reviewed for CorrectionRow {
    type View = CorrectionView;

    fn view(&self) -> Result<CorrectionView, ApiError> {
        CorrectionView::try_from(self)
    }
}
