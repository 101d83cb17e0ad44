//! The commands the UI invokes. Each one delegates to metron-agent.

use serde::Serialize;
use tauri::State;

use crate::error::AppError;
use crate::AppDataDir;

/// What the window shows about the local store.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct StoreSummary {
    pub data_dir: String,
    pub total: usize,
    pub unsent: usize,
    pub rejected: usize,
    pub tracked_secs: i64,
}

/// Counts of the intervals in the local store.
#[tauri::command]
pub async fn store_summary(dir: State<'_, AppDataDir>) -> Result<StoreSummary, AppError> {
    let store = metron_agent::store::Store::open(&metron_agent::paths::store_path(&dir.0))?;
    let counts = store.counts()?;
    let tracked_secs = store.intervals(false)?.iter().map(|s| s.interval.duration_secs()).sum();
    Ok(StoreSummary {
        data_dir: dir.0.display().to_string(),
        total: counts.total,
        unsent: counts.unsent,
        rejected: counts.rejected,
        tracked_secs,
    })
}
