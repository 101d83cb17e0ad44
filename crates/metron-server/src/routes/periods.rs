//! A person's week or month submitted for approval (it locks), approved or unlocked by a
//! reviewer; and what waits for the caller's decision.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use metron_core::timesheet::{Period, PeriodKind};
use metron_core::wire::{CorrectionView, ManualEntryView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::db::timesheets::PeriodRow;
use crate::db::UserRow;
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody};
use crate::routes::requests::{plain_note, time};
use crate::routes::sheets::period_of;
use crate::timesheets::{
    audit, period_state, person_timesheet, reviews, sheet_of, PeriodState, TimesheetResponse,
};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit))
        .routes(routes!(approve))
        .routes(routes!(unlock))
        .routes(routes!(approvals))
}

/// A period to act on: whose, which kind, any day of it, and why.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodAction {
    /// Whose (required for approve and unlock; submit is the caller's own).
    pub user_id: Option<String>,
    pub period: PeriodKind,
    /// Any day of the period.
    pub date: NaiveDate,
    /// At most 1,000 characters; kept in the audit trail.
    #[serde(default)]
    pub note: String,
}

/// Submit one's own week or month for approval: it locks (no more manual time or
/// corrections in it) until a reviewer approves it or unlocks it.
#[utoipa::path(post, tag = "timesheets", path = "/api/v1/timesheets/submit", security(("bearer" = [])), request_body = PeriodAction, responses(
    (status = 200, body = TimesheetResponse),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(mut body): JsonBody<PeriodAction>,
) -> Result<Json<TimesheetResponse>, ApiError> {
    body.note = plain_note("note", &body.note)?;
    if body
        .user_id
        .as_deref()
        .is_some_and(|id| id != auth.user.user.id)
    {
        return Err(ApiError::Forbidden(
            "a timesheet is submitted by its person".into(),
        ));
    }
    let period = period_of(Some(body.period.as_str()), Some(&body.date.to_string()))?;
    let me = auth.user.clone();
    let (now_state, _) = period_state(&state, &me.user.id, period).await?;
    if now_state != PeriodState::Open {
        return Err(ApiError::Conflict(format!(
            "the {} of {} is already {}",
            period.kind.as_str(),
            period.start,
            now_state.as_str()
        )));
    }
    crate::budget::charge(&state, &me, &me).await?;
    let (summary, figures) = period_summary(&state, &me, period).await?;
    let row = PeriodRow {
        user_id: me.user.id.clone(),
        kind: period.kind.as_str().into(),
        start: period.start.to_string(),
        state: PeriodState::Submitted.as_str().into(),
        submitted_at: Utc::now().timestamp(),
        decided_by: None,
        decided_at: None,
        figures: Some(figures),
    };
    let record = audit(
        &me,
        &me,
        "timesheet.submit",
        &period_id(period),
        None,
        Some(summary),
        &body.note,
    );
    state.db.set_period(&row, &record).await?;
    Ok(Json(sheet_of(&state, me, period).await?))
}

/// The audit trail's name for a period: `week:2026-11-23`.
fn period_id(period: Period) -> String {
    format!("{}:{}", period.kind.as_str(), period.start)
}

/// What the audit trail keeps of a period's figures when it is submitted or approved, and
/// the figures the lock keeps (JSON).
async fn period_summary(
    state: &AppState,
    who: &UserRow,
    period: Period,
) -> Result<(serde_json::Value, String), ApiError> {
    let sheet = person_timesheet(state, who, period).await?;
    let figures = serde_json::to_string(&sheet.figures).expect("figures serialize");
    Ok((
        serde_json::json!({
            "period": period,
            "figures": sheet.figures,
        }),
        figures,
    ))
}

/// Approve a submitted (or still open) week or month of someone you review: it stays locked
/// with the figures approved. An approved period whose figures changed since (a late
/// interval) is approved again with its new figures; one that did not change is 409.
#[utoipa::path(post, tag = "timesheets", path = "/api/v1/timesheets/approve", security(("bearer" = [])), request_body = PeriodAction, responses(
    (status = 200, body = TimesheetResponse),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(mut body): JsonBody<PeriodAction>,
) -> Result<Json<TimesheetResponse>, ApiError> {
    body.note = plain_note("note", &body.note)?;
    let (who, period) = reviewed_period(&state, &auth, &body).await?;
    let (now_state, row) = period_state(&state, &who.user.id, period).await?;
    let (summary, figures) = period_summary(&state, &who, period).await?;
    let unchanged = row
        .as_ref()
        .is_none_or(|r| r.figures.as_deref().is_none_or(|f| f == figures));
    if now_state == PeriodState::Approved && unchanged {
        return Err(ApiError::Conflict(format!(
            "the {} of {} is already approved",
            period.kind.as_str(),
            period.start
        )));
    }
    let now = Utc::now().timestamp();
    let new = PeriodRow {
        user_id: who.user.id.clone(),
        kind: period.kind.as_str().into(),
        start: period.start.to_string(),
        state: PeriodState::Approved.as_str().into(),
        submitted_at: row.as_ref().map_or(now, |r| r.submitted_at),
        decided_by: Some(auth.user.user.id.clone()),
        decided_at: Some(now),
        figures: Some(figures),
    };
    let before = serde_json::json!({
        "state": now_state,
        "figures": row
            .as_ref()
            .and_then(|r| r.figures.as_deref())
            .and_then(|f| serde_json::from_str::<serde_json::Value>(f).ok()),
    });
    let record = audit(
        &auth.user,
        &who,
        "timesheet.approve",
        &period_id(period),
        Some(before),
        Some(summary),
        &body.note,
    );
    state.db.set_period(&new, &record).await?;
    Ok(Json(sheet_of(&state, who, period).await?))
}

