//! Where Metron keeps its files, per OS (the `dirs` crate finds the folders):
//!
//! | | Linux | Windows | macOS |
//! |---|---|---|---|
//! | data | `~/.local/share/metron` | `%LOCALAPPDATA%\Metron\data` | `~/Library/Application Support/metron` |
//! | settings | `~/.config/dev.metron.desktop` | `%LOCALAPPDATA%\Metron\config` | `~/Library/Application Support/dev.metron.desktop` |
//! | logs | `~/.local/share/dev.metron.desktop/logs` | `%LOCALAPPDATA%\Metron\logs` | `~/Library/Application Support/dev.metron.desktop/logs` |
//!
//! On Windows all three sit in the local (not roaming) profile: a store that follows a
//! roaming profile to another machine would be two trackers on one file.

use std::path::{Path, PathBuf};

/// `%LOCALAPPDATA%\Metron`, Windows' home for all of Metron's files.
#[cfg(windows)]
fn windows_home() -> PathBuf {
    dirs::data_local_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("Metron")
}

/// The default data dir (the store, the account, the privacy rules).
pub fn default_data_dir() -> PathBuf {
    #[cfg(windows)]
    return windows_home().join("data");
    #[cfg(not(windows))]
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("metron")
}

/// The default dir of the desktop app's settings.
pub fn default_config_dir() -> PathBuf {
    #[cfg(windows)]
    return windows_home().join("config");
    #[cfg(not(windows))]
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("dev.metron.desktop")
}

/// The default dir of the desktop app's logs (none when the OS names no place for them).
pub fn default_log_dir() -> Option<PathBuf> {
    #[cfg(windows)]
    return Some(windows_home().join("logs"));
    #[cfg(not(windows))]
    dirs::data_local_dir().map(|d| d.join("dev.metron.desktop").join("logs"))
}

/// The SQLite store inside a data dir.
pub fn store_path(data_dir: &Path) -> PathBuf {
    data_dir.join("agent.sqlite")
}

/// The single-instance lock inside a data dir.
pub fn lock_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tracker.lock")
}
