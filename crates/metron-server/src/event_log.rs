//! The event log (issue 15): the window and input events a person's intervals carried, each
//! with the window in front at its second (the window segment covering it) and the task it was
//! booked on. Read from the stored intervals, so nothing is kept twice and a person's privacy
//! settings at recording time hold here too. The JSON answer (`routes/events.rs`) and the
//! XES writer (`xes.rs`) both read it.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use metron_core::events::Event;
use metron_core::wire::EventRecord;
use metron_core::{Interval, WindowInfo};

use crate::db::{DbError, UserRow};
use crate::AppState;

/// One event of the log with what the XES log groups it by.
#[derive(Debug, Clone)]
pub struct LoggedEvent {
    pub record: EventRecord,
    /// The task's name now (its id if the task is gone).
    pub task_name: String,
    /// The person's local day of the event (the interval's UTC offset).
    pub local_date: NaiveDate,
}

/// The events of `who` in [from, to), in time order.
pub async fn read(
    state: &AppState,
    who: &UserRow,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<LoggedEvent>, DbError> {
    // An input event may predate its interval by the pause it ends (under an hour, see
    // Interval::validate), and its window is in the interval covering its second: the
    // intervals of an hour around the range.
    let mut intervals = state
        .db
        .intervals(
            &who.user.id,
            (from - Duration::hours(1)).timestamp(),
            (to + Duration::hours(1)).timestamp(),
        )
        .await?;
    intervals.sort_by_key(|i| i.started_at);
    let names = crate::reports::task_names(state, &who.org_id).await?;
    let mut events = Vec::new();
    for interval in &intervals {
        let offset = Duration::minutes(i64::from(interval.utc_offset_minutes));
        for e in &interval.events {
            let at = interval.started_at + Duration::seconds(i64::from(e.offset));
            if !(from <= at && at < to) {
                continue;
            }
            let window = window_at(&intervals, at).unwrap_or_else(WindowInfo::unknown);
            events.push(LoggedEvent {
                record: EventRecord {
                    event: Event::new(at, e.kind, &window),
                    task_id: interval.task_id.clone(),
                    interval_id: interval.id.to_string(),
                },
                task_name: names
                    .get(&interval.task_id)
                    .cloned()
                    .unwrap_or(interval.task_id.clone()),
                local_date: (at + offset).date_naive(),
            });
        }
    }
    events.sort_by_key(|e| e.record.event.at);
    Ok(events)
}

/// The window in front at `at`: the segment covering that second, in the interval covering it
/// (`intervals` sorted by start; they never overlap for one person).
fn window_at(intervals: &[Interval], at: DateTime<Utc>) -> Option<WindowInfo> {
    let after = intervals.partition_point(|i| i.started_at <= at);
    let interval = intervals[..after].last().filter(|i| at < i.ended_at)?;
    let offset = u32::try_from((at - interval.started_at).num_seconds()).ok()?;
    let segment = interval
        .windows
        .iter()
        .find(|w| w.offset <= offset && offset < w.offset.saturating_add(w.seconds))?;
    Some(WindowInfo {
        app: segment.app.clone(),
        title: segment.title.clone(),
        url: segment.url.clone(),
        path: segment.path.clone(),
    })
}
