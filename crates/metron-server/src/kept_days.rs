//! Kept days (migrations 0008 and 0022): each person's settled days computed once and kept,
//! their timesheet line and their line of the team's day, so a team's month timesheet and the
//! team's day of a settled date are read instead of computed again from millions of
//! intervals. Triggers forget a person's kept days when their time changes; a computation
//! keeps what it made only if the person's version is still the one it read before the data
//! (`db::timesheets`). The hourly maintenance task computes the last five weeks ahead
//! ([`settle`]), a manager's first look does the rest.

use chrono::{DateTime, Days, NaiveDate, Utc};
use metron_core::report::{Classifier, Thresholds};
use metron_core::timesheet::SheetDay;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crate::db::kept_line;
use crate::db::timesheets::KeptLine;
use crate::reports::{self, team_stamp, ReportError, TeamLine};
use crate::zones::DeviceZones;
use crate::AppState;

/// Whether `date` is over in every offset (UTC+14 to UTC-12) by `today`, so its lines may be
/// kept: later changes still forget them (migration 0008).
pub fn settled(date: NaiveDate, today: NaiveDate) -> bool {
    date.checked_add_days(Days::new(2))
        .is_some_and(|d| d <= today)
}

/// Everything one organization's days are computed under, read once when something is
/// computed: the rules, the unusual-activity thresholds and the devices' zones (the stamps of
/// team lines).
struct Rules {
    classifier: Arc<Classifier>,
    thresholds: Thresholds,
    zones: DeviceZones,
}

impl Rules {
    /// The organization's rules; the zones of `people`'s devices when there is one person, of
    /// everyone's otherwise.
    async fn read(
        state: &AppState,
        org_id: &str,
        people: &[String],
        classifier: Option<Arc<Classifier>>,
    ) -> Result<Rules, ReportError> {
        let classifier = match classifier {
            Some(c) => c,
            None => Arc::new(reports::classifier(state, org_id).await?),
        };
        let one = (people.len() == 1).then(|| people[0].as_str());
        Ok(Rules {
            classifier,
            thresholds: state.db.unusual_thresholds(org_id).await?,
            zones: DeviceZones::from_rows(&state.db.devices(org_id, one).await?),
        })
    }
}

/// The people's versions before their data is read: a change after this read makes keeping a
/// no-op.
async fn versions_of(
    state: &AppState,
    org_id: &str,
    people: &[String],
) -> Result<HashMap<String, i64>, ReportError> {
    Ok(if people.len() == 1 {
        let version = state.db.time_version(&people[0]).await?;
        version
            .map(|v| (people[0].clone(), v))
            .into_iter()
            .collect()
    } else {
        state
            .db
            .org_time_versions(org_id)
            .await?
            .into_iter()
            .collect()
    })
}

/// The days of `missing` people on `date`, computed as the day report computes them, each as
/// its timesheet line and its team line. A date many people lack is computed for the
/// organization at once ([`reports::org_days_with_usage`], a few hundred people a read); a date
/// a few lack, person by person. `everyone` is how many people the organization has.
async fn compute(
    state: &AppState,
    org_id: &str,
    missing: &[&String],
    everyone: usize,
    date: NaiveDate,
    rules: &Rules,
) -> Result<HashMap<String, (SheetDay, TeamLine)>, ReportError> {
    // The organization's day costs about what a quarter of its people's days do one by one.
    let org_wide = missing.len() > 1 && missing.len() * 4 > everyone;
    let mut computed = if org_wide {
        let wanted: HashSet<String> = missing.iter().map(|p| (*p).clone()).collect();
        reports::org_days_with_usage(
            state,
            org_id,
            date,
            Arc::clone(&rules.classifier),
            &rules.thresholds,
            Some(&wanted),
        )
        .await?
    } else {
        let mut one_by_one = HashMap::new();
        for person in missing {
            let (day, usage, _) = reports::user_day_with_usage(
                state,
                org_id,
                person,
                date,
                None,
                &rules.classifier,
                &rules.thresholds,
            )
            .await?;
            one_by_one.insert((*person).clone(), (day, usage));
        }
        one_by_one
    };
    Ok(missing
        .iter()
        .map(|person| {
            let (day, usage) = computed.remove(*person).unwrap_or_else(|| {
                (
                    metron_core::report::daily_report(&[], date, 0, &rules.classifier),
                    Vec::new(),
                )
            });
            let line = SheetDay::from_report(&day);
            let stamp = team_stamp(&rules.thresholds, &rules.zones, person);
            ((*person).clone(), (line, TeamLine::of(day, usage, stamp)))
        })
        .collect())
}

