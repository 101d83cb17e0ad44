//! Timesheets and corrections on the server (issue 16): who reviews whose time, the audit
//! record each change writes, the locks of submitted and approved periods, and a person's
//! week or month. The arithmetic is `metron_core::timesheet`'s; the routes that use this are
//! in `routes/manual.rs`, `routes/corrections.rs` and `routes/timesheets.rs`.

use chrono::{DateTime, Days, NaiveDate, Utc};
use metron_core::timesheet::{self, Figures, Period, PeriodKind, TaskFigures, Timesheet};
use metron_core::wire::User;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

use crate::db::timesheets::{AuditRow, PeriodRow};
use crate::db::{DbError, UserRow};
use crate::reports::{names_of, offset_for, ReportError};
use crate::AppState;

/// The longest span one list request reads (entries, corrections, the audit trail).
pub const MAX_RANGE_DAYS: i64 = 366;

/// What the rules of whose time is whose refuse, and why (the API answers 403, 404 and 409).
#[derive(Debug, thiserror::Error)]
pub enum TimesheetError {
    /// The caller may not read or change this person's time.
    #[error("only an admin or the person's manager can read or change another person's time")]
    NotTheirReviewer,
    /// No such person in the caller's organization (another organization's is the same).
    #[error("no user {0} in your organization")]
    NoSuchUser(String),
    /// The time lies in a submitted or approved week or month.
    #[error("the {kind} of {start} is {state}: ask an admin or your manager to unlock it first")]
    Locked {
        kind: String,
        start: String,
        state: String,
    },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// Whether `reviewer` may decide on `subject`'s time: an admin of the organization, or the
/// manager an admin made them; never on their own time.
pub async fn reviews(
    state: &AppState,
    reviewer: &UserRow,
    subject: &UserRow,
) -> Result<bool, DbError> {
    if reviewer.org_id != subject.org_id || reviewer.user.id == subject.user.id {
        return Ok(false);
    }
    if reviewer.user.admin {
        return Ok(true);
    }
    Ok(state
        .db
        .managed(&reviewer.user.id)
        .await?
        .contains(&subject.user.id))
}

/// Whose time `caller` asks about: their own by default, else someone of their organization
/// they review (refused otherwise; another organization's user is "not found", so ids can't be
/// probed).
pub async fn subject(
    state: &AppState,
    caller: &UserRow,
    user_id: Option<&str>,
) -> Result<UserRow, TimesheetError> {
    let Some(id) = user_id.filter(|id| *id != caller.user.id) else {
        return Ok(caller.clone());
    };
    // Someone who reviews nobody is refused before any lookup, as before managers existed.
    if !caller.user.admin && state.db.managed(&caller.user.id).await?.is_empty() {
        return Err(TimesheetError::NotTheirReviewer);
    }
    let who = match state.db.user_by_id(id).await? {
        Some(row) if row.org_id == caller.org_id => row,
        _ => return Err(TimesheetError::NoSuchUser(id.into())),
    };
    if !reviews(state, caller, &who).await? {
        return Err(TimesheetError::NotTheirReviewer);
    }
    Ok(who)
}

/// An audit record of `actor` changing `subject`'s time, now.
pub fn audit(
    actor: &UserRow,
    subject: &UserRow,
    action: &str,
    subject_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    reason: &str,
) -> AuditRow {
    AuditRow {
        id: uuid::Uuid::now_v7().to_string(),
        org_id: subject.org_id.clone(),
        user_id: subject.user.id.clone(),
        actor_id: actor.user.id.clone(),
        at: Utc::now().timestamp(),
        action: action.into(),
        subject_id: subject_id.into(),
        before: before.map(|v| v.to_string()),
        after: after.map(|v| v.to_string()),
        reason: reason.into(),
    }
}

/// An audit record of a change to the organization itself (its settings, rules, thresholds,
/// announcement), now: about no one person, so `user_id` is empty; by `actor`, or by the
/// server's command line (empty `actor_id`, said in the reason).
pub fn org_audit(
    org_id: &str,
    actor: Option<&UserRow>,
    action: &str,
    subject_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> AuditRow {
    AuditRow {
        id: uuid::Uuid::now_v7().to_string(),
        org_id: org_id.into(),
        user_id: String::new(),
        actor_id: actor.map_or_else(String::new, |a| a.user.id.clone()),
        at: Utc::now().timestamp(),
        action: action.into(),
        subject_id: subject_id.into(),
        before: before.map(|v| v.to_string()),
        after: after.map(|v| v.to_string()),
        reason: if actor.is_some() {
            String::new()
        } else {
            "the server's command line".into()
        },
    }
}

/// Where a period stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeriodState {
    /// Nothing submitted: the person adds and changes time freely (within the policy).
    Open,
    /// Submitted by the person, waiting for a reviewer; locked.
    Submitted,
    /// Approved by a reviewer; locked.
    Approved,
}

impl PeriodState {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodState::Open => "open",
            PeriodState::Submitted => "submitted",
            PeriodState::Approved => "approved",
        }
    }

    pub(crate) fn from_stored(text: &str) -> PeriodState {
        match text {
            "approved" => PeriodState::Approved,
            // Anything else stored counts as locked too: the safer reading.
            _ => PeriodState::Submitted,
        }
    }
}

