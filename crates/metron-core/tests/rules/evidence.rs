//! Activity evidence (issue 15): input told apart by origin, and the window and input events
//! the intervals carry.

use super::*;
use metron_core::events::EventType;

fn keys(n: u64) -> Counts {
    Counts {
        keys: n,
        ..Counts::default()
    }
}

fn clicks(n: u64) -> Counts {
    Counts {
        clicks: n,
        moves: 4,
        ..Counts::default()
    }
}

fn split(hardware: Counts, injected: Counts) -> Input {
    Input::Split { hardware, injected }
}

#[test]
fn injected_input_is_flagged_per_second_and_counted_apart() {
    let mut sim = Sim::default_seeded(21);
    sim.start("t1");
    // 10 s of typing on a keyboard, 10 s of a jiggler's clicks, 10 s of nothing.
    sim.run_input(30, |i| match i {
        0..10 => split(keys(2), Counts::default()),
        10..20 => split(Counts::default(), clicks(1)),
        _ => split(Counts::default(), Counts::default()),
    });
    sim.stop();
    let intervals = sim.intervals();
    assert_sound(&intervals);
    let flags: String = intervals
        .iter()
        .map(|i| i.injected.clone().expect("every second told its origin"))
        .collect();
    assert_eq!(
        flags,
        format!("{}{}{}", "0".repeat(10), "1".repeat(10), "0".repeat(10))
    );
    let mut injected = Counts::default();
    let mut all = Counts::default();
    for i in &intervals {
        injected.add(&i.injected_counts.expect("with the flags"));
        all.add(&i.counts);
    }
    assert_eq!(
        injected,
        Counts {
            clicks: 10,
            moves: 40,
            ..Counts::default()
        }
    );
    assert_eq!(
        all,
        Counts {
            keys: 20,
            clicks: 10,
            moves: 40,
            ..Counts::default()
        }
    );
}

#[test]
fn a_sensor_that_cannot_tell_origins_leaves_them_not_measured() {
    let mut sim = Sim::default_seeded(22);
    sim.start("t1");
    sim.run(20, |_| true);
    sim.stop();
    let intervals = sim.intervals();
    assert!(intervals
        .iter()
        .all(|i| i.injected.is_none() && i.injected_counts.is_none()));
    // No input event can be typed hardware or injected: only the window's.
    let events: Vec<_> = intervals.iter().flat_map(|i| i.events.clone()).collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventType::WindowOpen);
    // One second of an older kind in an interval makes it "not measured" too.
    let mut sim = Sim::new(
        EngineConfig {
            interval_range: 60..=60,
            ..EngineConfig::default()
        },
        23,
    );
    sim.start("t1");
    sim.run_input(10, |i| {
        if i == 5 {
            Input::Counted(keys(1))
        } else {
            split(keys(1), Counts::default())
        }
    });
    sim.stop();
    assert!(sim.intervals().iter().all(|i| i.injected.is_none()));
}

#[test]
fn the_intervals_carry_the_input_events_of_the_one_minute_rule() {
    // Case (a) of the issue through the engine: typing for 36 s (0..=35), away, a click at
    // 320 s: events at 0, 35 and 320 s, whatever interval each falls in.
    let mut sim = Sim::default_seeded(24);
    let t0 = sim.wall + chrono::Duration::seconds(0);
    sim.start("t1");
    sim.run_input(330, |i| match i {
        0..=35 => split(keys(3), Counts::default()),
        320 => split(clicks(1), Counts::default()),
        _ => split(Counts::default(), Counts::default()),
    });
    sim.stop();
    let intervals = sim.intervals();
    assert_sound(&intervals);
    let hid: Vec<(i64, EventType)> = timed(&intervals)
        .into_iter()
        .filter(|(_, kind)| *kind != EventType::WindowOpen)
        .map(|(at, kind)| ((at - t0).num_seconds(), kind))
        .collect();
    assert_eq!(
        hid,
        [
            (0, EventType::HardwareKeyboardEvent),
            (35, EventType::HardwareKeyboardEvent),
            (320, EventType::HardwareMouseClick),
        ]
    );
    // The window opened at the first second, where its segment starts.
    let open = intervals[0].events[0];
    assert_eq!((open.offset, open.kind), (0, EventType::WindowOpen));
    assert_eq!(intervals[0].windows[0].offset, 0);
    assert_eq!(intervals[0].windows[0].app, "editor");
}

/// Every event of the intervals with its time.
fn timed(intervals: &[Interval]) -> Vec<(DateTime<Utc>, EventType)> {
    intervals
        .iter()
        .flat_map(|i| {
            i.events.iter().map(|e| {
                (
                    i.started_at + chrono::Duration::seconds(e.offset.into()),
                    e.kind,
                )
            })
        })
        .collect()
}

#[test]
fn input_held_back_by_the_rule_is_written_when_tracking_stops() {
    let mut sim = Sim::default_seeded(25);
    let t0 = sim.wall;
    sim.start("t1");
    sim.run_input(20, |_| split(Counts::default(), keys(1)));
    sim.stop();
    let times: Vec<i64> = timed(&sim.intervals())
        .into_iter()
        .filter(|(_, kind)| *kind == EventType::InjectedKeyboardEvent)
        .map(|(at, _)| (at - t0).num_seconds())
        .collect();
    assert_eq!(times, [0, 19]);
}
