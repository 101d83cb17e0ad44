//! The team's day of a date not settled (yesterday, today) from running days (issue 30): each
//! person's day is added up once ([`RunningDay`]) and kept in memory, and a read adds only the
//! intervals stored since the last read of that organization and date, where computing the
//! day from its intervals took seconds at 10,000 people (docs/DECISIONS.md "Running days").
//!
//! What keeps the figures exact:
//! - Each read takes the database's mark of what is stored ([`Database::received_mark`])
//!   before it reads, and the next read asks for what came after; a mark may reach back
//!   (PostgreSQL's reaches back five minutes for transactions still open and instances'
//!   clocks), and an interval read again is not added twice (a person's stored intervals never
//!   overlap: their start names them).
//! - A person's day is added up again from their intervals when their version of their time
//!   (migration 0008: a late interval of a day before today, a correction, manual time) is not
//!   the one it was added up under.
//! - The day of a person with approved corrections or manual time in it is computed whole, as
//!   the day report computes it: a correction changes intervals already added, and manual
//!   time counts only where no interval is.
//! - The thresholds, the devices' zones and the rules are applied when read, never kept.
//!
//! A date once settled is read from kept lines (`kept_days`); its running days are dropped,
//! as are those unread for [`UNREAD_FOR`], and an organization's when someone in it is erased.
//! Memory is bounded by the organizations read: about 12 KB a person and date (the minutes of
//! their day, the windows' names; 118 MB for 10,000 people's today, docs/PERFORMANCE.md).
//!
//! [`Database::received_mark`]: crate::db::Database::received_mark

use chrono::{NaiveDate, Utc};
use metron_core::report::running::RunningDay;
use metron_core::report::{widest_day_bounds, Classifier};
use metron_core::Interval;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db::packed::{days_of, PersonRange, StoredInterval, WindowNames};
use crate::reports::{self, ReportError, TeamLine};
use crate::zones::DeviceZones;
use crate::AppState;

/// An organization's running days of a date are dropped when no one read them for this long.
pub const UNREAD_FOR: Duration = Duration::from_secs(2 * 3600);
/// How often the running days held are brought up to date between reads ([`spawn`]).
pub const KEPT_CURRENT_EVERY: Duration = Duration::from_secs(60);

/// The running days of every organization and date read, each behind a lock of its own: two
/// managers reading one team's day wait for one refresh; other organizations don't.
#[derive(Default)]
pub struct RunningDays(Mutex<HashMap<(String, NaiveDate), Held>>);

/// One organization's date, locked while a read brings it up to date.
type Held = Arc<tokio::sync::Mutex<OrgDate>>;

/// Whether the running days of `date` are kept: not settled by `today`, and read within
/// [`UNREAD_FOR`] (or being read now: its lock is taken).
fn keep(date: NaiveDate, held: &Held, today: NaiveDate) -> bool {
    let unread = held
        .try_lock()
        .is_ok_and(|h| h.read_at.is_some_and(|at| at.elapsed() > UNREAD_FOR));
    !crate::kept_days::settled(date, today) && !unread
}

/// One organization's running days of one date.
#[derive(Default)]
struct OrgDate {
    /// Each person's day, with the version of their time it was added up under.
    people: HashMap<String, (i64, RunningDay)>,
    /// The names of the windows of the intervals added, by person and key.
    names: WindowNames,
    /// The database's mark when the last read began; `None` before the first.
    mark: Option<i64>,
    read_at: Option<Instant>,
}

impl RunningDays {
    /// The running days of `org_id` on `date`, made empty the first time; drops those of dates
    /// settled by `today` and those unread for [`UNREAD_FOR`].
    fn of(&self, org_id: &str, date: NaiveDate, today: NaiveDate) -> Held {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|(_, d), held| {
            // One being read now is kept (its lock is taken).
            let unread = held
                .try_lock()
                .is_ok_and(|h| h.read_at.is_some_and(|at| at.elapsed() > UNREAD_FOR));
            !crate::kept_days::settled(*d, today) && !unread
        });
        Arc::clone(all.entry((org_id.to_string(), date)).or_default())
    }

    /// The organizations' dates held (those settled by `today` or unread for [`UNREAD_FOR`]
    /// dropped first).
    fn held(&self, today: NaiveDate) -> Vec<((String, NaiveDate), Held)> {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|(_, d), held| keep(*d, held, today));
        all.iter()
            .map(|(key, held)| (key.clone(), Arc::clone(held)))
            .collect()
    }

    /// Forgets the running days of `org_id`: someone in it was erased (their intervals went,
    /// and SQLite may give their row ids again).
    pub fn forget(&self, org_id: &str) {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|(org, _), _| org != org_id);
    }

    /// How many organizations' dates are held.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Everyone's line of the team's day of `date`, a date not settled: from the running days,
