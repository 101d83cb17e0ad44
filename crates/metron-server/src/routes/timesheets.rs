//! Timesheets (issue 16): a person's week or month as JSON and CSV, submitted by the person
//! and approved (or unlocked) by a reviewer; the organization's policy for manual time and
//! corrections; what waits for a reviewer's decision; who manages whom; and the audit trail.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use metron_core::timesheet::{Figures, Period, PeriodKind, Policy, TaskFigures, Timesheet};
use metron_core::wire::User;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::db::timesheets::PeriodRow;
use crate::db::UserRow;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::reports::names_of;
use crate::routes::corrections::CorrectionView;
use crate::routes::manual::{check_note, parse_range, time, ManualEntryView};
use crate::routes::reports::{csv_field, parse_date};
use crate::timesheets::{
    audit, period_state, person_timesheet, reviews, subject, team_timesheets, PeriodState,
};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(policy, set_policy))
        .routes(routes!(sheet))
        .routes(routes!(sheet_csv))
        .routes(routes!(team_sheet))
        .routes(routes!(team_sheet_csv))
        .routes(routes!(submit))
        .routes(routes!(approve))
        .routes(routes!(unlock))
        .routes(routes!(approvals))
        .routes(routes!(audit_trail))
        .routes(routes!(managed, set_managed))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SheetQuery {
    /// Whose (reviewers: the people they review); default the caller.
    user_id: Option<String>,
    /// `week` (Monday to Sunday) or `month`.
    #[param(pattern = "^(week|month)$", required = true)]
    period: Option<String>,
    /// Any day of the period, `YYYY-MM-DD`.
    #[param(format = Date, example = "2026-11-23", required = true)]
    date: Option<String>,
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

/// A person's timesheet with where it stands.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimesheetResponse {
    pub user: User,
    pub state: PeriodState,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Task id -> name, for the tasks in the timesheet.
    pub task_names: BTreeMap<String, String>,
    pub timesheet: Timesheet,
}

fn period_of(kind: Option<&str>, date: Option<&str>) -> Result<Period, ApiError> {
    let kind =
        kind.ok_or_else(|| ApiError::BadRequest("period is required: week or month".into()))?;
    let kind = PeriodKind::parse(kind).ok_or_else(|| {
        ApiError::BadRequest(format!("period must be week or month, not {kind:?}"))
    })?;
    let date = parse_date(date)?;
    let period = Period::containing(kind, date);
    period
        .end()
        .map(|_| period)
        .ok_or_else(|| ApiError::BadRequest("that date is out of range".into()))
}

async fn response(
    state: &AppState,
    who: UserRow,
    period: Period,
) -> Result<TimesheetResponse, ApiError> {
    let timesheet = person_timesheet(state, &who, period).await?;
    let (period_state, row) = period_state(state, &who.user.id, period).await?;
    let task_names = names_of(
        state,
        &who.org_id,
        timesheet.tasks.iter().map(|t| t.task_id.as_str()),
    )
    .await?;
    Ok(TimesheetResponse {
        user: who.user,
        state: period_state,
        submitted_at: row.as_ref().map(|r| time(r.submitted_at)),
        decided_by: row.as_ref().and_then(|r| r.decided_by.clone()),
        decided_at: row.as_ref().and_then(|r| r.decided_at.map(time)),
        task_names,
        timesheet,
    })
}

