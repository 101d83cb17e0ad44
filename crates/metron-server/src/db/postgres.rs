//! PostgreSQL backend, for teams that run several stateless server instances on one database.
//! The overlap rule is the `intervals_no_overlap` trigger (migration 0021: a lock a person
//! and a look at each new row's neighbours in time), so it holds across instances. Intervals
//! are stored by [`super::pg_writer`], one statement for the requests waiting at a moment,
//! which skips the rows that conflict rather than failing; this file says why each skipped
//! one was not stored.
//! The simple queries mirror the SQLite backend's; they differ in placeholders and types.

use async_trait::async_trait;
use metron_core::wire::{IngestResult, User};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::Row;
use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use super::packed::{NamesReader as _, StoredInterval, Whose};
use super::timesheets::KEEP_DAY;
use super::{classify, Candidate, Database, DbError, UserRow};

/// How far before now a mark of intervals received reaches back (`read_received_mark`): longer
/// than an ingest statement waits for its locks and commits, and than instances' clocks drift
/// apart under NTP.
pub const RECEIVED_MARGIN: i64 = 300;

pub struct PgDb {
    pool: PgPool,
    /// Stores the intervals of the requests waiting, a statement a group.
    writer: super::pg_writer::PgWriter,
    /// (org, task) pairs known to exist: tasks are never deleted, so this never goes stale.
    known_tasks: Mutex<HashSet<(String, String)>>,
}

/// How many pages a connection's bitmap heap scans may ask the disk for ahead of reading them
/// (PostgreSQL's `effective_io_concurrency`, 1 by default). A person's day is one such scan over
/// about 480 pages, since live ingest writes a minute of everyone together: read from disk it
/// took 27 ms with 1 and 7 ms with 200 (docs/PERFORMANCE.md). SSDs and cloud disks serve many
/// reads at once; on a single spinning disk the reads ahead cost little.
const READ_AHEAD_PAGES: &str = "200";

/// The connection options of a `postgres://` address: the address's own, and
/// [`READ_AHEAD_PAGES`] unless the address sets `effective_io_concurrency` itself (in its
/// `options`), which is then left as the operator chose.
pub fn connect_options(url: &str) -> Result<PgConnectOptions, DbError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| DbError::Other(format!("bad PostgreSQL address: {e}")))?;
    Ok(if url.contains("effective_io_concurrency") {
        options
    } else {
        options.options([("effective_io_concurrency", READ_AHEAD_PAGES)])
    })
}

