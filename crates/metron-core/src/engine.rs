//! The tracking engine: a state machine advanced once per second (SPEC E1-E5).
//!
//! The engine never reads a clock. Every call carries a [`Now`]: a monotonic instant (what
//! durations are measured with), the wall time (only used to stamp where a tracking session
//! begins) and the UTC offset. Within one tracking session every interval's stamps are derived
//! from the monotonic clock, so a wall-clock jump (NTP, a manual change, a time zone or DST
//! change) can never produce an overlap, a gap or a negative duration (E5).
//!
//! A session is the stretch from Start to the moment tracking stops (stop, idle, sleep, quit).
//! Inside it intervals are contiguous: each opens exactly where the previous one closed.

use chrono::{DateTime, Utc};
use rand::RngCore;
use std::ops::RangeInclusive;
use std::time::Duration;
use uuid::Uuid;

use crate::events::{EventType, Hid, HidKind, HidThinner, Origin, WindowEvents};
use crate::model::{
    Counts, EndReason, Input, Interval, IntervalEvent, PresenceStretch, Sample, WindowInfo,
    WindowSegment, MAX_HELD_BY, MAX_PRESENCE_STRETCHES,
};
use crate::planner::{IntervalPlanner, PlannerError, DEFAULT_RANGE};
use crate::privacy::PrivacyPolicy;

/// The three clocks the engine is told about at every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Time since an arbitrary origin on a clock that never goes back.
    pub mono: Duration,
    /// The wall clock, UTC.
    pub wall: DateTime<Utc>,
    /// The session's local offset from UTC at this instant, in minutes.
    pub utc_offset_minutes: i32,
}

/// The longest stretch of passive presence (no input under an idle inhibitor) the idle stop
/// waits for: 2 hours. A forgotten paused video must not keep tracking going all night.
pub const MAX_PASSIVE_LIMIT_SECS: u32 = 2 * 3600;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// E2: planned interval lengths are drawn from this range (seconds, inclusive).
    pub interval_range: RangeInclusive<u32>,
    /// E3: this many consecutive seconds without input stop tracking.
    pub idle_limit_secs: u32,
    /// How long seconds without input count as passive presence while an idle inhibitor is
    /// held (a call, a video) before the idle stop counts again; at most
    /// [`MAX_PASSIVE_LIMIT_SECS`] (a larger value is read as that).
    pub passive_limit_secs: u32,
    /// E3: a gap between ticks larger than this means the machine slept.
    pub sleep_gap: Duration,
    /// E6: applied to every window sample.
    pub privacy: PrivacyPolicy,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            interval_range: DEFAULT_RANGE,
            idle_limit_secs: 300,
            passive_limit_secs: MAX_PASSIVE_LIMIT_SECS,
            sleep_gap: Duration::from_secs(5),
            privacy: PrivacyPolicy::default(),
        }
    }
}

/// Why tracking stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopCause {
    /// The user pressed Stop.
    User,
    /// E3: 300 s without input. The user should be told.
    Idle,
    /// E3: the machine slept or the process was frozen. The user should be told.
    Sleep,
    /// The app is quitting.
    Quit,
}

/// How far ahead of the wall clock the floor may lie and still be honoured: the server accepts
/// intervals ending up to 5 minutes in the future (clock skew), so a floor within that keeps
/// intervals acceptable, and one beyond it would stamp every interval of the session into a
/// future the server refuses (a clock that once ran ahead, then was corrected).
pub const FLOOR_LEEWAY_SECS: i64 = 300;

/// What the engine reports back from a command or a tick.
#[derive(Debug, Clone, PartialEq)]
// An Event lives for one tick and a Closed one comes once a minute: boxing the interval
// would buy nothing but a pointer chase at every match.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// Tracking of a task began (on Start, or on a switch to another task).
    Started { task_id: String },
    /// The floor (where the last recorded interval ended) was more than
    /// [`FLOOR_LEEWAY_SECS`] ahead of the wall clock at Start, so the session is stamped from
    /// the wall clock instead. The caller should warn: either the clock was set back (the new
    /// intervals may overlap old ones, which the server then refuses as `overlap`) or the old
    /// intervals were stamped by a clock that ran ahead.
    FloorIgnored {
        floor: DateTime<Utc>,
        wall: DateTime<Utc>,
    },
    /// An interval closed: the caller must commit it to the store (S1).
    Closed(Interval),
    /// Tracking stopped.
    Stopped(StopCause),
}

