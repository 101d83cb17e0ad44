//! Where the agent keeps its files.

use std::path::{Path, PathBuf};

/// The default data dir: `$XDG_DATA_HOME/metron` (usually `~/.local/share/metron`).
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("metron")
}

/// The SQLite store inside a data dir.
pub fn store_path(data_dir: &Path) -> PathBuf {
    data_dir.join("agent.sqlite")
}

/// The single-instance lock inside a data dir.
pub fn lock_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tracker.lock")
}
