//! SQLite backend. Reads, accounts and tasks go through a sqlx pool (WAL lets readers run
//! beside the writer). Interval ingest goes through one writer thread that owns its own
//! connection and groups the requests waiting for it into one `BEGIN IMMEDIATE` transaction.
//! One writer makes the overlap rule race-free (check and insert can't interleave with another
//! writer), and group commit turns many small requests into one fsync.
//!
//! The writer uses rusqlite rather than sqlx: sqlx-sqlite hands every statement to a worker
//! thread and back, about 100 µs a statement here, which capped ingest near 9,000 requests/s;
//! a plain connection on a dedicated thread runs the same statement in a few µs (numbers in
//! docs/PERFORMANCE.md). Both link the one libsqlite3 of the workspace.

use async_trait::async_trait;
use metron_core::wire::{IngestResult, User};

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{classify, Candidate, Database, DbError, Sizing, UserRow};

/// How many waiting requests one transaction takes at most.
const MAX_GROUP: usize = 256;

/// What the writer thread is asked to write: the writes that come with ingest (its intervals,
/// the tokens' last use, the kept timesheet lines the background job computes as intervals
/// arrive). Through the one writer rather than the pool: a pooled connection writing beside it
/// waits in SQLite's busy handler, which sleeps milliseconds at a time, makes the writer wait
/// the same way (requests then took up to a second), or fails outright when its read snapshot
/// went stale.
enum Job {
    /// A request's intervals.
    Ingest {
        user_id: String,
        org_id: String,
        items: Vec<Candidate>,
        reply: oneshot::Sender<Result<Vec<IngestResult>, DbError>>,
    },
    /// A token's last use (an hourly write per device).
    Touch {
        token_hash: String,
        now: i64,
        reply: oneshot::Sender<Result<(), DbError>>,
    },
    /// A person's computed timesheet lines, kept if their time is still at `version` (the
    /// writer's transaction reads it, so no change can slip between the check and the write).
    Keep {
        user_id: String,
        version: i64,
        days: Vec<super::timesheets::KeptLine>,
        reply: oneshot::Sender<Result<bool, DbError>>,
    },
}

/// What a job came to inside the group's transaction.
enum Done {
    Ingested(Vec<IngestResult>),
    Touched,
    /// Whether the lines were kept (the person's version had not moved).
    Kept(bool),
}

impl Job {
    /// Answers the job once its transaction has committed, or with why nothing of the group
    /// was stored.
    fn answer(self, outcome: Result<Done, DbError>) {
        match self {
            Job::Ingest { reply, .. } => {
                let _ = reply.send(outcome.map(|done| match done {
                    Done::Ingested(results) => results,
                    Done::Kept(_) | Done::Touched => Vec::new(),
                }));
            }
            Job::Touch { reply, .. } => {
                let _ = reply.send(outcome.map(drop));
            }
            Job::Keep { reply, .. } => {
                let _ = reply.send(outcome.map(|done| matches!(done, Done::Kept(true))));
            }
        }
    }
}

pub struct SqliteDb {
    pool: SqlitePool,
    writer: mpsc::Sender<Job>,
    /// Reads the revocation epoch on every authenticated request: a plain connection answers
    /// in microseconds, where a trip through sqlx's worker thread costs about 100 µs.
    epoch_reader: std::sync::Mutex<rusqlite::Connection>,
    /// The database file, for reads of many rows on a plain connection (`read_org_intervals`).
    path: std::path::PathBuf,
}

