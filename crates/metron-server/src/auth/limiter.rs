//! Rate limiters: a sliding window per key with a bounded number of keys, and the login
//! limiter built on it (failures per email and address pair, and per address).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A sliding-window limiter over at most `max_keys` keys: at most `limit` events per key per
/// `window`. At the key cap, keys with no event in the window go first, then the least
/// recently seen: memory stays bounded however many distinct keys a client makes up.
pub struct RateLimiter {
    limit: usize,
    window: Duration,
    max_keys: usize,
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(limit: usize, window: Duration, max_keys: usize) -> Self {
        RateLimiter {
            limit: limit.max(1),
            window,
            max_keys: max_keys.max(1),
            events: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` may have another event now; if not, the seconds to wait. Records nothing.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        let Some(q) = events.get_mut(key) else {
            return Ok(());
        };
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() >= self.limit {
            let oldest = *q.front().expect("non-empty when over the limit");
            return Err((self.window.saturating_sub(now.duration_since(oldest))).as_secs() + 1);
        }
        Ok(())
    }

    /// Records an event for `key`.
    pub fn record(&self, key: &str) {
        let now = Instant::now();
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if !events.contains_key(key) && events.len() >= self.max_keys {
            self.make_room(&mut events, now);
        }
        let q = events.entry(key.to_string()).or_default();
        q.push_back(now);
        // Only the last `limit` events matter.
        while q.len() > self.limit {
            q.pop_front();
        }
    }

    /// Checks and, when allowed, records.
    pub fn hit(&self, key: &str) -> Result<(), u64> {
        self.check(key)?;
        self.record(key);
        Ok(())
    }

    /// Forgets `key` (a login that succeeded).
    pub fn forget(&self, key: &str) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.events.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn make_room(&self, events: &mut HashMap<String, VecDeque<Instant>>, now: Instant) {
        events.retain(|_, q| {
            q.back()
                .is_some_and(|t| now.duration_since(*t) < self.window)
        });
        if events.len() < self.max_keys {
            return;
        }
        // Still full of live keys: drop the tenth least recently seen, so this O(n) pass runs
        // once per max_keys / 10 new keys, not on every one.
        let mut last_seen: Vec<Instant> =
            events.values().filter_map(|q| q.back().copied()).collect();
        let cut = last_seen.len() / 10;
        let (_, threshold, _) = last_seen.select_nth_unstable(cut);
        let threshold = *threshold;
        events.retain(|_, q| q.back().is_some_and(|t| *t > threshold));
    }
}

/// Login failures, counted per (email, address) pair and per address. Only failures count, so
/// nobody can lock a user out by guessing from elsewhere: the owner's address has its own pair.
/// A single address that guesses at many emails meets its own, larger limit.
pub struct LoginLimiter {
    pairs: RateLimiter,
    addresses: RateLimiter,
}

/// Longest email kept (RFC 5321's limit on a path); longer ones are refused before any state.
pub const MAX_EMAIL_BYTES: usize = 254;
/// Most keys each limiter holds.
pub const LOGIN_LIMITER_KEYS: usize = 10_000;

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            pairs: RateLimiter::new(10, Duration::from_secs(60), LOGIN_LIMITER_KEYS),
            addresses: RateLimiter::new(100, Duration::from_secs(60), LOGIN_LIMITER_KEYS),
        }
    }
}

impl LoginLimiter {
    fn pair(email: &str, address: &str) -> String {
        format!("{address} {email}")
    }

    /// Whether a login for `email` from `address` may be tried now; if not, seconds to wait.
    pub fn check(&self, email: &str, address: &str) -> Result<(), u64> {
        self.addresses.check(address)?;
        self.pairs.check(&Self::pair(email, address))
    }

    pub fn failed(&self, email: &str, address: &str) {
        self.addresses.record(address);
        self.pairs.record(&Self::pair(email, address));
    }

    pub fn succeeded(&self, email: &str, address: &str) {
        self.pairs.forget(&Self::pair(email, address));
    }

    /// Keys held, over both limiters.
    pub fn keys(&self) -> usize {
        self.pairs.len() + self.addresses.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_count_and_per_pair() {
        let l = LoginLimiter::default();
        for _ in 0..10 {
            assert!(l.check("ann@x", "1.1.1.1").is_ok());
            l.failed("ann@x", "1.1.1.1");
        }
        assert!(
            l.check("ann@x", "1.1.1.1").unwrap_err() > 0,
            "the guessing pair backs off"
        );
        assert!(
            l.check("ann@x", "2.2.2.2").is_ok(),
            "the owner's own address is not locked out"
        );
        assert!(l.check("bob@x", "1.1.1.1").is_ok());
        for _ in 0..100 {
            l.succeeded("carl@x", "3.3.3.3");
            assert!(
                l.check("carl@x", "3.3.3.3").is_ok(),
                "successes never count"
            );
        }
    }

    #[test]
    fn one_address_guessing_many_emails_meets_its_own_limit() {
        let l = LoginLimiter::default();
        for k in 0..100 {
            l.failed(&format!("u{k}@x"), "6.6.6.6");
        }
        assert!(l.check("fresh@x", "6.6.6.6").is_err());
        assert!(l.check("fresh@x", "7.7.7.7").is_ok());
    }

    #[test]
    fn the_limiters_memory_is_bounded_whatever_the_number_of_keys() {
        let l = LoginLimiter::default();
        for k in 0..100_000 {
            // Distinct emails from distinct addresses (as through a trusted proxy): every key new.
            let addr = format!("10.{}.{}.{}", k >> 16, (k >> 8) & 255, k & 255);
            l.failed(&format!("user{k}@example.com"), &addr);
            assert!(
                l.keys() <= 2 * LOGIN_LIMITER_KEYS,
                "{} keys after {k}",
                l.keys()
            );
        }
        assert!(l.keys() <= 2 * LOGIN_LIMITER_KEYS);
        // The newest keys are the ones kept.
        for _ in 0..9 {
            l.failed("user99999@example.com", "10.1.134.159");
        }
        assert!(l.check("user99999@example.com", "10.1.134.159").is_err());
    }
}
