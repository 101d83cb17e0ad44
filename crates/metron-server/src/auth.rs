//! Passwords (argon2id), bearer tokens (random, stored only as SHA-256 hashes, with an absolute
//! and an idle lifetime), the `AuthUser` extractor with its cache checked against the
//! revocation epoch, and the rate limiters (login failures, task creation).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::db::{TokenRow, UserRow};
use crate::error::ApiError;
use crate::limits::Limits;
use crate::AppState;

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A real argon2 hash of a password nobody has: a login with an unknown email is checked
/// against it, so it costs the same time as a wrong password and a timing probe can't tell
/// which emails have accounts.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&new_token()).unwrap_or_default())
}

/// A new bearer token: 256 random bits, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// What the database keeps of a token: a leaked database reveals no usable token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Token lookups cached so ingest doesn't pay a query per request. Every request still reads
/// the revocation epoch (one cheap query): when it has moved, some token was revoked somewhere,
/// on this instance or another, and the whole cache is dropped, so a revoked token or a disabled
/// user is refused at once on every instance.
#[derive(Default)]
pub struct AuthCache {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    epoch: i64,
    entries: HashMap<String, (TokenRow, Instant)>,
}

/// How long a looked-up token is trusted before it is read again (for its idle clock).
const AUTH_TTL: Duration = Duration::from_secs(60);
/// Most tokens cached; beyond it the cache starts over (a flood of forged tokens never gets in:
/// only tokens found in the database are cached).
const AUTH_CACHE_MAX: usize = 100_000;
/// How often a token's last use is written (the idle lifetime is days; a write per request
/// would cost more than it tells).
const TOUCH_EVERY_SECS: i64 = 3600;

impl AuthCache {
    fn get(&self, hash: &str, epoch: i64) -> Option<TokenRow> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.epoch != epoch {
            inner.entries.clear();
            inner.epoch = epoch;
            return None;
        }
        inner
            .entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < AUTH_TTL)
            .map(|(t, _)| t.clone())
    }

    fn put(&self, hash: String, token: TokenRow, epoch: i64) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.epoch != epoch {
            inner.entries.clear();
            inner.epoch = epoch;
        }
        if inner.entries.len() >= AUTH_CACHE_MAX {
            inner.entries.clear();
        }
        inner.entries.insert(hash, (token, Instant::now()));
    }

    pub fn evict(&self, hash: &str) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .remove(hash);
    }
}

/// Why a stored token no longer signs anyone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Expired,
    Disabled,
}

/// Judges a live token at `now` under the configured lifetimes.
pub fn judge_token(token: &TokenRow, now: i64, limits: &Limits) -> Result<(), TokenRefusal> {
    if token.user.disabled {
        return Err(TokenRefusal::Disabled);
    }
    let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let last_used = token
        .last_used_at
        .unwrap_or(token.created_at)
        .max(token.created_at);
    if now >= token.created_at.saturating_add(secs(limits.token_lifetime))
        || now >= last_used.saturating_add(secs(limits.token_idle_lifetime))
    {
        return Err(TokenRefusal::Expired);
    }
    Ok(())
}

/// The signed-in caller, and the hash of the token they used.
pub struct AuthUser {
    pub user: UserRow,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let hash = token_hash(token);
        let epoch = state.db.revocation_epoch().await?;
        let now = chrono::Utc::now().timestamp();
        let row = match state.auth.get(&hash, epoch) {
            Some(row) => row,
            None => {
                let mut row = state.db.token(&hash).await?.ok_or(ApiError::Unauthorized)?;
                judge_token(&row, now, &state.limits).map_err(refusal)?;
                if row.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY_SECS) {
                    state.db.touch_token(&hash, now).await?;
                    row.last_used_at = Some(now);
                }
                state.auth.put(hash.clone(), row.clone(), epoch);
                row
            }
        };
        // The lifetimes run out while an entry is cached too.
        judge_token(&row, now, &state.limits).map_err(refusal)?;
        Ok(AuthUser {
            user: row.user,
            token_hash: hash,
        })
    }
}

impl AuthUser {
    /// Refuses (403) a caller who is not an admin: "only an admin can {to}".
    pub fn require_admin(&self, to: &str) -> Result<(), ApiError> {
        if self.user.user.admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("only an admin can {to}")))
        }
    }

    /// The user `id` of the caller's organization. Another organization's user is "not
    /// found", so ids can't be probed.
    pub async fn org_member(&self, state: &AppState, id: &str) -> Result<UserRow, ApiError> {
        match state.db.user_by_id(id).await? {
            Some(row) if row.org_id == self.user.org_id => Ok(row),
            _ => Err(ApiError::NotFound(format!(
                "no user {id} in your organization"
            ))),
        }
    }
}

fn refusal(why: TokenRefusal) -> ApiError {
    match why {
        TokenRefusal::Expired => ApiError::SessionExpired,
        TokenRefusal::Disabled => ApiError::Unauthorized,
    }
}

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
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(
            PasswordHash::new(decoy_hash()).is_ok(),
            "the decoy must be a real hash, or it costs no time"
        );
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }

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

    fn token_at(created_at: i64, last_used_at: Option<i64>, disabled: bool) -> TokenRow {
        TokenRow {
            user: UserRow {
                user: metron_core::wire::User {
                    id: "u".into(),
                    email: "e".into(),
                    name: "n".into(),
                    admin: false,
                },
                org_id: "o".into(),
                disabled,
            },
            created_at,
            last_used_at,
        }
    }

    #[test]
    fn tokens_expire_by_age_and_by_disuse() {
        let limits = Limits::default();
        let day = 86_400;
        assert_eq!(
            judge_token(&token_at(0, Some(0), false), 29 * day, &limits),
            Ok(())
        );
        assert_eq!(
            judge_token(&token_at(0, Some(0), false), 30 * day, &limits),
            Err(TokenRefusal::Expired),
            "30 days unused"
        );
        assert_eq!(
            judge_token(&token_at(0, Some(80 * day), false), 89 * day, &limits),
            Ok(())
        );
        assert_eq!(
            judge_token(&token_at(0, Some(89 * day), false), 90 * day, &limits),
            Err(TokenRefusal::Expired),
            "90 days old"
        );
        assert_eq!(
            judge_token(&token_at(0, None, true), 1, &limits),
            Err(TokenRefusal::Disabled)
        );
    }
}