/// The stored state of one period of `user_id`.
pub async fn period_state(
    state: &AppState,
    user_id: &str,
    period: Period,
) -> Result<(PeriodState, Option<PeriodRow>), DbError> {
    let start = period.start.to_string();
    let row = state
        .db
        .periods(user_id, &start, &start)
        .await?
        .into_iter()
        .find(|p| p.kind == period.kind.as_str());
    Ok((
        row.as_ref()
            .map_or(PeriodState::Open, |r| PeriodState::from_stored(&r.state)),
        row,
    ))
}

/// Refuses (409) a change to `user`'s time in [from, to) when a day it touches lies in a
/// submitted or approved week or month: a reviewer has to unlock it first. The days are taken
/// in `offset` (the time's own: an interval's or an entry's), else in the person's.
pub async fn ensure_open(
    state: &AppState,
    user: &UserRow,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    offset: Option<i32>,
) -> Result<(), TimesheetError> {
    let offset = match offset {
        Some(o) => o,
        None => offset_for(state, &user.user.id, to.date_naive()).await?,
    };
    let local = |t: DateTime<Utc>| (t + chrono::Duration::minutes(i64::from(offset))).date_naive();
    // The last second of the stretch, not its exclusive end: an entry ending at midnight
    // doesn't touch the next day.
    let (first, last) = (
        local(from),
        local(to - chrono::Duration::seconds(1)).max(local(from)),
    );
    let earliest = first.checked_sub_days(Days::new(31)).unwrap_or(first);
    let locked = state
        .db
        .periods(&user.user.id, &earliest.to_string(), &last.to_string())
        .await?;
    for row in locked {
        let (Some(kind), Ok(start)) =
            (PeriodKind::parse(&row.kind), row.start.parse::<NaiveDate>())
        else {
            continue;
        };
        let period = Period { kind, start };
        let touches = period.end().is_none_or(|end| first < end && start <= last);
        if touches {
            return Err(TimesheetError::Locked {
                kind: row.kind,
                start: row.start,
                state: row.state,
            });
        }
    }
    Ok(())
}

/// A person's timesheet with where it stands.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimesheetResponse {
    pub user: User,
    pub state: PeriodState,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The figures the period was submitted or last approved with; null while open (and for
    /// periods locked before Metron kept them).
    pub locked_figures: Option<Figures>,
    /// Whether its figures changed since (a late interval, a decision on an item from before
    /// the lock): `timesheet` has the figures of now, `locked_figures` those approved; a
    /// reviewer approves again or unlocks.
    pub changed_since_lock: bool,
    /// Task id -> name, for the tasks in the timesheet.
    pub task_names: BTreeMap<String, String>,
    pub timesheet: Timesheet,
}