/// What the UI shows while tracking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub task_id: String,
    /// Seconds tracked since Start (the session counter).
    pub session_secs: u64,
    /// Seconds in the still-open interval, and how many of them had input.
    pub interval_secs: u32,
    pub interval_active_secs: u32,
}

/// The interval being filled.
#[derive(Clone)]
struct OpenInterval {
    id: Uuid,
    task_id: String,
    /// Seconds since the session anchor at which this interval starts.
    start_sec: u64,
    planned_secs: u32,
    utc_offset_minutes: i32,
    active: String,
    counts: Counts,
    counts_measured: bool,
    windows: Vec<WindowSegment>,
    /// Per-second injected flags while every second told origins apart; `None` once one
    /// did not.
    injected: Option<String>,
    injected_counts: Counts,
    /// Per-second passive flags, begun at the first passive second (empty: none so far).
    passive: String,
    /// Who held the inhibitor over the passive seconds, stretch by stretch.
    presence: Vec<PresenceStretch>,
    events: Vec<IntervalEvent>,
}

impl OpenInterval {
    fn len(&self) -> u32 {
        self.active.len() as u32
    }

    /// One second not counted makes the interval's counts "not measured": a partial total
    /// would read as a lower figure than the truth.
    fn add_input(&mut self, input: &Input) {
        match input.counts() {
            Some(counts) => self.counts.add(&counts),
            None => self.counts_measured = false,
        }
        if !self.counts_measured {
            self.counts = Counts::default();
        }
        match input.injected() {
            Some(injected) => self.injected_counts.add(&injected),
            None => self.injected = None,
        }
    }

    /// `passive`: the second is passive presence, and who held the inhibitor.
    fn push_second(&mut self, input: &Input, window: &WindowInfo, passive: Option<&str>) {
        let offset = self.len();
        // Flags begin at the first passive second, with '0' for the seconds before it.
        if passive.is_some() || !self.passive.is_empty() {
            while self.passive.len() < offset as usize {
                self.passive.push('0');
            }
            self.passive.push(if passive.is_some() { '1' } else { '0' });
        }
        if let Some(held_by) = passive {
            self.name_holder(offset, held_by);
        }
        self.active.push(if input.active() { '1' } else { '0' });
        if let (Some(flags), Some(injected)) = (self.injected.as_mut(), input.injected()) {
            flags.push(if injected.any() { '1' } else { '0' });
        }
        self.add_input(input);
        match self.windows.last_mut() {
            Some(last) if same_window(last, window) => last.seconds += 1,
            _ => self.windows.push(WindowSegment {
                offset,
                seconds: 1,
                app: window.app.clone(),
                title: window.title.clone(),
                url: window.url.clone(),
                path: window.path.clone(),
            }),
        }
    }
}

impl OpenInterval {
    /// Adds passive second `offset` to its holder's stretch. Past
    /// [`MAX_PRESENCE_STRETCHES`] a new holder's seconds stay passive but unnamed (the
    /// reports say so) rather than make the interval one the server refuses.
    fn name_holder(&mut self, offset: u32, held_by: &str) {
        if let Some(last) = self.presence.last_mut() {
            if last.offset + last.seconds == offset && last.held_by == held_by {
                last.seconds += 1;
                return;
            }
        }
        if self.presence.len() < MAX_PRESENCE_STRETCHES {
            self.presence.push(PresenceStretch {
                offset,
                seconds: 1,
                held_by: held_by.to_string(),
            });
        }
    }

    /// The last second had input after all (a tick that came early): it is not passive.
    fn unmark_last_passive(&mut self) {
        if self.passive.pop().is_some() {
            self.passive.push('0');
        }
        let last_second = self.len().saturating_sub(1);
        if let Some(stretch) = self.presence.last_mut() {
            if stretch.offset + stretch.seconds == last_second + 1 {
                stretch.seconds -= 1;
                if stretch.seconds == 0 {
                    self.presence.pop();
                }
            }
        }
    }
}

/// A holder's name as the interval may carry it: printable, at most [`MAX_HELD_BY`] bytes,
/// never empty. Names come from other programs of the session, so nothing of them is trusted.
fn holder_name(raw: &str) -> String {
    let mut name = String::new();
    for c in raw
        .chars()
        .filter(|c| !c.is_control() && !crate::limits::is_format(*c))
    {
        if name.len() + c.len_utf8() > MAX_HELD_BY {
            break;
        }
        name.push(c);
    }
    let name = name.trim();
    if name.is_empty() {
        "unknown".to_string()
    } else {
        name.to_string()
    }
}

