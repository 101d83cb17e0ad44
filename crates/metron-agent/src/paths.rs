//! Where the agent keeps its files.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The default data dir: `$XDG_DATA_HOME/metron` (usually `~/.local/share/metron`).
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("metron")
}

/// The SQLite store inside a data dir.
pub fn store_path(data_dir: &Path) -> PathBuf {
    data_dir.join("agent.sqlite")
}

/// The single-instance lock inside a data dir.
pub fn lock_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tracker.lock")
}

/// Writes a file only the user can read (mode 0600 on Unix), atomically: a temporary file
/// beside it, synced, then renamed over it. For secrets: the token, the local account.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(tmp, path)
}
