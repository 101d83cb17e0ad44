//! Reports (SPEC §5): the daily report R1 of one user, the team's day for admins, a day as CSV,
//! and the productivity rules (R2) they are classified by. The figures are computed by
//! `metron_core::report` when asked for, under the rules as they are then, so a changed rule
//! re-classifies history; days past retention come from their kept aggregate.

use chrono::{DateTime, NaiveDate, Utc};
use metron_core::report::{self, Classifier, DailyReport, FlagKind, Rule, Thresholds, WindowUsage};
use metron_core::timesheet::{self, Correction, ManualEntry};
use metron_core::wire::User;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::db::packed::{PersonRange, StoredInterval};
use crate::zones::DeviceZones;
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
    /// The window titles and addresses were left out: the reader is a manager and the
    /// organization doesn't share that detail with managers (docs/SECURITY.md).
    #[serde(default)]
    pub detail_withheld: bool,
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
    /// No input while an idle inhibitor was held (calls, videos).
    pub passive_secs: u64,
    /// Manual time in force that day (not in activity %).
    pub manual_secs: u64,
    pub activity_pct: u32,
    pub productive_secs: u64,
    pub unproductive_secs: u64,
    pub neutral_secs: u64,
    pub first_activity: Option<DateTime<Utc>>,
    pub last_activity: Option<DateTime<Utc>>,
    /// The devices that tracked that day, by tracked time (names from `GET /api/v1/devices`).
    pub devices: Vec<metron_core::report::DeviceUsage>,
    /// The unusual-activity flags of the day (their evidence is in the person's day report).
    pub unusual: Vec<FlagKind>,
    /// Of the active time whose origin was measured, the % with injected input; null when
    /// not measured.
    pub injected_pct: Option<u32>,
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
pub async fn classifier(state: &AppState, org_id: &str) -> Result<Classifier, ReportError> {
    let rules: Vec<Rule> = state
        .db
        .rules(org_id)
        .await?
        .into_iter()
        .map(|r| r.rule)
        .collect();
    Classifier::new(&rules).map_err(ReportError::Rules)
}

/// The organization's task names by id, for reports and the event log (a task's id stays in
/// the data; its name may change).
pub(crate) async fn task_names(
    state: &AppState,
    org_id: &str,
) -> Result<HashMap<String, String>, crate::db::DbError> {
    Ok(state
        .db
        .tasks(org_id)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect())
}

/// The names of the tasks `ids` (those the organization has), for an answer that lists them.
pub(crate) async fn names_of<'a>(
    state: &AppState,
    org_id: &str,
    ids: impl Iterator<Item = &'a str>,
) -> Result<BTreeMap<String, String>, crate::db::DbError> {
    let names = task_names(state, org_id).await?;
    Ok(ids
        .filter_map(|id| names.get(id).map(|n| (id.to_string(), n.clone())))
        .collect())
}