impl SqliteDb {
    /// Opens a SQLite path or `sqlite:` URL; `sqlite::memory:` is a throw-away file in the
    /// temp dir, because the reader pool and the writer thread must see one database.
    pub async fn open(url: &str, sizing: Sizing) -> Result<SqliteDb, DbError> {
        let url = if url.contains(":memory:") {
            format!(
                "sqlite://{}",
                std::env::temp_dir()
                    .join(format!("metron-{}.sqlite", Uuid::now_v7()))
                    .display()
            )
        } else {
            url.to_string()
        };
        let options = connect_options(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an interval the server acknowledged must survive a power cut, since the
            // client then forgets about it. Group commit keeps the fsyncs few.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            .pragma("cache_size", format!("-{}", sizing.cache_kib));
        let path = options.get_filename().to_path_buf();
        make_private(&path).map_err(|e| {
            DbError::Other(format!(
                "creating {} for its owner only: {e}",
                path.display()
            ))
        })?;
        // Each pooled connection is a thread of sqlx's with a page cache of its own: an idle one
        // is closed after a while, so a quiet server (or the desktop's local one) holds few.
        let pool = SqlitePoolOptions::new()
            .max_connections(sizing.max_readers)
            .min_connections(0)
            .idle_timeout(Some(Duration::from_secs(60)))
            .connect_with(options)
            .await
            .map_err(classify)?;
        super::migrations::migrator(super::migrations::SQLITE)
            .await
            .map_err(|e| DbError::Other(format!("reading the migrations: {e}")))?
            .run(&pool)
            .await
            .map_err(|e| DbError::Other(format!("migrating: {e}")))?;
        let conn = open_writer(&path, sizing).map_err(writer_error)?;
        let epoch_reader = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .map_err(writer_error)?;
        epoch_reader
            .busy_timeout(Duration::from_secs(5))
            .map_err(writer_error)?;
        let (tx, rx) = mpsc::channel(4096);
        std::thread::Builder::new()
            .name("metron-sqlite-writer".into())
            .spawn(move || writer(conn, rx))
            .map_err(|e| DbError::Other(format!("starting the writer thread: {e}")))?;
        Ok(SqliteDb {
            pool,
            writer: tx,
            epoch_reader: std::sync::Mutex::new(epoch_reader),
            path,
        })
    }

    /// Everyone's intervals in the organization that overlap [from, to), with their windows'
    /// names (`ReportStore::org_intervals`). On a plain connection of its own in a blocking
    /// thread: sqlx copies each row's values out of SQLite and hands the row over a channel
    /// from its worker thread, which for the half million rows of a thousand people's day
    /// was half of the team report.
    /// SQLite's mark is the largest row id of `intervals`: one writer stores rows in the order
    /// of their row ids, each past the largest there is, so the rows after the mark are those
    /// stored after it. Erasing a person can delete the largest rows and let their ids be given
    /// again: the running days of the organization are then forgotten
    /// (`running_days::RunningDays::forget`).
    pub(crate) async fn read_received_mark(&self) -> Result<i64, DbError> {
        let (mark,): (i64,) = sqlx::query_as("SELECT coalesce(max(rowid), 0) FROM intervals")
            .fetch_one(&self.pool)
            .await
            .map_err(super::classify)?;
        Ok(mark)
    }

    /// The organization's intervals overlapping [from, to) stored after the row `mark`.
    pub(crate) async fn read_org_intervals_since(
        &self,
        org_id: &str,
        from: i64,
        to: i64,
        mark: i64,
    ) -> Result<Vec<super::packed::StoredInterval>, DbError> {
        // The rows past the mark first (`CROSS JOIN` keeps `intervals` the outer loop, and `+`
        // keeps its time index out): else SQLite walks the organization's people and reads
        // each one's whole date to find the few new rows.
        sqlx::query_as(concat!(
            "SELECT ",
            super::packed::stored_columns!(),
            " FROM intervals i CROSS JOIN users u ON u.seq = i.person
             WHERE i.rowid > $4 AND u.org_id = $1 AND +i.started_at >= $2 - 900 AND
             +i.started_at < $3 AND i.ended_at > $2"
        ))
        .bind(org_id)
        .bind(from)
        .bind(to)
        .bind(mark)
        .fetch_all(&self.pool)
        .await
        .map_err(super::classify)
    }

    pub(crate) async fn read_org_intervals(
        &self,
        org_id: &str,
        people: super::packed::PersonRange,
        from: i64,
        to: i64,
    ) -> Result<
        (
            Vec<super::packed::StoredInterval>,
            super::packed::WindowNames,
        ),
        DbError,
    > {
        let (path, org_id) = (self.path.clone(), org_id.to_string());
        tokio::task::spawn_blocking(move || {
            let conn = rusqlite::Connection::open_with_flags(
                &path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )?;
            conn.busy_timeout(Duration::from_secs(5))?;
            // One read transaction: the names are of the same moment as the rows.
            conn.execute_batch("BEGIN")?;
            let mut statement = conn.prepare(concat!(
                "SELECT ",
                super::packed::stored_columns!(),
                super::packed::stored_from!(),
                " WHERE u.org_id = ?1 AND i.started_at >= ?2 - 900 AND i.started_at < ?3 AND
                 i.ended_at > ?2 AND u.seq >= ?4 AND u.seq <= ?5"
            ))?;
            let (one, other) = (people.first, people.last);
            let rows = statement
                .query_map(params![org_id, from, to, one, other], stored_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let (first, last) = super::packed::days_of(from, to);
            let mut names = super::packed::WindowNames::default();
            let mut statement = conn.prepare(
                "SELECT w.user_id, w.key, w.app, w.title, w.url, w.path FROM users u
                 JOIN window_names w ON w.user_id = u.id
                 WHERE u.org_id = ?1 AND w.day >= ?2 AND w.day <= ?3 AND u.seq >= ?4
                   AND u.seq <= ?5",
            )?;
            let mut found = statement.query(params![org_id, first, last, one, other])?;
            while let Some(r) = found.next()? {
                names.insert(r.get(0)?, name_row(r)?);
            }
            Ok((rows, names))
        })
        .await
        .map_err(|e| DbError::Other(format!("reading the organization's intervals: {e}")))?
        .map_err(writer_error)
    }
}

/// sqlx's options for a SQLite path or `sqlite:` URL.
fn connect_options(url: &str) -> Result<SqliteConnectOptions, DbError> {
    let url = if url.starts_with("sqlite:") {
        url.to_string()
    } else {
        format!("sqlite://{url}")
    };
    SqliteConnectOptions::from_str(&url)
        .map_err(|e| DbError::Other(format!("bad SQLite address {url}: {e}")))
}

/// The file of a SQLite path or `sqlite:` URL, as [`SqliteDb::open`] would open it.
pub fn file_of(url: &str) -> Result<PathBuf, DbError> {
    if url.contains(":memory:") {
        return Err(DbError::Other(format!("{url} is in memory, not a file")));
    }
    Ok(connect_options(url)?.get_filename().to_path_buf())
}

/// The database holds every employee's window titles: it is created readable by its owner only
/// (SQLite gives its -wal and -shm files the same mode), and an existing one is narrowed to that.
fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn open_writer(path: &Path, sizing: Sizing) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(PathBuf::from(path))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "cache_size", format!("-{}", sizing.cache_kib))?;
    conn.pragma_update(None, "wal_autocheckpoint", sizing.wal_checkpoint_pages)?;
    // Each insert of a group may need undoing alone (its trigger, its conflict clause), so
    // SQLite keeps a statement journal of the pages it changes; in a temporary file that was a
    // write syscall a page, a third of the writer's time in batches. In memory it costs what
    // one statement changes, a few pages.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

fn writer_error(e: rusqlite::Error) -> DbError {
    match e.sqlite_error_code() {
        Some(
            rusqlite::ErrorCode::DatabaseBusy
            | rusqlite::ErrorCode::DatabaseLocked
            | rusqlite::ErrorCode::DiskFull,
        ) => DbError::Unavailable(e.to_string()),
        _ => DbError::Other(e.to_string()),
    }
}

fn writer(mut conn: rusqlite::Connection, mut rx: mpsc::Receiver<Job>) {
    let mut known_tasks: HashSet<(String, String)> = HashSet::new();
    let mut people: HashMap<String, i64> = HashMap::new();
    let mut known_names = super::packed::RecentNames::default();
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        match run_group(
            &mut conn,
            &jobs,
            &mut known_tasks,
            &mut people,
            &mut known_names,
        ) {
            Ok(results) => {
                for (job, results) in jobs.into_iter().zip(results) {
                    job.answer(Ok(results));
                }
            }
            Err(e) => {
                // The transaction rolled back: nothing of the group was stored, all may retry.
                let e = writer_error(e);
                for job in jobs {
                    job.answer(Err(e.clone()));
                }
            }
        }
    }
}