fn same_window(segment: &WindowSegment, window: &WindowInfo) -> bool {
    segment.app == window.app
        && segment.title == window.title
        && segment.url == window.url
        && segment.path == window.path
}

/// One Start..stop stretch of tracking.
struct Session {
    task_id: String,
    anchor_mono: Duration,
    /// Wall time (unix seconds) of the anchor; every stamp in the session derives from it.
    anchor_wall: i64,
    /// Seconds accounted since the anchor.
    recorded: u64,
    last_tick: Duration,
    idle_run: u32,
    /// Consecutive seconds of passive presence (no input, an inhibitor held).
    passive_run: u32,
    last_window: WindowInfo,
    open: OpenInterval,
    /// Input events by the 1-minute rule; what it holds back is written when the session ends.
    hid: HidThinner,
}

impl Session {
    fn stamp(&self, sec: u64) -> DateTime<Utc> {
        DateTime::from_timestamp(self.anchor_wall + sec as i64, 0).unwrap_or(DateTime::UNIX_EPOCH)
    }

    /// An event of the open interval at `at`.
    fn event_at(&self, at: DateTime<Utc>, kind: EventType) -> IntervalEvent {
        let offset = (at - self.stamp(self.open.start_sec)).num_seconds();
        IntervalEvent {
            offset: i32::try_from(offset).unwrap_or(i32::MIN),
            kind,
        }
    }

    /// The input events of one second that starts at `at`, thinned, into the open interval.
    /// Only where the sensor tells origins apart: an event's type names its origin.
    fn record_hid(&mut self, at: DateTime<Utc>, input: &Input) {
        let Input::Split { hardware, injected } = input else {
            return;
        };
        for (counts, origin) in [(hardware, Origin::Hardware), (injected, Origin::Injected)] {
            for (n, kind) in [
                (counts.keys, HidKind::Keyboard),
                (counts.clicks, HidKind::MouseClick),
                (counts.scrolls, HidKind::MouseScroll),
            ] {
                if n > 0 {
                    let written = self.hid.push(Hid {
                        at,
                        kind: EventType::hid(kind, origin),
                    });
                    for h in written {
                        let event = self.event_at(h.at, h.kind);
                        self.open.events.push(event);
                    }
                }
            }
        }
    }
}

/// The engine. See the module docs for the time model.
pub struct Engine {
    config: EngineConfig,
    planner: IntervalPlanner,
    device_id: Uuid,
    session: Option<Session>,
    /// No interval may start before this (unix seconds): the end of the last one recorded,
    /// unless it lies more than [`FLOOR_LEEWAY_SECS`] ahead of the wall clock at Start.
    floor: Option<i64>,
    /// An empty second of the kind the sensors last gave: seconds without a sample (catch-up,
    /// a late tick) keep the interval's counts "not measured" on Wayland.
    no_input: Input,
    /// Window events (open, switch, update); it remembers documents across sessions.
    window_events: WindowEvents,
    /// Who held an idle inhibitor at the last sample (seconds without a sample keep it).
    inhibitor: Option<String>,
}

impl Engine {
    pub fn new(
        config: EngineConfig,
        device_id: Uuid,
        rng: Box<dyn RngCore + Send>,
    ) -> Result<Self, PlannerError> {
        let planner = IntervalPlanner::new(config.interval_range.clone(), rng)?;
        Ok(Engine {
            config,
            planner,
            device_id,
            session: None,
            floor: None,
            no_input: Input::default(),
            window_events: WindowEvents::new(),
            inhibitor: None,
        })
    }

    /// Tells the engine where the last recorded interval ended (e.g. read from the store at
    /// start-up), so a wall clock set back between sessions can't make a new one overlap it.
    /// A floor more than [`FLOOR_LEEWAY_SECS`] ahead of the wall clock at Start is ignored
    /// (reported as [`Event::FloorIgnored`]): stamping from it would date the session in the future.
    pub fn set_floor(&mut self, ended_at: DateTime<Utc>) {
        let t = ended_at.timestamp();
        self.floor = Some(self.floor.map_or(t, |f| f.max(t)));
    }

