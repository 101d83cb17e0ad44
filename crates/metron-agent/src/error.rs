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
    DataDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {why}")]
    Trace {
        path: PathBuf,
        line: usize,
        why: String,
    },
    #[error("cannot read trace {path}: {source}")]
    TraceIo {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Server(#[from] crate::delivery::ClientError),
    /// A sign-in with the organization's identity provider did not end in a token.
    #[error(transparent)]
    Sso(#[from] crate::delivery::sso::SsoError),
    #[error(transparent)]
    Secret(#[from] crate::delivery::secret::SecretError),
    #[error("cannot register the browser host: {0}")]
    BrowserInstall(std::io::Error),
    #[error("not signed in: run metron-agent login first")]
    NotSignedIn,
    /// Signed in, but no token is saved (it was deleted, or the keyring lost it).
    #[error("signed out: no token is saved; sign in again")]
    NoToken,
    /// A sign-in as another account while this data dir holds undelivered intervals of the
    /// previous one: they are never handed to someone else.
    #[error(
        "{count} intervals tracked as {owner} on {server} are not delivered yet; sign in as that account to deliver them, \
         or use another data dir for {new}"
    )]
    BacklogOfAnotherAccount {
        count: usize,
        owner: String,
        server: String,
        new: String,
    },
    /// `track --task` named no task of the cached list.
    #[error("no task \"{0}\" in the task list; metron-agent tasks shows it")]
    UnknownTask(String),
    #[error("the interval length range is not usable: {0}")]
    IntervalRange(#[from] metron_core::planner::PlannerError),
    #[error("cannot start the {what}: {source}")]
    Thread {
        what: &'static str,
        source: std::io::Error,
    },
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
