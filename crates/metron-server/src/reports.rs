//! Reports (SPEC §5): the daily report R1 of one user, the team's day for admins, a day as CSV,
//! and the productivity rules (R2) they are classified by. The figures are computed by
//! `metron_core::report` when asked for, under the rules as they are then, so a changed rule
//! re-classifies history; days past retention come from their kept aggregate.

use chrono::{DateTime, NaiveDate, Utc};
use metron_core::report::{self, Classifier, DailyReport, Rule, WindowUsage};
use metron_core::wire::User;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

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

/// A kept day: the report and its time per (app, host), for re-classifying.
#[derive(Serialize, Deserialize)]
pub struct DayAggregate {
    pub report: DailyReport,
    pub usage: Vec<WindowUsage>,
}

impl DayAggregate {
    /// Reads a kept day. Days kept before input could go uncounted (Wayland) have no
    /// `counts_measured_secs`: all their time was counted.
    pub fn parse(body: &str) -> Result<DayAggregate, serde_json::Error> {
        let mut value: serde_json::Value = serde_json::from_str(body)?;
        if let Some(report) = value.get_mut("report").and_then(|r| r.as_object_mut()) {
            if !report.contains_key("counts_measured_secs") {
                let tracked = report.get("tracked_secs").cloned().unwrap_or_default();
                report.insert("counts_measured_secs".into(), tracked);
            }
        }
        serde_json::from_value(value)
    }
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
pub(crate) async fn classifier(state: &AppState, org_id: &str) -> Result<Classifier, ReportError> {
    let rules: Vec<Rule> = state
        .db
        .rules(org_id)
        .await?
        .into_iter()
        .map(|r| r.rule)
        .collect();
    Classifier::new(&rules).map_err(ReportError::Rules)
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
        let DayAggregate { mut report, usage } = DayAggregate::parse(&kept)
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
        let DayAggregate { mut report, usage } = DayAggregate::parse(&body)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_kept_before_uncounted_input_reads_as_all_counted() {
        let report = report::daily_report(
            &[],
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            0,
            &Classifier::empty(),
        );
        let mut old = serde_json::to_value(DayAggregate {
            report,
            usage: Vec::new(),
        })
        .unwrap();
        old["report"]["tracked_secs"] = 3600.into();
        old["report"]
            .as_object_mut()
            .unwrap()
            .remove("counts_measured_secs");
        let kept = DayAggregate::parse(&old.to_string()).unwrap();
        assert_eq!(kept.report.counts_measured_secs, 3600);
    }
}