/// Computed days to keep, by person: each person's are kept in one transaction.
#[derive(Default)]
struct Fresh(HashMap<String, Vec<KeptLine>>);

impl Fresh {
    /// Notes `person`'s computed day to keep if it may be kept: once settled, and a day with no
    /// time only inside the retention horizon (reading empty years must not leave a line a day
    /// behind; a line with time is bounded by the time it adds up).
    fn note(&mut self, state: &AppState, person: &str, line: &SheetDay, team: &TeamLine) {
        let today = Utc::now().date_naive();
        let horizon = today
            .checked_sub_days(Days::new(u64::from(state.retention_days)))
            .unwrap_or(today);
        let worth_keeping = line.figures.total_secs > 0 || line.date >= horizon;
        if settled(line.date, today) && worth_keeping {
            self.0
                .entry(person.to_string())
                .or_default()
                .push(KeptLine {
                    day: line.date.to_string(),
                    body: kept_line::pack(line),
                    team: Some(serde_json::to_string(team).expect("team lines serialize")),
                });
        }
    }

    /// Keeps the noted days of each person whose version is still the one in `versions`.
    /// Keeping is only a saving: a failure is logged and the figures stand.
    async fn keep(self, state: &AppState, versions: &HashMap<String, i64>) {
        for (person, lines) in self.0 {
            let Some(&version) = versions.get(&person) else {
                continue;
            };
            if let Err(e) = state.db.keep_timesheet_days(&person, version, &lines).await {
                tracing::warn!("timesheet days of {person} not kept: {e}");
            }
        }
    }
}

/// The timesheet lines of `people` (of organization `org_id`) on `dates`: kept lines where
/// they are kept; the rest computed ([`compute`]), and kept when settled (and the person's
/// version is known: everyone has one from their first day).
pub async fn sheet_days(
    state: &AppState,
    org_id: &str,
    people: &[String],
    dates: &[NaiveDate],
) -> Result<HashMap<String, Vec<SheetDay>>, ReportError> {
    let (Some(first), Some(last)) = (dates.first(), dates.last()) else {
        return Ok(HashMap::new());
    };
    let versions = versions_of(state, org_id, people).await?;
    let mut kept: HashMap<String, BTreeMap<NaiveDate, SheetDay>> = HashMap::new();
    let rows = if people.len() == 1 {
        state
            .db
            .timesheet_days(&people[0], &first.to_string(), &last.to_string())
            .await?
            .into_iter()
            .map(|(day, body)| (people[0].clone(), day, body))
            .collect()
    } else {
        state
            .db
            .org_timesheet_days(org_id, &first.to_string(), &last.to_string())
            .await?
    };
    for (user, day, body) in rows {
        // A line that doesn't read (a newer server's?) is computed again instead.
        let line = kept_line::day_of(&day).and_then(|date| kept_line::unpack(date, &body));
        if let Some(line) = line {
            kept.entry(user).or_default().insert(line.date, line);
        }
    }
    // A day that hasn't begun anywhere holds no time (nothing is accepted from the future):
    // the rest of the current month costs nothing, and a timesheet shows a day with no line
    // as zeros.
    let today = Utc::now().date_naive();
    let begun: Vec<NaiveDate> = dates
        .iter()
        .copied()
        .filter(|&date| date <= today.succ_opt().unwrap_or(today))
        .collect();
    // Who lacks which date, each person looked up once (a month of 10,000 people is 310,000
    // lines).
    let mut missing: BTreeMap<NaiveDate, Vec<&String>> = BTreeMap::new();
    for person in people {
        let held = kept.get(person);
        for &date in &begun {
            if !held.is_some_and(|days| days.contains_key(&date)) {
                missing.entry(date).or_default().push(person);
            }
        }
    }
    let mut fresh = Fresh::default();
    let mut rules = None;
    for (date, missing) in missing {
        // The rules are read once, and only if something is computed.
        if rules.is_none() {
            rules = Some(Rules::read(state, org_id, people, None).await?);
        }
        let rules = rules.as_ref().expect("read above");
        for (person, (line, team)) in
            compute(state, org_id, &missing, versions.len(), date, rules).await?
        {
            fresh.note(state, &person, &line, &team);
            kept.entry(person).or_default().insert(date, line);
        }
    }
    fresh.keep(state, &versions).await;
    Ok(kept
        .into_iter()
        .map(|(person, days)| (person, days.into_values().collect()))
        .collect())
}