/// The organization's policy for manual time and corrections (everyone may read it: it is
/// the rule they work under).
#[utoipa::path(get, tag = "timesheets", path = "/api/v1/timesheets/policy", security(("bearer" = [])), responses(
    (status = 200, body = Policy),
    (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn policy(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Policy>, ApiError> {
    Ok(Json(state.db.timesheet_policy(&auth.user.org_id).await?))
}

/// Change the policy (admins). Fields left out take their defaults.
#[utoipa::path(put, tag = "timesheets", path = "/api/v1/timesheets/policy", security(("bearer" = [])), request_body = Policy, responses(
    (status = 200, body = Policy),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn set_policy(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> Result<Json<Policy>, ApiError> {
    auth.require_admin("change the timesheet policy")?;
    if !body.is_object() {
        return Err(ApiError::BadRequest(
            "the policy must be a JSON object".into(),
        ));
    }
    let new: Policy = serde_json::from_value(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid policy: {e}")))?;
    new.validate().map_err(ApiError::BadRequest)?;
    let old = state.db.timesheet_policy(&auth.user.org_id).await?;
    let record = audit(
        &auth.user,
        &auth.user,
        "policy.set",
        &auth.user.org_id,
        Some(serde_json::to_value(&old).expect("policies serialize")),
        Some(serde_json::to_value(&new).expect("policies serialize")),
        "",
    );
    state
        .db
        .set_timesheet_policy(&auth.user.org_id, &new, &record)
        .await?;
    Ok(Json(new))
}

/// A person's week or month: tracked, manual and total time and activity % per day and per
/// task, corrections applied, and whether it is open, submitted or approved.
#[utoipa::path(get, tag = "timesheets", path = "/api/v1/timesheets", security(("bearer" = [])), params(SheetQuery), responses(
    (status = 200, body = TimesheetResponse),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn sheet(
    State(state): State<AppState>,
    auth: AuthUser,
    QueryParams(q): QueryParams<SheetQuery>,
) -> Result<Json<TimesheetResponse>, ApiError> {
    let period = period_of(q.period.as_deref(), q.date.as_deref())?;
    let who = subject(&state, &auth, q.user_id.as_deref()).await?;
    Ok(Json(response(&state, who, period).await?))
}

/// The timesheet as CSV: one row per day and task with time, a total row per day, and the
/// period's total, in seconds and in hours.
#[utoipa::path(get, tag = "timesheets", path = "/api/v1/timesheets.csv", security(("bearer" = [])), params(SheetQuery), responses(
    (status = 200, content_type = "text/csv", body = String),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn sheet_csv(
    State(state): State<AppState>,
    auth: AuthUser,
    QueryParams(q): QueryParams<SheetQuery>,
) -> Result<Response, ApiError> {
    let period = period_of(q.period.as_deref(), q.date.as_deref())?;
    let who = subject(&state, &auth, q.user_id.as_deref()).await?;
    let sheet = response(&state, who, period).await?;
    let csv = timesheet_csv(&sheet);
    let disposition = format!(
        "attachment; filename=\"metron-{}-{}-{}.csv\"",
        sheet.user.email.replace(['"', '/', '\\'], "_"),
        period.kind.as_str(),
        period.start
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

/// The CSV of a timesheet (RFC 4180, CRLF).
pub fn timesheet_csv(sheet: &TimesheetResponse) -> String {
    let hours = |secs: u64| format!("{:.2}", secs as f64 / 3600.0);
    let mut csv = String::from(
        "user,date,task,tracked_secs,active_secs,manual_secs,total_secs,activity_pct,total_hours,state\r\n",
    );
    let state = sheet.state.as_str();
    let user = csv_field(&sheet.user.email);
    let mut row = |date: &str, task: &str, f: &metron_core::timesheet::Figures| {
        csv.push_str(&format!(
            "{user},{date},{},{},{},{},{},{},{},{state}\r\n",
            csv_field(task),
            f.tracked_secs,
            f.active_secs,
            f.manual_secs,
            f.total_secs,
            f.activity_pct,
            hours(f.total_secs)
        ));
    };
    for day in &sheet.timesheet.days {
        let date = day.date.to_string();
        for t in &day.tasks {
            row(
                &date,
                sheet.task_names.get(&t.task_id).unwrap_or(&t.task_id),
                &t.figures,
            );
        }
        if !day.tasks.is_empty() {
            row(&date, "(day total)", &day.figures);
        }
    }
    let period = sheet.timesheet.period;
    row(
        &format!("{} {}", period.kind.as_str(), period.start),
        "(total)",
        &sheet.timesheet.figures,
    );
    csv
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TeamSheetQuery {
    /// `week` (Monday to Sunday) or `month`.
    #[param(pattern = "^(week|month)$", required = true)]
    period: Option<String>,
    /// Any day of the period, `YYYY-MM-DD`.
    #[param(format = Date, example = "2026-11-23", required = true)]
    date: Option<String>,
}

/// One day of a person's line in the team's timesheet.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TeamSheetDay {
    pub date: NaiveDate,
    #[serde(flatten)]
    pub figures: Figures,
}

/// One person's line in the team's timesheet.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TeamSheetPerson {
    pub user: User,
    pub state: PeriodState,
    /// The period's figures.
    #[serde(flatten)]
    pub figures: Figures,
    /// Every day of the period, first to last.
    pub days: Vec<TeamSheetDay>,
    /// The period's tasks, by total time.
    pub tasks: Vec<TaskFigures>,
}

/// A team's week or month: the people the caller reviews (everyone of the organization for
/// admins, themselves included), by name.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TeamTimesheet {
    pub period: Period,
    /// The team's figures added up.
    #[serde(flatten)]
    pub figures: Figures,
    pub people: Vec<TeamSheetPerson>,
    /// Task id -> name, for the tasks in it.
    pub task_names: BTreeMap<String, String>,
}

/// The people whose timesheets the caller reads as a team: an admin's organization, or the
/// people a manager manages (403 for anyone else).
async fn team_of(state: &AppState, auth: &AuthUser) -> Result<Vec<User>, ApiError> {
    let everyone = state.db.org_users(&auth.user.org_id).await?;
    if auth.user.user.admin {
        return Ok(everyone);
    }
    let managed = state.db.managed(&auth.user.user.id).await?;
    if managed.is_empty() {
        return Err(ApiError::Forbidden(
            "only admins and managers read a team's timesheet".into(),
        ));
    }
    Ok(everyone
        .into_iter()
        .filter(|u| managed.contains(&u.id))
        .collect())
}

async fn team_response(
    state: &AppState,
    auth: &AuthUser,
    period: Period,
) -> Result<TeamTimesheet, ApiError> {
    let team = team_of(state, auth).await?;
    let ids: Vec<String> = team.iter().map(|u| u.id.clone()).collect();
    let mut sheets = team_timesheets(state, &auth.user.org_id, &ids, period).await?;
    let states: BTreeMap<String, PeriodState> = state
        .db
        .org_periods(
            &auth.user.org_id,
            period.kind.as_str(),
            &period.start.to_string(),
        )
        .await?
        .into_iter()
        .map(|row| (row.user_id.clone(), PeriodState::from_stored(&row.state)))
        .collect();
    let mut total = Figures::default();
    let mut people = Vec::with_capacity(team.len());
    for user in team {
        let sheet = sheets
            .remove(&user.id)
            .unwrap_or_else(|| metron_core::timesheet::timesheet_of_days(period, Vec::new()));
        total = total.plus(&sheet.figures);
        people.push(TeamSheetPerson {
            state: states.get(&user.id).copied().unwrap_or(PeriodState::Open),
            user,
            figures: sheet.figures,
            days: sheet
                .days
                .into_iter()
                .map(|d| TeamSheetDay {
                    date: d.date,
                    figures: d.figures,
                })
                .collect(),
            tasks: sheet.tasks,
        });
    }
    // Collected first: a borrowing iterator held across the await below isn't Send.
    let task_ids: std::collections::BTreeSet<String> = people
        .iter()
        .flat_map(|p| p.tasks.iter().map(|t| t.task_id.clone()))
        .collect();
    let task_names = names_of(
        state,
        &auth.user.org_id,
        task_ids.iter().map(String::as_str),
    )
    .await?;
    Ok(TeamTimesheet {
        period,
        figures: total,
        people,
        task_names,
    })
}

/// A team's week or month: each person's tracked, manual and total time and activity % per
/// day and over the period, their tasks, and whether their timesheet is open, submitted or
/// approved. Admins read their organization, managers the people they manage.
#[utoipa::path(get, tag = "timesheets", path = "/api/v1/timesheets/team", security(("bearer" = [])), params(TeamSheetQuery), responses(
    (status = 200, body = TeamTimesheet),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody)))]
