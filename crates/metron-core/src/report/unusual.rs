//! Unusual activity (issue 15): the patterns a mouse jiggler, an auto-clicker or a replayed
//! macro leave in a day, each flagged with its evidence and a threshold admins can change.
//!
//! Like the rest of the report math this reads the stored per-second data, so a changed
//! threshold re-assesses history. The day is first cut into its 1,440 local minutes (tracked,
//! active and injected seconds, input counts at their interval's rate, the window in front);
//! every rule then looks at runs of *whole* tracked minutes: a minute with any untracked
//! second is a break. Runs do not cross the local midnight. docs/REPORTS.md gives the rules
//! to managers in words; a flag is evidence to look at, not a verdict.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use super::day::{local_day_bounds, percent, widest_day_bounds};
use crate::model::Interval;

/// Minutes in the local day the report covers.
const DAY_MINUTES: usize = 24 * 60;
/// Spans listed per flag; a day rarely has more than a few, and the list stays readable.
pub const MAX_SPANS: usize = 20;
/// The longest run a rule may ask for: a whole day.
pub const MAX_RULE_MINUTES: u32 = DAY_MINUTES as u32;

/// The organization's thresholds (admins change them with `PUT /api/v1/unusual/thresholds`).
/// The defaults are issue 15's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// `high_activity`: at least this activity % ...
    pub high_activity_pct: u32,
    /// ... over at least this many minutes without a break.
    pub high_activity_minutes: u32,
    /// `steady_activity`: every minute's activity % within this many points of each other ...
    pub steady_spread_pct: u32,
    /// ... over at least this many minutes (with input in each).
    pub steady_minutes: u32,
    /// `mouse_only`: mouse movement in every minute with at most this many key presses a
    /// minute ...
    pub mouse_only_max_keys_per_minute: u32,
    /// ... over at least this many minutes.
    pub mouse_only_minutes: u32,
    /// `same_window`: no window change, with input in every minute, for this many minutes.
    pub same_window_minutes: u32,
    /// `injected_input`: at least this many seconds with injected input in the day.
    pub injected_min_secs: u32,
    /// `long_passive`: passive presence (an idle inhibitor held, no input) in every second of
    /// this many minutes without a break.
    pub long_passive_minutes: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            high_activity_pct: 95,
            high_activity_minutes: 45,
            steady_spread_pct: 4,
            steady_minutes: 60,
            mouse_only_max_keys_per_minute: 2,
            mouse_only_minutes: 30,
            same_window_minutes: 30,
            injected_min_secs: 1,
            long_passive_minutes: 90,
        }
    }
}

impl Thresholds {
    /// Percentages within 0..=100, runs of 1 minute up to a day, an injected threshold of at
    /// least 1 s (0 would flag every day) and at most a day.
    pub fn validate(&self) -> Result<(), String> {
        for (name, pct) in [
            ("high_activity_pct", self.high_activity_pct),
            ("steady_spread_pct", self.steady_spread_pct),
        ] {
            if pct > 100 {
                return Err(format!("{name} {pct} is outside 0..=100"));
            }
        }
        for (name, minutes) in [
            ("high_activity_minutes", self.high_activity_minutes),
            ("steady_minutes", self.steady_minutes),
            ("mouse_only_minutes", self.mouse_only_minutes),
            ("same_window_minutes", self.same_window_minutes),
            ("long_passive_minutes", self.long_passive_minutes),
        ] {
            if !(1..=MAX_RULE_MINUTES).contains(&minutes) {
                return Err(format!(
                    "{name} {minutes} is outside 1..={MAX_RULE_MINUTES}"
                ));
            }
        }
        if self.mouse_only_max_keys_per_minute > 60 * 1000 {
            return Err("mouse_only_max_keys_per_minute is above 60000".into());
        }
        if !(1..=86_400).contains(&self.injected_min_secs) {
            return Err(format!(
                "injected_min_secs {} is outside 1..=86400",
                self.injected_min_secs
            ));
        }
        Ok(())
    }
}