/// Everyone's line of the team's day of a settled `date`: kept lines whose stamp is today's;
/// the rest computed ([`compute`]) and kept. People with nothing that day and no kept line are
/// left out (the team's day shows them as zeros).
pub async fn team_lines(
    state: &AppState,
    org_id: &str,
    date: NaiveDate,
    classifier: Arc<Classifier>,
) -> Result<HashMap<String, TeamLine>, ReportError> {
    let people: Vec<String> = state
        .db
        .org_people(org_id)
        .await?
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    let versions = versions_of(state, org_id, &people).await?;
    let rules = Rules::read(state, org_id, &people, Some(classifier)).await?;
    let mut lines: HashMap<String, TeamLine> = HashMap::new();
    for (user, team) in state.db.org_team_days(org_id, &date.to_string()).await? {
        // A line that doesn't read (kept before 0022, a newer server's?) or was assessed under
        // other thresholds or zones is computed again.
        let Some(line) = team.and_then(|t| serde_json::from_str::<TeamLine>(&t).ok()) else {
            continue;
        };
        if line.stamp == team_stamp(&rules.thresholds, &rules.zones, &user) {
            lines.insert(user, line);
        }
    }
    let missing: Vec<&String> = people.iter().filter(|p| !lines.contains_key(*p)).collect();
    if missing.is_empty() {
        return Ok(lines);
    }
    let mut fresh = Fresh::default();
    for (person, (line, team)) in
        compute(state, org_id, &missing, versions.len(), date, &rules).await?
    {
        fresh.note(state, &person, &line, &team);
        lines.insert(person, team);
    }
    fresh.keep(state, &versions).await;
    Ok(lines)
}

/// Computes and keeps the settled days of the last five weeks that are not kept, for every
/// organization: a manager's team timesheet and team's day then read them instead of
/// computing them. Run by the hourly maintenance task beside retention. A week at a time: it
/// holds a week of the organization's lines and one date of a few hundred people's intervals
/// ([`reports::org_days_with_usage`]), whatever the organization's size, and what a run
/// computed is kept week by week, not lost if it stops.
pub async fn settle(state: &AppState, now: DateTime<Utc>) -> Result<usize, ReportError> {
    let today = now.date_naive();
    let dates: Vec<NaiveDate> = (2..=36)
        .rev()
        .filter_map(|back| today.checked_sub_days(Days::new(back)))
        .collect();
    let mut lines = 0;
    for org_id in state.db.organization_ids().await? {
        let people: Vec<String> = state
            .db
            .org_users(&org_id)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        for week in dates.chunks(7) {
            lines += sheet_days(state, &org_id, &people, week)
                .await?
                .values()
                .map(Vec::len)
                .sum::<usize>();
        }
    }
    Ok(lines)
}
