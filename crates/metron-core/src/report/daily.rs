//! The daily report of R1: one person's local day added up from their intervals, each second
//! classified by the rules of now; and the same split re-applied to a day kept as an aggregate.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use super::day::{local_day_bounds, percent};
use super::rules::{url_host, Class, Classifier};
use crate::model::{Counts, Interval, WindowSegment};

/// How many window titles a report lists; the rest are the long tail no manager reads.
pub const MAX_TITLES: usize = 50;
/// How many apps, and how many URL hosts, a report lists (the same long-tail cut as titles:
/// a client inventing thousands of app names can't make a report megabytes long). The day's
/// figures, productive time included, still count every app.
pub const MAX_APPS: usize = 50;
pub const MAX_HOSTS: usize = 50;
/// How many holders of idle inhibitors a report lists (the same long-tail cut).
pub const MAX_HOLDERS: usize = 50;

/// The R1 report of one user's local day. All durations are whole seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DailyReport {
    /// The local date covered.
    pub date: NaiveDate,
    /// Minutes east of UTC of the day's latest interval (each interval is cut into days in
    /// its own offset, so every second falls on exactly one local date); on a day with no
    /// interval, the offset it was asked in.
    pub utc_offset_minutes: i32,
    /// Where the offset changed between one interval and the next that day (a flight, a DST
    /// change), in time order: the day's local hours are then more or fewer than 24.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zone_changes: Vec<ZoneChange>,
    /// Seconds covered by intervals, clipped to the local day.
    pub tracked_secs: u64,
    /// Tracked seconds with any input (keys, clicks, scrolls or moves).
    pub active_secs: u64,
    /// Tracked seconds without input and without presence: `tracked_secs - active_secs -
    /// passive_secs`.
    pub idle_secs: u64,
    /// Tracked seconds without input while an idle inhibitor was held (a video call, a
    /// playing video): passive presence, neither active nor idle. Activity % leaves them out
    /// of its numerator: it measures input.
    #[serde(default)]
    pub passive_secs: u64,
    /// Who held the idle inhibitor over the passive seconds, largest first: passive time is
    /// evidence only with its source named. Seconds no holder was recorded for (older clients)
    /// are a row with an empty `held_by`. At most [`MAX_HOLDERS`] rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub presence: Vec<PresenceUsage>,
    /// Manual time in force that day (added, not tracked): counted apart from tracked time and
    /// left out of activity %. Absent from reports of older servers.
    #[serde(default)]
    pub manual_secs: u64,
    /// `round(100 * active / tracked)`; 0 when nothing was tracked.
    pub activity_pct: u32,
    /// Tracked seconds by the class of the window in front; the three sum to `tracked_secs`.
    pub productive_secs: u64,
    pub unproductive_secs: u64,
    pub neutral_secs: u64,
    /// Start of the earliest tracked second of the day.
    pub first_activity: Option<DateTime<Utc>>,
    /// End of the latest tracked second of the day.
    pub last_activity: Option<DateTime<Utc>>,
    /// Untracked seconds between `first_activity` and `last_activity`.
    pub away_secs: u64,
    /// Input totals of the intervals whose counts were measured; an interval crossing the
    /// day's edge adds its share (floored).
    pub counts: Counts,
    /// Tracked seconds whose input was counted. Less than `tracked_secs` when some time came
    /// from a sensor that only tells active from idle (Wayland): 0 means "not measured", and
    /// `counts` must then not be read as "no input".
    pub counts_measured_secs: u64,
    /// Tracked seconds whose input was told apart by origin (hardware or injected); 0 means
    /// "not measured" (older clients, X11 without XInput 2, Wayland).
    #[serde(default)]
    pub origin_measured_secs: u64,
    /// Of those, the seconds with injected input: from a program (XTEST, SendInput) rather
    /// than a device. A jiggler or a remote-control tool shows here.
    #[serde(default)]
    pub injected_secs: u64,
    /// The injected part of `counts`, over the intervals that told origins apart.
    #[serde(default)]
    pub injected_counts: Counts,
    /// The devices that tracked this day, by tracked time, largest first (empty in days
    /// kept as totals before devices were counted).
    #[serde(default)]
    pub devices: Vec<DeviceUsage>,
    /// By tracked time, largest first.
    pub tasks: Vec<TaskUsage>,
    /// By tracked time, largest first.
    pub apps: Vec<AppUsage>,
    /// By tracked time, largest first; at most [`MAX_TITLES`].
    pub titles: Vec<TitleUsage>,
    /// By tracked time, largest first; only segments whose URL has a host.
    pub hosts: Vec<HostUsage>,
    /// One entry per interval with time in the day, in time order.
    pub timeline: Vec<TimelineEntry>,
    /// Unusual activity (docs/REPORTS.md), assessed by the organization's thresholds when the
    /// report is read (a kept day: when it was kept). Absent where nothing assessed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unusual: Option<super::unusual::Unusual>,
}