/// What a flag is about. Serialized in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// Near-constant input for a long stretch: people pause; a jiggler doesn't.
    HighActivity,
    /// Every minute's activity nearly the same for an hour: input on a timer.
    SteadyActivity,
    /// The mouse moving every minute with next to no typing.
    MouseOnly,
    /// One window in front, with input every minute, for a long stretch.
    SameWindow,
    /// Input from a program (XTEST, SendInput) rather than a device.
    InjectedInput,
    /// A long stretch without any input that an idle inhibitor kept tracked: a call or a
    /// video, or a program holding the inhibitor to keep tracking going. The span names who
    /// held it.
    LongPassive,
    /// Intervals whose UTC offset is not the one their device's reported time zone had at
    /// that moment: a clock or a client set to move time between days ([`zone_mismatch`]).
    ZoneMismatch,
}

/// The day's unusual activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Unusual {
    /// Of the active seconds whose input was told apart by origin, the % with injected input;
    /// null when no second was (older clients, Wayland, X11 without XInput 2).
    pub injected_pct: Option<u32>,
    /// The flags the day trips, in the order of [`FlagKind`]; empty when none.
    pub flags: Vec<Flag>,
    /// The thresholds the day was assessed by.
    pub thresholds: Thresholds,
}

impl Unusual {
    /// Drops the window titles from the evidence: a day kept past retention keeps no title
    /// (E6), and `same_window` then names the app alone.
    pub fn forget_titles(&mut self) {
        for span in self.flags.iter_mut().flat_map(|f| f.spans.iter_mut()) {
            span.title = None;
        }
    }
}

/// One tripped rule and where it tripped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Flag {
    pub kind: FlagKind,
    /// The rule in words, with the thresholds applied ("at least 95 % activity for 45 min
    /// without a break").
    pub rule: String,
    /// The stretches that trip it, in time order; at most [`MAX_SPANS`].
    pub spans: Vec<Span>,
    /// Spans beyond [`MAX_SPANS`], not listed.
    pub more_spans: u32,
}

/// A stretch of the day and what happened in it: the evidence a manager reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Span {
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// Tracked seconds in the span.
    pub tracked_secs: u64,
    /// `round(100 * active / tracked)` over the span.
    pub activity_pct: u32,
    /// The least and most active of its minutes (% of the minute).
    pub min_minute_pct: u32,
    pub max_minute_pct: u32,
    /// Key presses and mouse moves in the span (each interval's counts spread evenly over its
    /// seconds); null when the sensor did not count input.
    pub keys: Option<u64>,
    pub moves: Option<u64>,
    /// Seconds with injected input in the span.
    pub injected_secs: u64,
    /// The window in front, for `same_window` (as stored: titles may be withheld).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// For `zone_mismatch`: the offset the intervals carried, and the one their device's time
    /// zone had (minutes east of UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset_minutes: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_offset_minutes: Option<i32>,
    /// For `long_passive`: who held the idle inhibitor, in the order they first did (names
    /// as the agent recorded them; passive seconds of older clients name nobody).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_by: Vec<String>,
}

/// Minutes [from, to) of the local day, by index.
type Minutes = (usize, usize);

/// Input counts are added up in 2^-20ths of a press (a second's share of its interval's
/// counts, floored): integers add up to the same total in any order, so a day added up
/// interval by interval as they arrive ([`super::running`]) trips exactly what the day computed
/// at once does.
const COUNT_ONE: u64 = 1 << 20;

/// Counts in [`COUNT_ONE`]ths, added up and rounded to whole presses.
fn presses(counts: impl Iterator<Item = u64>) -> u64 {
    let total: u128 = counts.map(u128::from).sum();
    u64::try_from((total + u128::from(COUNT_ONE / 2)) / u128::from(COUNT_ONE)).unwrap_or(u64::MAX)
}

