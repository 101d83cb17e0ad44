//! Commands outside a session, and several sessions in a day.

use super::*;
use metron_core::EndReason;

#[test]
fn commands_without_a_session_are_harmless() {
    let mut sim = Sim::default_seeded(41);
    sim.stop();
    sim.quit();
    sim.run(5, |_| true);
    assert!(sim.events.is_empty());
    assert!(sim.engine.snapshot().is_none());
}

#[test]
fn a_day_of_sessions_with_breaks_never_overlaps() {
    let mut sim = Sim::default_seeded(42);
    for (work, pause) in [(3000u64, 600u64), (5000, 3600), (1200, 0)] {
        sim.start("t1");
        sim.run(work, |i| i % 3 == 0);
        sim.stop();
        sim.pass_ms(pause * 1000);
    }
    let intervals = sim.intervals();
    assert_sound(&intervals);
    assert_eq!(total_secs(&intervals), 9200);
    assert_eq!(
        intervals
            .iter()
            .filter(|i| i.end_reason == EndReason::Stop)
            .count(),
        3
    );
}
