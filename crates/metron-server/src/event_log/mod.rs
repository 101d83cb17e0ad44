//! The event log (issue 15): the window and input events a person's intervals carried, each
//! with the window in front at its second (the window segment covering it) and the task it was
//! booked on. Read from the stored intervals, so nothing is kept twice and a person's privacy
//! settings at recording time hold here too.
//!
//! An export (issue 27) is written a local day at a time on a thread of its own: the day's
//! intervals are read as the database sends them, only what the log needs of each is kept
//! (`day::LoggedInterval`), the day's windows are named once (`day::DayLog`) and its events
//! merged in time order as they are written as JSON (`json.rs`) or XES (`xes.rs`) into the
//! export's sink, which sends them on. One day of intervals is in memory at a time, whatever
//! the range.

mod day;
mod json;
mod xes;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use futures_util::StreamExt as _;
use tokio::runtime::Handle;

use crate::db::UserRow;
use crate::export::{ExportError, ExportSink};
use crate::AppState;
use day::{DayLog, LoggedInterval};

/// The formats of `GET /api/v1/events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xes,
}

/// One local day of an export's range: [from, to), cut to the range at its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportDay {
    pub date: NaiveDate,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The local days (at `offset_minutes` from UTC) that [from, to) touches, in order.
pub fn days(from: DateTime<Utc>, to: DateTime<Utc>, offset_minutes: i32) -> Vec<ExportDay> {
    let offset = Duration::minutes(i64::from(offset_minutes));
    let mut days = Vec::new();
    let mut start = from;
    while start < to {
        let date = (start + offset).date_naive();
        let next_midnight = date
            .succ_opt()
            .map_or(to, |next| next.and_time(NaiveTime::MIN).and_utc() - offset);
        let end = next_midnight.min(to);
        days.push(ExportDay {
            date,
            from: start,
            to: end,
        });
        start = end;
    }
    days
}

/// A format's writer: the document's start, each day, and its end. `day` returns where it
/// stopped when it passed the byte budget (a place the client can ask again from).
trait LogWriter {
    fn head(&mut self, sink: &mut ExportSink) -> Result<(), ExportError>;
    fn day(
        &mut self,
        log: &DayLog<'_>,
        sink: &mut ExportSink,
    ) -> Result<Option<DateTime<Utc>>, ExportError>;
    /// The end: `cut_at` is where the export stopped at the budget, if it did.
    fn end(
        &mut self,
        cut_at: Option<DateTime<Utc>>,
        sink: &mut ExportSink,
    ) -> Result<(), ExportError>;
}

/// Writes the events of `who` in [from, to) into `sink`, a day at a time. Runs on a blocking
/// thread; `runtime` drives the database reads.
pub fn export(
    runtime: &Handle,
    state: &AppState,
    who: &UserRow,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    format: Format,
    sink: &mut ExportSink,
) -> Result<(), ExportError> {
    let user_id = who.user.id.as_str();
    // Days as the daily report cuts them when no offset is asked for: at the offset of the
    // person's latest interval (here: before the range ends), so a trace is a local day.
    let offset = runtime
        .block_on(state.db.latest_offset(user_id, to.timestamp()))?
        .unwrap_or(0);
    let mut writer: Box<dyn LogWriter> = match format {
        Format::Json => Box::new(json::JsonLog::new(user_id, from, to, offset)),
        Format::Xes => Box::new(xes::XesLog::new(
            &who.user.email,
            runtime.block_on(crate::reports::task_names(state, &who.org_id))?,
            from,
            to,
        )),
    };
    writer.head(sink)?;
    for (n, day) in days(from, to, offset).iter().enumerate() {
        // Past the budget, stop before the next day; but never before the first, so asking
        // again from where an export stopped always gets further.
        if n > 0 && sink.over_budget() {
            return writer.end(Some(day.from), sink);
        }
        let intervals = runtime.block_on(read_day(state, user_id, day))?;
        let log = DayLog::build(day, &intervals);
        if let Some(cut_at) = writer.day(&log, sink)? {
            return writer.end(Some(cut_at), sink);
        }
        // The day goes out now, while the next one is read.
        sink.flush()?;
    }
    writer.end(None, sink)
}

/// The intervals a day's events and their windows are in, parsed as they arrive. An input
/// event may predate its interval by the pause it ends (under an hour, see
/// `Interval::validate`) and its window is in the interval covering its second: the intervals
/// of an hour around the day.
async fn read_day(
    state: &AppState,
    user_id: &str,
    day: &ExportDay,
) -> Result<Vec<LoggedInterval>, ExportError> {
    let hour = Duration::hours(1);
    let mut stored = state.db.interval_stream(
        user_id,
        (day.from - hour).timestamp(),
        (day.to + hour).timestamp(),
    );
    let mut intervals = Vec::new();
    while let Some(interval) = stored.next().await {
        let mut interval = LoggedInterval::from(interval?);
        // The day's events are merged from runs in time order (`DayLog`): stable, so events
        // of one second keep the order they were recorded in.
        interval.events.sort_by_key(|e| e.offset);
        intervals.push(interval);
    }
    // The query orders by start already; window lookups rely on it, so it is not left to SQL.
    intervals.sort_by_key(|i| i.started_at);
    Ok(intervals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_range_is_cut_at_local_midnights() {
        let days = days(t("2026-11-23T08:00:00Z"), t("2026-11-25T08:00:00Z"), 60);
        let cuts: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = days
            .iter()
            .map(|d| (d.date.to_string(), d.from, d.to))
            .collect();
        assert_eq!(
            cuts,
            [
                (
                    "2026-11-23".into(),
                    t("2026-11-23T08:00:00Z"),
                    t("2026-11-23T23:00:00Z")
                ),
                (
                    "2026-11-24".into(),
                    t("2026-11-23T23:00:00Z"),
                    t("2026-11-24T23:00:00Z")
                ),
                (
                    "2026-11-25".into(),
                    t("2026-11-24T23:00:00Z"),
                    t("2026-11-25T08:00:00Z")
                ),
            ]
        );
        assert!(super::days(t("2026-11-23T08:00:00Z"), t("2026-11-23T08:00:00Z"), 0).is_empty());
    }
}
