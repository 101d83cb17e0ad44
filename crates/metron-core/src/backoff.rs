//! Retry timing for delivery (SPEC S4): after a transient failure, wait 1 s, then longer, up to
//! a 10 s cap, each wait jittered so many agents that lost the same server don't come back in
//! step. Pure: the jitter comes from an injected RNG, time is the caller's.

use rand::{Rng, RngCore};
use std::time::Duration;

pub const FIRST: Duration = Duration::from_secs(1);
pub const CAP: Duration = Duration::from_secs(10);

/// Exponential backoff with "equal jitter": each wait is between half and all of the nominal
/// delay (1, 2, 4, 8, 10, 10, ... s), so it never collapses to zero and never exceeds the cap.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    pub fn new() -> Self {
        Backoff::default()
    }

    /// How many failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a failure and returns how long to wait before the next try. A server's
    /// `Retry-After` (honoured, but also capped) replaces the computed wait when given.
    pub fn fail(&mut self, rng: &mut dyn RngCore, retry_after: Option<Duration>) -> Duration {
        let nominal = FIRST.saturating_mul(1u32 << self.failures.min(16)).min(CAP);
        self.failures = self.failures.saturating_add(1);
        if let Some(wait) = retry_after {
            return wait.min(CAP);
        }
        let half = nominal / 2;
        let jitter_ms = rng.random_range(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter_ms)
    }

    /// A success, or a manual resend: the next failure starts again at 1 s.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn waits_grow_from_one_second_to_the_ten_second_cap() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut b = Backoff::new();
        let nominal = [1u64, 2, 4, 8, 10, 10, 10, 10];
        for n in nominal {
            let wait = b.fail(&mut rng, None);
            assert!(
                wait >= Duration::from_millis(n * 500) && wait <= Duration::from_secs(n),
                "{wait:?} for nominal {n} s"
            );
        }
        for _ in 0..100 {
            assert!(b.fail(&mut rng, None) <= CAP);
        }
    }

    #[test]
    fn jitter_spreads_agents_apart() {
        let waits: Vec<Duration> = (0..20)
            .map(|seed| {
                let mut b = Backoff::new();
                let mut rng = StdRng::seed_from_u64(seed);
                b.fail(&mut rng, None);
                b.fail(&mut rng, None);
                b.fail(&mut rng, None)
            })
            .collect();
        let distinct: std::collections::HashSet<_> = waits.iter().collect();
        assert!(distinct.len() > 10, "{waits:?}");
    }

    #[test]
    fn reset_starts_over_and_retry_after_is_honoured_but_capped() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut b = Backoff::new();
        for _ in 0..6 {
            b.fail(&mut rng, None);
        }
        b.reset();
        assert!(b.fail(&mut rng, None) <= FIRST);
        assert_eq!(
            b.fail(&mut rng, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(b.fail(&mut rng, Some(Duration::from_secs(120))), CAP);
        assert_eq!(b.failures(), 3);
    }
}
