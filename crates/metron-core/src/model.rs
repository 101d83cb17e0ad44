//! The interval model of SPEC E4 and its JSON wire format.
//!
//! The same types are written to the agent's store, sent to the server and printed by
//! `metron-agent replay`, so there is exactly one definition of what an interval is.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::window::WindowInfo;

/// Longest interval the server accepts (SPEC §4: duration 1..=900 s).
pub const MAX_INTERVAL_SECS: u32 = 900;
/// The widest UTC offset in use (UTC+14; UTC-12 is inside it).
pub const MAX_OFFSET_MINUTES: i32 = 840;
/// Input events a second above which counts are refused as broken.
pub const MAX_EVENTS_PER_SECOND: u64 = 1000;

/// Input counters: how many events of each kind, never which key or where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counts {
    pub keys: u64,
    pub clicks: u64,
    pub scrolls: u64,
    pub moves: u64,
}

impl Counts {
    /// True when any input happened: the definition of an "active" second.
    pub fn any(&self) -> bool {
        self.keys + self.clicks + self.scrolls + self.moves > 0
    }

    /// Saturating: totals over many intervals never wrap, whatever a client sent.
    pub fn add(&mut self, other: &Counts) {
        self.keys = self.keys.saturating_add(other.keys);
        self.clicks = self.clicks.saturating_add(other.clicks);
        self.scrolls = self.scrolls.saturating_add(other.scrolls);
        self.moves = self.moves.saturating_add(other.moves);
    }
}

/// What the activity sensor saw in one second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Events counted by kind (X11 RECORD, Windows hooks, a macOS event tap).
    Counted(Counts),
    /// Only whether the session saw input (Wayland's idle protocols, GNOME's idle monitor):
    /// the second's activity is known, its counts are not measured.
    Seen(bool),
    /// Events counted by kind and told apart by where they came from: a device (hardware)
    /// or a program (injected: XTEST on X11, which xdotool, jigglers and remote-control tools
    /// use; SendInput on Windows).
    Split { hardware: Counts, injected: Counts },
}

impl Input {
    /// The definition of an "active" second (E1): any input at all.
    pub fn active(&self) -> bool {
        match self {
            Input::Counted(counts) => counts.any(),
            Input::Seen(seen) => *seen,
            Input::Split { hardware, injected } => hardware.any() || injected.any(),
        }
    }

    /// The second's counts, whatever their origin; `None` when not measured.
    pub fn counts(&self) -> Option<Counts> {
        match self {
            Input::Counted(counts) => Some(*counts),
            Input::Seen(_) => None,
            Input::Split { hardware, injected } => {
                let mut all = *hardware;
                all.add(injected);
                Some(all)
            }
        }
    }

    /// The injected part of the second's counts; `None` when the sensor can't tell.
    pub fn injected(&self) -> Option<Counts> {
        match self {
            Input::Split { injected, .. } => Some(*injected),
            _ => None,
        }
    }
}

impl Default for Input {
    fn default() -> Self {
        Input::Counted(Counts::default())
    }
}

impl From<Counts> for Input {
    fn from(counts: Counts) -> Self {
        Input::Counted(counts)
    }
}

/// One second of observation (SPEC E1). `window: None` means the sensor could not tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sample {
    pub input: Input,
    pub window: Option<WindowInfo>,
    /// Who holds an idle inhibitor (a video call, a playing video), by a readable name: a
    /// second without input is then passive presence, not idleness (issue 15), and the name
    /// is recorded with it as evidence (issue 27). `None` where nothing holds one or it can't
    /// be seen.
    pub inhibitor: Option<String>,
}

/// Why an interval closed (SPEC E3). Serialized in snake_case on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Boundary,
    Stop,
    Switch,
    Idle,
    Quit,
    Sleep,
    Recovered,
}

impl EndReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            EndReason::Boundary => "boundary",
            EndReason::Stop => "stop",
            EndReason::Switch => "switch",
            EndReason::Idle => "idle",
            EndReason::Quit => "quit",
            EndReason::Sleep => "sleep",
            EndReason::Recovered => "recovered",
        }
    }
}

/// A run of consecutive seconds spent in one window, `offset` seconds into the interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WindowSegment {
    pub offset: u32,
    pub seconds: u32,
    pub app: String,
    pub title: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
}