    /// E6: a changed privacy policy applies from the next second on.
    pub fn set_privacy(&mut self, privacy: PrivacyPolicy) {
        self.config.privacy = privacy;
    }

    /// The passive limit in force (at most [`MAX_PASSIVE_LIMIT_SECS`]).
    pub fn passive_limit(&self) -> u32 {
        self.config.passive_limit_secs.min(MAX_PASSIVE_LIMIT_SECS)
    }

    /// The passive limit (see [`EngineConfig::passive_limit_secs`]), from the next second on:
    /// the organization may lower it, or turn passive presence off with 0, while tracking runs.
    pub fn set_passive_limit(&mut self, secs: u32) {
        self.config.passive_limit_secs = secs.min(MAX_PASSIVE_LIMIT_SECS);
    }

    pub fn is_tracking(&self) -> bool {
        self.session.is_some()
    }

    pub fn task_id(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.task_id.as_str())
    }

    pub fn progress(&self) -> Option<Progress> {
        self.session.as_ref().map(|s| Progress {
            task_id: s.task_id.clone(),
            session_secs: s.recorded,
            interval_secs: s.open.len(),
            interval_active_secs: s.open.active.bytes().filter(|b| *b == b'1').count() as u32,
        })
    }

    /// Starts tracking `task_id`. While tracking another task this is a switch; while
    /// tracking the same task it does nothing.
    pub fn start(&mut self, task_id: &str, now: &Now) -> Vec<Event> {
        match self.task_id() {
            Some(current) if current == task_id => Vec::new(),
            Some(_) => self.switch(task_id, now),
            None => {
                let mut events = Vec::new();
                self.open_session(task_id, now, &mut events);
                events
            }
        }
    }

    /// The user pressed Stop.
    pub fn stop(&mut self, now: &Now) -> Vec<Event> {
        self.finish(now, EndReason::Stop, StopCause::User)
    }

    /// The app is quitting.
    pub fn quit(&mut self, now: &Now) -> Vec<Event> {
        self.finish(now, EndReason::Quit, StopCause::Quit)
    }

    /// Closes the current interval as `switch` and goes on, without a gap, on another task.
    pub fn switch(&mut self, task_id: &str, now: &Now) -> Vec<Event> {
        let mut events = Vec::new();
        if !self.catch_up(now, &mut events) {
            // Not tracking (or the machine slept before the switch): a plain start.
            self.open_session(task_id, now, &mut events);
            return events;
        }
        let Engine {
            planner,
            device_id,
            session,
            ..
        } = self;
        let Some(s) = session.as_mut() else {
            return events;
        };
        if s.task_id == task_id {
            return events;
        }
        let next = open_interval(planner, s, task_id, now.utc_offset_minutes);
        let closed = std::mem::replace(&mut s.open, next);
        if let Some(interval) = close(closed, s, EndReason::Switch, *device_id) {
            events.push(Event::Closed(interval));
        }
        s.task_id = task_id.to_string();
        // Switching task is input in itself.
        s.idle_run = 0;
        events.push(Event::Started {
            task_id: task_id.to_string(),
        });
        events
    }

    /// One second has passed: record `sample`, close intervals at their boundaries, and stop
    /// on idle or sleep.
    pub fn tick(&mut self, now: &Now, sample: Sample) -> Vec<Event> {
        let mut events = Vec::new();
        let Some(s) = self.session.as_ref() else {
            return events;
        };
        if now.mono < s.last_tick {
            return events; // a monotonic clock can't go back; ignore a confused caller
        }
        if now.mono - s.last_tick > self.config.sleep_gap {
            self.end_session(EndReason::Sleep, StopCause::Sleep, &mut events);
            return events;
        }
        let window = crate::limits::clip_window(
            self.config
                .privacy
                .apply(sample.window.unwrap_or_else(WindowInfo::unknown)),
        );
        self.no_input = match sample.input {
            Input::Counted(_) => Input::default(),
            Input::Seen(_) => Input::Seen(false),
            Input::Split { .. } => Input::Split {
                hardware: Counts::default(),
                injected: Counts::default(),
            },
        };
        self.inhibitor = sample.inhibitor.as_deref().map(holder_name);
        self.advance(now, &sample.input, window, &mut events);
        events
    }

    /// The open interval as it would be stored if the process died now (S2 checkpoint).
    pub fn snapshot(&self) -> Option<Interval> {
        let s = self.session.as_ref()?;
        close(s.open.clone(), s, EndReason::Recovered, self.device_id)
    }

    fn open_session(&mut self, task_id: &str, now: &Now, events: &mut Vec<Event>) {
        let wall = now.wall.timestamp();
        let anchor_wall = match self.floor {
            Some(floor) if floor - wall > FLOOR_LEEWAY_SECS => {
                events.push(Event::FloorIgnored {
                    floor: DateTime::from_timestamp(floor, 0).unwrap_or(DateTime::UNIX_EPOCH),
                    wall: now.wall,
                });
                wall
            }
            Some(floor) => wall.max(floor),
            None => wall,
        };
        let mut session = Session {
            task_id: task_id.to_string(),
            anchor_mono: now.mono,
            anchor_wall,
            recorded: 0,
            last_tick: now.mono,
            idle_run: 0,
            passive_run: 0,
            last_window: WindowInfo::unknown(),
            open: placeholder_interval(),
            hid: HidThinner::new(),
        };
        session.open = open_interval(&mut self.planner, &session, task_id, now.utc_offset_minutes);
        self.session = Some(session);
        events.push(Event::Started {
            task_id: task_id.to_string(),
        });
    }

    /// Accounts the seconds since the last tick (without input), unless the gap shows a
    /// sleep, in which case the session ends. Returns whether a session is still running.
    fn catch_up(&mut self, now: &Now, events: &mut Vec<Event>) -> bool {
        let Some(s) = self.session.as_ref() else {
            return false;
        };
        if now.mono >= s.last_tick && now.mono - s.last_tick > self.config.sleep_gap {
            self.end_session(EndReason::Sleep, StopCause::Sleep, events);
            return false;
        }
        let window = s.last_window.clone();
        let none = self.no_input;
        self.advance(now, &none, window, events);
        self.session.is_some()
    }

    fn finish(&mut self, now: &Now, reason: EndReason, cause: StopCause) -> Vec<Event> {
        let mut events = Vec::new();
        if self.catch_up(now, &mut events) {
            self.end_session(reason, cause, &mut events);
        }
        events
    }

    /// Appends the whole seconds between the last accounted second and `now`.
    fn advance(&mut self, now: &Now, input: &Input, window: WindowInfo, events: &mut Vec<Event>) {
        let Engine {
            config,
            planner,
            device_id,
            session,
            no_input,
            window_events,
            inhibitor,
            ..
        } = self;
        let Some(s) = session.as_mut() else { return };
        s.last_tick = s.last_tick.max(now.mono);
        let target = round_secs(now.mono.saturating_sub(s.anchor_mono));
        if target <= s.recorded {
            // No new whole second (a tick came early): fold the input into the last second.
            if input.active() && s.open.len() > 0 {
                s.open.add_input(input);
                s.open.active.pop();
                s.open.active.push('1');
                // An input second is never passive.
                s.open.unmark_last_passive();
                if let (Some(flags), Some(injected)) = (s.open.injected.as_mut(), input.injected())
                {
                    if injected.any() {
                        flags.pop();
                        flags.push('1');
                    }
                }
                let at = s.stamp(s.recorded.saturating_sub(1));
                s.record_hid(at, input);
                s.idle_run = 0;
            }
            return;
        }
        let new_secs = target - s.recorded;
        for i in 0..new_secs {
            // A late tick (up to the sleep gap) covers several seconds; its input is credited
            // to the last of them only, so activity is never overstated.
            let last = i + 1 == new_secs;
            let second = if last { *input } else { *no_input };
            let at = s.stamp(s.recorded);
            if window.app != WindowInfo::UNKNOWN_APP {
                if let Some(kind) = window_events.observe(&window) {
                    let event = s.event_at(at, kind);
                    s.open.events.push(event);
                }
            }
            s.last_window = window.clone();
            s.record_hid(at, &second);
            // No input under an idle inhibitor is passive presence, and the idle stop waits,
            // for at most the passive limit.
            let passive_limit = config.passive_limit_secs.min(MAX_PASSIVE_LIMIT_SECS);
            let passive = inhibitor
                .as_deref()
                .filter(|_| !second.active() && s.passive_run < passive_limit);
            s.open.push_second(&second, &window, passive);
            s.recorded += 1;
            if second.active() {
                (s.idle_run, s.passive_run) = (0, 0);
            } else if passive.is_some() {
                (s.idle_run, s.passive_run) = (0, s.passive_run + 1);
            } else {
                s.idle_run += 1;
                if inhibitor.is_none() {
                    s.passive_run = 0;
                }
            }
            if s.idle_run >= config.idle_limit_secs {
                let session_end = end_session_parts(
                    session,
                    EndReason::Idle,
                    StopCause::Idle,
                    *device_id,
                    events,
                );
                self.floor = session_end.or(self.floor);
                return;
            }
            if s.open.len() >= s.open.planned_secs {
                let task_id = s.task_id.clone();
                let next = open_interval(planner, s, &task_id, now.utc_offset_minutes);
                let closed = std::mem::replace(&mut s.open, next);
                if let Some(interval) = close(closed, s, EndReason::Boundary, *device_id) {
                    events.push(Event::Closed(interval));
                }
            }
        }
        s.last_window = window;
    }

    fn end_session(&mut self, reason: EndReason, cause: StopCause, events: &mut Vec<Event>) {
        if let Some(end) =
            end_session_parts(&mut self.session, reason, cause, self.device_id, events)
        {
            self.floor = Some(end);
        }
    }
}

