//! Manual time (issue 16): a person adds time they didn't track (a meeting away from the
//! computer, a stretch kept after an idle stop), under the organization's policy; a reviewer
//! (an admin, or the person's manager) approves or denies it; the author can withdraw it.
//! Every step is in the audit trail.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use metron_core::timesheet::{self, ManualEntry, Permission, Status, MAX_NOTE_CHARS};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::db::timesheets::EntryRow;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::reports::corrected_intervals;
use crate::routes::intervals::parse_time;
use crate::timesheets::{audit, ensure_open, reviews, subject, MAX_RANGE_DAYS};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(withdraw))
        .routes(routes!(decide))
}

/// A manual entry as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ManualEntryView {
    pub id: String,
    pub user_id: String,
    pub task_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub note: String,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    /// Who added it (the person, or a reviewer for them).
    pub created_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The reviewer's (or the author's, on withdrawing) note.
    pub decision_note: Option<String>,
}

pub(crate) fn time(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
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
        }
    }
}

/// A new manual entry.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewManualEntry {
    /// Whose time (a reviewer may add for the people they review); default the caller.
    pub user_id: Option<String>,
    pub task_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// What the time was (at most 1,000 characters).
    #[serde(default)]
    pub note: String,
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Deny,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub decision: Verdict,
    /// Why (at most 1,000 characters); the person sees it.
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// Why (at most 1,000 characters).
    #[serde(default)]
    pub reason: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Whose (reviewers: the people they review); default the caller.
    pub(crate) user_id: Option<String>,
    /// Start of the range (RFC 3339).
    #[param(format = DateTime, required = true)]
    pub(crate) from: Option<String>,
    /// End of the range (RFC 3339), exclusive; at most 366 days after `from`.
    #[param(format = DateTime, required = true)]
    pub(crate) to: Option<String>,
}

pub(crate) fn check_note(what: &str, text: &str) -> Result<(), ApiError> {
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::BadRequest(format!(
            "{what} is longer than {MAX_NOTE_CHARS} characters"
        )));
    }
    Ok(())
}

