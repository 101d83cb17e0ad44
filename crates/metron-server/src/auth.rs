//! Passwords (argon2id), bearer tokens (random, stored only as SHA-256 hashes), the `AuthUser`
//! extractor with a short-lived cache, and the login rate limiter.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::db::UserRow;
use crate::error::ApiError;
use crate::AppState;

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
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

/// Token lookups cached for a few seconds so ingest doesn't pay a query per request. Logout
/// evicts at once on the instance that served it; other instances notice within the TTL.
#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<String, (UserRow, Instant)>>,
}

const AUTH_TTL: Duration = Duration::from_secs(10);

impl AuthCache {
    fn get(&self, hash: &str) -> Option<UserRow> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(hash).filter(|(_, at)| at.elapsed() < AUTH_TTL).map(|(u, _)| u.clone())
    }

    fn put(&self, hash: String, user: UserRow) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 100_000 {
            entries.retain(|_, (_, at)| at.elapsed() < AUTH_TTL);
        }
        entries.insert(hash, (user, Instant::now()));
    }

    pub fn evict(&self, hash: &str) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).remove(hash);
    }
}

/// The signed-in caller, and the hash of the token they used.
pub struct AuthUser {
    pub user: UserRow,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(ApiError::Unauthorized)?;
        let token = header.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty()).ok_or(ApiError::Unauthorized)?;
        let hash = token_hash(token);
        if let Some(user) = state.auth.get(&hash) {
            return Ok(AuthUser { user, token_hash: hash });
        }
        let user = state.db.user_by_token(&hash).await?.ok_or(ApiError::Unauthorized)?;
        state.auth.put(hash.clone(), user.clone());
        Ok(AuthUser { user, token_hash: hash })
    }
}

/// A sliding-window limiter: at most `limit` events per key per minute.
pub struct RateLimiter {
    limit: usize,
    window: Duration,
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn per_minute(limit: usize) -> Self {
        RateLimiter { limit, window: Duration::from_secs(60), events: Mutex::new(HashMap::new()) }
    }

    /// Records an attempt for every key; refuses (with seconds to wait) if any key is over.
    pub fn check(&self, keys: &[String]) -> Result<(), u64> {
        let now = Instant::now();
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = 0;
        for key in keys {
            let q = events.entry(key.clone()).or_default();
            while q.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                q.pop_front();
            }
            if q.len() >= self.limit {
                let oldest = *q.front().expect("non-empty when over the limit");
                wait = wait.max((self.window - now.duration_since(oldest)).as_secs() + 1);
            }
        }
        if wait > 0 {
            return Err(wait);
        }
        for key in keys {
            events.entry(key.clone()).or_default().push_back(now);
        }
        Ok(())
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
        assert!(PasswordHash::new(decoy_hash()).is_ok(), "the decoy must be a real hash, or it costs no time");
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
    fn the_limiter_refuses_the_eleventh_attempt_in_a_minute() {
        let l = RateLimiter::per_minute(10);
        let keys = vec!["email:a".to_string(), "ip:1".to_string()];
        for _ in 0..10 {
            assert!(l.check(&keys).is_ok());
        }
        assert!(l.check(&keys).unwrap_err() > 0);
        assert!(l.check(&["email:b".to_string()]).is_ok());
        assert!(l.check(&["email:b".to_string(), "ip:1".to_string()]).is_err(), "the address is over its limit");
    }
}