pub async fn team_sheet(
    State(state): State<AppState>,
    auth: AuthUser,
    QueryParams(q): QueryParams<TeamSheetQuery>,
) -> Result<Json<TeamTimesheet>, ApiError> {
    let period = period_of(q.period.as_deref(), q.date.as_deref())?;
    Ok(Json(team_response(&state, &auth, period).await?))
}

/// The team's timesheet as CSV: a row per person and day with time, and a total row per
/// person (RFC 4180, CRLF).
#[utoipa::path(get, tag = "timesheets", path = "/api/v1/timesheets/team.csv", security(("bearer" = [])), params(TeamSheetQuery), responses(
    (status = 200, content_type = "text/csv", body = String),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody)))]
pub async fn team_sheet_csv(
    State(state): State<AppState>,
    auth: AuthUser,
    QueryParams(q): QueryParams<TeamSheetQuery>,
) -> Result<Response, ApiError> {
    let period = period_of(q.period.as_deref(), q.date.as_deref())?;
    let team = team_response(&state, &auth, period).await?;
    let disposition = format!(
        "attachment; filename=\"metron-team-{}-{}.csv\"",
        period.kind.as_str(),
        period.start
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        team_csv(&team),
    )
        .into_response())
}

/// The CSV of a team's timesheet.
pub fn team_csv(team: &TeamTimesheet) -> String {
    let mut csv = String::from(
        "user,name,date,tracked_secs,active_secs,manual_secs,total_secs,activity_pct,total_hours,state\r\n",
    );
    let total_label = format!("{} {}", team.period.kind.as_str(), team.period.start);
    for person in &team.people {
        let (user, name) = (csv_field(&person.user.email), csv_field(&person.user.name));
        let state = person.state.as_str();
        let mut row = |date: &str, f: &Figures| {
            csv.push_str(&format!(
                "{user},{name},{date},{},{},{},{},{},{:.2},{state}\r\n",
                f.tracked_secs,
                f.active_secs,
                f.manual_secs,
                f.total_secs,
                f.activity_pct,
                f.total_secs as f64 / 3600.0
            ));
        };
        for day in person.days.iter().filter(|d| d.figures.total_secs > 0) {
            row(&day.date.to_string(), &day.figures);
        }
        row(&total_label, &person.figures);
    }
    csv
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
    JsonBody(body): JsonBody<PeriodAction>,
) -> Result<Json<TimesheetResponse>, ApiError> {
    check_note("note", &body.note)?;
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
    let row = PeriodRow {
        user_id: me.user.id.clone(),
        kind: period.kind.as_str().into(),
        start: period.start.to_string(),
        state: PeriodState::Submitted.as_str().into(),
        submitted_at: Utc::now().timestamp(),
        decided_by: None,
        decided_at: None,
    };
    let summary = period_summary(&state, &me, period).await?;
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
    Ok(Json(response(&state, me, period).await?))
}