fn run_group(
    conn: &mut rusqlite::Connection,
    jobs: &[Job],
    known_tasks: &mut HashSet<(String, String)>,
    people: &mut HashMap<String, i64>,
    known_names: &mut super::packed::RecentNames,
) -> rusqlite::Result<Vec<Done>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = chrono::Utc::now().timestamp();
    let mut all = Vec::with_capacity(jobs.len());
    // The window names this transaction stored or found, remembered once it commits.
    let mut named: HashSet<(&str, i64, i64)> = HashSet::new();
    for job in jobs {
        let (user_id, org_id, items) = match job {
            Job::Ingest {
                user_id,
                org_id,
                items,
                ..
            } => (user_id, org_id, items),
            Job::Touch {
                token_hash, now, ..
            } => {
                tx.prepare_cached("UPDATE tokens SET last_used_at = ?2 WHERE token_hash = ?1")?
                    .execute(params![token_hash, now])?;
                all.push(Done::Touched);
                continue;
            }
            Job::Keep {
                user_id,
                version,
                days,
                ..
            } => {
                all.push(Done::Kept(keep_days(&tx, user_id, *version, days)?));
                continue;
            }
        };
        // Rows name their person by number (`users.seq`), given once and never changed.
        let person = match people.get(user_id) {
            Some(n) => *n,
            None => {
                let n: i64 = tx
                    .prepare_cached("SELECT seq FROM users WHERE id = ?1")?
                    .query_row([user_id], |r| r.get(0))?;
                people.insert(user_id.clone(), n);
                n
            }
        };
        let mut results = Vec::with_capacity(items.len());
        let mut seen = super::SeenSpans::default();
        for item in items {
            let i = &item.interval;
            let id = i.id.to_string();
            let task_key = (org_id.clone(), i.task_id.clone());
            if !known_tasks.contains(&task_key) {
                let found = tx
                    .prepare_cached("SELECT 1 FROM tasks WHERE id = ?1 AND org_id = ?2")?
                    .query_row(params![i.task_id, org_id], |_| Ok(()))
                    .optional()?;
                if found.is_none() {
                    results.push(IngestResult::rejected(
                        Some(id),
                        format!("invalid: unknown task {}", i.task_id),
                    ));
                    continue;
                }
                known_tasks.insert(task_key);
            }
            let (start, end) = (i.started_at.timestamp(), i.ended_at.timestamp());
            // The fast path in one statement: insert unless the id exists or it overlaps.
            // A user's stored intervals never overlap, so their ends rise with their starts: if
            // any stored interval overlaps [start, end), the last one starting before `end` does.
            // Checking only that one is an index seek, not a scan of the user's history.
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO intervals (id, person, device_id, task_id, started_at, ended_at,
                     body, packed, json_bytes, received_at)
                     SELECT ?1, ?2, ?3, ?4, ?5, ?6, '', ?7, ?9, ?8
                     WHERE NOT EXISTS (
                         SELECT 1 FROM (SELECT ended_at FROM intervals WHERE person = ?2 AND
                         started_at < ?6
                                        ORDER BY started_at DESC LIMIT 1)
                         WHERE ended_at > ?5)
                     ON CONFLICT (id) DO NOTHING",
                )?
                .execute(params![
                    i.id,
                    person,
                    i.device_id,
                    i.task_id,
                    start,
                    end,
                    item.packed.body,
                    now,
                    item.packed.json_bytes
                ])?;
            if inserted == 1 {
                let day = super::packed::day_of(start);
                for w in &item.packed.windows {
                    if known_names.has(user_id, day, w.key)
                        || !named.insert((user_id.as_str(), day, w.key))
                    {
                        continue;
                    }
                    tx.prepare_cached(
                        "INSERT INTO window_names (user_id, day, key, app, title, url, path)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![user_id, day, w.key, w.app, w.title, w.url, w.path])?;
                }
                seen.add(i);
                results.push(IngestResult::accepted(id));
                continue;
            }
            if let Some(stored) = stored_interval(&tx, i.id)? {
                let same = stored.user_id == *user_id
                    && (stored.same_bytes(item)
                        || stored.same_but_urls(
                            &window_names(&tx, user_id, super::packed::day_of(stored.started_at))?,
                            item,
                        ));
                results.push(if same {
                    IngestResult::duplicate(id)
                } else {
                    IngestResult::rejected(Some(id), "id_conflict")
                });
                continue;
            }
            let other: uuid::Uuid = tx
                .prepare_cached(
                    "SELECT id FROM intervals WHERE person = ?1 AND started_at < ?3 AND ended_at >
                     ?2 ORDER BY started_at LIMIT 1",
                )?
                .query_row(params![person, start, end], |r| r.get(0))?;
            results.push(IngestResult::overlap(id, other.to_string()));
        }
        for (device, first, last) in seen.iter() {
            tx.prepare_cached(super::DEVICE_SEEN_UPSERT)?
                .execute(params![user_id, device, first, last])?;
        }
        all.push(Done::Ingested(results));
    }
    tx.commit()?;
    for (user_id, day, key) in named {
        known_names.remember(user_id, day, key, now);
    }
    Ok(all)
}