/// brought up to what is stored now; the days of people with corrections or manual time
/// computed whole. People with nothing that day are left out (the team's day shows zeros).
pub async fn team_lines(
    state: &AppState,
    org_id: &str,
    date: NaiveDate,
    classifier: Arc<Classifier>,
) -> Result<HashMap<String, TeamLine>, ReportError> {
    let (earliest, latest) = widest_day_bounds(date).ok_or(ReportError::DateOutOfRange)?;
    let (from, to) = (earliest.timestamp(), latest.timestamp());
    let today = Utc::now().date_naive();
    let held = state.running.of(org_id, date, today);
    let mut held = held.lock().await;
    let people = state.db.org_people(org_id).await?;
    up_to_date(state, &mut held, org_id, date, &people).await?;
    held.read_at = Some(Instant::now());

    // Corrections and manual time change what was added: those days are computed whole.
    let mut whole: HashSet<String> = HashSet::new();
    for row in state.db.org_corrections(org_id, from, to).await? {
        whole.insert(row.user_id);
    }
    for row in state.db.org_manual_entries(org_id, from, to).await? {
        whole.insert(row.user_id);
    }
    let thresholds = state.db.unusual_thresholds(org_id).await?;
    let zones = DeviceZones::from_rows(&state.db.devices(org_id, None).await?);
    let mut lines: HashMap<String, TeamLine> = held
        .people
        .iter()
        .filter(|(person, (_, day))| !day.is_empty() && !whole.contains(*person))
        .map(|(person, (_, day))| {
            let figures = day.figures(&thresholds, |device, at| zones.expected_at(device, at));
            (person.clone(), TeamLine::running(figures))
        })
        .collect();
    drop(held);
    if whole.len() * 4 > people.len() {
        // Many: the organization's day at once, as the team's day was computed.
        let computed = reports::org_days_with_usage(
            state,
            org_id,
            date,
            classifier,
            &thresholds,
            Some(&whole),
        )
        .await?;
        for (person, (day, usage)) in computed {
            lines.insert(person, TeamLine::of(day, usage, String::new()));
        }
    } else {
        for person in &whole {
            let (day, usage, _) = reports::user_day_with_usage(
                state,
                org_id,
                person,
                date,
                None,
                &classifier,
                &thresholds,
            )
            .await?;
            lines.insert(person.clone(), TeamLine::of(day, usage, String::new()));
        }
    }
    Ok(lines)
}

/// Brings `held`, the running days of `org_id` on `date`, up to what is stored now. A failure
/// part way (a lost connection) leaves days half brought up to date, or people taken out to
/// be added up again and not yet back: the date is then forgotten, and read whole next time.
async fn up_to_date(
    state: &AppState,
    held: &mut OrgDate,
    org_id: &str,
    date: NaiveDate,
    people: &[(i64, String)],
) -> Result<(), ReportError> {
    let done = bring_up_to_date(state, held, org_id, date, people).await;
    if done.is_err() {
        *held = OrgDate {
            read_at: held.read_at,
            ..OrgDate::default()
        };
    }
    done
}

async fn bring_up_to_date(
    state: &AppState,
    held: &mut OrgDate,
    org_id: &str,
    date: NaiveDate,
    people: &[(i64, String)],
) -> Result<(), ReportError> {
    let (earliest, latest) = widest_day_bounds(date).ok_or(ReportError::DateOutOfRange)?;
    let (from, to) = (earliest.timestamp(), latest.timestamp());
    // The versions and the mark before the intervals: what changes after is seen next time.
    let versions: HashMap<String, i64> = state
        .db
        .org_time_versions(org_id)
        .await?
        .into_iter()
        .collect();
    let mark = state.db.received_mark().await?;
    let stale: Vec<String> = held
        .people
        .iter()
        .filter(|(person, (version, _))| versions.get(*person) != Some(version))
        .map(|(person, _)| person.clone())
        .collect();
    match held.mark {
        // A quarter of the people changed (after midnight UTC, every late interval of the day
        // before): reading the date again costs less than one by one. A mark behind the last
        // one (a clock set back; SQLite's largest rows deleted) is read again too.
        Some(since) if since <= mark && stale.len() * 4 <= people.len().max(1) => {
            for person in &stale {
                held.people.remove(person);
            }
            refresh(
                state,
                held,
                org_id,
                (from, to),
                date,
                since,
                &stale,
                &versions,
            )
            .await?;
        }
        _ => {
            *held = OrgDate {
                read_at: held.read_at,
                ..OrgDate::default()
            };
            first_read(state, held, org_id, people, (from, to), date, &versions).await?;
        }
    }
    held.mark = Some(mark);
    Ok(())
}

/// Every minute, until the process ends, brings the running days held up to what is stored
/// ([`keep_current`]).
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(KEPT_CURRENT_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            keep_current(&state).await;
        }
    })
}

/// Brings the running days held up to what is stored, so a manager's next read adds a minute
/// of intervals rather than all those since the last read. Failures are logged: the next
/// read brings its date up to date itself.
pub async fn keep_current(state: &AppState) {
    let today = Utc::now().date_naive();
    for ((org_id, date), held) in state.running.held(today) {
        // One being read is brought up to date by its reader.
        let Ok(mut held) = held.try_lock() else {
            continue;
        };
        let people = match state.db.org_people(&org_id).await {
            Ok(people) => people,
            Err(e) => {
                tracing::warn!("running days of {org_id} not brought up to date: {e}");
                continue;
            }
        };
        if let Err(e) = up_to_date(state, &mut held, &org_id, date, &people).await {
            tracing::warn!("running days of {org_id} on {date} not brought up to date: {e}");
        }
    }
}

