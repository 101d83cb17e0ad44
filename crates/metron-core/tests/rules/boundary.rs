//! E2/E3 boundaries, E4 contents, task switches and determinism.

use super::*;
use metron_core::{EndReason, StopCause};

#[test]
fn an_eight_hour_day_is_cut_into_contiguous_randomized_intervals() {
    let mut sim = Sim::default_seeded(1);
    sim.start("t1");
    sim.run(8 * 3600, |_| true);
    sim.quit();
    let intervals = sim.intervals();
    assert_sound(&intervals);
    assert_contiguous(&intervals);
    assert_eq!(total_secs(&intervals), 8 * 3600);
    let (last, body) = intervals.split_last().unwrap();
    assert_eq!(last.end_reason, EndReason::Quit);
    assert!(body.iter().all(|i| i.end_reason == EndReason::Boundary));
    assert!(body.iter().all(|i| (40..=80).contains(&i.duration_secs())));
    let mean = total_secs(body) as f64 / body.len() as f64;
    assert!((mean - 60.0).abs() < 3.0, "mean interval {mean}");
    // Boundaries are not predictable: lengths vary.
    assert!(
        body.windows(2)
            .filter(|w| w[0].duration_secs() != w[1].duration_secs())
            .count()
            > body.len() / 2
    );
    assert!(intervals
        .iter()
        .all(|i| i.active.bytes().all(|b| b == b'1')));
    assert_eq!(
        intervals.iter().map(|i| i.counts.keys).sum::<u64>(),
        3 * 8 * 3600
    );
}

#[test]
fn window_runs_cover_the_interval_and_merge_repeats() {
    let mut sim = Sim::new(
        EngineConfig {
            interval_range: 10..=10,
            ..Default::default()
        },
        2,
    );
    sim.start("t1");
    for app in ["a", "a", "a", "b", "b", "a", "a", "a", "a", "a"] {
        sim.pass_ms(1000);
        let e = sim.engine.tick(
            &sim.now(),
            Sample {
                input: Counts {
                    keys: 1,
                    ..Default::default()
                }
                .into(),
                window: Some(window(app, "x")),
                inhibitor: None,
            },
        );
        sim.events.extend(e);
    }
    let i = &sim.intervals()[0];
    let runs: Vec<(u32, u32, &str)> = i
        .windows
        .iter()
        .map(|w| (w.offset, w.seconds, w.app.as_str()))
        .collect();
    assert_eq!(runs, vec![(0, 3, "a"), (3, 2, "b"), (5, 5, "a")]);
}

#[test]
fn an_unknown_window_is_recorded_as_unknown_not_dropped() {
    let mut sim = Sim::new(
        EngineConfig {
            interval_range: 3..=3,
            ..Default::default()
        },
        2,
    );
    sim.start("t1");
    for _ in 0..3 {
        sim.pass_ms(1000);
        let e = sim.engine.tick(&sim.now(), Sample::default());
        sim.events.extend(e);
    }
    let i = &sim.intervals()[0];
    assert_eq!(i.windows.len(), 1);
    assert_eq!(i.windows[0].app, "unknown");
    assert_eq!(i.windows[0].seconds, 3);
}

#[test]
fn a_task_switch_closes_the_interval_and_continues_without_a_gap() {
    let mut sim = Sim::default_seeded(3);
    sim.start("t1");
    sim.run(30, |_| true);
    sim.switch("t2");
    sim.run(100, |_| true);
    sim.stop();
    let intervals = sim.intervals();
    assert_sound(&intervals);
    assert_contiguous(&intervals);
    assert_eq!(intervals[0].task_id, "t1");
    assert_eq!(intervals[0].end_reason, EndReason::Switch);
    assert_eq!(intervals[0].duration_secs(), 30);
    assert!(intervals[1..].iter().all(|i| i.task_id == "t2"));
    assert_eq!(intervals.last().unwrap().end_reason, EndReason::Stop);
    assert_eq!(total_secs(&intervals), 130);
    assert!(sim.events.contains(&Event::Started {
        task_id: "t2".into()
    }));
    assert_eq!(sim.events.last(), Some(&Event::Stopped(StopCause::User)));
}

#[test]
fn start_on_the_running_task_changes_nothing_and_on_another_task_switches() {
    let mut sim = Sim::default_seeded(4);
    sim.start("t1");
    sim.run(10, |_| true);
    sim.start("t1");
    assert!(sim.intervals().is_empty());
    sim.start("t2");
    assert_eq!(sim.intervals()[0].end_reason, EndReason::Switch);
    assert_eq!(sim.engine.task_id(), Some("t2"));
}

#[test]
fn the_same_seed_and_inputs_give_identical_intervals() {
    let run = |seed| {
        let mut sim = Sim::default_seeded(seed);
        sim.start("t1");
        sim.run(600, |i| i % 7 != 0);
        sim.quit();
        sim.intervals()
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9), run(10));
}

#[test]
fn ticks_that_jitter_or_come_late_account_each_second_once() {
    let mut sim = Sim::new(
        EngineConfig {
            interval_range: 900..=900,
            ..Default::default()
        },
        5,
    );
    sim.start("t1");
    // 10 ticks that drift by tens of milliseconds around the second...
    for jitter in [980, 1030, 990, 1010, 960, 1040, 1000, 1000, 995, 1005] {
        sim.pass_ms(jitter);
        let e = sim.engine.tick(
            &sim.now(),
            Sample {
                input: Counts {
                    keys: 1,
                    ..Default::default()
                }
                .into(),
                window: None,
                inhibitor: None,
            },
        );
        sim.events.extend(e);
    }
    // ...then a 3 s stall (below the 5 s sleep gap): the seconds still count, inactive but the last.
    sim.pass_ms(3000);
    let e = sim.engine.tick(
        &sim.now(),
        Sample {
            input: Counts {
                keys: 1,
                ..Default::default()
            }
            .into(),
            window: None,
            inhibitor: None,
        },
    );
    sim.events.extend(e);
    sim.stop();
    let i = &sim.intervals()[0];
    assert_eq!(i.duration_secs(), 13);
    assert_eq!(i.active, "1111111111001");
    assert_eq!(i.counts.keys, 11);
}

#[test]
fn stopping_before_a_second_has_passed_records_nothing() {
    let mut sim = Sim::default_seeded(6);
    sim.start("t1");
    sim.pass_ms(300);
    sim.stop();
    assert!(sim.intervals().is_empty());
    assert!(!sim.engine.is_tracking());
}

#[test]
fn the_checkpoint_snapshot_is_the_open_interval_marked_recovered() {
    let mut sim = Sim::default_seeded(7);
    sim.start("t1");
    sim.run(25, |_| true);
    let snap = sim.engine.snapshot().unwrap();
    assert_eq!(snap.end_reason, EndReason::Recovered);
    assert_eq!(snap.duration_secs(), 25);
    sim.run(5, |_| true);
    sim.stop();
    let closed = &sim.intervals()[0];
    assert_eq!(
        closed.id, snap.id,
        "the recovered interval keeps the open interval's id"
    );
    assert_eq!(closed.started_at, snap.started_at);
}
