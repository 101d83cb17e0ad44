//! Taking ownership of a data dir: the lock, the store, and crash recovery, in that order.

use metron_core::Interval;
use std::path::Path;
use std::time::Duration;

use crate::error::AgentError;
use crate::lock::InstanceLock;
use crate::paths::store_path;
use crate::store::Store;

/// A data dir this process owns.
pub struct OwnedDataDir {
    pub store: Store,
    /// What a crashed predecessor left open, now committed as `recovered`.
    pub recovered: Option<Interval>,
    lock: InstanceLock,
}

impl OwnedDataDir {
    /// Locks `dir` (S7), waiting up to `patience` for a brief holder, opens its store and
    /// recovers a checkpoint left by a crash (S2).
    pub fn open(dir: &Path, patience: Duration) -> Result<OwnedDataDir, AgentError> {
        let lock = InstanceLock::acquire_within(dir, patience)?;
        // A store made by an older version (or copied in) may be readable by others: narrowed.
        let store_file = store_path(dir);
        for file in [
            store_file.clone(),
            store_file.with_extension("sqlite-wal"),
            store_file.with_extension("sqlite-shm"),
        ] {
            crate::private::narrow(&file).map_err(|source| AgentError::DataDir {
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        let mut store = Store::open(&store_path(dir))?;
        let recovered = store.recover()?;
        if let Some(i) = &recovered {
            tracing::warn!(id = %i.id, seconds = i.duration_secs(), "recovered the interval open when Metron last stopped unexpectedly");
        }
        Ok(OwnedDataDir {
            store,
            recovered,
            lock,
        })
    }

    /// The store and the lock, for a caller that keeps the lock alive as long as it uses the
    /// store (drop the store first: another process may own the dir once the lock goes).
    pub fn into_parts(self) -> (Store, InstanceLock) {
        (self.store, self.lock)
    }
}
