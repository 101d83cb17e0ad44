//! The organization's settings that every delivery of intervals reads (what is kept of page
//! addresses, how many days of detail are kept), cached for a few seconds so a busy agent's
//! requests cost no extra query. The instance that changes the settings forgets its copy at
//! once; other instances serving the same database see the change within [`TTL`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::db::{Database, DbError, OrgSettingsRow};

/// How long a read copy is used.
pub const TTL: Duration = Duration::from_secs(10);
/// Organizations remembered at once; past it the cache starts over (a bound, not a policy).
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct OrgSettingsCache {
    entries: Mutex<HashMap<String, (Instant, OrgSettingsRow)>>,
}

impl OrgSettingsCache {
    /// The organization's settings, from the cache if read within [`TTL`].
    pub async fn get(&self, db: &dyn Database, org_id: &str) -> Result<OrgSettingsRow, DbError> {
        if let Some((at, row)) = self.lock().get(org_id) {
            if at.elapsed() < TTL {
                return Ok(row.clone());
            }
        }
        let row = db
            .org_settings(org_id)
            .await?
            .ok_or_else(|| DbError::Other(format!("no organization {org_id}")))?;
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(org_id.to_string(), (Instant::now(), row.clone()));
        Ok(row)
    }

    /// Drops the organization's copy (its settings just changed here).
    pub fn forget(&self, org_id: &str) {
        self.lock().remove(org_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, OrgSettingsRow)>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}