/// The first read of a date: everyone's intervals, a few hundred people at a time, each
/// person's day added up on all cores.
async fn first_read(
    state: &AppState,
    held: &mut OrgDate,
    org_id: &str,
    people: &[(i64, String)],
    (from, to): (i64, i64),
    date: NaiveDate,
    versions: &HashMap<String, i64>,
) -> Result<(), ReportError> {
    // A few hundred people at a time, as the team's day computed whole reads them.
    for part in people.chunks(reports::PEOPLE_A_READ) {
        let range = PersonRange {
            first: part.first().map_or(0, |p| p.0),
            last: part.last().map_or(0, |p| p.0),
        };
        let (rows, names) = state.db.org_intervals(org_id, range, from, to).await?;
        let names = Arc::new(names);
        let days = add_on_all_cores(rows, &names, date).await?;
        for (person, day) in days {
            let version = versions.get(&person).copied().unwrap_or_default();
            held.people.insert(person, (version, day));
        }
        held.names
            .extend(Arc::try_unwrap(names).unwrap_or_else(|n| (*n).clone()));
    }
    Ok(())
}

/// A later read: the people whose time changed added up again from their intervals, then the
/// intervals stored since `since` added to their people's days.
#[allow(clippy::too_many_arguments)]
async fn refresh(
    state: &AppState,
    held: &mut OrgDate,
    org_id: &str,
    (from, to): (i64, i64),
    date: NaiveDate,
    since: i64,
    stale: &[String],
    versions: &HashMap<String, i64>,
) -> Result<(), ReportError> {
    let version = |person: &str| versions.get(person).copied().unwrap_or_default();
    let add = |held: &mut OrgDate, person: &str, interval: &Interval| {
        let (_, day) = held.people.entry(person.to_string()).or_insert_with(|| {
            let day = RunningDay::new(date).expect("the date's bounds were found above");
            (version(person), day)
        });
        day.add(interval);
    };
    for person in stale {
        let intervals = state.db.intervals(person, from, to).await?;
        held.people.insert(
            person.clone(),
            (version(person), added_up(&intervals, date)?),
        );
    }
    let rows: Vec<StoredInterval> = state
        .db
        .org_intervals_since(org_id, from, to, since)
        .await?
        .into_iter()
        .filter(|row| {
            !held
                .people
                .get(&row.user_id)
                .is_some_and(|(_, day)| day.holds(row.started_at))
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    // A row whose windows' names were not read yet waits for one read of its people's names.
    let mut unnamed = Vec::new();
    for row in rows {
        match row.decode(&held.names) {
            Ok(interval) => add(held, &row.user_id, &interval),
            Err(_) => unnamed.push(row),
        }
    }
    if unnamed.is_empty() {
        return Ok(());
    }
    let newcomers: Vec<String> = unnamed
        .iter()
        .map(|row| row.user_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let (first, last) = days_of(from, to);
    held.names.extend(
        state
            .db
            .people_window_names(&newcomers, first, last)
            .await?,
    );
    for row in unnamed {
        let interval = row
            .decode(&held.names)
            .map_err(|e| ReportError::Unreadable(format!("an interval: {e}")))?;
        add(held, &row.user_id, &interval);
    }
    Ok(())
}

/// A person's day added up from their intervals.
fn added_up(intervals: &[Interval], date: NaiveDate) -> Result<RunningDay, ReportError> {
    let mut day = RunningDay::new(date).ok_or(ReportError::DateOutOfRange)?;
    for interval in intervals {
        day.add(interval);
    }
    Ok(day)
}

/// Each person's day of `rows`, decoded and added up on all cores (decoding is most of it).
async fn add_on_all_cores(
    rows: Vec<StoredInterval>,
    names: &Arc<WindowNames>,
    date: NaiveDate,
) -> Result<Vec<(String, RunningDay)>, ReportError> {
    let mut by_person: HashMap<String, Vec<StoredInterval>> = HashMap::new();
    for row in rows {
        by_person.entry(row.user_id.clone()).or_default().push(row);
    }
    let mut people: Vec<(String, Vec<StoredInterval>)> = by_person.into_iter().collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = people.len().div_ceil(cores).max(1);
    let mut parts = Vec::new();
    while !people.is_empty() {
        let part: Vec<_> = people.drain(..chunk.min(people.len())).collect();
        let names = Arc::clone(names);
        parts.push(tokio::task::spawn_blocking(
            move || -> Result<Vec<(String, RunningDay)>, ReportError> {
                part.into_iter()
                    .map(|(person, rows)| {
                        let mut day = RunningDay::new(date).ok_or(ReportError::DateOutOfRange)?;
                        for row in &rows {
                            let interval = row.decode(&names).map_err(|e| {
                                ReportError::Unreadable(format!("an interval: {e}"))
                            })?;
                            day.add(&interval);
                        }
                        Ok((person, day))
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
