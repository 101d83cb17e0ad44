//! Per-second activity from idle notifications.
//!
//! Wayland compositors don't hand out input events; they tell a client when the seat has been
//! without input for a timeout ("idle") and when input comes back ("resumed"). With a timeout
//! of one second that is enough to rebuild E1's per-second flags: between "resumed" at T and
//! the "idle" that follows at T' (sent one timeout after the last input), no two inputs are a
//! timeout apart, so every whole second that meets [T, T' - timeout] had input, and no other
//! second did. A second is therefore active when the seat was busy at its end, or when the
//! last input of a closed busy stretch fell inside it.

use std::time::{Duration, Instant};

/// The idle timeout asked of the compositor: one second, the resolution of E1.
pub const TIMEOUT: Duration = Duration::from_secs(1);

/// Folds "idle" and "resumed" notifications into one flag per `take`.
#[derive(Debug)]
pub struct IdleTracker {
    timeout: Duration,
    /// Input within the last timeout: between "resumed" and "idle".
    busy: bool,
    resumed_at: Option<Instant>,
    /// The last input of the latest closed busy stretch.
    last_input: Option<Instant>,
    last_take: Instant,
}

impl IdleTracker {
    /// Starts as idle: a compositor only says "resumed" after an "idle", so a person typing
    /// at start is seen from their first pause of a second on. Activity is never invented.
    pub fn new(now: Instant, timeout: Duration) -> Self {
        IdleTracker {
            timeout,
            busy: false,
            resumed_at: None,
            last_input: None,
            last_take: now,
        }
    }

    pub fn resumed(&mut self, at: Instant) {
        self.busy = true;
        self.resumed_at = Some(at);
    }

    pub fn idled(&mut self, at: Instant) {
        self.busy = false;
        let last = at.checked_sub(self.timeout).unwrap_or(at);
        // A timer that fires early must not put the last input before the first.
        self.last_input = Some(match self.resumed_at {
            Some(resumed) => last.max(resumed),
            None => last,
        });
    }

    /// Whether the second ending `now` (since the previous take) had input.
    pub fn take(&mut self, now: Instant) -> bool {
        let since = self.last_take;
        self.last_take = now;
        self.busy || self.last_input.is_some_and(|t| t >= since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted second-by-second run: `events` are (ms from start, resumed?) pairs, the
    /// result is one flag per second.
    fn flags(seconds: u64, events: &[(u64, bool)]) -> String {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut tracker = IdleTracker::new(t0, TIMEOUT);
        let mut events = events.iter().peekable();
        let mut out = String::new();
        for s in 1..=seconds {
            while let Some((ms, resumed)) = events.next_if(|(ms, _)| *ms < s * 1000) {
                if *resumed {
                    tracker.resumed(at(*ms));
                } else {
                    tracker.idled(at(*ms));
                }
            }
            out.push(if tracker.take(at(s * 1000)) { '1' } else { '0' });
        }
        out
    }

    #[test]
    fn a_stretch_of_typing_marks_exactly_the_seconds_it_touched() {
        // Input from 2.3 s to 5.6 s: "resumed" at 2.3, "idle" one second after the last key.
        assert_eq!(flags(9, &[(2300, true), (6600, false)]), "001111000");
    }

    #[test]
    fn a_single_key_marks_one_second() {
        assert_eq!(flags(6, &[(3100, true), (4100, false)]), "000100");
        // Near the end of a second: the idle comes in the next one, which stays inactive.
        assert_eq!(flags(6, &[(2950, true), (3950, false)]), "001000");
    }

    #[test]
    fn nothing_before_the_first_resume_and_no_input_after_idle() {
        assert_eq!(flags(4, &[]), "0000");
        assert_eq!(
            flags(5, &[(1000, false)]),
            "00000",
            "an idle at start is no input"
        );
    }

    #[test]
    fn an_early_timer_does_not_move_the_last_input_before_the_first() {
        let t0 = Instant::now();
        let mut tracker = IdleTracker::new(t0, TIMEOUT);
        assert!(!tracker.take(t0 + Duration::from_secs(1)));
        tracker.resumed(t0 + Duration::from_millis(1500));
        tracker.idled(t0 + Duration::from_millis(1900));
        assert!(tracker.take(t0 + Duration::from_secs(2)));
        assert!(!tracker.take(t0 + Duration::from_secs(3)));
    }
}
