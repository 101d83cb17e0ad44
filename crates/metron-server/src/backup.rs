//! `metron-server backup --to FILE`: a consistent copy of a SQLite database, taken while a
//! server may be serving it. A plain file copy is not one: with WAL the latest transactions
//! live in the `-wal` file until a checkpoint, and a copy made mid-write is torn. SQLite's
//! online backup API copies the pages of one read transaction instead, which in WAL mode
//! neither blocks the server's writer nor is disturbed by it. The copy is a single file
//! (journal mode DELETE, no `-wal` beside it), created readable by its owner only and never
//! over an existing file, and is checked with `PRAGMA integrity_check` before it is reported.
//! PostgreSQL has its own tool for this, `pg_dump`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::StepResult;
use rusqlite::{Connection, OpenFlags};

use crate::db::{self, DbError};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the database is PostgreSQL: back it up with pg_dump, e.g. `pg_dump --format=custom --file=FILE DATABASE_URL` (and restore with pg_restore)")]
    Postgres,
    #[error("{} exists already: a backup never overwrites a file; name a new one", .0.display())]
    Exists(PathBuf),
    #[error("no database at {}", .0.display())]
    NoDatabase(PathBuf),
    #[error("{what} {}: {error}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("backing up: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database stayed busy for {0:?}; try again")]
    Busy(Duration),
    #[error("the copy failed its integrity check and was removed: {0}")]
    Damaged(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A finished backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The database that was copied.
    pub from: PathBuf,
    /// The copy's size.
    pub bytes: u64,
}

/// How long a step may keep finding the database locked before the backup gives up.
const BUSY_FOR_AT_MOST: Duration = Duration::from_secs(30);

/// Copies the SQLite database `database` (a path or `sqlite:` URL) to the new file `to`, and
/// checks the copy. On any failure the new file is removed.
pub fn backup(database: &str, to: &Path) -> Result<Backup, BackupError> {
    if db::is_postgres(database) {
        return Err(BackupError::Postgres);
    }
    let from = db::sqlite::file_of(database)?;
    if !from.is_file() {
        return Err(BackupError::NoDatabase(from));
    }
    create_private(to)?;
    match copy_and_check(&from, to) {
        Ok(bytes) => Ok(Backup { from, bytes }),
        Err(e) => {
            for leftover in [to.to_path_buf(), sibling(to, "-journal")] {
                let _ = std::fs::remove_file(leftover);
            }
            Err(e)
        }
    }
}

/// Creates `path`, empty and readable by its owner only; refuses an existing one.
fn create_private(path: &Path) -> Result<(), BackupError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(BackupError::Exists(path.to_path_buf()))
        }
        Err(error) => Err(BackupError::Io {
            what: "creating",
            path: path.to_path_buf(),
            error,
        }),
    }
}

fn copy_and_check(from: &Path, to: &Path) -> Result<u64, BackupError> {
    // Read-write without CREATE: the file must exist, and a reader of a WAL database may need
    // to create its -shm when no server has it open.
    let source = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    source.busy_timeout(Duration::from_secs(5))?;
    let mut copy = Connection::open(to)?;
    {
        let backup = rusqlite::backup::Backup::new(&source, &mut copy)?;
        let started = std::time::Instant::now();
        // -1: every page in one step, so the copy is one read transaction's snapshot. In WAL
        // mode that transaction doesn't hold the server's writer up; copying in slices would
        // restart whenever the server wrote in between.
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More => {}
                // Busy, Locked, or whatever a later rusqlite adds (the enum is non-exhaustive):
                // none is fatal, so wait and step again.
                _ => {
                    if started.elapsed() > BUSY_FOR_AT_MOST {
                        return Err(BackupError::Busy(BUSY_FOR_AT_MOST));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }
    drop(source);
    // The copy took the source's WAL flag with its first page: make it one self-contained
    // file, then check it as a restore would read it.
    copy.pragma_update(None, "journal_mode", "DELETE")?;
    let verdict: Vec<String> = copy
        .prepare("PRAGMA integrity_check")?
        .query_map([], |row| row.get(0))?
        .take(10)
        .collect::<Result<_, _>>()?;
    if verdict != ["ok"] {
        return Err(BackupError::Damaged(verdict.join("; ")));
    }
    copy.close().map_err(|(_, e)| e)?;
    std::fs::metadata(to)
        .map(|m| m.len())
        .map_err(|error| BackupError::Io {
            what: "reading the size of",
            path: to.to_path_buf(),
            error,
        })
}

/// `path` with `suffix` appended to its file name (SQLite's `-journal`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// A size for people: bytes, KiB, MiB or GiB with one decimal.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 3] = ["KiB", "MiB", "GiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if size < 1024.0 {
            break;
        }
        size /= 1024.0;
        unit = next;
    }
    format!("{size:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn a_missing_database_and_an_in_memory_one_are_refused_before_any_file_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let to = dir.path().join("copy.sqlite");
        let missing = dir.path().join("none.sqlite").display().to_string();
        assert!(matches!(
            backup(&missing, &to),
            Err(BackupError::NoDatabase(_))
        ));
        assert!(matches!(
            backup("sqlite::memory:", &to),
            Err(BackupError::Db(_))
        ));
        assert!(!to.exists());
    }
}