/// One local minute of the day.
#[derive(Debug, Clone, Copy, Default)]
struct Minute {
    tracked: u16,
    active: u16,
    injected: u16,
    /// Seconds whose input was counted, and the counts at their interval's rate (in
    /// [`COUNT_ONE`]ths).
    counted: u16,
    keys: u64,
    moves: u64,
    window: Window,
    /// Passive seconds, and the holders named in them (indexes into `Day::holders`).
    passive: u16,
    holders: [Option<u32>; 2],
}

/// The window in front for a whole minute, if one was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Window {
    #[default]
    Unseen,
    One(u32),
    /// More than one window, or a second no window covered.
    Broken,
}

impl Minute {
    fn whole(&self) -> bool {
        self.tracked >= 60
    }

    /// Notes a holder of the minute's passive seconds: the first two are kept, enough to
    /// show a hand-over within a minute.
    fn held_by(&mut self, holder: u32) {
        match self.holders {
            [Some(a), _] if a == holder => {}
            [None, _] => self.holders[0] = Some(holder),
            [_, None] => self.holders[1] = Some(holder),
            _ => {}
        }
    }

    fn see(&mut self, window: Option<u32>) {
        self.window = match (self.window, window) {
            (Window::Unseen, Some(w)) => Window::One(w),
            (Window::One(a), Some(b)) if a == b => Window::One(a),
            _ => Window::Broken,
        };
    }
}

/// Assesses one person's local day `date` from their `intervals`, each cut in its own offset
/// as [`super::daily_report`] cuts it (`utc_offset_minutes` is the day's when it has none).
/// Tolerates malformed intervals as [`super::daily_report`] does: what can't be read counts
/// as no input.
pub fn assess(
    intervals: &[Interval],
    date: NaiveDate,
    utc_offset_minutes: i32,
    thresholds: &Thresholds,
) -> Unusual {
    let day = local_day_bounds(date, utc_offset_minutes)
        .and_then(|_| Day::new(date))
        .map(|mut day| {
            for interval in intervals {
                day.add(interval);
            }
            day
        });
    match day {
        Some(day) => day.assess(thresholds),
        None => Unusual {
            injected_pct: None,
            flags: Vec::new(),
            thresholds: *thresholds,
        },
    }
}

impl Day {
    /// The day's unusual activity under `thresholds`.
    pub fn assess(&self, thresholds: &Thresholds) -> Unusual {
        let t = thresholds;
        let mut flags = Vec::new();
        for (kind, runs) in self.tripped(t) {
            if runs.is_empty() {
                continue;
            }
            let rule = match kind {
                FlagKind::HighActivity => format!(
                    "at least {} % activity for {} min without a break",
                    t.high_activity_pct, t.high_activity_minutes
                ),
                FlagKind::SteadyActivity => format!(
                    "every minute's activity within {} points for {} min",
                    t.steady_spread_pct, t.steady_minutes
                ),
                FlagKind::MouseOnly => format!(
                    "mouse moves with at most {} key presses a minute for {} min",
                    t.mouse_only_max_keys_per_minute, t.mouse_only_minutes
                ),
                FlagKind::SameWindow => format!(
                    "no window change, with input every minute, for {} min",
                    t.same_window_minutes
                ),
                FlagKind::InjectedInput => format!(
                    "at least {} s of injected input in tracked time",
                    t.injected_min_secs
                ),
                FlagKind::LongPassive => format!(
                    "{} min without input kept tracked by an idle inhibitor",
                    t.long_passive_minutes
                ),
                FlagKind::ZoneMismatch => unreachable!("not a rule of the minutes"),
            };
            let more_spans = runs.len().saturating_sub(MAX_SPANS) as u32;
            let spans = runs
                .into_iter()
                .take(MAX_SPANS)
                .map(|(from, to)| self.span(kind, from, to))
                .collect();
            flags.push(Flag {
                kind,
                rule,
                spans,
                more_spans,
            });
        }
        Unusual {
            injected_pct: self.injected_pct(),
            flags,
            thresholds: *thresholds,
        }
    }