/// The audit trail's name for a period: `week:2026-11-23`.
fn period_id(period: Period) -> String {
    format!("{}:{}", period.kind.as_str(), period.start)
}

/// What the audit trail keeps of a period's figures when it is submitted or approved.
async fn period_summary(
    state: &AppState,
    who: &UserRow,
    period: Period,
) -> Result<serde_json::Value, ApiError> {
    let sheet = person_timesheet(state, who, period).await?;
    Ok(serde_json::json!({
        "period": period,
        "figures": sheet.figures,
    }))
}

/// Approve a submitted (or still open) week or month of someone you review: it stays locked.
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
    JsonBody(body): JsonBody<PeriodAction>,
) -> Result<Json<TimesheetResponse>, ApiError> {
    let (who, period) = reviewed_period(&state, &auth, &body).await?;
    let (now_state, row) = period_state(&state, &who.user.id, period).await?;
    if now_state == PeriodState::Approved {
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
        submitted_at: row.map_or(now, |r| r.submitted_at),
        decided_by: Some(auth.user.user.id.clone()),
        decided_at: Some(now),
    };
    let summary = period_summary(&state, &who, period).await?;
    let record = audit(
        &auth.user,
        &who,
        "timesheet.approve",
        &period_id(period),
        Some(serde_json::json!({"state": now_state})),
        Some(summary),
        &body.note,
    );
    state.db.set_period(&new, &record).await?;
    Ok(Json(response(&state, who, period).await?))
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
    JsonBody(body): JsonBody<PeriodAction>,
) -> Result<Json<TimesheetResponse>, ApiError> {
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
    Ok(Json(response(&state, who, period).await?))
}