/// The figures a period's row keeps, if it has readable ones.
pub(crate) fn locked_figures(row: Option<&PeriodRow>) -> Option<Figures> {
    row.and_then(|r| r.figures.as_deref())
        .and_then(|f| serde_json::from_str(f).ok())
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
    /// The total it was submitted or last approved with, if locked.
    pub locked_total_secs: Option<u64>,
    /// Whether its figures changed since it was locked (see `TimesheetResponse`).
    pub changed_since_lock: bool,
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

/// `who`'s timesheet of `period` with where it stands.
pub async fn sheet_of(
    state: &AppState,
    who: UserRow,
    period: Period,
) -> Result<TimesheetResponse, TimesheetError> {
    let timesheet = person_timesheet(state, &who, period).await?;
    let (period_state, row) = period_state(state, &who.user.id, period).await?;
    let locked = locked_figures(row.as_ref());
    let changed_since_lock = locked.is_some_and(|f| f != timesheet.figures);
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
        locked_figures: locked,
        changed_since_lock,
        task_names,
        timesheet,
    })
}

/// The timesheets of `team` (people of organization `org_id`) for `period`, added up.
pub async fn team_sheet(
    state: &AppState,
    org_id: &str,
    team: Vec<User>,
    period: Period,
) -> Result<TeamTimesheet, TimesheetError> {
    let ids: Vec<String> = team.iter().map(|u| u.id.clone()).collect();
    let mut sheets = team_timesheets(state, org_id, &ids, period).await?;
    let rows: BTreeMap<String, PeriodRow> = state
        .db
        .org_periods(org_id, period.kind.as_str(), &period.start.to_string())
        .await?
        .into_iter()
        .map(|row| (row.user_id.clone(), row))
        .collect();
    let mut total = Figures::default();
    let mut people = Vec::with_capacity(team.len());
    for user in team {
        let sheet = sheets
            .remove(&user.id)
            .unwrap_or_else(|| metron_core::timesheet::timesheet_of_days(period, Vec::new()));
        total = total.plus(&sheet.figures);
        let row = rows.get(&user.id);
        let locked = locked_figures(row);
        people.push(TeamSheetPerson {
            state: row.map_or(PeriodState::Open, |r| PeriodState::from_stored(&r.state)),
            user,
            locked_total_secs: locked.map(|f| f.total_secs),
            changed_since_lock: locked.is_some_and(|f| f != sheet.figures),
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
    let task_names = names_of(state, org_id, task_ids.iter().map(String::as_str)).await?;
    Ok(TeamTimesheet {
        period,
        figures: total,
        people,
        task_names,
    })
}

/// A stored unix time as a `DateTime` (the epoch for one out of range, which no stored row has).
pub(crate) fn time(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
}

/// A person's timesheet of `period`: each day's line from the corrected intervals (or the
/// kept aggregate) with the manual time in force, added up.
pub async fn person_timesheet(
    state: &AppState,
    who: &UserRow,
    period: Period,
) -> Result<Timesheet, ReportError> {
    let dates = period.days();
    let days = crate::kept_days::sheet_days(
        state,
        &who.org_id,
        std::slice::from_ref(&who.user.id),
        &dates,
    )
    .await?
    .remove(&who.user.id)
    .unwrap_or_default();
    Ok(timesheet::timesheet_of_days(period, days))
}

/// Everyone's timesheet of `period` among `people` (user ids of organization `org_id`).
pub async fn team_timesheets(
    state: &AppState,
    org_id: &str,
    people: &[String],
    period: Period,
) -> Result<HashMap<String, Timesheet>, ReportError> {
    let dates = period.days();
    let mut days = crate::kept_days::sheet_days(state, org_id, people, &dates).await?;
    Ok(people
        .iter()
        .map(|p| {
            let sheet = timesheet::timesheet_of_days(period, days.remove(p).unwrap_or_default());
            (p.clone(), sheet)
        })
        .collect())
}
