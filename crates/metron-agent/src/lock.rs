//! The single-instance lock of S7: one tracker per data dir (and so per user account).
//!
//! An OS file lock, not a pid file: the kernel drops it when the process dies, even by
//! SIGKILL, so a crash never leaves a stale lock behind. The pid is written into the file only
//! to make the "already running" message useful.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::AgentError;
use crate::paths::lock_path;

/// Held for as long as this process owns the data dir.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

impl InstanceLock {
    /// Takes the lock, waiting up to `patience` for a holder to let go: `status` and
    /// `intervals` hold it for a few milliseconds when no tracker runs, and a tracker starting
    /// at that moment must wait for them, not fail.
    pub fn acquire_within(data_dir: &Path, patience: Duration) -> Result<InstanceLock, AgentError> {
        let deadline = Instant::now() + patience;
        loop {
            match Self::acquire(data_dir) {
                Err(AgentError::AlreadyRunning { .. }) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(25))
                }
                other => return other,
            }
        }
    }

    /// Whether a tracker (the desktop app or `metron-agent track`) holds the data dir now. In the
    /// holder's own process too: the lock belongs to the holder's open file, not to the process.
    pub fn is_held(data_dir: &Path) -> bool {
        let Ok(file) = OpenOptions::new()
            .read(true)
            .write(true)
            .open(lock_path(data_dir))
        else {
            return false;
        };
        matches!(file.try_lock(), Err(TryLockError::WouldBlock))
    }

    /// Takes the lock, or says who holds it.
    pub fn acquire(data_dir: &Path) -> Result<InstanceLock, AgentError> {
        let dir_error = |source| AgentError::DataDir {
            dir: data_dir.to_path_buf(),
            source,
        };
        crate::private::private_dir(data_dir).map_err(dir_error)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock_path(data_dir))
            .map_err(dir_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(AgentError::AlreadyRunning {
                    dir: data_dir.to_path_buf(),
                    pid: text.trim().parse().ok(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(dir_error(e)),
        }
        // Best effort: the pid only improves the message a second instance prints.
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = write!(file, "{}", std::process::id());
        let _ = file.flush();
        Ok(InstanceLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_dir_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let _first = InstanceLock::acquire(dir.path()).unwrap();
        let err = InstanceLock::acquire(dir.path()).unwrap_err();
        match &err {
            AgentError::AlreadyRunning { pid, .. } => assert_eq!(*pid, Some(std::process::id())),
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("already using the data dir"));
    }

    #[test]
    fn a_waiting_acquire_gets_the_lock_once_a_brief_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let brief = InstanceLock::acquire(dir.path()).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(brief);
        });
        assert!(InstanceLock::acquire_within(dir.path(), Duration::from_secs(5)).is_ok());
        releaser.join().unwrap();
        let _held = InstanceLock::acquire(dir.path()).unwrap();
        assert!(InstanceLock::acquire_within(dir.path(), Duration::from_millis(100)).is_err());
    }

    #[test]
    fn is_held_sees_a_holder_in_this_process_and_nothing_once_it_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!InstanceLock::is_held(dir.path()), "no lock file yet");
        let held = InstanceLock::acquire(dir.path()).unwrap();
        assert!(InstanceLock::is_held(dir.path()));
        drop(held);
        assert!(!InstanceLock::is_held(dir.path()));
    }

    #[test]
    fn the_lock_is_free_again_once_dropped() {
        let dir = tempfile::tempdir().unwrap();
        drop(InstanceLock::acquire(dir.path()).unwrap());
        assert!(InstanceLock::acquire(dir.path()).is_ok());
    }
}
