//! Manual time (issue 16): a person adds time they didn't track (a meeting away from the
//! computer, a stretch kept after an idle stop), under the organization's policy; a reviewer
//! (an admin, or the person's manager) approves or denies it; the author can withdraw it.
//! Every step is in the audit trail.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use metron_core::timesheet::{self, ManualEntry, Permission, Status};
use metron_core::wire::{Decision, ManualEntryView, NewManualEntry, Verdict, Withdrawal};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::db::timesheets::EntryRow;
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, QueryParams};
use crate::reports::corrected_intervals;
use crate::routes::intervals::in_service_time;
use crate::routes::requests::{self, parse_range, plain_note, time, ListQuery, Reviewed};
use crate::timesheets::{audit, ensure_open, subject};
use crate::AppState;
use metron_core::model::MAX_OFFSET_MINUTES;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(withdraw))
        .routes(routes!(decide))
}

impl From<&EntryRow> for ManualEntryView {
    fn from(r: &EntryRow) -> Self {
        ManualEntryView {
            id: r.id.clone(),
            user_id: r.user_id.clone(),
            task_id: r.task_id.clone(),
            started_at: time(r.started_at),
            ended_at: time(r.ended_at),
            note: r.note.clone(),
            status: Status::parse(&r.status).unwrap_or(Status::Denied),
            created_at: time(r.created_at),
            created_by: r.created_by.clone(),
            decided_by: r.decided_by.clone(),
            decided_at: r.decided_at.map(time),
            decision_note: r.decision_note.clone(),
            utc_offset_minutes: r.utc_offset_minutes,
        }
    }
}

/// Add manual time. The person's own entry follows the organization's policy: refused when
/// manual time is not allowed, `pending` when it needs approval, else `approved`; one a
/// reviewer adds for someone is `approved`. It must fill a gap: an overlap with tracked time
/// or another entry is refused (409), as is time in a submitted or approved period.
#[utoipa::path(post, tag = "timesheets", path = "/api/v1/manual-entries", security(("bearer" = [])), request_body = NewManualEntry, responses(
    (status = 201, body = ManualEntryView),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(body): JsonBody<NewManualEntry>,
) -> Result<Response, ApiError> {
    let who = subject(&state, &auth.user, body.user_id.as_deref()).await?;
    let for_self = who.user.id == auth.user.user.id;
    let policy = state.db.timesheet_policy(&who.org_id).await?;
    // Admins set the policy, so it binds everyone else; a reviewer adding for someone decides.
    let bound = for_self && !auth.user.user.admin;
    if bound && policy.manual == Permission::Forbidden {
        return Err(ApiError::Forbidden(
            "your organization does not allow manual time".into(),
        ));
    }
    in_service_time("started_at", body.started_at)?;
    in_service_time("ended_at", body.ended_at)?;
    let utc_offset_minutes = match body.utc_offset_minutes {
        Some(o) if (-MAX_OFFSET_MINUTES..=MAX_OFFSET_MINUTES).contains(&o) => o,
        Some(o) => {
            return Err(ApiError::BadRequest(format!(
                "utc_offset_minutes {o} is outside -840..=840"
            )))
        }
        None => state
            .db
            .latest_offset(&who.user.id, body.ended_at.timestamp())
            .await?
            .unwrap_or(0),
    };
    let entry = ManualEntry {
        id: uuid::Uuid::now_v7(),
        task_id: body.task_id,
        started_at: body.started_at,
        ended_at: body.ended_at,
        note: plain_note("note", &body.note)?,
        utc_offset_minutes,
    };
    let now = Utc::now();
    timesheet::check_entry(&entry, &policy, now, !bound).map_err(ApiError::BadRequest)?;
    if !state
        .db
        .tasks(&who.org_id)
        .await?
        .iter()
        .any(|t| t.id == entry.task_id)
    {
        return Err(ApiError::BadRequest(format!(
            "no task {} in the organization",
            entry.task_id
        )));
    }
    ensure_open(
        &state,
        &who,
        entry.started_at,
        entry.ended_at,
        Some(entry.utc_offset_minutes),
    )
    .await?;
    crate::budget::charge(&state, &auth.user, &who).await?;
    let (from, to) = (entry.started_at.timestamp(), entry.ended_at.timestamp());
    let tracked = corrected_intervals(&state, &who.user.id, from, to).await?;
    if let Some(hit) = timesheet::overlap(entry.id, entry.started_at, entry.ended_at, &tracked, &[])
    {
        return Err(overlap_error(&hit));
    }
    let status = if bound && policy.manual == Permission::Approval {
        Status::Pending
    } else {
        Status::Approved
    };
    let row = EntryRow {
        id: entry.id.to_string(),
        user_id: who.user.id.clone(),
        task_id: entry.task_id.clone(),
        started_at: from,
        ended_at: to,
        note: entry.note.clone(),
        status: status.as_str().into(),
        created_at: now.timestamp(),
        created_by: auth.user.user.id.clone(),
        decided_by: None,
        decided_at: None,
        decision_note: None,
        utc_offset_minutes,
    };
    let view = ManualEntryView::from(&row);
    let record = audit(
        &auth.user,
        &who,
        "manual_entry.create",
        &row.id,
        None,
        Some(serde_json::to_value(&view).expect("views serialize")),
        &row.note,
    );
    state.db.insert_manual_entry(&row, &record).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

fn overlap_error(hit: &timesheet::Overlap) -> ApiError {
    match hit {
        timesheet::Overlap::Tracked {
            started_at,
            ended_at,
            ..
        } => ApiError::Conflict(format!(
            "the time overlaps tracked time from {started_at} to {ended_at}"
        )),
        timesheet::Overlap::Manual {
            started_at,
            ended_at,
            ..
        } => ApiError::Conflict(format!(
            "the time overlaps another manual entry from {started_at} to {ended_at}"
        )),
    }
}

/// A person's manual entries of any status that overlap [from, to), by start.
#[utoipa::path(get, tag = "timesheets", path = "/api/v1/manual-entries", security(("bearer" = [])), params(ListQuery), responses(
    (status = 200, body = Vec<ManualEntryView>),
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
        crate::own_data::access::Read::ManualEntries,
        &scope,
    )
    .await?;
    let rows = state
        .db
        .manual_entries(&who.user.id, from.timestamp(), to.timestamp(), &page)
        .await?;
    let views: Vec<ManualEntryView> = rows.iter().map(ManualEntryView::from).collect();
    Ok(crate::routes::paging::respond(views, &page, &uri.0, |v| {
        (v.started_at.timestamp(), v.id.clone())
    }))
}

