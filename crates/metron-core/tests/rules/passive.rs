//! Passive presence (issue 15): seconds without input while an idle inhibitor is held (a video
//! call, a playing video) are passive, and the 5-minute idle stop waits for them, for at most
//! the passive limit (2 hours at most).

use super::*;
use metron_core::engine::MAX_PASSIVE_LIMIT_SECS;
use metron_core::StopCause;

fn flags(intervals: &[Interval], pick: impl Fn(&Interval) -> Option<String>) -> String {
    intervals
        .iter()
        .map(|i| pick(i).unwrap_or_else(|| "0".repeat(i.active.len())))
        .collect()
}

fn stopped_idle(sim: &Sim) -> bool {
    sim.events
        .iter()
        .any(|e| matches!(e, Event::Stopped(StopCause::Idle)))
}

#[test]
fn a_call_without_input_is_passive_and_the_idle_stop_waits_until_it_ends() {
    let mut sim = Sim::default_seeded(3);
    sim.start("t1");
    // 10 s typing, then a 20-minute call without input, then nothing: the idle stop comes
    // 300 s after the call ends, not 300 s after the last input.
    sim.run_presence(10 + 1200 + 400, |i| match i {
        0..10 => (true, false),
        10..1210 => (false, true),
        _ => (false, false),
    });
    assert!(stopped_idle(&sim));
    let intervals = sim.intervals();
    assert_sound(&intervals);
    let passive = flags(&intervals, |i| i.passive.clone());
    let active = flags(&intervals, |i| Some(i.active.clone()));
    assert_eq!(
        active.len(),
        10 + 1200 + 300,
        "stopped after 300 idle seconds"
    );
    assert_eq!(
        passive,
        format!("{}{}{}", "0".repeat(10), "1".repeat(1200), "0".repeat(300))
    );
    assert_eq!(&active[..10], "1".repeat(10));
    assert!(intervals.iter().all(|i| i.validate().is_ok()));
    // Intervals without a passive second carry none (the old wire format).
    assert!(intervals.last().unwrap().passive.is_none());
}

#[test]
fn input_during_a_call_is_active_not_passive() {
    let mut sim = Sim::default_seeded(4);
    sim.start("t1");
    sim.run_presence(30, |i| (i % 10 == 0, true));
    sim.stop();
    let intervals = sim.intervals();
    let passive = flags(&intervals, |i| i.passive.clone());
    let active = flags(&intervals, |i| Some(i.active.clone()));
    for (p, a) in passive.chars().zip(active.chars()) {
        assert_ne!(
            (p, a),
            ('1', '1'),
            "a second is active or passive, never both"
        );
    }
    assert_eq!(passive.matches('1').count(), 27);
}

#[test]
fn the_wait_ends_at_the_passive_limit() {
    let config = EngineConfig {
        passive_limit_secs: 60,
        ..EngineConfig::default()
    };
    let mut sim = Sim::new(config, 5);
    sim.start("t1");
    // An inhibitor held all along (a paused video left open): 60 passive seconds, then the
    // usual 300 idle ones, then the stop.
    sim.run_presence(1000, |i| (i == 0, true));
    assert!(stopped_idle(&sim));
    let intervals = sim.intervals();
    let passive = flags(&intervals, |i| i.passive.clone());
    assert_eq!(passive.len(), 1 + 60 + 300);
    assert_eq!(passive.matches('1').count(), 60);
}

#[test]
fn the_passive_limit_is_two_hours_at_most() {
    let config = EngineConfig {
        passive_limit_secs: u32::MAX,
        interval_range: 600..=600,
        ..EngineConfig::default()
    };
    let mut sim = Sim::new(config, 6);
    sim.start("t1");
    sim.run_presence(u64::from(MAX_PASSIVE_LIMIT_SECS) + 400, |i| (i == 0, true));
    assert!(stopped_idle(&sim));
    let passive = flags(&sim.intervals(), |i| i.passive.clone());
    assert_eq!(passive.matches('1').count() as u32, MAX_PASSIVE_LIMIT_SECS);
}

/// Who held the inhibitor, second by second, read back from the intervals' stretches
/// ('.' where a second has no holder).
fn holders(intervals: &[Interval]) -> Vec<String> {
    let mut out = Vec::new();
    for i in intervals {
        let mut seconds = vec![".".to_string(); i.active.len()];
        for stretch in &i.presence {
            for s in stretch.offset..stretch.offset + stretch.seconds {
                seconds[s as usize] = stretch.held_by.clone();
            }
        }
        out.extend(seconds);
    }
    out
}

#[test]
fn every_passive_second_names_who_held_the_inhibitor() {
    let mut sim = Sim::default_seeded(7);
    sim.start("t1");
    // Typing, a call in zoom, typing under the call, then a video in firefox.
    sim.run_held(200, |i| match i {
        0..10 => (true, None),
        10..100 => (i % 45 == 0, Some("zoom")),
        _ => (false, Some("org.mozilla.firefox")),
    });
    sim.stop();
    let intervals = sim.intervals();
    assert!(intervals.iter().all(|i| i.validate().is_ok()));
    let passive = flags(&intervals, |i| i.passive.clone());
    let held = holders(&intervals);
    for (second, (p, who)) in passive.chars().zip(&held).enumerate() {
        let expected = match (p, second) {
            ('0', _) => ".",
            (_, 10..100) => "zoom",
            _ => "org.mozilla.firefox",
        };
        assert_eq!(who, expected, "second {second}");
    }
    assert_eq!(held.iter().filter(|h| *h == "zoom").count(), 88);
}

#[test]
fn a_holder_name_is_made_printable_and_short() {
    let mut sim = Sim::default_seeded(8);
    sim.start("t1");
    sim.run_held(5, |_| (false, Some("\u{202e}evil\u{1b}[2J name")));
    sim.run_held(5, |_| (false, Some(" \u{7} ")));
    sim.stop();
    let intervals = sim.intervals();
    assert!(intervals.iter().all(|i| i.validate().is_ok()));
    let held = holders(&intervals);
    assert_eq!(held[0], "evil[2J name");
    assert_eq!(held[9], "unknown");
}

#[test]
fn the_organization_can_lower_the_passive_limit_or_turn_it_off_while_tracking() {
    let mut sim = Sim::default_seeded(9);
    sim.start("t1");
    sim.run_presence(20, |i| (i == 0, true));
    sim.engine.set_passive_limit(0);
    sim.run_presence(400, |_| (false, true));
    assert!(
        stopped_idle(&sim),
        "no passive presence: the idle stop counts"
    );
    let intervals = sim.intervals();
    let passive = flags(&intervals, |i| i.passive.clone());
    assert_eq!(passive.matches('1').count(), 19);
    assert_eq!(passive.len(), 20 + 300);
}