    /// The kinds of flag the day trips under `thresholds`, in [`assess`]'s order, without
    /// their evidence: what a line of the team's day shows.
    pub fn flag_kinds(&self, thresholds: &Thresholds) -> Vec<FlagKind> {
        self.tripped(thresholds)
            .into_iter()
            .filter(|(_, runs)| !runs.is_empty())
            .map(|(kind, _)| kind)
            .collect()
    }

    /// Of the active seconds whose origin was told apart, the % with injected input.
    pub fn injected_pct(&self) -> Option<u32> {
        (self.origin_active > 0).then(|| percent(self.injected_total, self.origin_active))
    }

    /// Each rule of the minutes, in the order of [`FlagKind`], and the minutes that trip it.
    fn tripped(&self, t: &Thresholds) -> [(FlagKind, Vec<Minutes>); 6] {
        [
            (
                FlagKind::HighActivity,
                self.high_activity(t.high_activity_pct, t.high_activity_minutes),
            ),
            (
                FlagKind::SteadyActivity,
                self.steady(t.steady_spread_pct, t.steady_minutes),
            ),
            (
                FlagKind::MouseOnly,
                self.mouse_only(t.mouse_only_max_keys_per_minute, t.mouse_only_minutes),
            ),
            (
                FlagKind::SameWindow,
                self.same_window(t.same_window_minutes),
            ),
            (FlagKind::InjectedInput, self.injected(t.injected_min_secs)),
            (
                FlagKind::LongPassive,
                self.long_passive(t.long_passive_minutes),
            ),
        ]
    }
}

/// The `zone_mismatch` flag of the local day `date`: the day's stretches of intervals whose
/// offset differs from `expected(interval)`, the offset their device's reported time zone had
/// at their start (`None`: not known, no verdict). A DST change or a trip the device reported
/// matches; a client that stamps another offset to move time between days doesn't.
pub fn zone_mismatch(
    intervals: &[Interval],
    date: NaiveDate,
    expected: impl Fn(&Interval) -> Option<i32>,
) -> Option<Flag> {
    let mut wrong: Vec<(&Interval, i32)> = intervals
        .iter()
        .filter_map(|i| {
            let want = expected(i)?;
            (want != i.utc_offset_minutes).then_some((i, want))
        })
        .collect();
    wrong.sort_by_key(|(i, _)| i.started_at);
    let mut spans: Vec<(Span, u64)> = Vec::new();
    for (interval, want) in wrong {
        let Some((day_start, day_end)) = local_day_bounds(date, interval.utc_offset_minutes) else {
            continue;
        };
        let (start, end) = (
            interval.started_at.max(day_start),
            interval.ended_at.min(day_end),
        );
        let (Ok(from), Ok(to)) = (
            usize::try_from((start - interval.started_at).num_seconds()),
            usize::try_from((end - interval.started_at).num_seconds()),
        ) else {
            continue;
        };
        if to <= from {
            continue;
        }
        let active = interval
            .active
            .as_bytes()
            .get(from..to.min(interval.active.len()))
            .map_or(0, |f| f.iter().filter(|&&b| b == b'1').count()) as u64;
        let tracked = (to - from) as u64;
        // Back-to-back intervals with the same pair of offsets are one stretch.
        if let Some((last, last_active)) = spans.last_mut() {
            if last.ended_at == start
                && last.utc_offset_minutes == Some(interval.utc_offset_minutes)
                && last.expected_offset_minutes == Some(want)
            {
                last.ended_at = end;
                last.tracked_secs += tracked;
                *last_active += active;
                last.activity_pct = percent(*last_active, last.tracked_secs);
                continue;
            }
        }
        spans.push((
            Span {
                started_at: start,
                ended_at: end,
                tracked_secs: tracked,
                activity_pct: percent(active, tracked),
                min_minute_pct: 0,
                max_minute_pct: 0,
                keys: None,
                moves: None,
                injected_secs: 0,
                app: None,
                title: None,
                utc_offset_minutes: Some(interval.utc_offset_minutes),
                expected_offset_minutes: Some(want),
                held_by: Vec::new(),
            },
            active,
        ));
    }
    if spans.is_empty() {
        return None;
    }
    let more_spans = spans.len().saturating_sub(MAX_SPANS) as u32;
    Some(Flag {
        kind: FlagKind::ZoneMismatch,
        rule: "intervals stamped with another UTC offset than their device's time zone had".into(),
        spans: spans.into_iter().take(MAX_SPANS).map(|(s, _)| s).collect(),
        more_spans,
    })
}