/// The offset a user's day is said to be in when no interval of the day says it (a day with
/// only manual time, a new entry without an offset): their latest interval's up to the end of
/// that day. Each interval is cut into days in its own offset whatever this says.
pub(crate) async fn offset_for(
    state: &AppState,
    user_id: &str,
    date: NaiveDate,
) -> Result<i32, ReportError> {
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

/// A day computed from its intervals, with its unusual activity assessed (the intervals'
/// offsets checked against their devices' zones too).
fn assessed_day(
    intervals: &[metron_core::Interval],
    date: NaiveDate,
    offset: i32,
    classifier: &Classifier,
    thresholds: &Thresholds,
    zones: &DeviceZones,
) -> DayWithUsage {
    let (mut day, usage) = report::daily_report_with_usage(intervals, date, offset, classifier);
    let mut unusual = report::assess(intervals, date, offset, thresholds);
    unusual
        .flags
        .extend(report::zone_mismatch(intervals, date, |i| {
            zones.expected(i)
        }));
    day.unusual = Some(unusual);
    (day, usage)
}

/// The approved corrections among `rows`, in the order they were made.
fn in_force(rows: &[crate::db::timesheets::CorrectionRow]) -> Result<Vec<Correction>, ReportError> {
    rows.iter()
        .filter(|r| r.status == "approved")
        .map(|r| r.correction().map_err(ReportError::from))
        .collect()
}

/// The approved manual entries among `rows`.
fn approved(rows: &[crate::db::timesheets::EntryRow]) -> Result<Vec<ManualEntry>, ReportError> {
    rows.iter()
        .filter(|r| r.status == "approved")
        .map(|r| r.entry().map_err(ReportError::from))
        .collect()
}

/// The user's intervals that overlap [from, to) as the corrections in force leave them: what
/// every report and timesheet counts.
pub(crate) async fn corrected_intervals(
    state: &AppState,
    user_id: &str,
    from: i64,
    to: i64,
) -> Result<Vec<metron_core::Interval>, ReportError> {
    let intervals = state.db.intervals(user_id, from, to).await?;
    let corrections = in_force(&state.db.corrections_in_force(user_id, from, to).await?)?;
    Ok(timesheet::apply(intervals, &corrections))
}

/// The user's manual time in force in [from, to), less what `tracked` covers (`None`: a day
/// kept as an aggregate, whose intervals are gone; the overlap rule held when it was added).
pub(crate) async fn manual_time(
    state: &AppState,
    user_id: &str,
    from: i64,
    to: i64,
    tracked: Option<&[metron_core::Interval]>,
) -> Result<Vec<ManualEntry>, ReportError> {
    let entries = approved(&state.db.approved_manual_entries(user_id, from, to).await?)?;
    Ok(match tracked {
        Some(tracked) => timesheet::uncovered(&entries, tracked),
        None => entries,
    })
}

/// One user's day: from the kept aggregate when the day is past retention, else computed
/// from the corrected intervals, with its unusual activity assessed by `thresholds`; manual
/// time in force added either way.
pub async fn user_day(
    state: &AppState,
    org_id: &str,
    user_id: &str,
    date: NaiveDate,
    offset: Option<i32>,
    classifier: &Classifier,
    thresholds: &Thresholds,
) -> Result<(DailyReport, &'static str), ReportError> {
    let (report, _, source) =
        user_day_with_usage(state, org_id, user_id, date, offset, classifier, thresholds).await?;
    Ok((report, source))
}

/// [`user_day`] with the day's time per (app, host) pair.
pub async fn user_day_with_usage(
    state: &AppState,
    org_id: &str,
    user_id: &str,
    date: NaiveDate,
    offset: Option<i32>,
    classifier: &Classifier,
    thresholds: &Thresholds,
) -> Result<(DailyReport, Vec<WindowUsage>, &'static str), ReportError> {
    if let Some(kept) = state.db.day_aggregate(user_id, &date.to_string()).await? {
        let DayAggregate { mut report, usage } = DayAggregate::parse(&kept)
            .map_err(|e| ReportError::Unreadable(format!("a kept day: {e}")))?;
        report::reclassify(&mut report, &usage, classifier);
        // Kept before titles expired with the raw data: never shown past retention.
        report.titles.clear();
        let (from, to) = report::widest_day_bounds(date).ok_or(ReportError::DateOutOfRange)?;
        let manual = manual_time(state, user_id, from.timestamp(), to.timestamp(), None).await?;
        timesheet::add_manual(&mut report, &manual);
        return Ok((report, usage, "aggregates"));
    }
    let offset = match offset {
        Some(o) => o,
        None => offset_for(state, user_id, date).await?,
    };
    // Every interval and entry that may have a second on this date in its own offset: each is
    // cut in that offset, so a second falls on one local day only (docs/REPORTS.md).
    let (from, to) = report::widest_day_bounds(date).ok_or(ReportError::DateOutOfRange)?;
    let (from, to) = (from.timestamp(), to.timestamp());
    let intervals = corrected_intervals(state, user_id, from, to).await?;
    let zones = DeviceZones::from_rows(&state.db.devices(org_id, Some(user_id)).await?);
    let (mut report, usage) =
        assessed_day(&intervals, date, offset, classifier, thresholds, &zones);
    let manual = manual_time(state, user_id, from, to, Some(&intervals)).await?;
    timesheet::add_manual(&mut report, &manual);
    Ok((report, usage, "intervals"))
}

/// A day's report with its time per (app, host) pair.
pub type DayWithUsage = (DailyReport, Vec<WindowUsage>);

/// One person's part of the organization's day: their id, stored intervals, corrections in
/// force, manual time, and the offset to take the day in when no interval says it.
type Person = (
    String,
    Vec<StoredInterval>,
    Vec<Correction>,
    Vec<ManualEntry>,
    Option<i32>,
);

/// How many people's intervals a computation of the organization's day reads and holds at
/// once: a working day of 500 people is about 240,000 intervals (some 60 MB decoded), whatever
/// the organization's size (a day of 10,000 people read at once held 2.9 GB).
pub(crate) const PEOPLE_A_READ: usize = 500;

/// Everyone's day in one pass, for the team's day and the team's timesheet: the intervals of
/// the whole organization over the widest window any offset needs, then each person's day in
/// their own offset, computed as [`user_day`] computes it. People with no time that day are
/// left out.
pub async fn org_days(
    state: &AppState,
    org_id: &str,
    date: NaiveDate,
    classifier: std::sync::Arc<Classifier>,
    thresholds: &Thresholds,
) -> Result<HashMap<String, DailyReport>, ReportError> {
    Ok(
        org_days_with_usage(state, org_id, date, classifier, thresholds, None)
            .await?
            .into_iter()
            .map(|(user, (day, _))| (user, day))
            .collect(),
    )
}

/// [`org_days`] with each day's time per (app, host) pair, what rules classify (the rules
/// preview re-classifies it under proposed rules), of everyone or of the `wanted` people only.
/// The people are read [`PEOPLE_A_READ`] at a time, in the order of their numbers.
pub async fn org_days_with_usage(
    state: &AppState,
    org_id: &str,
    date: NaiveDate,
    classifier: std::sync::Arc<Classifier>,
    thresholds: &Thresholds,
    wanted: Option<&HashSet<String>>,
) -> Result<HashMap<String, DayWithUsage>, ReportError> {
    let is_wanted = |user: &str| wanted.is_none_or(|w| w.contains(user));
    let (earliest, latest) = report::widest_day_bounds(date).ok_or(ReportError::DateOutOfRange)?;
    // Days past retention first: a kept day is the whole day, whatever raw intervals of the
    // next morning the window below also catches.
    let mut computed: HashMap<String, DayWithUsage> = HashMap::new();
    for (user, body) in state
        .db
        .org_day_aggregates(org_id, &date.to_string())
        .await?
    {
        if !is_wanted(&user) {
            continue;
        }
        let DayAggregate { mut report, usage } = DayAggregate::parse(&body)
            .map_err(|e| ReportError::Unreadable(format!("a kept day: {e}")))?;
        report::reclassify(&mut report, &usage, &classifier);
        report.titles.clear();
        computed.insert(user, (report, usage));
    }
    let (from, to) = (earliest.timestamp(), latest.timestamp());
    let mut corrections: HashMap<String, Vec<Correction>> = HashMap::new();
    for row in state.db.org_corrections(org_id, from, to).await? {
        let correction = row.correction()?;
        corrections.entry(row.user_id).or_default().push(correction);
    }
    let mut manual: HashMap<String, Vec<ManualEntry>> = HashMap::new();
    for row in state.db.org_manual_entries(org_id, from, to).await? {
        let entry = row.entry()?;
        manual.entry(row.user_id).or_default().push(entry);
    }
    // Kept days get their manual time as it is (their intervals are gone).
    for (user, (report, _)) in &mut computed {
        timesheet::add_manual(report, manual.get(user).map_or(&[], Vec::as_slice));
    }
    let zones = std::sync::Arc::new(DeviceZones::from_rows(
        &state.db.devices(org_id, None).await?,
    ));
    let people: Vec<(i64, String)> = state
        .db
        .org_people(org_id)
        .await?
        .into_iter()
        .filter(|(_, user)| !computed.contains_key(user) && is_wanted(user))
        .collect();
    for part in people.chunks(PEOPLE_A_READ) {
        let range = PersonRange {
            first: part.first().map_or(0, |p| p.0),
            last: part.last().map_or(0, |p| p.0),
        };
        let ids: HashSet<&str> = part.iter().map(|(_, user)| user.as_str()).collect();
        let (rows, names) = state.db.org_intervals(org_id, range, from, to).await?;
        let mut by_user: HashMap<String, Vec<StoredInterval>> = HashMap::new();
        for row in rows {
            // The range may hold people computed already or not wanted.
            if ids.contains(row.user_id.as_str()) {
                by_user.entry(row.user_id.clone()).or_default().push(row);
            }
        }
        // People with manual time but no interval that day get a day too, in the offset their
        // own day would be taken in (their latest interval before it).
        let mut offsets: HashMap<String, i32> = HashMap::new();
        for (_, user) in part {
            if manual.contains_key(user) && !by_user.contains_key(user) {
                offsets.insert(user.clone(), offset_for(state, user, date).await?);
                by_user.insert(user.clone(), Vec::new());
            }
        }
        let people: Vec<Person> = by_user
            .into_iter()
            .map(|(user, bodies)| {
                let c = corrections.remove(&user).unwrap_or_default();
                let m = manual.remove(&user).unwrap_or_default();
                let o = offsets.remove(&user);
                (user, bodies, c, m, o)
            })
            .collect();
        let context = DayContext {
            date,
            classifier: std::sync::Arc::clone(&classifier),
            thresholds: *thresholds,
            zones: std::sync::Arc::clone(&zones),
            names: std::sync::Arc::new(names),
        };
        computed.extend(days_on_all_cores(people, &context).await?);
    }
    Ok(computed)
}

/// What every person's day of one date is computed with.
struct DayContext {
    date: NaiveDate,
    classifier: std::sync::Arc<Classifier>,
    thresholds: Thresholds,
    zones: std::sync::Arc<DeviceZones>,
    names: std::sync::Arc<crate::db::packed::WindowNames>,
}

/// Decoding the day's intervals is much of the work (500 people: about 240,000 of them):
/// `people` are split over the cores, each part decoded and computed on its own blocking
/// thread.
async fn days_on_all_cores(
    mut people: Vec<Person>,
    context: &DayContext,
) -> Result<Vec<(String, DayWithUsage)>, ReportError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = people.len().div_ceil(cores).max(1);
    let mut parts = Vec::new();
    while !people.is_empty() {
        let part: Vec<_> = people.drain(..chunk.min(people.len())).collect();
        let classifier = std::sync::Arc::clone(&context.classifier);
        let zones = std::sync::Arc::clone(&context.zones);
        let names = std::sync::Arc::clone(&context.names);
        let (thresholds, date) = (context.thresholds, context.date);
        parts.push(tokio::task::spawn_blocking(
            move || -> Result<Vec<(String, DayWithUsage)>, ReportError> {
                part.into_iter()
                    .map(|(user, bodies, corrections, manual, offset)| {
                        let intervals = bodies
                            .iter()
                            .map(|b| b.decode(&names))
                            .collect::<Result<Vec<_>, _>>()
                            .map_err(|e| ReportError::Unreadable(format!("an interval: {e}")))?;
                        let intervals = timesheet::apply(intervals, &corrections);
                        // The offset the day is said to be in when none of its intervals says
                        // it (each is cut in its own).
                        let offset = offset.unwrap_or(0);
                        let (mut day, usage) = assessed_day(
                            &intervals,
                            date,
                            offset,
                            &classifier,
                            &thresholds,
                            &zones,
                        );
                        timesheet::add_manual(&mut day, &timesheet::uncovered(&manual, &intervals));
                        Ok((user, (day, usage)))
                    })
                    .collect()
            },
        ));
    }
    let mut days = Vec::new();
    for part in parts {
        days.extend(
            part.await
                .map_err(|e| ReportError::Worker(e.to_string()))??,
        );
    }
    Ok(days)
}

