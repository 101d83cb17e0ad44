//! One day of the event log, put in order: its events in time order, each with the window of
//! its second named by an index into the day's distinct windows, all borrowed from the day's
//! intervals (nothing of a window is copied per event).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use chrono::{DateTime, Duration, Utc};
use metron_core::events::EventType;
use metron_core::model::{IntervalEvent, WindowSegment};
use metron_core::WindowInfo;
use serde::Deserialize;

use super::ExportDay;

/// What the log needs of a stored interval: its place in time, task, windows and events. The
/// rest (the per-second strings, the counts) is dropped as it is read, never kept.
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

impl From<metron_core::Interval> for LoggedInterval {
    fn from(i: metron_core::Interval) -> Self {
        LoggedInterval {
            id: i.id.to_string(),
            task_id: i.task_id,
            started_at: i.started_at,
            ended_at: i.ended_at,
            windows: i.windows,
            events: i.events,
        }
    }
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

/// An event of the day: its time and window, and the interval it came with.
#[derive(Debug, Clone, Copy)]
pub struct DayEvent {
    pub at: DateTime<Utc>,
    pub kind: EventType,
    /// Index into [`DayLog::windows`].
    pub window: u32,
    /// Index into the day's intervals.
    interval: u32,
}

/// A day of the log: the windows its events happened in, each once, and its events in time
/// order, merged from the intervals as they are written rather than gathered and sorted (a day
/// at the byte cap holds a third of a million events; this way none is held).
#[derive(Debug)]
pub struct DayLog<'a> {
    pub day: &'a ExportDay,
    /// In the order the day's intervals first name them.
    pub windows: Vec<WindowRef<'a>>,
    index: HashMap<WindowRef<'a>, u32>,
    runs: Runs<'a>,
}

impl<'a> DayLog<'a> {
    /// The day `day` of `intervals` (sorted by start, each one's events by offset; a person's
    /// intervals never overlap).
    pub fn build(day: &'a ExportDay, intervals: &'a [LoggedInterval]) -> DayLog<'a> {
        let runs = Runs { day, intervals };
        let mut windows = Vec::new();
        let mut index = HashMap::new();
        for n in 0..intervals.len() {
            for at in runs.times(n) {
                let window = window_at(intervals, at).unwrap_or(WindowRef::UNKNOWN);
                index.entry(window).or_insert_with(|| {
                    windows.push(window);
                    u32::try_from(windows.len() - 1).unwrap_or(u32::MAX)
                });
            }
        }
        DayLog {
            day,
            windows,
            index,
            runs,
        }
    }

    /// The day's events in time order; those of one second in the order of their intervals
    /// and, within one, as stored.
    pub fn events(&self) -> impl Iterator<Item = DayEvent> + '_ {
        self.merged(0..self.runs.intervals.len())
    }

    /// The tasks of the day's events, each with its events in time order, in the order of
    /// their first event (a trace each in XES).
    pub fn tasks(&self) -> Vec<(&'a str, impl Iterator<Item = DayEvent> + '_)> {
        // Each task's first event (the earliest first event of its intervals, the earlier
        // interval on a tie) and its intervals.
        struct Task {
            first: (DateTime<Utc>, usize),
            intervals: Vec<usize>,
        }
        let mut tasks: HashMap<&'a str, Task> = HashMap::new();
        for (n, interval) in self.runs.intervals.iter().enumerate() {
            if let Some(at) = self.runs.times(n).next() {
                let task = tasks.entry(interval.task_id.as_str()).or_insert(Task {
                    first: (at, n),
                    intervals: Vec::new(),
                });
                task.first = task.first.min((at, n));
                task.intervals.push(n);
            }
        }
        let mut tasks: Vec<(&'a str, Task)> = tasks.into_iter().collect();
        tasks.sort_by_key(|(_, task)| task.first);
        tasks
            .into_iter()
            .map(|(id, task)| (id, self.merged(task.intervals.into_iter())))
            .collect()
    }

    /// The task `event` was booked on.
    pub fn task_id(&self, event: &DayEvent) -> &'a str {
        &self.runs.intervals[event.interval as usize].task_id
    }

    /// The interval `event` came with.
    pub fn interval_id(&self, event: &DayEvent) -> &'a str {
        &self.runs.intervals[event.interval as usize].id
    }

    /// The events of the intervals `members` merged in time order: a heap holds each
    /// interval's next event (its time, the interval, its place, the run's end), so nothing
    /// else is held. Ties go to the earlier interval, then the earlier place.
    fn merged(&self, members: impl Iterator<Item = usize>) -> impl Iterator<Item = DayEvent> + '_ {
        let mut heads = BinaryHeap::new();
        for n in members {
            let (lo, hi) = self.runs.run(n);
            if lo < hi {
                heads.push(Reverse((self.runs.at(n, lo), n, lo, hi)));
            }
        }
        std::iter::from_fn(move || {
            let Reverse((at, n, pos, hi)) = heads.pop()?;
            if pos + 1 < hi {
                heads.push(Reverse((self.runs.at(n, pos + 1), n, pos + 1, hi)));
            }
            let window = window_at(self.runs.intervals, at).unwrap_or(WindowRef::UNKNOWN);
            Some(DayEvent {
                at,
                kind: self.runs.intervals[n].events[pos].kind,
                // Every window of the day was named by `build`.
                window: self.index.get(&window).copied().unwrap_or(0),
                interval: u32::try_from(n).unwrap_or(u32::MAX),
            })
        })
    }
}

/// The day's events as runs of their intervals' events (sorted by offset, so each interval's
/// events in the day are one run).
#[derive(Debug, Clone, Copy)]
struct Runs<'a> {
    day: &'a ExportDay,
    intervals: &'a [LoggedInterval],
}

impl<'a> Runs<'a> {
    /// The times of interval `n`'s events in this day, in order.
    fn times(&self, n: usize) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        let (lo, hi) = self.run(n);
        (lo..hi).map(move |pos| self.at(n, pos))
    }

    /// Where interval `n`'s events in this day are among its events: a run of them, as they
    /// are sorted by offset.
    fn run(&self, n: usize) -> (usize, usize) {
        let interval = &self.intervals[n];
        let at = |e: &IntervalEvent| interval.started_at + Duration::seconds(i64::from(e.offset));
        let lo = interval.events.partition_point(|e| at(e) < self.day.from);
        let hi = interval.events.partition_point(|e| at(e) < self.day.to);
        (lo, hi.max(lo))
    }

    /// When event `pos` of interval `n` happened.
    fn at(&self, n: usize, pos: usize) -> DateTime<Utc> {
        let interval = &self.intervals[n];
        interval.started_at + Duration::seconds(i64::from(interval.events[pos].offset))
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