/// The day as minutes, with the windows they saw, added up one interval at a time in any
/// order. The minutes run over the widest UTC range the date covers in any offset (52 hours):
/// each interval fills the minutes of its own day. Only the minutes from the first to the last
/// one touched are held (a working day is some 500 of the 3,120), and the names it holds are
/// its own: the running days of a team ([`super::running`]) keep one per person.
#[derive(Debug, Clone)]
pub struct Day {
    date: NaiveDate,
    start: DateTime<Utc>,
    /// How many minutes of the widest range there are.
    span: usize,
    /// The index of `minutes[0]` in the widest range.
    base: usize,
    minutes: Vec<Minute>,
    /// The windows seen, each once (app, title, URL), and their indexes by a hash of the three.
    windows: Vec<(String, String, Option<String>)>,
    window_ids: HashMap<u64, Vec<u32>>,
    /// The names that held idle inhibitors, each once.
    holders: Vec<String>,
    /// Active seconds of intervals that told origins apart, and of those the injected ones.
    origin_active: u64,
    injected_total: u64,
}

/// The same hash of a window's names whether they are borrowed or owned.
type NameHasher = std::hash::BuildHasherDefault<std::collections::hash_map::DefaultHasher>;

impl Day {
    /// An empty day of `date`; `None` for a date out of service.
    pub fn new(date: NaiveDate) -> Option<Day> {
        let (start, widest_end) = widest_day_bounds(date)?;
        Some(Day {
            date,
            start,
            span: usize::try_from((widest_end - start).num_minutes()).ok()?,
            base: 0,
            minutes: Vec::new(),
            windows: Vec::new(),
            window_ids: HashMap::new(),
            holders: Vec::new(),
            origin_active: 0,
            injected_total: 0,
        })
    }

    /// The minute at `index` of the widest range, held from now on; `None` outside it.
    fn minute(&mut self, index: usize) -> Option<&mut Minute> {
        if index >= self.span {
            return None;
        }
        if self.minutes.is_empty() {
            self.base = index;
        } else if index < self.base {
            let more = self.base - index;
            self.minutes
                .splice(0..0, std::iter::repeat_n(Minute::default(), more));
            self.base = index;
        }
        let at = index - self.base;
        if at >= self.minutes.len() {
            self.minutes.resize(at + 1, Minute::default());
        }
        self.minutes.get_mut(at)
    }

    /// The id of a window, given one the first time it is seen.
    fn window_id(&mut self, app: &str, title: &str, url: Option<&str>) -> u32 {
        use std::hash::BuildHasher;
        let hash = NameHasher::default().hash_one((app, title, url));
        let ids = self.window_ids.entry(hash).or_default();
        let windows = &mut self.windows;
        if let Some(&id) = ids.iter().find(|&&id| {
            let (a, t, u) = &windows[id as usize];
            a == app && t == title && u.as_deref() == url
        }) {
            return id;
        }
        let id = windows.len() as u32;
        windows.push((app.to_string(), title.to_string(), url.map(str::to_string)));
        ids.push(id);
        id
    }