/// One person's line of the team's day, as it is kept beside their timesheet line once the day
/// is settled (migration 0022): what [`TeamMember`] shows but the productive split, and the
/// time per (app, host) pair that today's rules split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamLine {
    /// What the unusual-activity flags were assessed under: the organization's thresholds and
    /// the zones the person's devices report, hashed ([`team_stamp`]). A kept line whose stamp
    /// is not today's is computed again.
    pub stamp: String,
    pub utc_offset_minutes: i32,
    pub tracked_secs: u64,
    pub active_secs: u64,
    pub idle_secs: u64,
    pub passive_secs: u64,
    pub manual_secs: u64,
    pub activity_pct: u32,
    pub first_activity: Option<DateTime<Utc>>,
    pub last_activity: Option<DateTime<Utc>>,
    pub devices: Vec<metron_core::report::DeviceUsage>,
    pub unusual: Vec<FlagKind>,
    pub injected_pct: Option<u32>,
    pub usage: Vec<WindowUsage>,
}

impl TeamLine {
    /// The line of a person's day (manual time added), its usage, and what it was assessed
    /// under.
    pub fn of(report: DailyReport, usage: Vec<WindowUsage>, stamp: String) -> TeamLine {
        TeamLine {
            stamp,
            utc_offset_minutes: report.utc_offset_minutes,
            tracked_secs: report.tracked_secs,
            active_secs: report.active_secs,
            idle_secs: report.idle_secs,
            passive_secs: report.passive_secs,
            manual_secs: report.manual_secs,
            activity_pct: report.activity_pct,
            first_activity: report.first_activity,
            last_activity: report.last_activity,
            devices: report.devices,
            unusual: report
                .unusual
                .as_ref()
                .map_or_else(Vec::new, |u| u.flags.iter().map(|f| f.kind).collect()),
            injected_pct: report.unusual.and_then(|u| u.injected_pct),
            usage,
        }
    }

