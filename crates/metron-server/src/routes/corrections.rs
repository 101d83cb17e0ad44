//! Corrections of tracked time (issue 16): a person moves one of their intervals to another
//! task, removes it, or cuts its idle tail, inside the organization's edit window. Nothing
//! stored is changed: a correction is its own record that reports apply. Removing and cutting
//! only take time away and are in force at once; a move follows the policy (in force,
//! pending a reviewer, or refused). Every step is in the audit trail.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use metron_core::timesheet::{Change, Permission, Status};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::db::timesheets::CorrectionRow;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::routes::manual::{
    check_note, parse_range, time, Decision, ListQuery, Verdict, Withdrawal,
};
use crate::timesheets::{audit, ensure_open, reviews, subject};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(withdraw))
        .routes(routes!(decide))
}

/// A correction as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CorrectionView {
    pub id: String,
    pub user_id: String,
    pub interval_id: String,
    /// The corrected interval's start (the interval itself is unchanged in storage).
    pub interval_started_at: DateTime<Utc>,
    pub change: Change,
    pub reason: String,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
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

/// A new correction.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCorrection {
    /// Whose interval (a reviewer may correct the people they review); default the caller.
    pub user_id: Option<String>,
    pub interval_id: uuid::Uuid,
    pub change: Change,
    /// Why (at most 1,000 characters).
    #[serde(default)]
    pub reason: String,
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
    JsonBody(body): JsonBody<NewCorrection>,
) -> Result<Response, ApiError> {
    check_note("reason", &body.reason)?;
    let who = subject(&state, &auth, body.user_id.as_deref()).await?;
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
        return Err(ApiError::Forbidden(format!(
            "time more than {} days back can't be changed (the organization's edit window)",
            policy.edit_window_days
        )));
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
    ensure_open(&state, &who, interval.started_at, interval.ended_at).await?;
    let status = if bound && !body.change.only_removes() && policy.moves == Permission::Approval {
        Status::Pending
    } else {
        Status::Approved
    };
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
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<Vec<CorrectionView>>, ApiError> {
    let (from, to) = parse_range(q.from.as_deref(), q.to.as_deref())?;
    let who = subject(&state, &auth, q.user_id.as_deref()).await?;
    let rows = state
        .db
        .corrections(&who.user.id, from.timestamp(), to.timestamp())
        .await?;
    rows.iter()
        .map(CorrectionView::try_from)
        .collect::<Result<Vec<_>, _>>()
        .map(Json)
}

async fn correction_in_org(
    state: &AppState,
    auth: &AuthUser,
    id: &str,
) -> Result<(CorrectionRow, crate::db::UserRow), ApiError> {
    let not_found = || ApiError::NotFound(format!("no correction {id}"));
    let row = state.db.correction(id).await?.ok_or_else(not_found)?;
    let owner = auth
        .org_member(state, &row.user_id)
        .await
        .map_err(|_| not_found())?;
    Ok((row, owner))
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
    JsonBody(body): JsonBody<Withdrawal>,
) -> Result<Json<CorrectionView>, ApiError> {
    check_note("reason", &body.reason)?;
    let (row, owner) = correction_in_org(&state, &auth, &id).await?;
    let own = owner.user.id == auth.user.user.id;
    if !own && !reviews(&state, &auth.user, &owner).await? {
        return Err(ApiError::Forbidden(
            "only the person or their reviewer can withdraw a correction".into(),
        ));
    }
    let from = Status::parse(&row.status).unwrap_or(Status::Denied);
    if !from.holds_time() {
        return Err(ApiError::Conflict(format!(
            "the correction is already {}",
            row.status
        )));
    }
    let policy = state.db.timesheet_policy(&owner.org_id).await?;
    if own
        && !auth.user.user.admin
        && time(row.interval_started_at) < policy.window_start(Utc::now())
    {
        return Err(ApiError::Forbidden(format!(
            "time more than {} days back can't be changed (the organization's edit window)",
            policy.edit_window_days
        )));
    }
    let start = time(row.interval_started_at);
    ensure_open(
        &state,
        &owner,
        start,
        start + chrono::Duration::seconds(900),
    )
    .await?;
    decide_correction(
        &state,
        &auth,
        &owner,
        row,
        from,
        Status::Withdrawn,
        &body.reason,
    )
    .await
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
    JsonBody(body): JsonBody<Decision>,
) -> Result<Json<CorrectionView>, ApiError> {
    check_note("note", &body.note)?;
    let (row, owner) = correction_in_org(&state, &auth, &id).await?;
    if !reviews(&state, &auth.user, &owner).await? {
        return Err(ApiError::Forbidden(
            "only an admin or the person's manager can decide on their time".into(),
        ));
    }
    if row.status != Status::Pending.as_str() {
        return Err(ApiError::Conflict(format!(
            "the correction is already {}",
            row.status
        )));
    }
    let to = match body.decision {
        Verdict::Approve => Status::Approved,
        Verdict::Deny => Status::Denied,
    };
    decide_correction(&state, &auth, &owner, row, Status::Pending, to, &body.note).await
}

async fn decide_correction(
    state: &AppState,
    auth: &AuthUser,
    owner: &crate::db::UserRow,
    row: CorrectionRow,
    from: Status,
    to: Status,
    note: &str,
) -> Result<Json<CorrectionView>, ApiError> {
    let before = CorrectionView::try_from(&row)?;
    let now = Utc::now().timestamp();
    let after_row = CorrectionRow {
        status: to.as_str().into(),
        decided_by: Some(auth.user.user.id.clone()),
        decided_at: Some(now),
        decision_note: Some(note.to_string()),
        ..row
    };
    let after = CorrectionView::try_from(&after_row)?;
    let action = match to {
        Status::Withdrawn => "correction.withdraw",
        Status::Approved => "correction.approve",
        _ => "correction.deny",
    };
    let record = audit(
        &auth.user,
        owner,
        action,
        &after_row.id,
        Some(serde_json::to_value(&before).expect("views serialize")),
        Some(serde_json::to_value(&after).expect("views serialize")),
        note,
    );
    if !state
        .db
        .set_correction_status(
            &after_row.id,
            from.as_str(),
            to.as_str(),
            (&auth.user.user.id, now, Some(note)),
            &record,
        )
        .await?
    {
        return Err(ApiError::Conflict(
            "the correction changed meanwhile; read it again".into(),
        ));
    }
    Ok(Json(after))
}