/// A closed stretch of tracked time (SPEC E4), the unit that is stored and delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interval {
    pub id: Uuid,
    pub device_id: Uuid,
    pub task_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub utc_offset_minutes: i32,
    pub end_reason: EndReason,
    /// One '0' or '1' per second: whether any input happened in that second.
    pub active: String,
    /// Input totals; all zero and meaningless when `counts_measured` is false.
    pub counts: Counts,
    /// False when the activity source could only tell active from idle (Wayland): reports say
    /// "not measured" rather than 0 keys. Absent on the wire means true, so intervals of older
    /// clients read as measured and older servers accept intervals that omit it.
    #[serde(default = "measured", skip_serializing_if = "is_measured")]
    pub counts_measured: bool,
    pub windows: Vec<WindowSegment>,
    /// One '0' or '1' per second: whether any injected input (from a program, not a device)
    /// happened in it. Absent when the sensor could not tell (X11 without XInput2, Wayland,
    /// older clients): reports say "not measured".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected: Option<String>,
    /// The injected part of `counts` (the rest came from devices); present with `injected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected_counts: Option<Counts>,
    /// One '0' or '1' per second: passive presence, a second without input while an idle
    /// inhibitor was held (a call, a video), '1' only where `active` is '0'. Absent when the
    /// interval had no passive second (or the client can't see inhibitors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passive: Option<String>,
    /// Who held the idle inhibitor over the passive seconds, stretch by stretch, in order:
    /// passive time is evidence of presence only with its source named (issue 27). Empty from
    /// older clients and where no passive second was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub presence: Vec<PresenceStretch>,
    /// Window and input events as task-mining tools record them (`events` module): a time
    /// and a type each. The window an event happened in is the segment covering its second
    /// (here, or in an earlier interval for an input event that ends a pause), so nothing of
    /// a window is stored twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<IntervalEvent>,
}

/// Passive seconds `offset..offset + seconds` of an interval, during which `held_by` held the
/// idle inhibitor: a D-Bus client's well-known name or program name, or logind's `who`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PresenceStretch {
    pub offset: u32,
    pub seconds: u32,
    pub held_by: String,
}

/// Stretches an interval may carry: a holder changing more often than every half minute of a
/// 15-minute interval is a broken client.
pub const MAX_PRESENCE_STRETCHES: usize = 32;
/// Characters of a holder's name (a bus name is at most 255 bytes; logind's `who` is free text).
pub const MAX_HELD_BY: usize = 200;

/// An event of an interval: seconds from the interval's start (negative: before it) and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntervalEvent {
    pub offset: i32,
    #[serde(rename = "type")]
    pub kind: crate::events::EventType,
}

fn measured() -> bool {
    true
}

fn is_measured(measured: &bool) -> bool {
    *measured
}

/// Why an interval breaks the rules of E4 (the server answers `invalid: <why>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInterval(pub String);

impl Interval {
    /// Duration in whole seconds (negative if the interval is malformed).
    pub fn duration_secs(&self) -> i64 {
        (self.ended_at - self.started_at).num_seconds()
    }

    /// Seconds with any input.
    pub fn active_secs(&self) -> u32 {
        self.active.bytes().filter(|b| *b == b'1').count() as u32
    }

