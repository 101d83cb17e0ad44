//! Timesheets (issue 16): the organization's policy for manual time and corrections, and a
//! person's or a team's week or month, as JSON and CSV.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use metron_core::timesheet::{Period, PeriodKind, Policy};
use metron_core::wire::User;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, QueryParams};
use crate::own_data::access::{record, Read};
use crate::routes::csv;
use crate::routes::reports::parse_date;
use crate::routes::stream::streamed;
use crate::timesheets::{self, sheet_of, subject, TeamTimesheet, TimesheetResponse};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(policy, set_policy))
        .routes(routes!(sheet))
        .routes(routes!(sheet_csv))
        .routes(routes!(team_sheet))
        .routes(routes!(team_sheet_csv))
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

/// A period as the access log names it: `week:2026-11-23`.
fn scope_of(period: &Period) -> String {
    format!("{}:{}", period.kind.as_str(), period.start)
}

pub(crate) fn period_of(kind: Option<&str>, date: Option<&str>) -> Result<Period, ApiError> {
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
    Ok(Json(
        replace_policy(&state, &auth.user.org_id, Some(&auth.user), body).await?,
    ))
}

/// Checks and stores a new policy with its audit row (by `actor`, or by the command line):
/// the API and `metron-server org policy` both come here.
pub async fn replace_policy(
    state: &AppState,
    org_id: &str,
    actor: Option<&crate::db::UserRow>,
    body: serde_json::Value,
) -> Result<Policy, ApiError> {
    if !body.is_object() {
        return Err(ApiError::BadRequest(
            "the policy must be a JSON object".into(),
        ));
    }
    let new: Policy = serde_json::from_value(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid policy: {e}")))?;
    new.validate().map_err(ApiError::BadRequest)?;
    let old = state.db.timesheet_policy(org_id).await?;
    let record = crate::timesheets::org_audit(
        org_id,
        actor,
        "policy.set",
        org_id,
        Some(serde_json::to_value(&old).expect("policies serialize")),
        Some(serde_json::to_value(&new).expect("policies serialize")),
    );
    state.db.set_timesheet_policy(org_id, &new, &record).await?;
    Ok(new)
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
    let who = subject(&state, &auth.user, q.user_id.as_deref()).await?;
    record(
        &state,
        &auth.user,
        &who,
        Read::Timesheet,
        &scope_of(&period),
    )
    .await?;
    Ok(Json(sheet_of(&state, who, period).await?))
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
    let who = subject(&state, &auth.user, q.user_id.as_deref()).await?;
    record(
        &state,
        &auth.user,
        &who,
        Read::Timesheet,
        &scope_of(&period),
    )
    .await?;
    let sheet = sheet_of(&state, who, period).await?;
    let disposition = format!(
        "attachment; filename=\"metron-{}-{}-{}.csv\"",
        sheet.user.email.replace(['"', '/', '\\'], "_"),
        period.kind.as_str(),
        period.start
    );
    streamed(
        "text/csv; charset=utf-8",
        Some(disposition),
        state.limits.max_export_bytes,
        move |sink| csv::write(sink, csv::TIMESHEET_HEADER, csv::timesheet(&sheet)),
    )
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
    Ok(Json(
        timesheets::team_sheet(
            &state,
            &auth.user.org_id,
            team_of(&state, &auth).await?,
            period,
        )
        .await?,
    ))
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
    let team = timesheets::team_sheet(
        &state,
        &auth.user.org_id,
        team_of(&state, &auth).await?,
        period,
    )
    .await?;
    let disposition = format!(
        "attachment; filename=\"metron-team-{}-{}.csv\"",
        period.kind.as_str(),
        period.start
    );
    streamed(
        "text/csv; charset=utf-8",
        Some(disposition),
        state.limits.max_export_bytes,
        move |sink| csv::write(sink, csv::TEAM_HEADER, csv::team(&team)),
    )
}
