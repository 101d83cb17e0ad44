//! One day of the event log, put in order: its events in time order, each with the window of
//! its second named by an index into the day's distinct windows, all borrowed from the day's
//! intervals (nothing of a window is copied per event).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use metron_core::events::EventType;
use metron_core::model::{IntervalEvent, WindowSegment};
use metron_core::WindowInfo;
use serde::Deserialize;

use super::ExportDay;

/// What the log needs of a stored interval: its place in time, task, windows and events. The
/// rest of the body (the per-second strings, the counts) is skipped while parsing, never kept.
#[derive(Debug, Deserialize)]
pub struct LoggedInterval {
    pub id: String,
    pub task_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    #[serde(default)]
    pub windows: Vec<WindowSegment>,
    #[serde(default)]
    pub events: Vec<IntervalEvent>,
}

/// A window as events refer to it: the day's index table is keyed by its contents, so the
/// same window in many segments and intervals is named once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowRef<'a> {
    pub app: &'a str,
    pub title: &'a str,
    pub url: Option<&'a str>,
    pub path: Option<&'a str>,
}

impl<'a> WindowRef<'a> {
    /// The window of a second no segment covers.
    const UNKNOWN: WindowRef<'static> = WindowRef {
        app: WindowInfo::UNKNOWN_APP,
        title: "",
        url: None,
        path: None,
    };

    fn of(segment: &'a WindowSegment) -> Self {
        WindowRef {
            app: &segment.app,
            title: &segment.title,
            url: segment.url.as_deref(),
            path: segment.path.as_deref(),
        }
    }
}

/// An event of the day.
#[derive(Debug, Clone, Copy)]
pub struct DayEvent<'a> {
    pub at: DateTime<Utc>,
    pub kind: EventType,
    /// Index into [`DayLog::windows`].
    pub window: u32,
    pub task_id: &'a str,
    pub interval_id: &'a str,
}

/// A day's events in time order and the windows they happened in, each once.
#[derive(Debug)]
pub struct DayLog<'a> {
    pub day: &'a ExportDay,
    /// In the order of their first event.
    pub windows: Vec<WindowRef<'a>>,
    pub events: Vec<DayEvent<'a>>,
}

impl<'a> DayLog<'a> {
    /// The events of `day` in `intervals` (sorted by start; a person's never overlap).
    pub fn build(day: &'a ExportDay, intervals: &'a [LoggedInterval]) -> DayLog<'a> {
        let mut found: Vec<(DateTime<Utc>, EventType, WindowRef<'a>, &'a LoggedInterval)> =
            Vec::new();
        for interval in intervals {
            for e in &interval.events {
                let at = interval.started_at + Duration::seconds(i64::from(e.offset));
                if day.from <= at && at < day.to {
                    let window = window_at(intervals, at).unwrap_or(WindowRef::UNKNOWN);
                    found.push((at, e.kind, window, interval));
                }
            }
        }
        // Stable: events of one second keep their intervals' order.
        found.sort_by_key(|(at, ..)| *at);
        let mut index: HashMap<WindowRef<'a>, u32> = HashMap::new();
        let mut windows = Vec::new();
        let events = found
            .into_iter()
            .map(|(at, kind, window, interval)| DayEvent {
                at,
                kind,
                window: *index.entry(window).or_insert_with(|| {
                    windows.push(window);
                    u32::try_from(windows.len() - 1).unwrap_or(u32::MAX)
                }),
                task_id: &interval.task_id,
                interval_id: &interval.id,
            })
            .collect();
        DayLog {
            day,
            windows,
            events,
        }
    }
}

/// The window in front at `at`: the segment covering that second, in the interval covering it
/// (`intervals` sorted by start; they never overlap for one person).
fn window_at(intervals: &[LoggedInterval], at: DateTime<Utc>) -> Option<WindowRef<'_>> {
    let after = intervals.partition_point(|i| i.started_at <= at);
    let interval = intervals[..after].last().filter(|i| at < i.ended_at)?;
    let offset = u32::try_from((at - interval.started_at).num_seconds()).ok()?;
    interval
        .windows
        .iter()
        .find(|w| w.offset <= offset && offset < w.offset.saturating_add(w.seconds))
        .map(WindowRef::of)
}