    /// The id of a holder of idle inhibitors, given one the first time it is seen.
    fn holder_id(&mut self, name: &str) -> u32 {
        match self.holders.iter().position(|h| h == name) {
            Some(id) => id as u32,
            None => {
                self.holders.push(name.to_string());
                (self.holders.len() - 1) as u32
            }
        }
    }

    /// Adds the seconds of `interval` that lie in the day in the interval's own offset.
    pub fn add(&mut self, interval: &Interval) {
        let duration = interval.duration_secs();
        if duration <= 0 {
            return;
        }
        let Some((own_start, own_end)) = local_day_bounds(self.date, interval.utc_offset_minutes)
        else {
            return;
        };
        let from = (own_start - interval.started_at).num_seconds().max(0);
        let to = (own_end - interval.started_at).num_seconds().min(duration);
        if to <= from {
            return;
        }
        let active = interval.active.as_bytes();
        let injected = interval.injected.as_ref().map(|s| s.as_bytes());
        let measured = interval.counts_measured;
        let rate = |count: u64| {
            u64::try_from((u128::from(count) * u128::from(COUNT_ONE)) / duration as u128)
                .unwrap_or(u64::MAX)
        };
        let (keys_rate, moves_rate) = (rate(interval.counts.keys), rate(interval.counts.moves));
        // The window of each second: segments are in order and don't overlap (E4), but a
        // malformed interval only loses its window, never panics. A segment's id is looked
        // up once, not for each of its seconds (a day of a thousand people is 29 million
        // seconds: hashing their names was a third of the team's day).
        let mut segments = interval.windows.iter().enumerate().peekable();
        // (segment index, window id) of the segment last looked up.
        let mut current: Option<(usize, u32)> = None;
        let passive = interval.passive.as_ref().map(|s| s.as_bytes());
        let mut stretches = interval.presence.iter().enumerate().peekable();
        // The holder of the stretch last looked up, by its place in `presence`.
        let mut holder: Option<(usize, u32)> = None;
        let first_second = (interval.started_at - self.start).num_seconds();
        for s in from..to {
            let second_of_day = first_second + s;
            let Some(index) = usize::try_from(second_of_day / 60)
                .ok()
                .filter(|&i| i < self.span)
            else {
                continue;
            };
            let flag = |flags: &[u8]| flags.get(s as usize) == Some(&b'1');
            let is_active = flag(active);
            while segments
                .peek()
                .is_some_and(|(_, w)| i64::from(w.offset) + i64::from(w.seconds) <= s)
            {
                segments.next();
            }
            let window = segments
                .peek()
                .filter(|(_, w)| i64::from(w.offset) <= s)
                .map(|&(k, w)| match current {
                    Some((seen, id)) if seen == k => id,
                    _ => {
                        let id = self.window_id(&w.app, &w.title, w.url.as_deref());
                        current = Some((k, id));
                        id
                    }
                });
            let is_passive = passive.is_some_and(flag);
            let held = if is_passive {
                while stretches
                    .peek()
                    .is_some_and(|(_, p)| i64::from(p.offset) + i64::from(p.seconds) <= s)
                {
                    stretches.next();
                }
                stretches
                    .peek()
                    .filter(|(_, p)| i64::from(p.offset) <= s)
                    .map(|&(k, p)| match holder {
                        Some((seen, id)) if seen == k => id,
                        _ => {
                            let id = self.holder_id(&p.held_by);
                            holder = Some((k, id));
                            id
                        }
                    })
            } else {
                None
            };
            if let Some(injected) = injected {
                let is_injected = flag(injected);
                self.origin_active += u64::from(is_active);
                self.injected_total += u64::from(is_injected && is_active);
            }
            let Some(minute) = self.minute(index) else {
                continue;
            };
            minute.tracked = minute.tracked.saturating_add(1);
            minute.active = minute.active.saturating_add(u16::from(is_active));
            if let Some(injected) = injected {
                minute.injected = minute.injected.saturating_add(u16::from(flag(injected)));
            }
            if measured {
                minute.counted = minute.counted.saturating_add(1);
                minute.keys = minute.keys.saturating_add(keys_rate);
                minute.moves = minute.moves.saturating_add(moves_rate);
            }
            minute.see(window);
            if is_passive {
                minute.passive = minute.passive.saturating_add(1);
                if let Some(id) = held {
                    minute.held_by(id);
                }
            }
        }
    }