/// Take an entry back: its author or a reviewer of the person, while it is pending, or
/// approved and inside the edit window and an open period. It stays on record as `withdrawn`.
#[utoipa::path(post, tag = "timesheets", path = "/api/v1/manual-entries/{id}/withdraw", security(("bearer" = [])), params(("id" = String, Path, description = "The entry's id")), request_body = Withdrawal, responses(
    (status = 200, body = ManualEntryView),
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
) -> Result<Json<ManualEntryView>, ApiError> {
    body.reason = plain_note("reason", &body.reason)?;
    let (row, owner) =
        requests::in_org(&state, &auth, &id, state.db.manual_entry(&id).await?).await?;
    requests::withdraw(&state, &auth, row, owner, &body.reason).await
}

/// Approve or deny a pending entry (an admin, or the person's manager; never one's own).
#[utoipa::path(post, tag = "timesheets", path = "/api/v1/manual-entries/{id}/decision", security(("bearer" = [])), params(("id" = String, Path, description = "The entry's id")), request_body = Decision, responses(
    (status = 200, body = ManualEntryView),
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
) -> Result<Json<ManualEntryView>, ApiError> {
    body.note = plain_note("note", &body.note)?;
    let (row, owner) =
        requests::in_org(&state, &auth, &id, state.db.manual_entry(&id).await?).await?;
    let to = requests::decision(&state, &auth, &row, &owner, body.decision).await?;
    if body.decision == Verdict::Approve {
        // Tracked time may have arrived for the stretch since it was asked for.
        let tracked =
            corrected_intervals(&state, &owner.user.id, row.started_at, row.ended_at).await?;
        if let Some(hit) = timesheet::overlap(
            uuid::Uuid::nil(),
            time(row.started_at),
            time(row.ended_at),
            &tracked,
            &[],
        ) {
            return Err(overlap_error(&hit));
        }
    }
    requests::settle(&state, &auth, &owner, row, Status::Pending, to, &body.note).await
}

impl Reviewed for EntryRow {
    type View = ManualEntryView;

    fn view(&self) -> Result<ManualEntryView, ApiError> {
        Ok(ManualEntryView::from(self))
    }
}
