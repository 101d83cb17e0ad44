//! The local store (S1-S3): a SQLite file in WAL mode holding closed intervals with their
//! delivery status, the checkpoint of the open interval, and a little metadata.
//!
//! Durability: `synchronous=FULL`. An interval closes about once a minute and the checkpoint is
//! written every few seconds, so an fsync per commit costs nothing noticeable, and in exchange a
//! committed interval survives a power cut, not only a crash of this process (S1).
//!
//! One `Store` is one connection, owned by one thread (the tracker's); nothing here is shared.

use chrono::{DateTime, Utc};
use metron_core::{EndReason, Interval};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};
use std::path::{Path, PathBuf};
use std::time::Duration;
use uuid::Uuid;

mod requests;
pub use requests::{NewRequest, RequestBody, RequestKind, RequestRecord, KEPT_REQUESTS};

/// S3: how many intervals the store keeps before it drops the oldest sent ones.
pub const DEFAULT_CAPACITY: usize = 720;

/// The schema, one entry per version; `PRAGMA user_version` says how many have been applied.
/// Append only: a released migration is never edited.
const MIGRATIONS: &[&str] = &[
    // v1
    "CREATE TABLE intervals (
        id         TEXT PRIMARY KEY,
        started_at INTEGER NOT NULL,
        ended_at   INTEGER NOT NULL,
        task_id    TEXT NOT NULL,
        body       TEXT NOT NULL,
        status     TEXT NOT NULL DEFAULT 'unsent' CHECK (status IN ('unsent', 'sent', 'rejected')),
        reason     TEXT,
        sent_at    INTEGER
    );
    CREATE INDEX intervals_by_status ON intervals (status, ended_at);
    CREATE INDEX intervals_by_start ON intervals (started_at);
    CREATE TABLE checkpoint (
        slot        INTEGER PRIMARY KEY CHECK (slot = 0),
        interval_id TEXT NOT NULL,
        body        TEXT NOT NULL,
        saved_at    INTEGER NOT NULL
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // v2 (0.2.0): the Metron version that recorded each interval, so a store that went
    // through upgrades with unsent intervals says which release made each (NULL: before 0.2.0).
    "ALTER TABLE intervals ADD COLUMN recorded_by TEXT;",
    // v3 (0.2.0): corrections and manual entries waiting to reach the server, and what
    // became of them (requests.rs).
    "CREATE TABLE requests (
        id           INTEGER PRIMARY KEY,
        kind         TEXT NOT NULL CHECK (kind IN ('correction', 'manual_entry')),
        body         TEXT NOT NULL,
        after        TEXT,
        at           INTEGER NOT NULL,
        created_at   INTEGER NOT NULL,
        status       TEXT NOT NULL DEFAULT 'unsent' CHECK (status IN ('unsent', 'sent', 'rejected')),
        reason       TEXT,
        server_id    TEXT,
        outcome      TEXT,
        outcome_note TEXT
    );
    CREATE INDEX requests_by_status ON requests (status, id);",
];

/// The version written into `recorded_by` of each interval this build commits.
const RECORDED_BY: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store {path} is damaged ({detail}). It was moved aside to {moved_to}; nothing was deleted. \
         Run Metron again to start a fresh store; to salvage intervals from the old file: sqlite3 {moved_to} .recover"
    )]
    Corrupt {
        path: PathBuf,
        moved_to: PathBuf,
        detail: String,
    },
    #[error("the store {path} cannot be opened ({detail}). Check that the file and its folder are readable and writable by you, or pass another --data-dir.")]
    Unreadable { path: PathBuf, detail: String },
    #[error("the store {path} stayed locked by another program for 5 s. Close whatever has it open (a sqlite3 shell?) and try again.")]
    Locked { path: PathBuf },
    #[error("the disk holding {path} is full. Free some space; Metron keeps tracked time in memory and writes it once there is room.")]
    DiskFull { path: PathBuf },
    #[error("the store {path} has schema version {found}, newer than this Metron knows ({known}). Upgrade Metron.")]
    TooNew {
        path: PathBuf,
        found: usize,
        known: usize,
    },
    #[error("the store {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

/// Where an interval stands with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Unsent,
    Sent,
    Rejected,
}

impl DeliveryStatus {
    pub(crate) fn parse(s: &str) -> DeliveryStatus {
        match s {
            "sent" => DeliveryStatus::Sent,
            "rejected" => DeliveryStatus::Rejected,
            _ => DeliveryStatus::Unsent,
        }
    }
}