impl PgDb {
    pub async fn open(url: &str) -> Result<PgDb, DbError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(connect_options(url)?)
            .await
            .map_err(classify)?;
        super::migrations::migrator(super::migrations::POSTGRES)
            .await
            .map_err(|e| DbError::Other(format!("reading the migrations: {e}")))?
            .run(&pool)
            .await
            .map_err(|e| DbError::Other(format!("migrating: {e}")))?;
        Ok(PgDb {
            writer: super::pg_writer::PgWriter::start(pool.clone()),
            pool,
            known_tasks: Mutex::new(HashSet::new()),
        })
    }

    /// Notes that the token was used at `now`.
    async fn touch(&self, token_hash: &str, now: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE tokens SET last_used_at = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(now)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(classify)
    }

    /// Keeps a person's computed timesheet lines if their time is still at `version`.
    async fn keep_days(
        &self,
        user_id: &str,
        version: i64,
        days: &[super::timesheets::KeptLine],
    ) -> Result<bool, DbError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        // Locked until the days are in: a change that commits first is seen here and keeps
        // nothing; one that commits after forgets these days.
        let now: Option<i64> =
            sqlx::query_scalar("SELECT version FROM time_versions WHERE user_id = $1 FOR UPDATE")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?;
        if now != Some(version) {
            return Ok(false);
        }
        for line in days {
            sqlx::query(KEEP_DAY)
                .bind(user_id)
                .bind(&line.day)
                .bind(&line.body)
                .bind(&line.team)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    /// The tasks of `items` that exist in the organization: the cached ones, then one query
    /// for the rest.
    async fn known_tasks(
        &self,
        org_id: &str,
        items: &[Candidate],
    ) -> Result<HashSet<String>, DbError> {
        let mut known = HashSet::new();
        let mut unknown = Vec::new();
        {
            let cache = self.known_tasks.lock().unwrap_or_else(|p| p.into_inner());
            for item in items {
                let task = &item.interval.task_id;
                if cache.contains(&(org_id.to_string(), task.clone())) {
                    known.insert(task.clone());
                } else if !unknown.contains(task) {
                    unknown.push(task.clone());
                }
            }
        }
        if !unknown.is_empty() {
            let found: Vec<String> =
                sqlx::query_scalar("SELECT id FROM tasks WHERE org_id = $1 AND id = ANY($2)")
                    .bind(org_id)
                    .bind(&unknown)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)?;
            let mut cache = self.known_tasks.lock().unwrap_or_else(|p| p.into_inner());
            for task in found {
                cache.insert((org_id.to_string(), task.clone()));
                known.insert(task);
            }
        }
        Ok(known)
    }

    /// PostgreSQL's mark is a time of receipt: the intervals received from then on, by any
    /// instance. It is [`RECEIVED_MARGIN`] before now, so an interval whose transaction began
    /// before the mark was taken and committed after it, or one stamped by an instance whose
    /// clock is behind, is still read (an interval read twice is added once).
    pub(crate) async fn read_received_mark(&self) -> Result<i64, DbError> {
        Ok(chrono::Utc::now().timestamp() - RECEIVED_MARGIN)
    }

    /// The organization's intervals overlapping [from, to) received at `mark` or after (the
    /// BRIN index of migration 0024 finds the newest pages).
    pub(crate) async fn read_org_intervals_since(
        &self,
        org_id: &str,
        from: i64,
        to: i64,
        mark: i64,
    ) -> Result<Vec<StoredInterval>, DbError> {
        sqlx::query_as(concat!(
            "SELECT ",
            super::packed::stored_columns!(),
            super::packed::stored_from!(),
            " WHERE u.org_id = $1 AND i.received_at >= $4 AND i.started_at >= $2 - 900 AND
             i.started_at < $3 AND i.ended_at > $2"
        ))
        .bind(org_id)
        .bind(from)
        .bind(to)
        .bind(mark)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)
    }

    /// Everyone's intervals in the organization that overlap [from, to), with their windows'
    /// names (`ReportStore::org_intervals`).
    pub(crate) async fn read_org_intervals(
        &self,
        org_id: &str,
        people: super::packed::PersonRange,
        from: i64,
        to: i64,
    ) -> Result<(Vec<StoredInterval>, super::packed::WindowNames), DbError> {
        let rows = sqlx::query_as(concat!(
            "SELECT ",
            super::packed::stored_columns!(),
            super::packed::stored_from!(),
            " WHERE u.org_id = $1 AND i.started_at >= $2 - 900 AND i.started_at < $3 AND
             i.ended_at > $2 AND u.seq >= $4 AND u.seq <= $5"
        ))
        .bind(org_id)
        .bind(from)
        .bind(to)
        .bind(people.first)
        .bind(people.last)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let (first, last) = super::packed::days_of(from, to);
        let names = self
            .pool
            .window_names(Whose::People(org_id, people), first, last)
            .await?;
        Ok((rows, names))
    }

    /// Why a candidate the writer's statement skipped was not stored: the same interval again,
    /// another interval's id, or an overlap with a stored interval of the person.
    async fn refusal(&self, user: &UserRow, item: &Candidate) -> Result<IngestResult, DbError> {
        let i = &item.interval;
        let id = i.id.to_string();
        let existing: Option<StoredInterval> = sqlx::query_as(concat!(
            "SELECT ",
            super::packed::stored_columns!(),
            super::packed::stored_from!(),
            " WHERE i.id = $1"
        ))
        .bind(i.id)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        if let Some(stored) = existing {
            let day = super::packed::day_of(stored.started_at);
            let same = stored.user_id == user.user.id
                && (stored.same_bytes(item)
                    || stored.same_but_urls(
                        &self
                            .pool
                            .window_names(Whose::Person(&stored.user_id), day, day)
                            .await?,
                        item,
                    ));
            return Ok(if same {
                IngestResult::duplicate(id)
            } else {
                IngestResult::rejected(Some(id), "id_conflict")
            });
        }
        let other: Option<String> = sqlx::query_scalar(concat!(
            "SELECT i.id::text",
            super::packed::stored_from!(),
            " WHERE u.id = $1 AND i.started_at < $3 AND i.ended_at > $2
             ORDER BY i.started_at LIMIT 1"
        ))
        .bind(&user.user.id)
        .bind(i.started_at.timestamp())
        .bind(i.ended_at.timestamp())
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(IngestResult {
            conflicts_with: other,
            ..IngestResult::rejected(Some(id), "overlap")
        })
    }
}

fn user_row(row: &PgRow) -> UserRow {
    UserRow {
        user: User {
            id: row.get("id"),
            email: row.get("email"),
            name: row.get("name"),
            admin: row.get("admin"),
        },
        org_id: row.get("org_id"),
        disabled: row.get("disabled"),
    }
}

#[async_trait]
impl Database for PgDb {
    async fn revocation_epoch(&self) -> Result<i64, DbError> {
        sqlx::query_scalar("SELECT epoch FROM revocations WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(classify)
    }

    async fn stored_bytes(&self, user_id: &str, from: i64, to: i64) -> Result<u64, DbError> {
        // The length of each interval's JSON: kept beside a packed body, the body itself before.
        let n: Option<i64> = sqlx::query_scalar(concat!(
            "SELECT SUM(COALESCE(i.json_bytes, OCTET_LENGTH(i.body)))::BIGINT",
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
        let now = chrono::Utc::now().timestamp();
        let tasks = self.known_tasks(&user.org_id, &items).await?;
        let known: Vec<Candidate> = items
            .iter()
            .filter(|c| tasks.contains(&c.interval.task_id))
            .cloned()
            .collect();
        let mut stored = if known.is_empty() {
            HashSet::new()
        } else {
            self.writer.store(&user.user.id, known, now).await?
        };
        let mut results = Vec::with_capacity(items.len());
        for item in &items {
            let i = &item.interval;
            let id = i.id.to_string();
            results.push(if !tasks.contains(&i.task_id) {
                IngestResult::rejected(Some(id), format!("invalid: unknown task {}", i.task_id))
            } else if stored.remove(&id) {
                // The first of the batch with this id was stored; a second is judged below.
                IngestResult::accepted(id)
            } else {
                self.refusal(user, item).await?
            });
        }
        Ok(results)
    }
}

super::reports::report_store!(PgDb);
super::people::people_store!(PgDb);
super::accounts::account_store!(PgDb);
super::timesheets::timesheet_store!(PgDb, sqlx::Postgres);
super::own_data::own_data_store!(PgDb, sqlx::Postgres);
super::projects::project_store!(PgDb, sqlx::Postgres);
super::sso::sso_store!(PgDb);
super::second_factor::second_factor_store!(PgDb, sqlx::Postgres);
