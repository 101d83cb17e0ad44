//! The crate's error type. Messages are written for the person at the terminal: they name the
//! file involved and say what to do.

use std::path::PathBuf;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "another Metron tracker{} is already using the data dir {dir}. Stop it first, or give this one its own --data-dir.",
        pid.map(|p| format!(" (process {p})")).unwrap_or_default()
    )]
    AlreadyRunning { dir: PathBuf, pid: Option<u32> },
    #[error("cannot use the data dir {dir}: {source}. Check that it exists and that you may write to it, or pass --data-dir.")]
    DataDir { dir: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {why}")]
    Trace { path: PathBuf, line: usize, why: String },
    #[error("cannot read trace {path}: {source}")]
    TraceIo { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Server(#[from] crate::delivery::ClientError),
    #[error(transparent)]
    Secret(#[from] crate::delivery::secret::SecretError),
    /// The data dir is signed in to the desktop app's local mode, whose server runs only inside
    /// the app: without the app, its last address may belong to another program by now.
    #[error(
        "this data dir works in the desktop app's local mode, and its server runs only while the app does. \
         Start Metron (the app) first, or sign in to a team server with metron-agent login."
    )]
    LocalModeWithoutApp,
    #[error("{0}")]
    Config(String),
}
