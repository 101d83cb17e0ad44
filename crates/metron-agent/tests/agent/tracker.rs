//! The tick driver on a real store with scripted sensors and clock.

use super::*;
use metron_agent::clock::Clock;
use metron_agent::sensors::fake::{ScriptedActivity, ScriptedWindow};
use metron_agent::sensors::Sensors;
use metron_agent::store::Store;
use metron_agent::tracker::Tracker;
use metron_core::{Engine, EngineConfig, Event, Now, StopCause, WindowInfo};
use rand::{rngs::StdRng, SeedableRng};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
struct ScriptedClock(Arc<Mutex<Now>>);

impl Clock for ScriptedClock {
    fn now(&self) -> Now {
        *self.0.lock().unwrap()
    }
}

struct Rig {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    tracker: Tracker,
    clock: ScriptedClock,
    input: ScriptedActivity,
}

impl Rig {
    fn new(range: std::ops::RangeInclusive<u32>) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sqlite");
        let store = Store::open(&path).unwrap();
        let clock = ScriptedClock(Arc::new(Mutex::new(Now {
            mono: Duration::from_secs(100),
            wall: Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap(),
            utc_offset_minutes: 180,
        })));
        let input = ScriptedActivity::default();
        let window = ScriptedWindow(Arc::new(Mutex::new(Some(WindowInfo {
            app: "editor".into(),
            title: "plan.md".into(),
            url: None,
            path: None,
        }))));
        let sensors = Sensors {
            activity: Box::new(input.clone()),
            window: Box::new(window),
            presence: Box::new(metron_agent::sensors::presence::NoPresence),
            sources: metron_agent::sensors::fake::sources(),
        };
        let config = EngineConfig {
            interval_range: range,
            ..Default::default()
        };
        let engine = Engine::new(config, Uuid::nil(), Box::new(StdRng::seed_from_u64(5))).unwrap();
        let tracker = Tracker::new(engine, store, sensors, Box::new(clock.clone())).unwrap();
        Rig {
            _dir: dir,
            path,
            tracker,
            clock,
            input,
        }
    }

    fn second(&mut self, active: bool) -> Vec<Event> {
        {
            let mut now = self.clock.0.lock().unwrap();
            now.mono += Duration::from_secs(1);
            now.wall += chrono::Duration::seconds(1);
        }
        if active {
            *self.input.0.lock().unwrap() = Counts {
                keys: 2,
                clicks: 0,
                scrolls: 0,
                moves: 7,
            };
        }
        self.tracker.tick()
    }
}

#[test]
fn closed_intervals_are_committed_as_they_close_and_the_open_one_checkpointed() {
    let mut rig = Rig::new(10..=10);
    rig.tracker.start("t1");
    for _ in 0..25 {
        rig.second(true);
    }
    let stored = read_intervals(&rig.path);
    assert_eq!(stored.len(), 2, "two 10 s intervals closed");
    assert!(stored
        .iter()
        .all(|i| i.duration_secs() == 10 && i.counts.keys == 20));
    let checkpoint = rig
        .tracker
        .store()
        .checkpoint()
        .unwrap()
        .expect("checkpoint of the open interval");
    assert!(
        checkpoint.duration_secs() >= 4,
        "checkpoint at most 2 s old: {} s of 5",
        checkpoint.duration_secs()
    );
    assert_eq!(checkpoint.started_at, stored[1].ended_at);
    rig.tracker.stop();
    assert!(
        rig.tracker.store().checkpoint().unwrap().is_none(),
        "stop leaves no checkpoint"
    );
    assert_eq!(read_intervals(&rig.path).len(), 3);
}

#[test]
fn the_checkpoint_is_never_more_than_two_seconds_behind() {
    let mut rig = Rig::new(900..=900);
    rig.tracker.start("t1");
    for k in 1..=60u64 {
        rig.second(k % 2 == 0);
        let cp = rig.tracker.store().checkpoint().unwrap().unwrap();
        assert!(
            k as i64 - cp.duration_secs() <= 2,
            "after {k} s the checkpoint holds {} s",
            cp.duration_secs()
        );
    }
}