/// The stored interval `id`, if any.
fn stored_interval(
    tx: &rusqlite::Transaction<'_>,
    id: uuid::Uuid,
) -> rusqlite::Result<Option<super::packed::StoredInterval>> {
    tx.prepare_cached(concat!(
        "SELECT ",
        super::packed::stored_columns!(),
        super::packed::stored_from!(),
        " WHERE i.id = ?1"
    ))?
    .query_row([id], stored_row)
    .optional()
}

/// A `StoredInterval` from a row of `stored_columns!()`.
fn stored_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<super::packed::StoredInterval> {
    Ok(super::packed::StoredInterval {
        id: r.get(0)?,
        user_id: r.get(1)?,
        device_id: r.get(2)?,
        task_id: r.get(3)?,
        started_at: r.get(4)?,
        ended_at: r.get(5)?,
        body: r.get(6)?,
        packed: r.get(7)?,
    })
}

/// A `WindowName` from a row of (person, key, app, title, url, path).
fn name_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<super::packed::WindowName> {
    Ok(super::packed::WindowName {
        key: r.get(1)?,
        app: r.get(2)?,
        title: r.get(3)?,
        url: r.get(4)?,
        path: r.get(5)?,
    })
}

/// The names of a person's windows of a UTC day.
fn window_names(
    tx: &rusqlite::Transaction<'_>,
    user_id: &str,
    day: i64,
) -> rusqlite::Result<super::packed::WindowNames> {
    let mut names = super::packed::WindowNames::default();
    let mut statement = tx.prepare_cached(
        "SELECT user_id, key, app, title, url, path FROM window_names WHERE user_id = ?1 AND
         day = ?2",
    )?;
    let rows = statement.query_map(params![user_id, day], name_row)?;
    for name in rows {
        names.insert(user_id.to_string(), name?);
    }
    Ok(names)
}