    /// Runs of consecutive whole minutes where `ok` holds, as [from, to) minute indexes.
    fn runs(&self, ok: impl Fn(&Minute) -> bool) -> Vec<Minutes> {
        let mut runs = Vec::new();
        let mut from = None;
        for (i, m) in self.minutes.iter().enumerate() {
            match (m.whole() && ok(m), from) {
                (true, None) => from = Some(i),
                (false, Some(f)) => {
                    runs.push((f, i));
                    from = None;
                }
                _ => {}
            }
        }
        if let Some(f) = from {
            runs.push((f, self.minutes.len()));
        }
        runs
    }

    /// The minutes covered by some window of `len` minutes inside a run for which `ok` holds,
    /// merged into spans: a sliding window over each run.
    fn windows_of(
        &self,
        len: u32,
        runs: Vec<Minutes>,
        mut ok: impl FnMut(usize, usize) -> bool,
    ) -> Vec<Minutes> {
        let len = len as usize;
        let mut spans: Vec<Minutes> = Vec::new();
        for (from, to) in runs {
            if to - from < len {
                continue;
            }
            for start in from..=to - len {
                if !ok(start, start + len) {
                    continue;
                }
                match spans.last_mut() {
                    Some(last) if last.1 >= start => last.1 = start + len,
                    _ => spans.push((start, start + len)),
                }
            }
        }
        spans
    }

    fn high_activity(&self, pct: u32, len: u32) -> Vec<Minutes> {
        let mut sums = vec![0u64; self.minutes.len() + 1];
        for (i, m) in self.minutes.iter().enumerate() {
            sums[i + 1] = sums[i] + u64::from(m.active);
        }
        let runs = self.runs(|_| true);
        self.windows_of(len, runs, |from, to| {
            let active = sums[to] - sums[from];
            let tracked = 60 * (to - from) as u64;
            100 * active >= u64::from(pct) * tracked
        })
    }

    fn steady(&self, spread_pct: u32, len: u32) -> Vec<Minutes> {
        let runs = self.runs(|m| m.active > 0);
        // Sliding min and max of the minutes' active seconds (monotonic queues of indexes).
        let (mut lows, mut highs) = (VecDeque::new(), VecDeque::<usize>::new());
        let mut next = 0;
        let active = |i: usize| u32::from(self.minutes[i].active);
        self.windows_of(len, runs, |from, to| {
            if next < from || next > to {
                lows.clear();
                highs.clear();
                next = from;
            }
            while next < to {
                while lows.back().is_some_and(|&j| active(j) >= active(next)) {
                    lows.pop_back();
                }
                lows.push_back(next);
                while highs.back().is_some_and(|&j| active(j) <= active(next)) {
                    highs.pop_back();
                }
                highs.push_back(next);
                next += 1;
            }
            while lows.front().is_some_and(|&j| j < from) {
                lows.pop_front();
            }
            while highs.front().is_some_and(|&j| j < from) {
                highs.pop_front();
            }
            let (low, high) = (active(lows[0]), active(highs[0]));
            // Within `spread_pct` points of a minute: 100 * (high - low) / 60 <= spread.
            100 * (high - low) <= spread_pct * 60
        })
    }