    /// The line of a running day (`running_days`): no manual time (a day with some is
    /// computed whole) and no stamp (it is not kept).
    pub fn running(figures: metron_core::report::running::TeamFigures) -> TeamLine {
        TeamLine {
            stamp: String::new(),
            utc_offset_minutes: figures.utc_offset_minutes.unwrap_or(0),
            tracked_secs: figures.tracked_secs,
            active_secs: figures.active_secs,
            idle_secs: figures.idle_secs,
            passive_secs: figures.passive_secs,
            manual_secs: 0,
            activity_pct: figures.activity_pct,
            first_activity: figures.first_activity,
            last_activity: figures.last_activity,
            devices: figures.devices,
            unusual: figures.unusual,
            injected_pct: figures.injected_pct,
            usage: figures.usage,
        }
    }

    /// The person's line as the team's day shows it, split under `classifier`.
    fn member(self, user: User, classifier: &Classifier) -> TeamMember {
        let (productive_secs, unproductive_secs, neutral_secs) =
            report::class_split(&self.usage, self.tracked_secs, classifier);
        TeamMember {
            user,
            utc_offset_minutes: self.utc_offset_minutes,
            tracked_secs: self.tracked_secs,
            active_secs: self.active_secs,
            idle_secs: self.idle_secs,
            passive_secs: self.passive_secs,
            manual_secs: self.manual_secs,
            activity_pct: self.activity_pct,
            productive_secs,
            unproductive_secs,
            neutral_secs,
            first_activity: self.first_activity,
            last_activity: self.last_activity,
            devices: self.devices,
            unusual: self.unusual,
            injected_pct: self.injected_pct,
        }
    }
}

