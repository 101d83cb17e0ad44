//! E3: the idle stop and the sleep gap.

use super::*;
use metron_core::{EndReason, StopCause};

#[test]
fn idle_stops_at_exactly_300_seconds_and_the_idle_seconds_are_zeros() {
    let mut sim = Sim::default_seeded(11);
    sim.start("t1");
    sim.run(100, |_| true);
    // No input from here on: tracking must stop after exactly 300 s.
    sim.run(400, |_| false);
    let intervals = sim.intervals();
    assert_sound(&intervals);
    assert_contiguous(&intervals);
    assert_eq!(total_secs(&intervals), 400);
    let last = intervals.last().unwrap();
    assert_eq!(last.end_reason, EndReason::Idle);
    assert_eq!(sim.events.last(), Some(&Event::Stopped(StopCause::Idle)));
    assert!(!sim.engine.is_tracking());
    let flags: String = intervals.iter().map(|i| i.active.as_str()).collect();
    assert_eq!(flags, format!("{}{}", "1".repeat(100), "0".repeat(300)));
    // Ticks after the stop record nothing.
    let n = intervals.len();
    sim.run(10, |_| true);
    assert_eq!(sim.intervals().len(), n);
}

#[test]
fn input_at_second_299_resets_the_idle_count() {
    let mut sim = Sim::default_seeded(12);
    sim.start("t1");
    sim.run(600, |i| i == 298);
    let intervals = sim.intervals();
    assert_eq!(total_secs(&intervals), 299 + 300);
    assert_eq!(intervals.last().unwrap().end_reason, EndReason::Idle);
}

#[test]
fn a_two_hour_sleep_is_never_counted() {
    let mut sim = Sim::default_seeded(13);
    sim.start("t1");
    sim.run(90, |_| true);
    let before = sim.intervals().len();
    sim.pass_ms(2 * 3600 * 1000);
    sim.run(1, |_| true);
    let intervals = sim.intervals();
    assert_sound(&intervals);
    assert_eq!(total_secs(&intervals), 90, "the 2 h gap is excluded");
    let last = intervals.last().unwrap();
    assert_eq!(last.end_reason, EndReason::Sleep);
    assert_eq!(intervals.len(), before + 1);
    assert_eq!(sim.events.last(), Some(&Event::Stopped(StopCause::Sleep)));
    assert!(!sim.engine.is_tracking());
}

#[test]
fn a_gap_of_exactly_five_seconds_is_not_sleep_but_six_is() {
    let mut sim = Sim::default_seeded(14);
    sim.start("t1");
    sim.run(10, |_| true);
    // `run(1)` lets one more second pass: a 5 s gap in all.
    sim.pass_ms(4000);
    sim.run(1, |_| true);
    assert!(sim.engine.is_tracking());
    sim.pass_ms(4001);
    sim.run(1, |_| true);
    assert!(!sim.engine.is_tracking());
    assert_eq!(total_secs(&sim.intervals()), 10 + 5);
}

#[test]
fn a_stop_after_a_sleep_closes_at_the_last_tick() {
    let mut sim = Sim::default_seeded(15);
    sim.start("t1");
    sim.run(20, |_| true);
    sim.pass_ms(600_000);
    sim.stop();
    let intervals = sim.intervals();
    assert_eq!(total_secs(&intervals), 20);
    assert_eq!(intervals.last().unwrap().end_reason, EndReason::Sleep);
}

#[test]
fn input_seen_without_counts_gives_the_same_flags_and_idle_stop() {
    // Wayland's idle protocols tell only whether a second had input.
    let pattern = |i: u64| i < 100 || (150..160).contains(&i);
    let mut counted = Sim::default_seeded(12);
    counted.start("t1");
    counted.run(600, pattern);
    let mut seen = Sim::default_seeded(12);
    seen.start("t1");
    seen.run_input(600, |i| Input::Seen(pattern(i)));
    let (a, b) = (counted.intervals(), seen.intervals());
    assert_sound(&b);
    let flags = |v: &[Interval]| v.iter().map(|i| i.active.clone()).collect::<String>();
    assert_eq!(flags(&a), flags(&b));
    assert_eq!(
        b.last().unwrap().end_reason,
        EndReason::Idle,
        "the 5-minute rule holds"
    );
    assert_eq!(total_secs(&b), 160 + 300);
    assert!(a.iter().all(|i| i.counts_measured));
    assert!(b
        .iter()
        .all(|i| !i.counts_measured && i.counts == Counts::default()));
}

#[test]
fn seconds_without_a_sample_keep_counts_unmeasured() {
    // A Stop 3 s after the last tick: the catch-up seconds, in intervals of their own, are of
    // the sensors' kind too.
    let config = EngineConfig {
        interval_range: 2..=2,
        ..EngineConfig::default()
    };
    let mut sim = Sim::new(config, 13);
    sim.start("t1");
    sim.run_input(2, |_| Input::Seen(true));
    sim.pass_ms(3000);
    sim.stop();
    let intervals = sim.intervals();
    let flags: String = intervals.iter().map(|i| i.active.as_str()).collect();
    assert_eq!(flags, "11000");
    assert_eq!(intervals.len(), 3);
    assert!(intervals.iter().all(|i| !i.counts_measured));
}
