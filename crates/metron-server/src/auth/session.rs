//! Sessions: bearer tokens (256 random bits, stored only as SHA-256 hashes), their absolute
//! and idle lifetimes, and the cache of looked-up tokens checked against the revocation epoch.

use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::db::TokenRow;
use crate::limits::Limits;

/// A new bearer token: 256 random bits, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the database keeps of a token: a leaked database reveals no usable token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
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
pub(crate) const TOUCH_EVERY_SECS: i64 = 3600;

impl AuthCache {
    pub(crate) fn get(&self, hash: &str, epoch: i64) -> Option<TokenRow> {
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

    pub(crate) fn put(&self, hash: String, token: TokenRow, epoch: i64) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::UserRow;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
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
            enrol_only: false,
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