/// Closes the open interval of `session` with `reason`, ends the session, and returns the
/// session's end (unix seconds) for the floor.
fn end_session_parts(
    session: &mut Option<Session>,
    reason: EndReason,
    cause: StopCause,
    device_id: Uuid,
    events: &mut Vec<Event>,
) -> Option<i64> {
    let mut s = session.take()?;
    let end = s.anchor_wall + s.recorded as i64;
    // The input the 1-minute rule held back ends here: written into the last interval.
    if let Some(last) = s.hid.flush() {
        let event = s.event_at(last.at, last.kind);
        s.open.events.push(event);
    }
    let open = std::mem::replace(&mut s.open, placeholder_interval());
    if let Some(interval) = close(open, &s, reason, device_id) {
        events.push(Event::Closed(interval));
    }
    events.push(Event::Stopped(cause));
    Some(end)
}

fn open_interval(
    planner: &mut IntervalPlanner,
    s: &Session,
    task_id: &str,
    utc_offset_minutes: i32,
) -> OpenInterval {
    let start = s.stamp(s.recorded);
    OpenInterval {
        id: planner.next_id(start.timestamp_millis().max(0) as u64),
        task_id: task_id.to_string(),
        start_sec: s.recorded,
        planned_secs: planner.next_duration(),
        utc_offset_minutes,
        active: String::new(),
        counts: Counts::default(),
        counts_measured: true,
        windows: Vec::new(),
        injected: Some(String::new()),
        injected_counts: Counts::default(),
        passive: String::new(),
        presence: Vec::new(),
        events: Vec::new(),
    }
}

