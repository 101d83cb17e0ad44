//! Retention: raw intervals are kept a configurable number of days (default 400; an
//! organization may set fewer for itself on the settings page); a day past
//! that is first kept as its report and time per (app, host) (`day_aggregates`), then its raw
//! intervals are deleted. Reports of such a day come from the aggregate, re-classified under
//! the rules of the moment, so they read the same as before, except that window titles are not
//! kept: they expire with the raw intervals.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use metron_core::model::MAX_OFFSET_MINUTES;
use metron_core::report::{self, Classifier};

use crate::reports::DayAggregate;
use crate::AppState;

/// Default days of raw intervals kept.
pub const DEFAULT_DAYS: u32 = 400;

/// What one run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cleanup {
    pub days_kept_as_aggregates: u64,
    pub intervals_deleted: u64,
}

/// Why a retention run stopped (the next run starts over where it left off).
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error("the day {0} is out of the range of dates")]
    DayOutOfRange(NaiveDate),
    #[error(transparent)]
    Report(#[from] crate::reports::ReportError),
}

/// One run at `now`: every day that ended more than `days` ago (or the fewer days the
/// person's organization keeps) is aggregated (unless it is already) and its intervals
/// deleted. An interval reaching into a day still kept stays.
pub async fn run_once(
    state: &AppState,
    days: u32,
    now: DateTime<Utc>,
) -> Result<Cleanup, RetentionError> {
    let shortest = state
        .db
        .shortest_retention_days()
        .await?
        .map_or(days, |d| d.min(days));
    let mut done = Cleanup::default();
    // Rules don't matter for what is stored (classes are applied when read); the classifier
    // is only needed to build the report.
    let classifier = Classifier::empty();
    for (user_id, earliest) in state
        .db
        .users_with_intervals_before((now - Duration::days(i64::from(shortest))).timestamp())
        .await?
    {
        let Some(user) = state.db.user_by_id(&user_id).await? else {
            continue;
        };
        let org = state
            .org_settings
            .get(state.db.as_ref(), &user.org_id)
            .await?;
        let days = org.retention_days.map_or(days, |d| d.min(days));
        let cutoff = now - Duration::days(i64::from(days));
        if earliest >= cutoff.timestamp() {
            continue;
        }
        let Some(earliest) = DateTime::from_timestamp(earliest, 0) else {
            continue;
        };
        // Each interval falls on days in its own offset, so days tile in UTC without gaps or
        // overlaps whatever offsets they carry: a run keeps the days after the last kept one
        // up to the day before the cutoff's UTC date, from the earliest date any interval can
        // touch (its start at UTC-14:00).
        let last_kept = state.db.latest_day_aggregate(&user_id).await?;
        let after_kept = last_kept
            .and_then(|(day, _)| day.parse::<NaiveDate>().ok())
            .and_then(|d| d.succ_opt());
        let earliest_date =
            (earliest - Duration::minutes(i64::from(MAX_OFFSET_MINUTES))).date_naive();
        let (first_day, kept_from) = (
            after_kept.map_or(earliest_date, |d| d.max(earliest_date)),
            cutoff.date_naive(),
        );
        // The offset a kept day says it was in when none of its intervals says otherwise.
        let offset = state
            .db
            .latest_offset(&user_id, cutoff.timestamp())
            .await?
            .unwrap_or(0);
        let mut day: NaiveDate = first_day;
        while day < kept_from {
            if state
                .db
                .day_aggregate(&user_id, &day.to_string())
                .await?
                .is_none()
            {
                let (from, to) =
                    report::widest_day_bounds(day).ok_or(RetentionError::DayOutOfRange(day))?;
                // Kept as the corrections in force leave it (manual time is kept apart, for
                // good, and added when the day is read).
                let intervals = crate::reports::corrected_intervals(
                    state,
                    &user_id,
                    from.timestamp(),
                    to.timestamp(),
                )
                .await?;
                let (mut report, usage) =
                    report::daily_report_with_usage(&intervals, day, offset, &classifier);
                // The widest range also catches the neighbouring days' intervals: a day is
                // kept only if some of its time falls on it.
                if report.tracked_secs > 0 {
                    // Unusual activity needs the per-second data: assessed once, now, by the
                    // organization's thresholds of now, and kept with the day.
                    let thresholds = state.db.unusual_thresholds(&user.org_id).await?;
                    report.unusual = Some(report::assess(&intervals, day, offset, &thresholds));
                    // Window titles expire with the raw data they came from (E6): a kept day
                    // holds times per task, app and host, never what a window said.
                    report.titles.clear();
                    if let Some(unusual) = &mut report.unusual {
                        unusual.forget_titles();
                    }
                    // Its timeline as runs of a task rather than an entry per interval.
                    report.merge_timeline_runs();
                    let body = serde_json::to_string(&DayAggregate { report, usage })
                        .expect("reports serialize");
                    state
                        .db
                        .store_day_aggregate(&user_id, &day.to_string(), &body)
                        .await?;
                    done.days_kept_as_aggregates += 1;
                }
            }
            day = day.succ_opt().unwrap_or(kept_from);
        }
        // Only intervals wholly before the first day still kept in every offset (its start at
        // UTC+14:00): their days are all aggregated. One ending a little later stays until the
        // next run; the day it belongs to is read from its aggregate meanwhile.
        let (kept_start, _) = report::local_day_bounds(kept_from, MAX_OFFSET_MINUTES)
            .ok_or(RetentionError::DayOutOfRange(kept_from))?;
        done.intervals_deleted += state
            .db
            .delete_intervals_ending_by(&user_id, kept_start.timestamp())
            .await?;
    }
    if done != Cleanup::default() {
        tracing::info!(
            days = done.days_kept_as_aggregates,
            intervals = done.intervals_deleted,
            "retention: old days kept as aggregates"
        );
    }
    Ok(done)
}

/// Runs the cleanup now and then every hour, until the process ends, each run followed by
/// the settling of timesheet days (`kept_days::settle`).
pub fn spawn(state: AppState, days: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            if let Err(e) = run_once(&state, days, Utc::now()).await {
                tracing::warn!("retention cleanup failed (tried again in an hour): {e}");
            }
            // The access log is kept as long as raw intervals (docs/SECURITY.md).
            if let Err(e) = crate::own_data::access::forget_expired(&state, days).await {
                tracing::warn!("old access-log rows not deleted (tried again in an hour): {e}");
            }
            // Then the settled days of the last weeks, kept for the team timesheets.
            if let Err(e) = crate::kept_days::settle(&state, Utc::now()).await {
                tracing::warn!("timesheet days not settled (tried again in an hour): {e}");
            }
        }
    })
}
