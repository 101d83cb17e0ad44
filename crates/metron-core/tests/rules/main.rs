//! Scenario tests of the engine rules E1-E6, one module per rule, with scripted time and a
//! seeded RNG. A single test binary keeps link time down on two cores.

mod boundary;
mod evidence;
mod idle_and_sleep;
mod passive;
mod privacy;
mod sessions;
mod wall_clock;

use chrono::{DateTime, TimeZone, Utc};
use metron_core::{Counts, Engine, EngineConfig, Event, Input, Interval, Now, Sample, WindowInfo};
use rand::{rngs::StdRng, SeedableRng};
use std::time::Duration;
use uuid::Uuid;

/// A scripted world: a monotonic clock, a wall clock that can be moved, and a user.
pub struct Sim {
    pub engine: Engine,
    pub mono_ms: u64,
    pub wall: DateTime<Utc>,
    pub offset: i32,
    pub events: Vec<Event>,
}

impl Sim {
    pub fn new(config: EngineConfig, seed: u64) -> Self {
        let engine =
            Engine::new(config, Uuid::nil(), Box::new(StdRng::seed_from_u64(seed))).unwrap();
        Sim {
            engine,
            mono_ms: 1_000_000,
            wall: Utc.with_ymd_and_hms(2026, 3, 29, 0, 0, 0).unwrap(),
            offset: 60,
            events: Vec::new(),
        }
    }

    pub fn default_seeded(seed: u64) -> Self {
        Self::new(EngineConfig::default(), seed)
    }

    pub fn now(&self) -> Now {
        Now {
            mono: Duration::from_millis(self.mono_ms),
            wall: self.wall,
            utc_offset_minutes: self.offset,
        }
    }

    /// Lets `ms` pass on both clocks.
    pub fn pass_ms(&mut self, ms: u64) {
        self.mono_ms += ms;
        self.wall += chrono::Duration::milliseconds(ms as i64);
    }

    pub fn start(&mut self, task: &str) {
        let e = self.engine.start(task, &self.now());
        self.events.extend(e);
    }

    pub fn stop(&mut self) {
        let e = self.engine.stop(&self.now());
        self.events.extend(e);
    }

    pub fn switch(&mut self, task: &str) {
        let e = self.engine.switch(task, &self.now());
        self.events.extend(e);
    }

    pub fn quit(&mut self) {
        let e = self.engine.quit(&self.now());
        self.events.extend(e);
    }

    /// `secs` one-second ticks, each with the input `input` gives for it.
    pub fn run_input(&mut self, secs: u64, mut input: impl FnMut(u64) -> Input) {
        for i in 0..secs {
            self.pass_ms(1000);
            let sample = Sample {
                input: input(i),
                window: Some(window("editor", "main.rs")),
                inhibitor: None,
            };
            let e = self.engine.tick(&self.now(), sample);
            self.events.extend(e);
        }
    }

    /// `secs` one-second ticks; for each, whether there was input and whether an idle
    /// inhibitor was held.
    pub fn run_presence(&mut self, secs: u64, mut state: impl FnMut(u64) -> (bool, bool)) {
        self.run_held(secs, |i| {
            let (active, inhibited) = state(i);
            (active, inhibited.then_some("org.example.Player"))
        })
    }

    /// `secs` one-second ticks; for each, whether there was input and who held an idle
    /// inhibitor, if anyone.
    pub fn run_held(
        &mut self,
        secs: u64,
        mut state: impl FnMut(u64) -> (bool, Option<&'static str>),
    ) {
        for i in 0..secs {
            self.pass_ms(1000);
            let (active, held_by) = state(i);
            let sample = Sample {
                input: Counts {
                    keys: u64::from(active),
                    ..Counts::default()
                }
                .into(),
                window: Some(window("meet", "Standup")),
                inhibitor: held_by.map(str::to_string),
            };
            let e = self.engine.tick(&self.now(), sample);
            self.events.extend(e);
        }
    }

    /// `secs` one-second ticks; `active` decides for each second whether there was input.
    pub fn run(&mut self, secs: u64, mut active: impl FnMut(u64) -> bool) {
        for i in 0..secs {
            self.pass_ms(1000);
            let counts = if active(i) {
                Counts {
                    keys: 3,
                    clicks: 1,
                    scrolls: 0,
                    moves: 12,
                }
            } else {
                Counts::default()
            };
            let sample = Sample {
                input: counts.into(),
                window: Some(window("editor", "main.rs")),
                inhibitor: None,
            };
            let e = self.engine.tick(&self.now(), sample);
            self.events.extend(e);
        }
    }

    pub fn intervals(&self) -> Vec<Interval> {
        self.events
            .iter()
            .filter_map(|e| {
                if let Event::Closed(i) = e {
                    Some(i.clone())
                } else {
                    None
                }
            })
            .collect()
    }
}

pub fn window(app: &str, title: &str) -> WindowInfo {
    WindowInfo {
        app: app.into(),
        title: title.into(),
        url: None,
        path: Some(format!("/usr/bin/{app}")),
    }
}

/// Every interval is well formed and no two share a second.
pub fn assert_sound(intervals: &[Interval]) {
    for i in intervals {
        i.validate()
            .unwrap_or_else(|e| panic!("invalid interval {i:?}: {e}"));
    }
    let mut sorted: Vec<&Interval> = intervals.iter().collect();
    sorted.sort_by_key(|i| i.started_at);
    for pair in sorted.windows(2) {
        assert!(
            pair[0].ended_at <= pair[1].started_at,
            "overlap: {:?} and {:?}",
            pair[0],
            pair[1]
        );
    }
}

/// Each interval starts exactly where the previous one ended.
pub fn assert_contiguous(intervals: &[Interval]) {
    for pair in intervals.windows(2) {
        assert_eq!(
            pair[0].ended_at, pair[1].started_at,
            "gap or overlap between {} and {}",
            pair[0].id, pair[1].id
        );
    }
}

pub fn total_secs(intervals: &[Interval]) -> i64 {
    intervals.iter().map(Interval::duration_secs).sum()
}