/// A closed interval as the store holds it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredInterval {
    #[serde(flatten)]
    pub interval: Interval,
    pub status: DeliveryStatus,
    pub reason: Option<String>,
    /// The Metron version that recorded it; `None` for intervals from before 0.2.0.
    pub recorded_by: Option<String>,
}

/// How many intervals the store holds, by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StoreCounts {
    pub total: usize,
    pub unsent: usize,
    pub sent: usize,
    pub rejected: usize,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    capacity: usize,
}

/// Why opening failed, before the corrupt case is turned into a moved-aside file.
enum OpenFailure {
    Corrupt(String),
    Other(StoreError),
}

impl Store {
    /// Opens (creating if needed) the store at `path`, migrating it to the current schema.
    /// A damaged file is moved aside, never deleted, and reported with what to do.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        match Self::try_open(path) {
            Ok(store) => Ok(store),
            Err(OpenFailure::Other(e)) => Err(e),
            Err(OpenFailure::Corrupt(detail)) => {
                let moved_to = move_aside(path).map_err(|e| StoreError::Unreadable {
                    path: path.to_path_buf(),
                    detail: format!("it is damaged ({detail}) and could not be moved aside: {e}"),
                })?;
                Err(StoreError::Corrupt {
                    path: path.to_path_buf(),
                    moved_to,
                    detail,
                })
            }
        }
    }

    fn try_open(path: &Path) -> Result<Store, OpenFailure> {
        let fail = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => {
                OpenFailure::Corrupt(e.to_string())
            }
            Some(ErrorCode::CannotOpen)
            | Some(ErrorCode::PermissionDenied)
            | Some(ErrorCode::ReadOnly) => OpenFailure::Other(StoreError::Unreadable {
                path: path.to_path_buf(),
                detail: e.to_string(),
            }),
            _ => OpenFailure::Other(classify(path, e)),
        };
        let conn = Connection::open(path).map_err(fail)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(fail)?;
        // quick_check reads every page: on a store of at most ~1 MB it takes milliseconds and
        // catches damage at start-up rather than in the middle of a commit.
        let check: Vec<String> = conn
            .prepare("PRAGMA quick_check")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(fail)?;
        if check != ["ok"] {
            return Err(OpenFailure::Corrupt(check.join("; ")));
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(fail)?;
        // The store holds at most ~1 MB and is read a few rows at a time: a 256 KiB page cache
        // (SQLite's default is 2 MiB per connection, and the app keeps several) is enough.
        conn.pragma_update(None, "cache_size", -256).map_err(fail)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            capacity: DEFAULT_CAPACITY,
        };
        store.migrate().map_err(OpenFailure::Other)?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found: usize = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if found > MIGRATIONS.len() {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known: MIGRATIONS.len(),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found) {
            let tx = self
                .conn
                .transaction()
                .map_err(|e| classify(&self.path, e))?;
            tx.execute_batch(sql).map_err(|e| classify(&self.path, e))?;
            tx.pragma_update(None, "user_version", i + 1)
                .map_err(|e| classify(&self.path, e))?;
            tx.commit().map_err(|e| classify(&self.path, e))?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// S3's capacity; 720 unless a test or benchmark says otherwise.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        classify(&self.path, e)
    }

    /// This machine's device id, created on first use.
    pub fn device_id(&mut self) -> Result<Uuid, StoreError> {
        if let Some(id) = self.meta("device_id")? {
            if let Ok(id) = Uuid::parse_str(&id) {
                return Ok(id);
            }
        }
        let id = Uuid::now_v7();
        self.set_meta("device_id", &id.to_string())?;
        Ok(id)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2", [key, value])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    pub fn delete_meta(&mut self, key: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM meta WHERE key = ?1", [key])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// S1: commits a closed interval (idempotent by id), clears the checkpoint if it was this
    /// interval's, and applies retention, all in one transaction.
    pub fn commit(&mut self, interval: &Interval) -> Result<(), StoreError> {
        let body = serde_json::to_string(interval).expect("an interval always serializes");
        let capacity = self.capacity as i64;
        let path = self.path.clone();
        let e = |e| classify(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        tx.execute(
            "INSERT INTO intervals (id, started_at, ended_at, task_id, body, recorded_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING",
            params![
                interval.id.to_string(),
                interval.started_at.timestamp(),
                interval.ended_at.timestamp(),
                interval.task_id,
                body,
                RECORDED_BY
            ],
        )
        .map_err(e)?;
        tx.execute(
            "DELETE FROM checkpoint WHERE interval_id = ?1",
            [interval.id.to_string()],
        )
        .map_err(e)?;
        // S3: past capacity the oldest *sent* intervals go; unsent and rejected ones never do.
        tx.execute(
            "DELETE FROM intervals WHERE id IN (
                SELECT id FROM intervals WHERE status = 'sent' ORDER BY ended_at ASC
                LIMIT max(0, (SELECT count(*) FROM intervals) - ?1))",
            [capacity],
        )
        .map_err(e)?;
        tx.commit().map_err(e)
    }

    /// S2: saves the open interval (as it would be recovered) over the previous checkpoint.
    pub fn save_checkpoint(
        &mut self,
        open: &Interval,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(open).expect("an interval always serializes");
        self.conn
            .execute(
                "INSERT INTO checkpoint (slot, interval_id, body, saved_at) VALUES (0, ?1, ?2, ?3)
                 ON CONFLICT (slot) DO UPDATE SET interval_id = ?1, body = ?2, saved_at = ?3",
                params![open.id.to_string(), body, now.timestamp()],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    pub fn clear_checkpoint(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM checkpoint", [])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The checkpointed open interval, if any.
    pub fn checkpoint(&self) -> Result<Option<Interval>, StoreError> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM checkpoint", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
    }

    /// After a crash: turns the checkpoint into a closed `recovered` interval (S2). Returns it
    /// when one was recovered. Must only run while holding the instance lock, or it would
    /// close the interval a live tracker is still filling.
    pub fn recover(&mut self) -> Result<Option<Interval>, StoreError> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM checkpoint", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(body) = body else { return Ok(None) };
        let mut interval = match serde_json::from_str::<Interval>(&body) {
            Ok(i) if i.validate().is_ok() => i,
            parsed => {
                // Never drop it silently: keep the raw text beside the data for a human to see.
                let why = match parsed {
                    Ok(i) => format!(
                        "invalid: {}",
                        i.validate().err().map(|e| e.0).unwrap_or_default()
                    ),
                    Err(e) => e.to_string(),
                };
                tracing::error!(%why, "the checkpoint could not be recovered; kept in meta as unrecoverable_checkpoint");
                self.set_meta("unrecoverable_checkpoint", &body)?;
                self.clear_checkpoint()?;
                return Ok(None);
            }
        };
        interval.end_reason = EndReason::Recovered;
        let already = self
            .conn
            .query_row(
                "SELECT 1 FROM intervals WHERE id = ?1",
                [interval.id.to_string()],
                |_| Ok(()),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .is_some();
        if already {
            // The interval closed normally after this checkpoint was written.
            self.clear_checkpoint()?;
            return Ok(None);
        }
        self.commit(&interval)?;
        self.clear_checkpoint()?;
        Ok(Some(interval))
    }

    /// Closed intervals in time order; with `unsent_only`, those not yet delivered (incl. rejected).
    pub fn intervals(&self, unsent_only: bool) -> Result<Vec<StoredInterval>, StoreError> {
        if unsent_only {
            self.query_stored("SELECT body, status, reason, recorded_by FROM intervals WHERE status != 'sent' ORDER BY started_at", [])
        } else {
            self.query_stored(
                "SELECT body, status, reason, recorded_by FROM intervals ORDER BY started_at",
                [],
            )
        }
    }

    /// Closed intervals that started at or after `since`, in time order (e.g. today's).
    pub fn intervals_since(&self, since: DateTime<Utc>) -> Result<Vec<StoredInterval>, StoreError> {
        self.query_stored(
            "SELECT body, status, reason, recorded_by FROM intervals WHERE started_at >= ?1 ORDER BY started_at",
            [since.timestamp()],
        )
    }

    /// Runs a `SELECT body, status, reason, recorded_by` query.
    fn query_stored(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<StoredInterval>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params, |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (body, status, reason, recorded_by) = row.map_err(|e| self.err(e))?;
            if let Some(interval) = parse_stored(&body) {
                out.push(StoredInterval {
                    interval,
                    status: DeliveryStatus::parse(&status),
                    reason,
                    recorded_by,
                });
            }
        }
        Ok(out)
    }

    pub fn counts(&self) -> Result<StoreCounts, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT status, count(*) FROM intervals GROUP BY status")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, usize>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut counts = StoreCounts::default();
        for row in rows {
            let (status, n) = row.map_err(|e| self.err(e))?;
            match DeliveryStatus::parse(&status) {
                DeliveryStatus::Unsent => counts.unsent += n,
                DeliveryStatus::Sent => counts.sent += n,
                DeliveryStatus::Rejected => counts.rejected += n,
            }
            counts.total += n;
        }
        Ok(counts)
    }

    /// Where the latest stored interval ends: the engine's floor after a restart (E5).
    pub fn last_ended_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let t: Option<i64> = self
            .conn
            .query_row("SELECT max(ended_at) FROM intervals", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(t.and_then(|t| DateTime::from_timestamp(t, 0)))
    }

    /// S4: the next intervals to deliver, oldest first, at most `limit`. Rejected intervals are
    /// not among them: they wait for a manual resend.
    pub fn unsent_batch(&self, limit: usize) -> Result<Vec<Interval>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT body FROM intervals WHERE status = 'unsent' ORDER BY started_at LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let bodies = stmt
            .query_map([limit as i64], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for body in bodies {
            let body = body.map_err(|e| self.err(e))?;
            out.extend(parse_stored(&body));
        }
        Ok(out)
    }

    /// A manual resend (S4): the rejected interval `id` (or, with `None`, every rejected one)
    /// goes back to unsent. Returns how many changed; unsent ones are already queued.
    pub fn mark_for_resend(&mut self, id: Option<Uuid>) -> Result<usize, StoreError> {
        let changed = match id {
            Some(id) => self
                .conn
                .execute("UPDATE intervals SET status = 'unsent', reason = NULL WHERE id = ?1 AND status = 'rejected'", [id.to_string()]),
            None => self.conn.execute("UPDATE intervals SET status = 'unsent', reason = NULL WHERE status = 'rejected'", []),
        };
        changed.map_err(|e| self.err(e))
    }

    /// Where one stored interval stands, or `None` if the store doesn't hold it.
    pub fn status_of(&self, id: Uuid) -> Result<Option<DeliveryStatus>, StoreError> {
        let status: Option<String> = self
            .conn
            .query_row(
                "SELECT status FROM intervals WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(status.as_deref().map(DeliveryStatus::parse))
    }

    /// The server accepted (or already had) these intervals.
    pub fn mark_sent(&mut self, ids: &[Uuid], at: DateTime<Utc>) -> Result<(), StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| classify(&path, e))?;
        for id in ids {
            tx.execute(
                "UPDATE intervals SET status = 'sent', reason = NULL, sent_at = ?2 WHERE id = ?1",
                params![id.to_string(), at.timestamp()],
            )
            .map_err(|e| classify(&path, e))?;
        }
        tx.commit().map_err(|e| classify(&path, e))
    }

    /// The server refused this interval for good (S4): kept, with the reason, until resent.
    pub fn mark_rejected(&mut self, id: Uuid, reason: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE intervals SET status = 'rejected', reason = ?2 WHERE id = ?1",
                params![id.to_string(), reason],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Caps the file at `pages` pages (4 KiB each): SQLite then answers "disk full" past it.
    /// Tests use it to simulate a full disk; it is also a cheap guard against runaway growth.
    pub fn set_max_pages(&self, pages: u64) -> Result<(), StoreError> {
        self.conn
            .pragma_update(None, "max_page_count", pages)
            .map_err(|e| self.err(e))
    }

    /// `PRAGMA integrity_check`, for `status` and the crash tests.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}

/// A stored interval's JSON, or `None` (logged) if it can't be read: one bad row must not hide
/// the others from the user or the uploader.
fn parse_stored(body: &str) -> Option<Interval> {
    serde_json::from_str(body)
        .map_err(|e| tracing::error!(error = %e, "skipping an unreadable stored interval"))
        .ok()
}

/// Maps SQLite's error codes to what a person can act on.
fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            StoreError::Locked { path }
        }
        Some(ErrorCode::DiskFull) => StoreError::DiskFull { path },
        _ => StoreError::Sqlite { path, source: e },
    }
}

/// Renames a damaged store (and its WAL and shared-memory files) to `<name>.corrupt-<unix time>`.
fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
    let target = PathBuf::from(format!("{}.corrupt-{stamp}", path.display()));
    std::fs::rename(path, &target)?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            std::fs::rename(&side, format!("{}{suffix}", target.display()))?;
        }
    }
    Ok(target)
}
