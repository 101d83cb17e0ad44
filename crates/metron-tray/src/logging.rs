//! Logs to stderr and to a daily file in the app's log dir (7 kept), for both processes.

use std::path::PathBuf;

/// The log dir: `METRON_LOG_DIR`, else the OS's place for it
/// ([`metron_agent::paths::default_log_dir`]).
pub fn log_dir() -> Option<PathBuf> {
    std::env::var_os("METRON_LOG_DIR")
        .map(PathBuf::from)
        .or_else(metron_agent::paths::default_log_dir)
}

/// Starts logging to `<log dir>/<prefix>.<date>.log`; keep the guard until exit.
pub fn init(prefix: &str) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::prelude::*;
    let filter =
        || tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let file = log_dir().and_then(|dir| {
        // Logs name tasks and errors: the folder and every file in it are the owner's only
        // (new files already are, by the umask; older ones are narrowed).
        let _ = metron_agent::private::private_dir(&dir);
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let _ = metron_agent::private::narrow(&entry.path());
        }
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(prefix)
            .filename_suffix("log")
            .max_log_files(7)
            .build(&dir)
            .map_err(|e| eprintln!("metron: no log file in {}: {e}", dir.display()))
            .ok()
    });
    let (writer, guard) = match file {
        Some(appender) => {
            // The default queue holds 128,000 lines and is allocated up front (4 MB resident);
            // a desktop app logs a few lines a minute.
            let (w, g) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .buffered_lines_limit(4_096)
                .finish(appender);
            (Some(w), Some(g))
        }
        None => (None, None),
    };
    let registry = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter()),
    );
    let _ = match writer {
        Some(w) => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(w)
                    .with_filter(filter()),
            )
            .try_init(),
        None => registry.try_init(),
    };
    guard
}