    /// Checks the structural rules of E4 that need no other data (and sane offset and counts): whole-second times,
    /// a duration of 1..=900 s, one activity flag per second, window runs inside the interval.
    pub fn validate(&self) -> Result<(), InvalidInterval> {
        let bad = |why: String| Err(InvalidInterval(why));
        if self.started_at.timestamp_subsec_nanos() != 0
            || self.ended_at.timestamp_subsec_nanos() != 0
        {
            return bad("times must be whole seconds".into());
        }
        let duration = self.duration_secs();
        if duration < 1 || duration > MAX_INTERVAL_SECS as i64 {
            return bad(format!(
                "duration {duration} s is outside 1..={MAX_INTERVAL_SECS}"
            ));
        }
        if self.active.len() as i64 != duration {
            return bad(format!(
                "active has {} flags for a duration of {duration} s",
                self.active.len()
            ));
        }
        if self.active.bytes().any(|b| b != b'0' && b != b'1') {
            return bad("active may hold only '0' and '1'".into());
        }
        if self.task_id.is_empty() {
            return bad("task_id is empty".into());
        }
        // Sizes and characters (docs/SECURITY.md): a 4 MB title is refused, not stored.
        use crate::limits::{check_text, MAX_APP, MAX_PATH, MAX_TASK_TEXT, MAX_TITLE, MAX_URL};
        check_text("task_id", &self.task_id, MAX_TASK_TEXT).map_err(InvalidInterval)?;
        for w in &self.windows {
            check_text("app", &w.app, MAX_APP).map_err(InvalidInterval)?;
            check_text("title", &w.title, MAX_TITLE).map_err(InvalidInterval)?;
            if let Some(url) = &w.url {
                check_text("url", url, MAX_URL).map_err(InvalidInterval)?;
            }
            if let Some(path) = &w.path {
                check_text("path", path, MAX_PATH).map_err(InvalidInterval)?;
            }
        }
        // Real offsets run from UTC-12 to UTC+14; reports place the day by it.
        if !(-MAX_OFFSET_MINUTES..=MAX_OFFSET_MINUTES).contains(&self.utc_offset_minutes) {
            return bad(format!(
                "utc_offset_minutes {} is outside -840..=840",
                self.utc_offset_minutes
            ));
        }
        // No person makes more than a thousand input events a second; more is a broken client,
        // and would distort (or overflow) every total it is added to.
        let limit = MAX_EVENTS_PER_SECOND * duration as u64;
        let c = &self.counts;
        if c.keys > limit || c.clicks > limit || c.scrolls > limit || c.moves > limit {
            return bad(format!(
                "input counts above {MAX_EVENTS_PER_SECOND} a second"
            ));
        }
        self.validate_evidence(duration)?;
        let mut covered: u32 = 0;
        for segment in &self.windows {
            if segment.seconds == 0 {
                return bad("a window segment has zero seconds".into());
            }
            if segment.offset < covered {
                return bad(format!(
                    "window segment at offset {} overlaps the previous one",
                    segment.offset
                ));
            }
            covered = segment.offset.saturating_add(segment.seconds);
            if covered as i64 > duration {
                return bad(format!(
                    "window segment at offset {} runs past the interval",
                    segment.offset
                ));
            }
        }
        Ok(())
    }

    /// The injected flags and counts, and the events (issue 15): consistent with the rest and
    /// bounded in size.
    fn validate_evidence(&self, duration: i64) -> Result<(), InvalidInterval> {
        let bad = |why: String| Err(InvalidInterval(why));
        match (&self.injected, &self.injected_counts) {
            (None, None) => {}
            (Some(flags), Some(counts)) => {
                if flags.len() as i64 != duration {
                    return bad(format!(
                        "injected has {} flags for a duration of {duration} s",
                        flags.len()
                    ));
                }
                if flags
                    .bytes()
                    .zip(self.active.bytes())
                    .any(|(i, a)| !(i == b'0' || (i == b'1' && a == b'1')))
                {
                    return bad("injected may hold '1' only where active does, else '0'".into());
                }
                let c = &self.counts;
                if counts.keys > c.keys
                    || counts.clicks > c.clicks
                    || counts.scrolls > c.scrolls
                    || counts.moves > c.moves
                {
                    return bad("injected_counts exceed counts".into());
                }
            }
            _ => return bad("injected and injected_counts come together".into()),
        }
        if let Some(flags) = &self.passive {
            if flags.len() as i64 != duration {
                return bad(format!(
                    "passive has {} flags for a duration of {duration} s",
                    flags.len()
                ));
            }
            if flags
                .bytes()
                .zip(self.active.bytes())
                .any(|(p, a)| !(p == b'0' || (p == b'1' && a == b'0')))
            {
                return bad("passive may hold '1' only where active holds '0', else '0'".into());
            }
        }
        self.validate_presence()?;
        // At most a window event and six input events (three kinds, two origins) a second,
        // none after the end; an input event may predate the interval by the pause it closes
        // (under an hour).
        if self.events.len() as i64 > 7 * duration + 7 {
            return bad(format!("{} events for {duration} s", self.events.len()));
        }
        for e in &self.events {
            if i64::from(e.offset) >= duration || e.offset < -3600 {
                return bad(format!(
                    "an event at offset {} lies outside the interval",
                    e.offset
                ));
            }
        }
        Ok(())
    }

