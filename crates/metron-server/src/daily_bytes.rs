//! What each person stored per UTC day, for the daily byte cap (docs/SECURITY.md), without a
//! database query on every request: a person's figure for a day is read from the database when
//! first needed and again at most once a minute, and this process adds what it accepts in
//! between. Another server instance's writes show at the next read, so with several instances
//! the cap is softer still: each may let in up to a minute's worth more. Reading the sum on every
//! request cut single-interval ingest on SQLite from 19,000 to 6,300 requests a second.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::db::{Database, DbError};

/// How old a figure may be before it is read from the database again.
const REFRESH: Duration = Duration::from_secs(60);
/// Entries kept at most; past it the stale ones go (and, if all are fresh, all of them).
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub struct DailyBytes {
    entries: Mutex<HashMap<(String, i64), (u64, Instant)>>,
}

impl DailyBytes {
    /// Bytes `user` stored in the UTC day starting at `day` (unix seconds).
    pub async fn stored(&self, db: &dyn Database, user: &str, day: i64) -> Result<u64, DbError> {
        let key = (user.to_string(), day);
        if let Some((bytes, read_at)) = self.lock().get(&key) {
            if read_at.elapsed() < REFRESH {
                return Ok(*bytes);
            }
        }
        let bytes = db.stored_bytes(user, day, day + 86_400).await?;
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, read_at)| read_at.elapsed() < REFRESH);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (bytes, Instant::now()));
        Ok(bytes)
    }

    /// This process stored `bytes` more for `user` on `day`.
    pub fn add(&self, user: &str, day: i64, bytes: u64) {
        if let Some((stored, _)) = self.lock().get_mut(&(user.to_string(), day)) {
            *stored = stored.saturating_add(bytes);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, i64), (u64, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