fn placeholder_interval() -> OpenInterval {
    OpenInterval {
        id: Uuid::nil(),
        task_id: String::new(),
        start_sec: 0,
        planned_secs: u32::MAX,
        utc_offset_minutes: 0,
        active: String::new(),
        counts: Counts::default(),
        counts_measured: true,
        windows: Vec::new(),
        injected: Some(String::new()),
        injected_counts: Counts::default(),
        passive: String::new(),
        presence: Vec::new(),
        events: Vec::new(),
    }
}

/// Turns an open interval into a closed one; an interval of zero seconds is no interval.
fn close(open: OpenInterval, s: &Session, reason: EndReason, device_id: Uuid) -> Option<Interval> {
    let len = open.len() as u64;
    if len == 0 {
        return None;
    }
    Some(Interval {
        id: open.id,
        device_id,
        task_id: open.task_id,
        started_at: s.stamp(open.start_sec),
        ended_at: s.stamp(open.start_sec + len),
        utc_offset_minutes: open.utc_offset_minutes,
        end_reason: reason,
        active: open.active,
        counts: open.counts,
        counts_measured: open.counts_measured,
        windows: open.windows,
        injected_counts: open.injected.as_ref().map(|_| open.injected_counts),
        injected: open.injected,
        passive: Some(open.passive).filter(|p| p.contains('1')),
        presence: open.presence,
        events: open.events,
    })
}

/// Whole seconds in `d`, rounded to the nearest (ticks jitter by some milliseconds).
fn round_secs(d: Duration) -> u64 {
    (d.as_millis() as u64 + 500) / 1000
}