    /// The holders of the passive seconds: in order, apart, inside the interval and over
    /// passive seconds only, with a short printable name each.
    fn validate_presence(&self) -> Result<(), InvalidInterval> {
        let bad = |why: String| Err(InvalidInterval(why));
        if self.presence.is_empty() {
            return Ok(());
        }
        if self.presence.len() > MAX_PRESENCE_STRETCHES {
            return bad(format!(
                "{} presence stretches, more than {MAX_PRESENCE_STRETCHES}",
                self.presence.len()
            ));
        }
        let passive = self.passive.as_deref().unwrap_or("").as_bytes();
        let mut covered: u32 = 0;
        for stretch in &self.presence {
            let at = stretch.offset;
            if stretch.seconds == 0 {
                return bad(format!("presence stretch at offset {at} has zero seconds"));
            }
            if at < covered {
                return bad(format!(
                    "presence stretch at offset {at} overlaps the previous one"
                ));
            }
            covered = at.saturating_add(stretch.seconds);
            let Some(flags) = passive.get(at as usize..covered as usize) else {
                return bad(format!(
                    "presence stretch at offset {at} runs past the passive flags"
                ));
            };
            if flags.iter().any(|f| *f != b'1') {
                return bad(format!(
                    "presence stretch at offset {at} covers a second that is not passive"
                ));
            }
            crate::limits::check_text("held_by", &stretch.held_by, MAX_HELD_BY)
                .map_err(InvalidInterval)?;
            if stretch.held_by.trim().is_empty() {
                return bad("held_by is empty".into());
            }
        }
        Ok(())
    }

