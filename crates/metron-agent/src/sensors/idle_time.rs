//! Per-second activity from a session's idle time ("how long since the last input"), read
//! once a tick: the second had input when the idle time is shorter than the time since the
//! previous read. GNOME's `org.gnome.Mutter.IdleMonitor.GetIdletime` is such a source.

use std::time::{Duration, Instant};

use metron_core::Input;

use super::ActivityProbe;

/// Reads the session's idle time; `None` when it can't (the source went away).
pub trait IdleTime: Send {
    fn idle(&mut self) -> Option<Duration>;
}

/// Activity seen (not counted) from an idle-time source.
pub struct IdleTimeActivity<S> {
    source: S,
    last_take: Instant,
}

impl<S: IdleTime> IdleTimeActivity<S> {
    pub fn new(source: S) -> Self {
        IdleTimeActivity {
            source,
            last_take: Instant::now(),
        }
    }

    fn take_at(&mut self, now: Instant) -> Input {
        let since = now.saturating_duration_since(self.last_take);
        self.last_take = now;
        Input::Seen(self.source.idle().is_some_and(|idle| idle < since))
    }
}

impl<S: IdleTime> ActivityProbe for IdleTimeActivity<S> {
    fn take(&mut self) -> Input {
        self.take_at(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Scripted(Vec<Option<u64>>);

    impl IdleTime for Scripted {
        fn idle(&mut self) -> Option<Duration> {
            self.0.remove(0).map(Duration::from_millis)
        }
    }

    #[test]
    fn a_second_is_active_when_the_last_input_fell_inside_it() {
        let t0 = Instant::now();
        // Idle times read at 1 s, 2 s, 3 s, 4 s: input at 0.5 s, none, input at 2.9 s, gone.
        let mut probe = IdleTimeActivity {
            source: Scripted(vec![Some(500), Some(1500), Some(100), None]),
            last_take: t0,
        };
        let flags: Vec<Input> = (1..=4)
            .map(|s| probe.take_at(t0 + Duration::from_secs(s)))
            .collect();
        assert_eq!(
            flags,
            [true, false, true, false].map(Input::Seen),
            "an unreadable idle time is no input"
        );
    }
}