    fn mouse_only(&self, max_keys: u32, len: u32) -> Vec<Minutes> {
        // A rate spread over seconds leaves rounding dust: half a key press is no press.
        let half = COUNT_ONE / 2;
        let runs = self.runs(|m| {
            m.counted >= 60 && m.moves >= half && m.keys <= u64::from(max_keys) * COUNT_ONE + half
        });
        self.windows_of(len, runs, |_, _| true)
    }

    fn same_window(&self, len: u32) -> Vec<Minutes> {
        let mut runs = Vec::new();
        for (from, to) in self.runs(|m| m.active > 0 && matches!(m.window, Window::One(_))) {
            // Split each run where the window changes between minutes.
            let mut start = from;
            for i in from + 1..to {
                if self.minutes[i].window != self.minutes[i - 1].window {
                    runs.push((start, i));
                    start = i;
                }
            }
            runs.push((start, to));
        }
        self.windows_of(len, runs, |_, _| true)
    }

    /// Minutes with injected input, whole or not, merged where they touch; none unless the
    /// day's injected seconds reach `min_secs`.
    fn injected(&self, min_secs: u32) -> Vec<Minutes> {
        let total: u64 = self.minutes.iter().map(|m| u64::from(m.injected)).sum();
        if total < u64::from(min_secs) {
            return Vec::new();
        }
        let mut spans: Vec<Minutes> = Vec::new();
        for (i, m) in self.minutes.iter().enumerate() {
            if m.injected == 0 {
                continue;
            }
            match spans.last_mut() {
                Some(last) if last.1 == i => last.1 = i + 1,
                _ => spans.push((i, i + 1)),
            }
        }
        spans
    }

    /// Whole minutes passive in every second (so without input), merged where they touch.
    fn long_passive(&self, len: u32) -> Vec<Minutes> {
        let runs = self.runs(|m| m.passive >= 60);
        self.windows_of(len, runs, |_, _| true)
    }

    /// The holders named in `minutes`, in the order they first held.
    fn holders_in(&self, minutes: &[Minute]) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for id in minutes.iter().flat_map(|m| m.holders).flatten() {
            let name = &self.holders[id as usize];
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        names
    }

    /// The evidence of minutes [from, to).
    fn span(&self, kind: FlagKind, from: usize, to: usize) -> Span {
        let minutes = &self.minutes[from..to];
        let tracked: u64 = minutes.iter().map(|m| u64::from(m.tracked)).sum();
        let active: u64 = minutes.iter().map(|m| u64::from(m.active)).sum();
        let pct = |m: &Minute| percent(m.active.into(), m.tracked.max(1).into());
        let tracked_minutes = minutes.iter().filter(|m| m.tracked > 0);
        let counted = minutes.iter().any(|m| m.counted > 0);
        let window = match (kind, minutes[0].window) {
            (FlagKind::SameWindow, Window::One(id)) => Some(&self.windows[id as usize]),
            _ => None,
        };
        // Spans are whole local minutes; `tracked_secs` says how much of them was tracked.
        Span {
            started_at: self.start + Duration::minutes((self.base + from) as i64),
            ended_at: self.start + Duration::minutes((self.base + to) as i64),
            tracked_secs: tracked,
            activity_pct: percent(active, tracked),
            min_minute_pct: tracked_minutes.clone().map(pct).min().unwrap_or(0),
            max_minute_pct: tracked_minutes.map(pct).max().unwrap_or(0),
            keys: counted.then(|| presses(minutes.iter().map(|m| m.keys))),
            moves: counted.then(|| presses(minutes.iter().map(|m| m.moves))),
            injected_secs: minutes.iter().map(|m| u64::from(m.injected)).sum(),
            app: window.map(|(app, _, _)| app.clone()),
            title: window.map(|(_, title, _)| title.clone()),
            utc_offset_minutes: None,
            expected_offset_minutes: None,
            held_by: if kind == FlagKind::LongPassive {
                self.holders_in(minutes)
            } else {
                Vec::new()
            },
        }
    }
}

#[cfg(test)]
mod tests;