/// What `person`'s flags are assessed under: the organization's `thresholds` and the zones
/// their devices report, as 16 hex digits of SHA-256.
pub fn team_stamp(thresholds: &Thresholds, zones: &DeviceZones, person: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(serde_json::to_vec(thresholds).expect("thresholds serialize"));
    hash.update(b"|");
    hash.update(zones.of_person(person).as_bytes());
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Everyone's day: a settled date from the kept team lines (the people without one computed
/// and kept), a later one from the running days (`running_days`); zeros for the people who
/// had no time.
pub async fn team_report(
    state: &AppState,
    org_id: &str,
    date: NaiveDate,
) -> Result<TeamReport, ReportError> {
    let classifier = std::sync::Arc::new(classifier(state, org_id).await?);
    let users = state.db.org_users(org_id).await?;
    let today = Utc::now().date_naive();
    let mut lines: HashMap<String, TeamLine> = if crate::kept_days::settled(date, today) {
        crate::kept_days::team_lines(state, org_id, date, std::sync::Arc::clone(&classifier))
            .await?
    } else {
        crate::running_days::team_lines(state, org_id, date, std::sync::Arc::clone(&classifier))
            .await?
    };
    let mut members = Vec::with_capacity(users.len());
    for user in users {
        // Nothing that day: zeros.
        let line = lines.remove(&user.id).unwrap_or_else(|| {
            TeamLine::of(
                report::daily_report(&[], date, 0, &classifier),
                Vec::new(),
                String::new(),
            )
        });
        members.push(line.member(user, &classifier));
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