/// Keeps a person's computed lines in the writer's transaction if their version is `version`.
fn keep_days(
    tx: &rusqlite::Transaction<'_>,
    user_id: &str,
    version: i64,
    days: &[super::timesheets::KeptLine],
) -> rusqlite::Result<bool> {
    let now: Option<i64> = tx
        .prepare_cached("SELECT version FROM time_versions WHERE user_id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()?;
    if now != Some(version) {
        return Ok(false);
    }
    for line in days {
        tx.prepare_cached(super::timesheets::KEEP_DAY)?
            .execute(params![user_id, line.day, line.body, line.team])?;
    }
    Ok(true)
}

impl SqliteDb {
    /// Hands `job` to the writer and waits for its answer.
    async fn write<T>(
        &self,
        job: Job,
        answer: oneshot::Receiver<Result<T, DbError>>,
    ) -> Result<T, DbError> {
        let stopped = || DbError::Unavailable("the writer stopped".into());
        self.writer.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Notes that the token was used at `now`, through the writer.
    async fn touch(&self, token_hash: &str, now: i64) -> Result<(), DbError> {
        let (reply, answer) = oneshot::channel();
        let token_hash = token_hash.to_string();
        self.write(
            Job::Touch {
                token_hash,
                now,
                reply,
            },
            answer,
        )
        .await
    }

    /// Keeps a person's computed timesheet lines if their time is still at `version`,
    /// through the writer (a pooled connection's write would wait beside it, see [`Job`]).
    async fn keep_days(
        &self,
        user_id: &str,
        version: i64,
        days: &[super::timesheets::KeptLine],
    ) -> Result<bool, DbError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Keep {
            user_id: user_id.to_string(),
            version,
            days: days.to_vec(),
            reply,
        };
        self.write(job, answer).await
    }
}

fn user_row(row: &sqlx::sqlite::SqliteRow) -> UserRow {
    UserRow {
        user: User {
            id: row.get("id"),
            email: row.get("email"),
            name: row.get("name"),
            admin: row.get::<i64, _>("admin") != 0,
        },
        org_id: row.get("org_id"),
        disabled: row.get::<i64, _>("disabled") != 0,
    }
}

#[async_trait]
impl Database for SqliteDb {
    async fn revocation_epoch(&self) -> Result<i64, DbError> {
        let conn = self.epoch_reader.lock().unwrap_or_else(|p| p.into_inner());
        conn.prepare_cached("SELECT epoch FROM revocations WHERE id = 1")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(writer_error)
    }

    async fn stored_bytes(&self, user_id: &str, from: i64, to: i64) -> Result<u64, DbError> {
        // LENGTH of a TEXT counts characters; of a BLOB, bytes.
        // The length of each interval's JSON: kept beside a packed body, the body itself before.
        let n: Option<i64> = sqlx::query_scalar(concat!(
            "SELECT SUM(COALESCE(i.json_bytes, LENGTH(CAST(i.body AS BLOB))))",
            super::packed::stored_from!(),
            " WHERE u.id = $1 AND i.started_at >= $2 AND i.started_at < $3"
        ))
        .bind(user_id)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        Ok(n.unwrap_or(0).max(0) as u64)
    }

    async fn ingest(
        &self,
        user: &UserRow,
        items: Vec<Candidate>,
    ) -> Result<Vec<IngestResult>, DbError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Ingest {
            user_id: user.user.id.clone(),
            org_id: user.org_id.clone(),
            items,
            reply,
        };
        self.write(job, answer).await
    }
}

super::reports::report_store!(SqliteDb);
super::people::people_store!(SqliteDb);
super::accounts::account_store!(SqliteDb);
super::timesheets::timesheet_store!(SqliteDb, sqlx::Sqlite);
super::own_data::own_data_store!(SqliteDb, sqlx::Sqlite);
super::projects::project_store!(SqliteDb, sqlx::Sqlite);
super::sso::sso_store!(SqliteDb);
super::second_factor::second_factor_store!(SqliteDb, sqlx::Sqlite);
