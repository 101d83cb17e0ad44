//! Reports (SPEC §5): the daily report R1 of one user, the team's day for admins, a day as CSV,
//! and the productivity rules (R2) they are classified by. The figures are computed by
//! `metron_core::report` when asked for, under the rules as they are then, so a changed rule
//! re-classifies history; days past retention come from their kept aggregate.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use metron_core::report::{self, Classifier, DailyReport, Rule, WindowUsage};
use metron_core::wire::User;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

use crate::auth::AuthUser;
use crate::body::JsonBody;
use crate::db::{StoredRule, UserRow};
use crate::error::ApiError;
use crate::AppState;

/// A day's report with who it is of and the names of its tasks.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DailyReportResponse {
    pub user: User,
    /// `intervals` (computed from the raw intervals) or `aggregates` (a day past retention,
    /// kept as its figures: the same report, re-classified under today's rules).
    pub source: String,
    /// Task id -> name, for the tasks in the report.
    pub task_names: BTreeMap<String, String>,
    #[serde(flatten)]
    pub report: DailyReport,
}

/// One person's line in the team's day.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TeamMember {
    pub user: User,
    pub utc_offset_minutes: i32,
    pub tracked_secs: u64,
    pub active_secs: u64,
    pub idle_secs: u64,
    pub activity_pct: u32,
    pub productive_secs: u64,
    pub unproductive_secs: u64,
    pub neutral_secs: u64,
    pub first_activity: Option<DateTime<Utc>>,
    pub last_activity: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TeamReport {
    pub date: NaiveDate,
    /// Everyone in the organization, by name; people who tracked nothing show zeros.
    pub users: Vec<TeamMember>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DailyQuery {
    /// The local day, `YYYY-MM-DD`.
    #[param(format = Date, example = "2026-11-23", required = true)]
    date: Option<String>,
    /// Whose day (admins: anyone in their organization); default the caller.
    user_id: Option<String>,
    /// The UTC offset of the day in minutes (-840..=840); default the offset of the user's
    /// latest interval up to that day, else 0.
    #[param(value_type = Option<i32>, minimum = -840, maximum = 840)]
    utc_offset_minutes: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TeamQuery {
    /// The local day, `YYYY-MM-DD` (each person's in their own UTC offset).
    #[param(format = Date, example = "2026-11-23", required = true)]
    date: Option<String>,
}

/// A kept day: the report and its time per (app, host), for re-classifying.
#[derive(Serialize, Deserialize)]
pub struct DayAggregate {
    pub report: DailyReport,
    pub usage: Vec<WindowUsage>,
}

fn parse_date(date: Option<&str>) -> Result<NaiveDate, ApiError> {
    let date =
        date.ok_or_else(|| ApiError::BadRequest("date is required, as YYYY-MM-DD".into()))?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
        ApiError::BadRequest(format!(
            "date must be a day such as 2026-11-23, not {date:?}"
        ))
    })
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

/// Why a report could not be computed. Reports are also computed outside a request (the
/// benchmarks, retention's kept days), so this says what went wrong and `error.rs` decides what
/// a client hears.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error("that date is out of range")]
    DateOutOfRange,
    /// A stored rule no longer compiles (a newer regex engine, a hand edit): the server's fault.
    #[error("stored rules do not compile: {0}")]
    Rules(metron_core::RuleError),
    #[error("stored data is unreadable: {0}")]
    Unreadable(String),
    #[error("a report worker failed: {0}")]
    Worker(String),
}

/// The organization's rules, compiled. A stored rule that no longer compiles (a newer regex
/// engine, a hand edit) is a server fault, not the client's.
async fn classifier(state: &AppState, org_id: &str) -> Result<Classifier, ReportError> {
    let rules: Vec<Rule> = state
        .db
        .rules(org_id)
        .await?
        .into_iter()
        .map(|r| r.rule)
        .collect();
    Classifier::new(&rules).map_err(ReportError::Rules)
}

/// Whose report the caller may read: themselves, or (admins) anyone in their organization.
/// Another organization's user is "not found", so ids can't be probed.
async fn subject(
    state: &AppState,
    auth: &AuthUser,
    user_id: Option<&str>,
) -> Result<UserRow, ApiError> {
    let Some(id) = user_id.filter(|id| *id != auth.user.user.id) else {
        return Ok(auth.user.clone());
    };
    if !auth.user.user.admin {
        return Err(ApiError::Forbidden(
            "only an admin can read another person's report".into(),
        ));
    }
    auth.org_member(state, id).await
}