/// A range of at most [`MAX_RANGE_DAYS`] from two required RFC 3339 query values.
pub(crate) fn parse_range(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let need = |name: &str, v: Option<&str>| {
        v.ok_or_else(|| ApiError::BadRequest(format!("{name} is required (RFC 3339)")))
            .and_then(|v| parse_time(name, v))
    };
    let (from, to) = (need("from", from)?, need("to", to)?);
    if to <= from || (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(ApiError::BadRequest(format!(
            "to must be after from, at most {MAX_RANGE_DAYS} days"
        )));
    }
    Ok((from, to))
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
    let who = subject(&state, &auth, body.user_id.as_deref()).await?;
    let for_self = who.user.id == auth.user.user.id;
    let policy = state.db.timesheet_policy(&who.org_id).await?;
    // Admins set the policy, so it binds everyone else; a reviewer adding for someone decides.
    let bound = for_self && !auth.user.user.admin;
    if bound && policy.manual == Permission::Forbidden {
        return Err(ApiError::Forbidden(
            "your organization does not allow manual time".into(),
        ));
    }
    let entry = ManualEntry {
        id: uuid::Uuid::now_v7(),
        task_id: body.task_id,
        started_at: body.started_at,
        ended_at: body.ended_at,
        note: body.note,
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
    ensure_open(&state, &who, entry.started_at, entry.ended_at).await?;
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
    match state.db.insert_manual_entry(&row, &record).await {
        Err(crate::db::DbError::Conflict(what)) if what == "overlap" => Err(ApiError::Conflict(
            "the time overlaps another manual entry of this person".into(),
        )),
        other => other.map_err(ApiError::from),
    }?;
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
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<Vec<ManualEntryView>>, ApiError> {
    let (from, to) = parse_range(q.from.as_deref(), q.to.as_deref())?;
    let who = subject(&state, &auth, q.user_id.as_deref()).await?;
    let rows = state
        .db
        .manual_entries(&who.user.id, from.timestamp(), to.timestamp())
        .await?;
    Ok(Json(rows.iter().map(ManualEntryView::from).collect()))
}

/// The entry `id` of the caller's organization (404 for anything else).
async fn entry_in_org(
    state: &AppState,
    auth: &AuthUser,
    id: &str,
) -> Result<(EntryRow, crate::db::UserRow), ApiError> {
    let not_found = || ApiError::NotFound(format!("no manual entry {id}"));
    let row = state.db.manual_entry(id).await?.ok_or_else(not_found)?;
    let owner = auth
        .org_member(state, &row.user_id)
        .await
        .map_err(|_| not_found())?;
    Ok((row, owner))
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
    JsonBody(body): JsonBody<Withdrawal>,
) -> Result<Json<ManualEntryView>, ApiError> {
    check_note("reason", &body.reason)?;
    let (row, owner) = entry_in_org(&state, &auth, &id).await?;
    let own = owner.user.id == auth.user.user.id;
    let reviewer = reviews(&state, &auth.user, &owner).await?;
    if !own && !reviewer {
        return Err(ApiError::Forbidden(
            "only the person or their reviewer can withdraw an entry".into(),
        ));
    }
    let from = Status::parse(&row.status).unwrap_or(Status::Denied);
    if !from.holds_time() {
        return Err(ApiError::Conflict(format!(
            "the entry is already {}",
            row.status
        )));
    }
    let policy = state.db.timesheet_policy(&owner.org_id).await?;
    let now = Utc::now();
    if own && !auth.user.user.admin && time(row.started_at) < policy.window_start(now) {
        return Err(ApiError::Forbidden(format!(
            "time more than {} days back can't be changed (the organization's edit window)",
            policy.edit_window_days
        )));
    }
    ensure_open(&state, &owner, time(row.started_at), time(row.ended_at)).await?;
    decide_entry(
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
    JsonBody(body): JsonBody<Decision>,
) -> Result<Json<ManualEntryView>, ApiError> {
    check_note("note", &body.note)?;
    let (row, owner) = entry_in_org(&state, &auth, &id).await?;
    if !reviews(&state, &auth.user, &owner).await? {
        return Err(ApiError::Forbidden(
            "only an admin or the person's manager can decide on their time".into(),
        ));
    }
    if row.status != Status::Pending.as_str() {
        return Err(ApiError::Conflict(format!(
            "the entry is already {}",
            row.status
        )));
    }
    let to = match body.decision {
        Verdict::Approve => {
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
            Status::Approved
        }
        Verdict::Deny => Status::Denied,
    };
    decide_entry(&state, &auth, &owner, row, Status::Pending, to, &body.note).await
}

/// Moves an entry from one status to another, with its audit record.
async fn decide_entry(
    state: &AppState,
    auth: &AuthUser,
    owner: &crate::db::UserRow,
    row: EntryRow,
    from: Status,
    to: Status,
    note: &str,
) -> Result<Json<ManualEntryView>, ApiError> {
    let before = ManualEntryView::from(&row);
    let now = Utc::now().timestamp();
    let after_row = EntryRow {
        status: to.as_str().into(),
        decided_by: Some(auth.user.user.id.clone()),
        decided_at: Some(now),
        decision_note: Some(note.to_string()),
        ..row
    };
    let after = ManualEntryView::from(&after_row);
    let action = match to {
        Status::Withdrawn => "manual_entry.withdraw",
        Status::Approved => "manual_entry.approve",
        _ => "manual_entry.deny",
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
    let done = state
        .db
        .set_entry_status(
            &after_row.id,
            from.as_str(),
            to.as_str(),
            (&auth.user.user.id, now, Some(note)),
            &record,
        )
        .await?;
    if !done {
        return Err(ApiError::Conflict(
            "the entry changed meanwhile; read it again".into(),
        ));
    }
    Ok(Json(after))
}