/// A person's UTC offset changing between two of their intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ZoneChange {
    /// The start of the first interval in the new offset.
    pub at: DateTime<Utc>,
    /// Minutes east of UTC before and after.
    pub from_minutes: i32,
    pub to_minutes: i32,
}

impl ZoneChange {
    /// The changes between consecutive `(start, offset)` pairs, in time order.
    pub fn between(mut starts: Vec<(DateTime<Utc>, i32)>) -> Vec<ZoneChange> {
        starts.sort_unstable();
        starts
            .windows(2)
            .filter(|w| w[0].1 != w[1].1)
            .map(|w| ZoneChange {
                at: w[1].0,
                from_minutes: w[0].1,
                to_minutes: w[1].1,
            })
            .collect()
    }
}

impl std::fmt::Display for ZoneChange {
    /// "time zone changed: +01:00 -> +02:00".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "time zone changed: {} -> {}",
            offset_text(self.from_minutes),
            offset_text(self.to_minutes)
        )
    }
}

/// `+01:00`, `-09:30`: an offset as ISO 8601 writes it.
pub fn offset_text(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeviceUsage {
    /// As in the intervals and `GET /api/v1/devices`.
    pub device_id: String,
    pub tracked_secs: u64,
}

/// The passive seconds of the day one holder of an idle inhibitor accounts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PresenceUsage {
    /// A D-Bus client's well-known or program name, or logind's `who`; empty: not recorded.
    pub held_by: String,
    pub passive_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TaskUsage {
    pub task_id: String,
    pub tracked_secs: u64,
    pub active_secs: u64,
    pub activity_pct: u32,
    /// The task's manual time that day.
    #[serde(default)]
    pub manual_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AppUsage {
    pub app: String,
    /// What app rules alone say of this app; time on pages of classified hosts may have counted
    /// otherwise in the day's productive / unproductive totals.
    pub class: Class,
    pub tracked_secs: u64,
    pub active_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TitleUsage {
    pub app: String,
    /// Empty when privacy settings withheld titles (E6); those seconds group as one row per app.
    pub title: String,
    pub tracked_secs: u64,
    pub active_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HostUsage {
    /// Lowercased, without port (see [`url_host`]).
    pub host: String,
    /// What host rules alone say of this host.
    pub class: Class,
    pub tracked_secs: u64,
    pub active_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TimelineEntry {
    /// The interval's start, or the day's start if it began the day before.
    pub started_at: DateTime<Utc>,
    /// The interval's end, or the day's end if it ran into the next day.
    pub ended_at: DateTime<Utc>,
    pub task_id: String,
    pub tracked_secs: u64,
    pub active_secs: u64,
    pub activity_pct: u32,
}

impl DailyReport {
    /// Turns the timeline into runs: entries of one task that follow each other without a gap
    /// become one, their seconds summed and their activity taken over the whole run. What a
    /// day kept past retention holds: its intervals are gone, nobody can act on one of them any
    /// more, and an entry per interval (about 480 a working day) was nearly all of a kept
    /// day's bytes.
    pub fn merge_timeline_runs(&mut self) {
        let mut runs: Vec<TimelineEntry> = Vec::with_capacity(self.timeline.len());
        for entry in self.timeline.drain(..) {
            match runs.last_mut() {
                Some(run) if run.task_id == entry.task_id && run.ended_at == entry.started_at => {
                    run.ended_at = entry.ended_at;
                    run.tracked_secs += entry.tracked_secs;
                    run.active_secs += entry.active_secs;
                    run.activity_pct = percent(run.active_secs, run.tracked_secs);
                }
                _ => runs.push(entry),
            }
        }
        self.timeline = runs;
    }

    fn empty(date: NaiveDate, utc_offset_minutes: i32) -> DailyReport {
        DailyReport {
            date,
            utc_offset_minutes,
            zone_changes: Vec::new(),
            tracked_secs: 0,
            active_secs: 0,
            idle_secs: 0,
            passive_secs: 0,
            presence: Vec::new(),
            manual_secs: 0,
            activity_pct: 0,
            productive_secs: 0,
            unproductive_secs: 0,
            neutral_secs: 0,
            first_activity: None,
            last_activity: None,
            away_secs: 0,
            counts: Counts::default(),
            counts_measured_secs: 0,
            origin_measured_secs: 0,
            injected_secs: 0,
            injected_counts: Counts::default(),
            devices: Vec::new(),
            tasks: Vec::new(),
            apps: Vec::new(),
            titles: Vec::new(),
            hosts: Vec::new(),
            timeline: Vec::new(),
            unusual: None,
        }
    }
}

/// Tracked and active seconds of one group (task, app, title, host, app and host).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Usage {
    pub tracked: u64,
    pub active: u64,
}

impl Usage {
    pub(super) fn add(&mut self, tracked: u64, active: u64) {
        self.tracked += tracked;
        self.active += active;
    }
}

/// The R1 report of the local day `date` from one user's `intervals`, in any order, classified
/// by `classifier`.
///
/// Each interval is cut in its own offset: its seconds from `date` 00:00 to the next day's
/// 00:00 at the interval's `utc_offset_minutes` belong to the day. Every second of a person's
/// time so falls on exactly one local date, whatever offsets their intervals carry (a DST
/// change, a flight, a client lying about its zone), and a period's days add up to its
/// seconds. `utc_offset_minutes` is what the report says it was taken in when no interval
/// says otherwise (a day without intervals). The server loads every interval that may touch
/// the day in any offset ([`super::day::widest_day_bounds`]).
///
/// Intervals partly outside the day count only their seconds inside it, and add their input
/// counts prorated by that share. Each second takes the class of the window segment covering
/// it (its app and its URL's host); a second no segment covers is neutral.
///
/// Malformed intervals are tolerated rather than trusted: tracked time comes from the
/// timestamps; a missing activity flag (or anything but `'1'`) counts as idle and surplus flags
/// are ignored; segments are clipped to the interval, and a segment overlapping an earlier one
/// only adds its seconds past it, so no second is counted twice within an interval. An interval
/// that ends before it starts adds nothing. Intervals are assumed not to overlap each other (the
/// server refuses overlaps per user); if they do, their seconds add up and `away_secs` floors
/// at 0.
pub fn daily_report(
    intervals: &[Interval],
    date: NaiveDate,
    utc_offset_minutes: i32,
    classifier: &Classifier,
) -> DailyReport {
    daily_report_with_usage(intervals, date, utc_offset_minutes, classifier).0
}

/// Tracked and active seconds of one (app, URL host) pair over a day: what the productive /
/// unproductive / neutral split is made of. Kept with a day's aggregate once its raw intervals
/// are deleted (retention), so changed rules still re-classify that day ([`reclassify`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WindowUsage {
    pub app: String,
    pub host: Option<String>,
    pub tracked_secs: u64,
    pub active_secs: u64,
}

/// [`daily_report`], and the day's time per (app, host) pair, largest first.
pub fn daily_report_with_usage(
    intervals: &[Interval],
    date: NaiveDate,
    utc_offset_minutes: i32,
    classifier: &Classifier,
) -> (DailyReport, Vec<WindowUsage>) {
    let mut day = DayTally::new(date, utc_offset_minutes, classifier);
    for interval in intervals {
        day.add_interval(interval);
    }
    day.finish()
}

/// A day being added up, one interval at a time: the report's running figures and the groups
/// its lists are made from.
struct DayTally<'a> {
    report: DailyReport,
    /// The start and offset of each interval with time in the day: the day's offset and its
    /// zone changes.
    starts: Vec<(DateTime<Utc>, i32)>,
    classifier: &'a Classifier,
    /// A day has a few hundred intervals but only a handful of distinct (app, host) pairs, so
    /// each pair goes through the rules once.
    classes: HashMap<(&'a str, Option<String>), Class>,
    tasks: HashMap<&'a str, Usage>,
    devices: HashMap<uuid::Uuid, Usage>,
    apps: HashMap<&'a str, Usage>,
    titles: HashMap<(&'a str, &'a str), Usage>,
    hosts: HashMap<String, Usage>,
    /// Passive seconds by holder ("" where none was recorded).
    holders: HashMap<&'a str, Usage>,
    pairs: HashMap<(&'a str, Option<String>), Usage>,
}

impl<'a> DayTally<'a> {
    fn new(date: NaiveDate, utc_offset_minutes: i32, classifier: &'a Classifier) -> Self {
        DayTally {
            report: DailyReport::empty(date, utc_offset_minutes),
            starts: Vec::new(),
            classifier,
            classes: HashMap::new(),
            tasks: HashMap::new(),
            devices: HashMap::new(),
            apps: HashMap::new(),
            titles: HashMap::new(),
            hosts: HashMap::new(),
            holders: HashMap::new(),
            pairs: HashMap::new(),
        }
    }

    /// Adds the seconds of `interval` that lie inside the day in the interval's own offset.
    fn add_interval(&mut self, interval: &'a Interval) {
        let Some(Inside {
            from,
            to,
            start,
            end,
        }) = Inside::day(interval, self.report.date)
        else {
            return;
        };
        let inside = to - from;
        self.starts
            .push((interval.started_at, interval.utc_offset_minutes));
        let duration = interval.duration_secs().max(0) as u64;
        let flags = interval.active.as_bytes();
        let active = count_active(flags, from, to);

        let report = &mut self.report;
        report.tracked_secs += inside;
        report.active_secs += active;
        if interval.counts_measured {
            add_prorated(&mut report.counts, &interval.counts, inside, duration);
            report.counts_measured_secs += inside;
        }
        if let Some(passive) = &interval.passive {
            let seconds = count_active(passive.as_bytes(), from, to);
            report.passive_secs += seconds;
            let mut named = 0;
            for stretch in &interval.presence {
                let s_from = u64::from(stretch.offset).max(from);
                let s_to = (u64::from(stretch.offset) + u64::from(stretch.seconds)).min(to);
                if s_to > s_from {
                    // Validation keeps stretches over passive seconds: every one counts.
                    named += s_to - s_from;
                    self.holders
                        .entry(stretch.held_by.as_str())
                        .or_default()
                        .add(s_to - s_from, 0);
                }
            }
            if seconds > named {
                self.holders.entry("").or_default().add(seconds - named, 0);
            }
        }
        if let (Some(injected), Some(counts)) = (&interval.injected, &interval.injected_counts) {
            report.origin_measured_secs += inside;
            report.injected_secs += count_active(injected.as_bytes(), from, to);
            add_prorated(&mut report.injected_counts, counts, inside, duration);
        }
        report.first_activity = Some(
            report
                .first_activity
                .map_or(start, |first| first.min(start)),
        );
        report.last_activity = Some(report.last_activity.map_or(end, |last| last.max(end)));
        report.timeline.push(TimelineEntry {
            started_at: start,
            ended_at: end,
            task_id: interval.task_id.clone(),
            tracked_secs: inside,
            active_secs: active,
            activity_pct: percent(active, inside),
        });
        self.tasks
            .entry(interval.task_id.as_str())
            .or_default()
            .add(inside, active);
        self.devices
            .entry(interval.device_id)
            .or_default()
            .add(inside, active);

        let covered = segment_seconds(interval, from, to, |segment, seconds, active| {
            self.add_segment(segment, seconds, active);
        });
        self.report.neutral_secs += inside - covered;
    }

    /// Adds `seconds` (`active` of them with input) of a window segment: its class and its
    /// app, title, host and (app, host) pair.
    fn add_segment(&mut self, segment: &'a WindowSegment, seconds: u64, active: u64) {
        let host = segment.url.as_deref().and_then(url_host);
        let class = *self
            .classes
            .entry((segment.app.as_str(), host.clone()))
            .or_insert_with(|| self.classifier.classify(&segment.app, host.as_deref()));
        match class {
            Class::Productive => self.report.productive_secs += seconds,
            Class::Unproductive => self.report.unproductive_secs += seconds,
            Class::Neutral => self.report.neutral_secs += seconds,
        }
        self.pairs
            .entry((segment.app.as_str(), host.clone()))
            .or_default()
            .add(seconds, active);
        self.apps
            .entry(segment.app.as_str())
            .or_default()
            .add(seconds, active);
        self.titles
            .entry((segment.app.as_str(), segment.title.as_str()))
            .or_default()
            .add(seconds, active);
        if let Some(host) = host {
            self.hosts.entry(host).or_default().add(seconds, active);
        }
    }

    /// The day's report, its lists ranked (largest first, ties by name) and cut, and its time
    /// per (app, host) pair.
    fn finish(self) -> (DailyReport, Vec<WindowUsage>) {
        let DayTally {
            mut report,
            classifier,
            tasks,
            devices,
            apps,
            titles,
            hosts,
            holders,
            pairs,
            starts,
            ..
        } = self;
        if let Some(&(_, latest)) = starts.iter().max() {
            report.utc_offset_minutes = latest;
        }
        report.zone_changes = ZoneChange::between(starts);
        report.idle_secs = report
            .tracked_secs
            .saturating_sub(report.active_secs + report.passive_secs);
        report.activity_pct = percent(report.active_secs, report.tracked_secs);
        if let (Some(first), Some(last)) = (report.first_activity, report.last_activity) {
            let span = u64::try_from((last - first).num_seconds()).unwrap_or(0);
            report.away_secs = span.saturating_sub(report.tracked_secs);
        }
        report.tasks = ranked(tasks, usize::MAX, |task_id, u| TaskUsage {
            task_id: task_id.to_string(),
            tracked_secs: u.tracked,
            active_secs: u.active,
            activity_pct: percent(u.active, u.tracked),
            manual_secs: 0,
        });
        report.devices = ranked(devices, usize::MAX, |device, u| DeviceUsage {
            device_id: device.to_string(),
            tracked_secs: u.tracked,
        });
        report.apps = ranked(apps, MAX_APPS, |app, u| AppUsage {
            app: app.to_string(),
            class: classifier.classify(app, None),
            tracked_secs: u.tracked,
            active_secs: u.active,
        });
        report.titles = ranked(titles, MAX_TITLES, |(app, title), u| TitleUsage {
            app: app.to_string(),
            title: title.to_string(),
            tracked_secs: u.tracked,
            active_secs: u.active,
        });
        report.hosts = ranked(hosts, MAX_HOSTS, |host, u| HostUsage {
            class: classifier.classify_host(&host),
            host,
            tracked_secs: u.tracked,
            active_secs: u.active,
        });
        report.presence = ranked(holders, MAX_HOLDERS, |held_by, u| PresenceUsage {
            held_by: held_by.to_string(),
            passive_secs: u.tracked,
        });
        report.timeline.sort_by(|a, b| {
            (a.started_at, a.ended_at, &a.task_id).cmp(&(b.started_at, b.ended_at, &b.task_id))
        });
        let usage = ranked(pairs, usize::MAX, |(app, host), u| WindowUsage {
            app: app.to_string(),
            host,
            tracked_secs: u.tracked,
            active_secs: u.active,
        });
        (report, usage)
    }
}

/// The seconds [from, to) of an interval that lie inside a local day in the interval's own
/// offset, and where they start and end.
pub(super) struct Inside {
    pub from: u64,
    pub to: u64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Inside {
    /// `interval`'s seconds inside the local day `date`; `None` when it has none there.
    pub(super) fn day(interval: &Interval, date: NaiveDate) -> Option<Inside> {
        let (day_start, day_end) = local_day_bounds(date, interval.utc_offset_minutes)?;
        let start = interval.started_at.max(day_start);
        let end = interval.ended_at.min(day_end);
        let from = u64::try_from((start - interval.started_at).num_seconds()).ok()?;
        let to = u64::try_from((end - interval.started_at).num_seconds()).ok()?;
        (to > from).then_some(Inside {
            from,
            to,
            start,
            end,
        })
    }
}

/// Calls `add(segment, seconds, active)` for each window segment's seconds among [from, to) of
/// `interval`, and returns how many seconds the segments covered. Seconds an earlier segment
/// covered are attributed already: overlapping segments never count a second twice, so the
/// three classes always sum to the tracked time.
pub(super) fn segment_seconds<'i>(
    interval: &'i Interval,
    from: u64,
    to: u64,
    mut add: impl FnMut(&'i WindowSegment, u64, u64),
) -> u64 {
    let flags = interval.active.as_bytes();
    let mut cursor = from;
    let mut covered = 0;
    for segment in &interval.windows {
        let seg_from = u64::from(segment.offset).max(cursor);
        let seg_to = (u64::from(segment.offset) + u64::from(segment.seconds)).min(to);
        if seg_to <= seg_from {
            continue;
        }
        cursor = seg_to;
        covered += seg_to - seg_from;
        add(
            segment,
            seg_to - seg_from,
            count_active(flags, seg_from, seg_to),
        );
    }
    covered
}

/// One group's time, largest first and then by the group's key: every list of the report.
pub(super) fn ranked<K: Ord, T>(
    groups: HashMap<K, Usage>,
    limit: usize,
    row: impl Fn(K, Usage) -> T,
) -> Vec<T> {
    let mut groups: Vec<(K, Usage)> = groups.into_iter().collect();
    groups.sort_by(|(ka, a), (kb, b)| b.tracked.cmp(&a.tracked).then_with(|| ka.cmp(kb)));
    groups.truncate(limit);
    groups.into_iter().map(|(k, u)| row(k, u)).collect()
}

/// Applies `classifier` to a report kept as an aggregate: the productive / unproductive /
/// neutral split (from `usage`; seconds no window covered stay neutral) and the class of each
/// app and host. Gives what [`daily_report`] gives from the raw intervals under the same rules.
pub fn reclassify(report: &mut DailyReport, usage: &[WindowUsage], classifier: &Classifier) {
    (
        report.productive_secs,
        report.unproductive_secs,
        report.neutral_secs,
    ) = class_split(usage, report.tracked_secs, classifier);
    for app in &mut report.apps {
        app.class = classifier.classify(&app.app, None);
    }
    for host in &mut report.hosts {
        host.class = classifier.classify_host(&host.host);
    }
}

/// The productive, unproductive and neutral seconds of a day of `tracked_secs` whose time per
/// (app, host) pair is `usage`, under `classifier`: seconds no window covered stay neutral.
pub fn class_split(
    usage: &[WindowUsage],
    tracked_secs: u64,
    classifier: &Classifier,
) -> (u64, u64, u64) {
    let (mut productive, mut unproductive) = (0, 0);
    for u in usage {
        match classifier.classify(&u.app, u.host.as_deref()) {
            Class::Productive => productive += u.tracked_secs,
            Class::Unproductive => unproductive += u.tracked_secs,
            Class::Neutral => {}
        }
    }
    let neutral = tracked_secs.saturating_sub(productive + unproductive);
    (productive, unproductive, neutral)
}

/// Seconds marked `'1'` among flags [from, to); flags past the end of a short string are idle.
pub(super) fn count_active(flags: &[u8], from: u64, to: u64) -> u64 {
    let clamp = |i: u64| usize::try_from(i).unwrap_or(usize::MAX).min(flags.len());
    flags[clamp(from)..clamp(to)]
        .iter()
        .filter(|&&b| b == b'1')
        .count() as u64
}

/// Adds `counts * inside / duration`, floored per counter, so a day never claims input that
/// happened in the neighbouring day. An interval wholly inside adds its counts exactly.
fn add_prorated(total: &mut Counts, counts: &Counts, inside: u64, duration: u64) {
    if inside >= duration {
        total.add(counts);
        return;
    }
    let share = |count: u64| (u128::from(count) * u128::from(inside) / u128::from(duration)) as u64;
    total.add(&Counts {
        keys: share(counts.keys),
        clicks: share(counts.clicks),
        scrolls: share(counts.scrolls),
        moves: share(counts.moves),
    });
}

#[cfg(test)]
mod tests;