/// The offset a user's day is taken in: their latest interval's up to the end of that day.
async fn offset_for(state: &AppState, user_id: &str, date: NaiveDate) -> Result<i32, ReportError> {
    // The latest any local day can end, in UTC: the next day at 14:00.
    let latest_end = date
        .succ_opt()
        .unwrap_or(date)
        .and_hms_opt(14, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or(i64::MAX);
    Ok(state
        .db
        .latest_offset(user_id, latest_end)
        .await?
        .unwrap_or(0))
}

/// One user's day: from the kept aggregate when the day is past retention, else computed.
pub async fn user_day(
    state: &AppState,
    user_id: &str,
    date: NaiveDate,
    offset: Option<i32>,
    classifier: &Classifier,
) -> Result<(DailyReport, &'static str), ReportError> {
    if let Some(kept) = state.db.day_aggregate(user_id, &date.to_string()).await? {
        let DayAggregate { mut report, usage } = serde_json::from_str(&kept)
            .map_err(|e| ReportError::Unreadable(format!("a kept day: {e}")))?;
        report::reclassify(&mut report, &usage, classifier);
        // Kept before titles expired with the raw data: never shown past retention.
        report.titles.clear();
        return Ok((report, "aggregates"));
    }
    let offset = match offset {
        Some(o) => o,
        None => offset_for(state, user_id, date).await?,
    };
    let (from, to) = report::local_day_bounds(date, offset).ok_or(ReportError::DateOutOfRange)?;
    let intervals = state
        .db
        .intervals(user_id, from.timestamp(), to.timestamp())
        .await?;
    Ok((
        report::daily_report(&intervals, date, offset, classifier),
        "intervals",
    ))
}

/// The daily report (R1) of one user in their local day.
#[utoipa::path(get, path = "/api/v1/reports/daily", security(("bearer" = [])), params(DailyQuery), responses(
    (status = 200, body = DailyReportResponse),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn daily(
    State(state): State<AppState>,
    auth: AuthUser,
    query: Result<Query<DailyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<DailyReportResponse>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(format!("bad query: {e}")))?;
    Ok(Json(daily_response(&state, &auth, &q).await?))
}

async fn daily_response(
    state: &AppState,
    auth: &AuthUser,
    q: &DailyQuery,
) -> Result<DailyReportResponse, ApiError> {
    let date = parse_date(q.date.as_deref())?;
    let offset = parse_offset(q.utc_offset_minutes.as_deref())?;
    let who = subject(state, auth, q.user_id.as_deref()).await?;
    let classifier = classifier(state, &who.org_id).await?;
    let (report, source) = user_day(state, &who.user.id, date, offset, &classifier).await?;
    let names: HashMap<String, String> = state
        .db
        .tasks(&who.org_id)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let task_names = report
        .tasks
        .iter()
        .filter_map(|t| {
            names
                .get(&t.task_id)
                .map(|n| (t.task_id.clone(), n.clone()))
        })
        .collect();
    Ok(DailyReportResponse {
        user: who.user,
        source: source.into(),
        task_names,
        report,
    })
}

