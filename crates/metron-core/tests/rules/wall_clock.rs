//! E5: wall-clock jumps, DST and time-zone changes never bend tracked time.

use super::*;

#[test]
fn the_wall_clock_moved_back_and_forward_mid_interval_changes_nothing() {
    for jump_hours in [-1i64, 1] {
        let mut sim = Sim::default_seeded(21);
        sim.start("t1");
        sim.run(30, |_| true);
        sim.wall += chrono::Duration::hours(jump_hours);
        sim.run(300, |_| true);
        sim.quit();
        let intervals = sim.intervals();
        assert_sound(&intervals);
        assert_contiguous(&intervals);
        assert_eq!(total_secs(&intervals), 330, "jump {jump_hours} h");
        assert!(intervals.iter().all(|i| i.duration_secs() > 0));
    }
}

#[test]
fn a_clock_set_back_between_sessions_cannot_make_the_next_overlap() {
    let mut sim = Sim::default_seeded(22);
    sim.start("t1");
    sim.run(120, |_| true);
    sim.stop();
    let first_end = sim.intervals().last().unwrap().ended_at;
    // An NTP step back of a few minutes: within the leeway, the floor holds.
    sim.wall -= chrono::Duration::minutes(4);
    sim.pass_ms(10_000);
    sim.start("t1");
    sim.run(120, |_| true);
    sim.stop();
    let intervals = sim.intervals();
    assert_sound(&intervals);
    assert_eq!(total_secs(&intervals), 240);
    let second = intervals
        .iter()
        .find(|i| i.started_at >= first_end)
        .expect("the second session");
    assert_eq!(
        second.started_at, first_end,
        "the second session starts at the floor"
    );
    assert!(!sim
        .events
        .iter()
        .any(|e| matches!(e, Event::FloorIgnored { .. })));
}

#[test]
fn the_floor_from_the_store_protects_a_fresh_engine_too() {
    let mut sim = Sim::default_seeded(23);
    let stored_end = sim.wall + chrono::Duration::minutes(5);
    sim.engine.set_floor(stored_end);
    sim.start("t1");
    sim.run(10, |_| true);
    sim.stop();
    assert_eq!(sim.intervals()[0].started_at, stored_end);
}

#[test]
fn a_floor_more_than_five_minutes_ahead_is_ignored_and_reported_instead_of_stamping_the_future() {
    // The store's last interval ends 2 h ahead: a clock that ran ahead, since corrected.
    let mut sim = Sim::default_seeded(26);
    let stored_end = sim.wall + chrono::Duration::hours(2);
    sim.engine.set_floor(stored_end);
    let started_at = sim.wall;
    sim.start("t1");
    sim.run(10, |_| true);
    sim.stop();
    assert_eq!(
        sim.intervals()[0].started_at,
        started_at,
        "stamped from the wall clock, not the floor"
    );
    assert!(
        sim.events.contains(&Event::FloorIgnored {
            floor: stored_end,
            wall: started_at
        }),
        "{:?}",
        sim.events
    );
    // One second past the leeway is past it; the leeway itself is honoured (the test above).
    let mut sim = Sim::default_seeded(27);
    sim.engine
        .set_floor(sim.wall + chrono::Duration::seconds(301));
    let started_at = sim.wall;
    sim.start("t1");
    sim.run(5, |_| true);
    sim.stop();
    assert_eq!(sim.intervals()[0].started_at, started_at);
}

#[test]
fn a_dst_change_mid_day_keeps_utc_time_contiguous_and_stamps_the_new_offset() {
    // 2026-03-29 01:00 UTC: Central Europe goes from +60 to +120 minutes.
    let mut sim = Sim::default_seeded(24);
    sim.wall = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
    sim.offset = 60;
    sim.start("t1");
    sim.run(1800, |_| true);
    sim.offset = 120;
    sim.run(1800, |_| true);
    sim.quit();
    let intervals = sim.intervals();
    assert_sound(&intervals);
    assert_contiguous(&intervals);
    assert_eq!(total_secs(&intervals), 3600);
    assert_eq!(intervals[0].utc_offset_minutes, 60);
    assert_eq!(intervals.last().unwrap().utc_offset_minutes, 120);
    let dst = Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap();
    // Offsets change only at interval boundaries: each interval keeps the offset it opened with.
    assert!(intervals
        .iter()
        .filter(|i| i.started_at < dst)
        .all(|i| i.utc_offset_minutes == 60));
    assert!(intervals
        .iter()
        .filter(|i| i.started_at > dst + chrono::Duration::seconds(80))
        .all(|i| i.utc_offset_minutes == 120));
}

#[test]
fn a_time_zone_change_mid_day_with_a_wall_jump_keeps_durations_true() {
    // Flying Moscow (+180) to London (+0): the OS changes zone and NTP nudges the clock.
    let mut sim = Sim::default_seeded(25);
    sim.offset = 180;
    sim.start("t1");
    sim.run(600, |_| true);
    sim.offset = 0;
    sim.wall -= chrono::Duration::seconds(7);
    sim.run(600, |_| true);
    sim.stop();
    let intervals = sim.intervals();
    assert_sound(&intervals);
    assert_contiguous(&intervals);
    assert_eq!(total_secs(&intervals), 1200);
    assert_eq!(intervals.last().unwrap().utc_offset_minutes, 0);
}
