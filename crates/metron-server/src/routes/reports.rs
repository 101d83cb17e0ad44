//! The report endpoints (SPEC §5): a person's day, as JSON and as CSV, and the team's day. The
//! figures come from `crate::reports`; this module checks who may read what and shapes answers.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ApiError;
use crate::extract::{AuthUser, QueryParams};
use crate::own_data::access::Read;
use crate::reports::{
    classifier, names_of, team_report, user_day, DailyReportResponse, TeamReport,
};
use crate::routes::csv;
use crate::routes::stream::streamed;
use crate::timesheets::subject;
use crate::AppState;
use chrono::NaiveDate;
use serde::Deserialize;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(daily))
        .routes(routes!(daily_csv))
        .routes(routes!(team))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DailyQuery {
    /// The local day, `YYYY-MM-DD`.
    #[param(format = Date, example = "2026-11-23", required = true)]
    date: Option<String>,
    /// Whose day (admins: anyone in their organization; managers: the people they manage,
    /// without window titles and addresses unless the organization shares them); default the
    /// caller.
    user_id: Option<String>,
    /// The UTC offset of the day in minutes (-840..=840); default the offset of the user's
    /// latest interval up to that day, else 0.
    #[param(value_type = Option<i32>, minimum = -840, maximum = 840)]
    utc_offset_minutes: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TeamQuery {
    /// The local day, `YYYY-MM-DD` (each person's in their own UTC offset).
    #[param(format = Date, example = "2026-11-23", required = true)]
    date: Option<String>,
}

pub(crate) fn parse_date(date: Option<&str>) -> Result<NaiveDate, ApiError> {
    let date =
        date.ok_or_else(|| ApiError::BadRequest("date is required, as YYYY-MM-DD".into()))?;
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
        ApiError::BadRequest(format!(
            "date must be a day such as 2026-11-23, not {date:?}"
        ))
    })?;
    in_service_date(date)
}

/// `date`, if it lies from 2000-01-01 to 2100-12-31 (the dates Metron holds time on).
pub(crate) fn in_service_date(date: NaiveDate) -> Result<NaiveDate, ApiError> {
    if metron_core::report::in_service(date) {
        Ok(date)
    } else {
        Err(ApiError::BadRequest(format!(
            "dates run from {} to {}, not {date}",
            metron_core::report::FIRST_DATE,
            metron_core::report::LAST_DATE
        )))
    }
}

fn parse_offset(offset: Option<&str>) -> Result<Option<i32>, ApiError> {
    offset
        .map(|o| {
            o.parse::<i32>()
                .ok()
                .filter(|m| (-840..=840).contains(m))
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "utc_offset_minutes must be a whole number from -840 to 840, not {o:?}"
                    ))
                })
        })
        .transpose()
}

/// The daily report (R1) of one user in their local day.
#[utoipa::path(get, tag = "reports", path = "/api/v1/reports/daily", security(("bearer" = [])), params(DailyQuery), responses(
    (status = 200, body = DailyReportResponse),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn daily(
    State(state): State<AppState>,
    auth: AuthUser,
    QueryParams(q): QueryParams<DailyQuery>,
) -> Result<Json<DailyReportResponse>, ApiError> {
    Ok(Json(daily_response(&state, &auth, &q).await?))
}

async fn daily_response(
    state: &AppState,
    auth: &AuthUser,
    q: &DailyQuery,
) -> Result<DailyReportResponse, ApiError> {
    let date = parse_date(q.date.as_deref())?;
    let offset = parse_offset(q.utc_offset_minutes.as_deref())?;
    let who = subject(state, &auth.user, q.user_id.as_deref()).await?;
    crate::own_data::access::record(state, &auth.user, &who, Read::Day, &date.to_string()).await?;
    let classifier = classifier(state, &who.org_id).await?;
    let thresholds = state.db.unusual_thresholds(&who.org_id).await?;
    let (mut report, source) = user_day(
        state,
        &who.org_id,
        &who.user.id,
        date,
        offset,
        &classifier,
        &thresholds,
    )
    .await?;
    let detail_withheld = !crate::access::sees_detail(state, &auth.user, &who).await?;
    if detail_withheld {
        crate::access::without_detail(&mut report);
    }
    let task_names = names_of(
        state,
        &who.org_id,
        report.tasks.iter().map(|t| t.task_id.as_str()),
    )
    .await?;
    Ok(DailyReportResponse {
        user: who.user,
        source: source.into(),
        task_names,
        detail_withheld,
        report,
    })
}

/// The day as CSV: one row per interval of the timeline, times in the day's UTC offset.
#[utoipa::path(get, tag = "reports", path = "/api/v1/reports/daily.csv", security(("bearer" = [])), params(DailyQuery), responses(
    (status = 200, content_type = "text/csv", body = String),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn daily_csv(
    State(state): State<AppState>,
    auth: AuthUser,
    QueryParams(q): QueryParams<DailyQuery>,
) -> Result<Response, ApiError> {
    let day = daily_response(&state, &auth, &q).await?;
    let disposition = format!(
        "attachment; filename=\"metron-{}-{}.csv\"",
        day.user.email.replace(['"', '/', '\\'], "_"),
        day.report.date
    );
    streamed(
        "text/csv; charset=utf-8",
        Some(disposition),
        state.limits.max_export_bytes,
        move |sink| csv::write(sink, csv::DAILY_HEADER, csv::daily(&day)),
    )
}

/// The team's day (admins): each person's figures in their own local day.
#[utoipa::path(get, tag = "reports", path = "/api/v1/reports/team", security(("bearer" = [])), params(TeamQuery), responses(
    (status = 200, body = TeamReport),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody)))]
pub async fn team(
    State(state): State<AppState>,
    auth: AuthUser,
    QueryParams(q): QueryParams<TeamQuery>,
) -> Result<Json<TeamReport>, ApiError> {
    let date = parse_date(q.date.as_deref())?;
    auth.require_admin("read the team's report")?;
    Ok(Json(team_report(&state, &auth.user.org_id, date).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_offsets_are_checked_with_clear_messages() {
        assert!(parse_date(Some("2026-02-30"))
            .unwrap_err()
            .to_string()
            .contains("2026-11-23"));
        assert!(parse_date(None)
            .unwrap_err()
            .to_string()
            .contains("required"));
        assert_eq!(
            parse_date(Some("2026-11-23")).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
        );
        assert!(parse_offset(Some("900")).is_err());
        assert_eq!(parse_offset(Some("-300")).unwrap(), Some(-300));
    }
}