    /// True when two intervals share at least one second.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.started_at < other.ended_at && other.started_at < self.ended_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_impossible_offset_or_count_is_refused() {
        let mut i = sample_interval();
        i.utc_offset_minutes = 900;
        assert!(i.validate().unwrap_err().0.contains("utc_offset_minutes"));
        let mut i = sample_interval();
        i.counts.keys = u64::MAX;
        assert!(i.validate().unwrap_err().0.contains("input counts"));
        let mut total = Counts {
            keys: u64::MAX - 1,
            ..Default::default()
        };
        total.add(&Counts {
            keys: 5,
            ..Default::default()
        });
        assert_eq!(total.keys, u64::MAX, "totals saturate");
    }

    #[test]
    fn injected_flags_and_counts_must_agree_with_the_rest() {
        let mut i = sample_interval();
        i.injected = Some("100".into());
        i.injected_counts = Some(Counts {
            keys: 1,
            ..Default::default()
        });
        assert_eq!(i.validate(), Ok(()));
        let mut bad = i.clone();
        bad.injected = Some("010".into());
        assert!(bad.validate().unwrap_err().0.contains("only where active"));
        let mut bad = i.clone();
        bad.injected = Some("10".into());
        assert!(bad.validate().unwrap_err().0.contains("2 flags"));
        let mut bad = i.clone();
        bad.injected_counts = Some(Counts {
            keys: 3,
            ..Default::default()
        });
        assert!(bad.validate().unwrap_err().0.contains("exceed"));
        let mut bad = i.clone();
        bad.injected_counts = None;
        assert!(bad.validate().unwrap_err().0.contains("together"));
        let mut bad = i.clone();
        let event = |offset| IntervalEvent {
            offset,
            kind: crate::events::EventType::WindowOpen,
        };
        bad.events = vec![event(3)];
        assert!(bad
            .validate()
            .unwrap_err()
            .0
            .contains("outside the interval"));
        bad.events = vec![event(-3601)];
        assert!(bad
            .validate()
            .unwrap_err()
            .0
            .contains("outside the interval"));
        bad.events = vec![event(-3600), event(2)];
        assert_eq!(bad.validate(), Ok(()));
        bad.events = vec![event(0); 29];
        assert!(bad.validate().unwrap_err().0.contains("29 events"));
    }

    #[test]
    fn passive_flags_mark_only_seconds_without_input() {
        let mut i = sample_interval();
        i.passive = Some("010".into());
        assert_eq!(i.validate(), Ok(()));
        i.passive = Some("110".into());
        assert!(i
            .validate()
            .unwrap_err()
            .0
            .contains("only where active holds '0'"));
        i.passive = Some("01".into());
        assert!(i.validate().unwrap_err().0.contains("2 flags"));
        i.passive = Some("0x0".into());
        assert!(i.validate().is_err());
    }

    fn held(offset: u32, seconds: u32, held_by: &str) -> PresenceStretch {
        PresenceStretch {
            offset,
            seconds,
            held_by: held_by.into(),
        }
    }

    #[test]
    fn presence_names_who_held_each_passive_stretch() {
        let mut i = sample_interval();
        i.active = "000".into();
        i.counts = Counts::default();
        i.passive = Some("011".into());
        i.presence = vec![held(1, 1, "org.mozilla.firefox"), held(2, 1, "zoom")];
        assert_eq!(i.validate(), Ok(()));
        let json = serde_json::to_value(&i).unwrap();
        assert_eq!(json["presence"][1]["held_by"], "zoom");
        assert_eq!(serde_json::from_value::<Interval>(json).unwrap(), i);

        let refused = |presence: Vec<PresenceStretch>| {
            let mut bad = i.clone();
            bad.presence = presence;
            bad.validate().unwrap_err().0
        };
        assert!(refused(vec![held(0, 2, "zoom")]).contains("not passive"));
        assert!(refused(vec![held(2, 2, "zoom")]).contains("runs past"));
        assert!(refused(vec![held(2, 1, "a"), held(1, 1, "b")]).contains("overlaps"));
        assert!(refused(vec![held(1, 0, "zoom")]).contains("zero seconds"));
        assert!(refused(vec![held(1, 1, "")]).contains("held_by"));
        assert!(refused(vec![held(1, 1, "a\u{1b}[2J")]).contains("held_by"));
        assert!(refused(vec![held(1, 1, &"x".repeat(201))]).contains("held_by"));
        assert!(refused(vec![held(1, 1, "a"); 33]).contains("33 presence stretches"));
        let mut no_flags = i.clone();
        no_flags.passive = None;
        assert!(no_flags.validate().unwrap_err().0.contains("runs past"));
    }

    #[test]
    fn an_interval_without_evidence_keeps_the_old_wire_format() {
        let json = serde_json::to_value(sample_interval()).unwrap();
        for key in [
            "injected",
            "injected_counts",
            "events",
            "passive",
            "presence",
        ] {
            assert!(json.get(key).is_none(), "{key} is left out when absent");
        }
    }

    fn sample_interval() -> Interval {
        let start = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        Interval {
            id: Uuid::nil(),
            device_id: Uuid::nil(),
            task_id: "t1".into(),
            started_at: start,
            ended_at: start + chrono::Duration::seconds(3),
            utc_offset_minutes: 180,
            end_reason: EndReason::Boundary,
            active: "101".into(),
            counts: Counts {
                keys: 2,
                clicks: 0,
                scrolls: 0,
                moves: 5,
            },
            counts_measured: true,
            injected: None,
            injected_counts: None,
            passive: None,
            presence: Vec::new(),
            events: Vec::new(),
            windows: vec![WindowSegment {
                offset: 0,
                seconds: 3,
                app: "code".into(),
                title: "main.rs".into(),
                url: None,
                path: Some("/usr/bin/code".into()),
            }],
        }
    }

    #[test]
    fn wire_format_uses_rfc3339_utc_and_snake_case_reasons() {
        let json = serde_json::to_value(sample_interval()).unwrap();
        assert_eq!(json["started_at"], "2026-11-23T09:00:00Z");
        assert_eq!(json["end_reason"], "boundary");
        assert_eq!(json["counts"]["moves"], 5);
        assert_eq!(json["windows"][0]["seconds"], 3);
        assert!(
            json.get("counts_measured").is_none(),
            "measured counts keep the old wire format"
        );
        let back: Interval = serde_json::from_value(json).unwrap();
        assert_eq!(back, sample_interval());
    }

    #[test]
    fn unmeasured_counts_are_said_on_the_wire() {
        let mut i = sample_interval();
        i.counts = Counts::default();
        i.counts_measured = false;
        let json = serde_json::to_value(&i).unwrap();
        assert_eq!(json["counts_measured"], false);
        let back: Interval = serde_json::from_value(json).unwrap();
        assert!(!back.counts_measured);
    }

    #[test]
    fn a_well_formed_interval_validates() {
        assert_eq!(sample_interval().validate(), Ok(()));
    }

    #[test]
    fn validation_names_what_is_wrong() {
        let mut i = sample_interval();
        i.active = "10".into();
        assert!(i.validate().unwrap_err().0.contains("active has 2 flags"));

        let mut i = sample_interval();
        i.ended_at = i.started_at;
        assert!(i.validate().unwrap_err().0.contains("duration 0 s"));

        let mut i = sample_interval();
        i.windows[0].seconds = 4;
        assert!(i.validate().unwrap_err().0.contains("runs past"));

        let mut i = sample_interval();
        i.active = "1x1".into();
        assert!(i.validate().is_err());
    }
}