/// The day as CSV: one row per interval of the timeline, times in the day's UTC offset.
#[utoipa::path(get, path = "/api/v1/reports/daily.csv", security(("bearer" = [])), params(DailyQuery), responses(
    (status = 200, content_type = "text/csv", body = String),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn daily_csv(
    State(state): State<AppState>,
    auth: AuthUser,
    query: Result<Query<DailyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(format!("bad query: {e}")))?;
    let day = daily_response(&state, &auth, &q).await?;
    let offset = chrono::FixedOffset::east_opt(day.report.utc_offset_minutes * 60)
        .unwrap_or(chrono::FixedOffset::east_opt(0).expect("0 is valid"));
    let mut csv =
        String::from("date,user,start,end,task,tracked_secs,active_secs,activity_pct\r\n");
    for e in &day.report.timeline {
        let task = day.task_names.get(&e.task_id).unwrap_or(&e.task_id);
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{}\r\n",
            day.report.date,
            csv_field(&day.user.email),
            e.started_at.with_timezone(&offset).to_rfc3339(),
            e.ended_at.with_timezone(&offset).to_rfc3339(),
            csv_field(task),
            e.tracked_secs,
            e.active_secs,
            e.activity_pct
        ));
    }
    let disposition = format!(
        "attachment; filename=\"metron-{}-{}.csv\"",
        day.user.email.replace(['"', '/', '\\'], "_"),
        day.report.date
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

/// A CSV text field, always quoted (RFC 4180). A formula trigger (= + - @) is defused with a
/// leading apostrophe wherever a spreadsheet could take it as the start of a cell: at the start
/// of the field, and after a `;`, comma, tab, CR or LF inside it (a spreadsheet opened with
/// another separator splits the field there). Leading tab and CR are defused too.
fn csv_field(text: &str) -> String {
    const TRIGGERS: [char; 4] = ['=', '+', '-', '@'];
    const SPLITS: [char; 5] = [';', ',', '\t', '\r', '\n'];
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut cell_start = true;
    for c in text.chars() {
        if cell_start && (TRIGGERS.contains(&c) || (out.len() == 1 && (c == '\t' || c == '\r'))) {
            out.push('\'');
        }
        if c == '"' {
            out.push('"');
        }
        out.push(c);
        cell_start = SPLITS.contains(&c);
    }
    out.push('"');
    out
}

/// The team's day (admins): each person's figures in their own local day.
#[utoipa::path(get, path = "/api/v1/reports/team", security(("bearer" = [])), params(TeamQuery), responses(
    (status = 200, body = TeamReport),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody)))]
pub async fn team(
    State(state): State<AppState>,
    auth: AuthUser,
    query: Result<Query<TeamQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<TeamReport>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(format!("bad query: {e}")))?;
    let date = parse_date(q.date.as_deref())?;
    auth.require_admin("read the team's report")?;
    Ok(Json(team_report(&state, &auth.user.org_id, date).await?))
}

/// Everyone's day in one pass: the intervals of the whole organization over the widest
/// window any offset needs (one query), then each person's day in their own offset.
pub async fn team_report(
    state: &AppState,
    org_id: &str,
    date: NaiveDate,
) -> Result<TeamReport, ReportError> {
    let classifier = classifier(state, org_id).await?;
    let users = state.db.org_users(org_id).await?;
    let (earliest, _) = report::local_day_bounds(date, 840).ok_or(ReportError::DateOutOfRange)?;
    let (_, latest) = report::local_day_bounds(date, -840).ok_or(ReportError::DateOutOfRange)?;
    // Days past retention first: a kept day is the whole day, whatever raw intervals of the
    // next morning the window below also catches.
    let mut computed: HashMap<String, DailyReport> = HashMap::new();
    for (user, body) in state
        .db
        .org_day_aggregates(org_id, &date.to_string())
        .await?
    {
        let DayAggregate { mut report, usage } = serde_json::from_str(&body)
            .map_err(|e| ReportError::Unreadable(format!("a kept day: {e}")))?;
        report::reclassify(&mut report, &usage, &classifier);
        computed.insert(user, report);
    }
    let mut by_user: HashMap<String, Vec<String>> = HashMap::new();
    for (user, body) in state
        .db
        .org_interval_bodies(org_id, earliest.timestamp(), latest.timestamp())
        .await?
    {
        if !computed.contains_key(&user) {
            by_user.entry(user).or_default().push(body);
        }
    }
    // Parsing the day's interval bodies is most of the work (a thousand people: about half a
    // million of them): people are split over the cores, each part parsed and computed on its
    // own blocking thread.
    let classifier = std::sync::Arc::new(classifier);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut people: Vec<(String, Vec<String>)> = by_user.into_iter().collect();
    let chunk = people.len().div_ceil(cores).max(1);
    let mut parts = Vec::new();
    while !people.is_empty() {
        let part: Vec<(String, Vec<String>)> = people.drain(..chunk.min(people.len())).collect();
        let classifier = std::sync::Arc::clone(&classifier);
        parts.push(tokio::task::spawn_blocking(
            move || -> Result<Vec<(String, DailyReport)>, ReportError> {
                part.into_iter()
                    .map(|(user, bodies)| {
                        let intervals = bodies
                            .iter()
                            .map(|b| serde_json::from_str::<metron_core::Interval>(b))
                            .collect::<Result<Vec<_>, _>>()
                            .map_err(|e| ReportError::Unreadable(format!("an interval: {e}")))?;
                        // The person's offset that day: their latest interval's.
                        let offset = intervals
                            .iter()
                            .max_by_key(|i| i.started_at)
                            .map_or(0, |i| i.utc_offset_minutes);
                        Ok((
                            user,
                            report::daily_report(&intervals, date, offset, &classifier),
                        ))
                    })
                    .collect()
            },
        ));
    }
    for part in parts {
        computed.extend(
            part.await
                .map_err(|e| ReportError::Worker(e.to_string()))??,
        );
    }
    let mut members = Vec::with_capacity(users.len());
    for user in users {
        // Nothing that day: zeros.
        let report = computed
            .remove(&user.id)
            .unwrap_or_else(|| report::daily_report(&[], date, 0, &classifier));
        members.push(TeamMember {
            user,
            utc_offset_minutes: report.utc_offset_minutes,
            tracked_secs: report.tracked_secs,
            active_secs: report.active_secs,
            idle_secs: report.idle_secs,
            activity_pct: report.activity_pct,
            productive_secs: report.productive_secs,
            unproductive_secs: report.unproductive_secs,
            neutral_secs: report.neutral_secs,
            first_activity: report.first_activity,
            last_activity: report.last_activity,
        });
    }
    Ok(TeamReport {
        date,
        users: members,
    })
}