#[test]
fn input_before_start_is_not_counted() {
    let mut rig = Rig::new(5..=5);
    *rig.input.0.lock().unwrap() = Counts {
        keys: 100,
        ..Default::default()
    };
    rig.tracker.start("t1");
    for _ in 0..5 {
        rig.second(false);
    }
    assert_eq!(read_intervals(&rig.path)[0].counts.keys, 0);
}

#[test]
fn idle_stops_the_tracker_and_commits_the_idle_seconds() {
    let mut rig = Rig::new(40..=80);
    rig.tracker.start("t1");
    let mut events = Vec::new();
    for k in 0..400 {
        events.extend(rig.second(k < 20));
    }
    assert!(events.contains(&Event::Stopped(StopCause::Idle)));
    let stored = read_intervals(&rig.path);
    assert_eq!(stored.iter().map(Interval::duration_secs).sum::<i64>(), 320);
    assert_eq!(stored.last().unwrap().end_reason, EndReason::Idle);
    assert!(rig.tracker.store().checkpoint().unwrap().is_none());
}

#[test]
fn while_the_disk_is_full_closed_intervals_wait_in_memory_and_none_is_lost() {
    let mut rig = Rig::new(5..=5);
    rig.tracker.start("t1");
    for _ in 0..10 {
        rig.second(true);
    }
    rig.tracker.store().set_max_pages(1).unwrap();
    for _ in 0..40 {
        rig.second(true);
    }
    assert!(
        !rig.tracker.uncommitted().is_empty(),
        "commits must be failing while the disk is full"
    );
    rig.tracker.store().set_max_pages(1 << 20).unwrap();
    rig.second(true);
    assert!(rig.tracker.uncommitted().is_empty());
    let stored = read_intervals(&rig.path);
    assert_eq!(
        stored.len(),
        10,
        "every 5 s interval of the 51 s is in the store"
    );
    for pair in stored.windows(2) {
        assert_eq!(pair[0].ended_at, pair[1].started_at);
    }
}

/// A tracker at 09:00 on a store whose last interval ends `ends_after_nine` seconds after
/// 09:00; it tracks 2 s. Returns the start's events and the intervals stored.
fn session_after_a_stored_interval(ends_after_nine: i64) -> (Vec<Event>, Vec<Interval>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.sqlite");
    let mut store = Store::open(&path).unwrap();
    store
        .commit(&interval(3600 + ends_after_nine - 60, 60))
        .unwrap(); // interval() counts from 08:00
    let clock = ScriptedClock(Arc::new(Mutex::new(Now {
        mono: Duration::from_secs(100),
        wall: Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap(),
        utc_offset_minutes: 0,
    })));
    let sensors = Sensors {
        activity: Box::new(ScriptedActivity::default()),
        window: Box::new(ScriptedWindow::default()),
        presence: Box::new(metron_agent::sensors::presence::NoPresence),
        sources: metron_agent::sensors::fake::sources(),
    };
    let engine = Engine::new(
        EngineConfig::default(),
        Uuid::nil(),
        Box::new(StdRng::seed_from_u64(1)),
    )
    .unwrap();
    let mut tracker = Tracker::new(engine, store, sensors, Box::new(clock.clone())).unwrap();
    let events = tracker.start("t1");
    for _ in 0..2 {
        clock.0.lock().unwrap().mono += Duration::from_secs(1);
        tracker.tick();
    }
    tracker.stop();
    (events, read_intervals(&path))
}

#[test]
fn a_new_session_never_starts_before_the_last_stored_interval_ended() {
    // The clock was set back 3 minutes (NTP): the new session starts where the stored one ended.
    let (events, stored) = session_after_a_stored_interval(180);
    assert_no_overlap(&stored);
    assert_eq!(stored[1].started_at, stored[0].ended_at);
    assert!(!events
        .iter()
        .any(|e| matches!(e, Event::FloorIgnored { .. })));
}

#[test]
fn a_stored_interval_ending_hours_ahead_of_the_clock_does_not_push_new_ones_into_the_future() {
    // Stamped by a clock that ran two hours ahead, since corrected: new intervals take the
    // clock's time (the server refuses ends more than 5 min ahead), and the tracker warns.
    let (events, stored) = session_after_a_stored_interval(2 * 3600);
    let nine = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(
        (stored[0].started_at, stored[0].duration_secs()),
        (nine, 2),
        "{stored:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::FloorIgnored { .. })),
        "{events:?}"
    );
}