/// Unlock a submitted or approved week or month of someone you review: it is open again for
/// manual time and corrections, and has to be submitted anew.
#[utoipa::path(post, tag = "timesheets", path = "/api/v1/timesheets/unlock", security(("bearer" = [])), request_body = PeriodAction, responses(
    (status = 200, body = TimesheetResponse),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody)))]
pub async fn unlock(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(mut body): JsonBody<PeriodAction>,
) -> Result<Json<TimesheetResponse>, ApiError> {
    body.note = plain_note("note", &body.note)?;
    let (who, period) = reviewed_period(&state, &auth, &body).await?;
    let (now_state, _) = period_state(&state, &who.user.id, period).await?;
    let record = audit(
        &auth.user,
        &who,
        "timesheet.unlock",
        &period_id(period),
        Some(serde_json::json!({"state": now_state})),
        Some(serde_json::json!({"state": PeriodState::Open})),
        &body.note,
    );
    if !state
        .db
        .open_period(
            &who.user.id,
            period.kind.as_str(),
            &period.start.to_string(),
            &record,
        )
        .await?
    {
        return Err(ApiError::Conflict(format!(
            "the {} of {} is not locked",
            period.kind.as_str(),
            period.start
        )));
    }
    Ok(Json(sheet_of(&state, who, period).await?))
}

/// The person and period of a reviewer's action, checked.
async fn reviewed_period(
    state: &AppState,
    auth: &AuthUser,
    body: &PeriodAction,
) -> Result<(UserRow, Period), ApiError> {
    let id = body
        .user_id
        .as_deref()
        .ok_or_else(|| ApiError::BadRequest("user_id is required".into()))?;
    let who = auth.org_member(state, id).await?;
    if !reviews(state, &auth.user, &who).await? {
        return Err(ApiError::Forbidden(
            "only an admin or the person's manager can approve or unlock their timesheet".into(),
        ));
    }
    let period = period_of(Some(body.period.as_str()), Some(&body.date.to_string()))?;
    Ok((who, period))
}

/// What waits for the caller's decision: pending manual entries and corrections of the
/// people they review (everyone else in the organization, for admins), oldest first.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Approvals {
    pub manual_entries: Vec<ManualEntryView>,
    pub corrections: Vec<CorrectionView>,
    /// Submitted periods waiting for approval.
    pub timesheets: Vec<SubmittedPeriod>,
    /// Whether more wait than listed (each list holds the oldest 500): decide these, and the
    /// next ones show.
    pub more: bool,
    /// Each listed person's UTC offset in minutes (of their latest interval), so their times
    /// can be shown as they lived them.
    pub utc_offsets: BTreeMap<String, i32>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubmittedPeriod {
    pub user_id: String,
    pub period: Period,
    pub submitted_at: DateTime<Utc>,
}

/// The most items of each kind `GET /api/v1/approvals` lists.
const APPROVALS_PAGE: i64 = 500;

/// What waits for the caller's decision (empty for someone who reviews nobody).
#[utoipa::path(get, tag = "timesheets", path = "/api/v1/approvals", security(("bearer" = [])), responses(
    (status = 200, body = Approvals),
    (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn approvals(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Approvals>, ApiError> {
    let me = &auth.user;
    // Admins review everyone but themselves; managers the people they were given. Filtered
    // in SQL, a page of each kind, oldest first; `more` says a kind has more than the page.
    let reviewer = (!me.user.admin).then_some(me.user.id.as_str());
    let (mut entries, mut corrections) = state
        .db
        .pending(&me.org_id, reviewer, &me.user.id, APPROVALS_PAGE)
        .await?;
    let mut submitted = state
        .db
        .submitted_periods(&me.org_id, reviewer, &me.user.id, APPROVALS_PAGE)
        .await?;
    let page = APPROVALS_PAGE as usize;
    let more = entries.len() > page || corrections.len() > page || submitted.len() > page;
    entries.truncate(page);
    corrections.truncate(page);
    submitted.truncate(page);
    let mut utc_offsets = BTreeMap::new();
    let now = Utc::now().timestamp();
    for user in entries
        .iter()
        .map(|e| &e.user_id)
        .chain(corrections.iter().map(|c| &c.user_id))
        .chain(submitted.iter().map(|p| &p.user_id))
    {
        if !utc_offsets.contains_key(user) {
            let offset = state.db.latest_offset(user, now).await?.unwrap_or(0);
            utc_offsets.insert(user.clone(), offset);
        }
    }
    Ok(Json(Approvals {
        utc_offsets,
        more,
        manual_entries: entries.iter().map(ManualEntryView::from).collect(),
        corrections: corrections
            .iter()
            .map(CorrectionView::try_from)
            .collect::<Result<_, _>>()?,
        timesheets: submitted
            .iter()
            .filter_map(|p| {
                Some(SubmittedPeriod {
                    user_id: p.user_id.clone(),
                    period: Period {
                        kind: PeriodKind::parse(&p.kind)?,
                        start: p.start.parse().ok()?,
                    },
                    submitted_at: time(p.submitted_at),
                })
            })
            .collect(),
    }))
}