/// The person and period of a reviewer's action, checked.
async fn reviewed_period(
    state: &AppState,
    auth: &AuthUser,
    body: &PeriodAction,
) -> Result<(UserRow, Period), ApiError> {
    check_note("note", &body.note)?;
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

/// What waits for the caller's decision (empty for someone who reviews nobody).
#[utoipa::path(get, tag = "timesheets", path = "/api/v1/approvals", security(("bearer" = [])), responses(
    (status = 200, body = Approvals),
    (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn approvals(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Approvals>, ApiError> {
    let me = &auth.user;
    let mine: Option<Vec<String>> = if me.user.admin {
        None
    } else {
        Some(state.db.managed(&me.user.id).await?)
    };
    let reviewed = |user_id: &str| {
        user_id != me.user.id && mine.as_ref().is_none_or(|m| m.iter().any(|u| u == user_id))
    };
    let (entries, corrections) = state.db.pending(&me.org_id).await?;
    let submitted = state.db.submitted_periods(&me.org_id).await?;
    let mut utc_offsets = BTreeMap::new();
    let now = Utc::now().timestamp();
    for user in entries
        .iter()
        .map(|e| &e.user_id)
        .chain(corrections.iter().map(|c| &c.user_id))
        .chain(submitted.iter().map(|p| &p.user_id))
        .filter(|u| reviewed(u))
    {
        if !utc_offsets.contains_key(user) {
            let offset = state.db.latest_offset(user, now).await?.unwrap_or(0);
            utc_offsets.insert(user.clone(), offset);
        }
    }
    Ok(Json(Approvals {
        utc_offsets,
        manual_entries: entries
            .iter()
            .filter(|e| reviewed(&e.user_id))
            .map(ManualEntryView::from)
            .collect(),
        corrections: corrections
            .iter()
            .filter(|c| reviewed(&c.user_id))
            .map(CorrectionView::try_from)
            .collect::<Result<_, _>>()?,
        timesheets: submitted
            .iter()
            .filter(|p| reviewed(&p.user_id))
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

/// One line of the audit trail.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    /// Whose time it concerns.
    pub user_id: String,
    /// Who made the change.
    pub actor_id: String,
    pub at: DateTime<Utc>,
    /// What was done, such as `manual_entry.create`, `correction.approve`,
    /// `timesheet.unlock`, `policy.set`, `managers.set`.
    pub action: String,
    /// The id of the entry, correction, period (`week:2026-11-23`) or organization.
    pub subject_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Whose time (reviewers: the people they review; admins may leave it out for the whole
    /// organization); default the caller.
    user_id: Option<String>,
    /// `all` (admins): everyone's.
    #[param(pattern = "^all$")]
    scope: Option<String>,
    /// Start of the range (RFC 3339).
    #[param(format = DateTime, required = true)]
    from: Option<String>,
    /// End of the range (RFC 3339), exclusive; at most 366 days after `from`.
    #[param(format = DateTime, required = true)]
    to: Option<String>,
}

/// The audit trail of a person's time (their own for everyone; the people they review for
/// reviewers; the whole organization for admins with `scope=all`), newest first.
#[utoipa::path(get, tag = "timesheets", path = "/api/v1/audit", security(("bearer" = [])), params(AuditQuery), responses(
    (status = 200, body = Vec<AuditEntry>),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn audit_trail(
    State(state): State<AppState>,
    auth: AuthUser,
    QueryParams(q): QueryParams<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let (from, to) = parse_range(q.from.as_deref(), q.to.as_deref())?;
    let user = match q.scope.as_deref() {
        Some("all") => {
            auth.require_admin("read the whole organization's audit trail")?;
            None
        }
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "scope must be all, not {other:?}"
            )))
        }
        None => Some(subject(&state, &auth, q.user_id.as_deref()).await?.user.id),
    };
    let rows = state
        .db
        .audit(
            &auth.user.org_id,
            user.as_deref(),
            from.timestamp(),
            to.timestamp(),
        )
        .await?;
    let json = |v: &Option<String>| v.as_deref().and_then(|t| serde_json::from_str(t).ok());
    Ok(Json(
        rows.iter()
            .map(|r| AuditEntry {
                id: r.id.clone(),
                user_id: r.user_id.clone(),
                actor_id: r.actor_id.clone(),
                at: time(r.at),
                action: r.action.clone(),
                subject_id: r.subject_id.clone(),
                before: json(&r.before),
                after: json(&r.after),
                reason: r.reason.clone(),
            })
            .collect(),
    ))
}

/// The people a manager reviews.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Managed {
    /// User ids of the organization (at most 1,000); empty: not a manager.
    pub users: Vec<String>,
}

/// Whom a person manages (admins, or the person themselves).
#[utoipa::path(get, tag = "timesheets", path = "/api/v1/users/{id}/managed", security(("bearer" = [])), params(("id" = String, Path, description = "The manager's user id")), responses(
    (status = 200, body = Managed),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn managed(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Managed>, ApiError> {
    if id != auth.user.user.id {
        auth.require_admin("read whom another person manages")?;
    }
    let manager = auth.org_member(&state, &id).await?;
    Ok(Json(Managed {
        users: state.db.managed(&manager.user.id).await?,
    }))
}

/// Make a person the manager of others (admins): they then review those people's manual
/// time, corrections and timesheets. An empty list takes the role away.
#[utoipa::path(put, tag = "timesheets", path = "/api/v1/users/{id}/managed", security(("bearer" = [])), params(("id" = String, Path, description = "The manager's user id")), request_body = Managed, responses(
    (status = 200, body = Managed),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn set_managed(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Managed>,
) -> Result<Json<Managed>, ApiError> {
    auth.require_admin("make someone a manager")?;
    let manager = auth.org_member(&state, &id).await?;
    if body.users.len() > 1_000 {
        return Err(ApiError::BadRequest(
            "at most 1,000 people per manager".into(),
        ));
    }
    let mut users: Vec<String> = body.users;
    users.sort();
    users.dedup();
    for user in &users {
        if *user == manager.user.id {
            return Err(ApiError::BadRequest("nobody manages themselves".into()));
        }
        auth.org_member(&state, user).await?;
    }
    let before = state.db.managed(&manager.user.id).await?;
    let record = audit(
        &auth.user,
        &manager,
        "managers.set",
        &manager.user.id,
        Some(serde_json::json!({ "users": before })),
        Some(serde_json::json!({ "users": users })),
        "",
    );
    state
        .db
        .set_managed(&manager.user.id, &users, &record)
        .await?;
    Ok(Json(Managed { users }))
}