const MANAGE_RULES: &str = "manage productivity rules";

fn checked(rule: Rule) -> Result<Rule, ApiError> {
    let rule = Rule {
        pattern: rule.pattern.trim().to_string(),
        ..rule
    };
    report::validate_rule(&rule).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(rule)
}

/// The organization's productivity rules (admins), first match first.
#[utoipa::path(get, path = "/api/v1/rules", security(("bearer" = [])), responses(
    (status = 200, body = Vec<StoredRule>),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody)))]
pub async fn list_rules(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<StoredRule>>, ApiError> {
    auth.require_admin(MANAGE_RULES)?;
    Ok(Json(state.db.rules(&auth.user.org_id).await?))
}

/// Add a rule (after the others).
#[utoipa::path(post, path = "/api/v1/rules", security(("bearer" = [])), request_body = Rule, responses(
    (status = 201, body = StoredRule),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn create_rule(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(rule): JsonBody<Rule>,
) -> Result<Response, ApiError> {
    auth.require_admin(MANAGE_RULES)?;
    let created = state
        .db
        .create_rule(&auth.user.org_id, &checked(rule)?)
        .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Change a rule (it keeps its place in the order).
#[utoipa::path(put, path = "/api/v1/rules/{id}", security(("bearer" = [])), params(("id" = String, Path, description = "The rule's id")), request_body = Rule, responses(
    (status = 200, body = StoredRule),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn update_rule(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    JsonBody(rule): JsonBody<Rule>,
) -> Result<Json<StoredRule>, ApiError> {
    auth.require_admin(MANAGE_RULES)?;
    let rule = checked(rule)?;
    state
        .db
        .update_rule(&auth.user.org_id, &id, &rule)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no rule {id}")))
}

/// Delete a rule.
#[utoipa::path(delete, path = "/api/v1/rules/{id}", security(("bearer" = [])), params(("id" = String, Path, description = "The rule's id")), responses(
    (status = 204),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require_admin(MANAGE_RULES)?;
    if state.db.delete_rule(&auth.user.org_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no rule {id}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("Write, review"), "\"Write, review\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(
            csv_field("plain"),
            "\"plain\"",
            "every text field is quoted"
        );
        assert_eq!(
            csv_field("a;=cmd|' /C calc'!A0"),
            "\"a;'=cmd|' /C calc'!A0\"",
            "a trigger after ; is defused"
        );
        assert_eq!(csv_field("a,+1"), "\"a,'+1\"");
        assert_eq!(csv_field("a\t@SUM(1)"), "\"a\t'@SUM(1)\"");
        assert_eq!(csv_field("\tx"), "\"'\tx\"");
        assert_eq!(
            csv_field("a-b"),
            "\"a-b\"",
            "a dash inside a word is left alone"
        );
    }

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
