//! SQLite backend. Reads use a pool of connections (WAL lets them run beside a writer);
//! interval ingest goes through one writer task that owns its own connection and groups the
//! requests waiting for it into one `BEGIN IMMEDIATE` transaction. One writer makes the
//! overlap rule race-free (check and insert can't interleave with another writer), and group
//! commit turns many small requests into one fsync, which is what makes ingest fast.

use async_trait::async_trait;
use metron_core::wire::{IngestResult, NewTask, Task, User};
use metron_core::Interval;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection, SqlitePool};
use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{classify, Candidate, Database, DbError, UserRow};

/// How many waiting requests one transaction takes at most.
const MAX_GROUP: usize = 256;

struct Job {
    user_id: String,
    org_id: String,
    items: Vec<Candidate>,
    reply: oneshot::Sender<Result<Vec<IngestResult>, DbError>>,
}

pub struct SqliteDb {
    pool: SqlitePool,
    writer: mpsc::Sender<Job>,
}

impl SqliteDb {
    pub async fn open(url: &str) -> Result<SqliteDb, DbError> {
        let url = if url.starts_with("sqlite:") { url.to_string() } else { format!("sqlite://{url}") };
        let memory = url.contains(":memory:");
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|e| DbError::Other(format!("bad SQLite address {url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(if memory { SqliteJournalMode::Memory } else { SqliteJournalMode::Wal })
            // FULL: an interval the server acknowledged must survive a power cut, since the
            // client then forgets about it. Group commit keeps the fsyncs few.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        // An in-memory database exists once per connection: keep a single one, shared.
        let (pool_size, options) = if memory { (1, options.shared_cache(true)) } else { (4, options) };
        let pool = SqlitePoolOptions::new().max_connections(pool_size).connect_with(options.clone()).await.map_err(classify)?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await.map_err(|e| DbError::Other(format!("migrating: {e}")))?;
        let conn = options.connect().await.map_err(classify)?;
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(writer(conn, rx));
        Ok(SqliteDb { pool, writer: tx })
    }
}

async fn writer(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Job>) {
    let mut known_tasks: HashSet<(String, String)> = HashSet::new();
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        match run_group(&mut conn, &jobs, &mut known_tasks).await {
            Ok(results) => {
                for (job, result) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(e) => {
                // The transaction rolled back: nothing of the group was stored, all may retry.
                let e = classify(e);
                for job in jobs {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

async fn run_group(
    conn: &mut SqliteConnection,
    jobs: &[Job],
    known_tasks: &mut HashSet<(String, String)>,
) -> Result<Vec<Vec<IngestResult>>, sqlx::Error> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let now = chrono::Utc::now().timestamp();
    let mut all = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut results = Vec::with_capacity(job.items.len());
        for item in &job.items {
            let i = &item.interval;
            let id = i.id.to_string();
            let task_key = (job.org_id.clone(), i.task_id.clone());
            if !known_tasks.contains(&task_key) {
                let found = sqlx::query("SELECT 1 FROM tasks WHERE id = ?1 AND org_id = ?2")
                    .bind(&i.task_id)
                    .bind(&job.org_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if found.is_none() {
                    results.push(IngestResult::rejected(Some(id), format!("invalid: unknown task {}", i.task_id)));
                    continue;
                }
                known_tasks.insert(task_key);
            }
            let (start, end) = (i.started_at.timestamp(), i.ended_at.timestamp());
            // The fast path in one statement: insert unless the id exists or it overlaps.
            let inserted = sqlx::query(
                "INSERT INTO intervals (id, user_id, device_id, task_id, started_at, ended_at, body, received_at)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
                 WHERE NOT EXISTS (SELECT 1 FROM intervals WHERE user_id = ?2 AND started_at < ?6 AND ended_at > ?5)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(&id)
            .bind(&job.user_id)
            .bind(i.device_id.to_string())
            .bind(&i.task_id)
            .bind(start)
            .bind(end)
            .bind(&item.body)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                results.push(IngestResult::accepted(id));
                continue;
            }
            let existing = sqlx::query("SELECT user_id, body FROM intervals WHERE id = ?1").bind(&id).fetch_optional(&mut *tx).await?;
            if let Some(row) = existing {
                let (owner, body): (String, String) = (row.get(0), row.get(1));
                results.push(if owner == job.user_id && body == item.body {
                    IngestResult::duplicate(id)
                } else {
                    IngestResult::rejected(Some(id), "id_conflict")
                });
                continue;
            }
            let other: String = sqlx::query_scalar(
                "SELECT id FROM intervals WHERE user_id = ?1 AND started_at < ?3 AND ended_at > ?2 ORDER BY started_at LIMIT 1",
            )
            .bind(&job.user_id)
            .bind(start)
            .bind(end)
            .fetch_one(&mut *tx)
            .await?;
            results.push(IngestResult::overlap(id, other));
        }
        all.push(results);
    }
    tx.commit().await?;
    Ok(all)
}

fn user_row(row: &sqlx::sqlite::SqliteRow) -> UserRow {
    UserRow {
        user: User { id: row.get("id"), email: row.get("email"), name: row.get("name"), admin: row.get::<i64, _>("admin") != 0 },
        org_id: row.get("org_id"),
    }
}

#[async_trait]
impl Database for SqliteDb {
    async fn organization(&self, name: &str) -> Result<String, DbError> {
        sqlx::query("INSERT INTO organizations (id, name) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING")
            .bind(Uuid::now_v7().to_string())
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        sqlx::query_scalar("SELECT id FROM organizations WHERE name = ?1").bind(name).fetch_one(&self.pool).await.map_err(classify)
    }

    async fn create_user(&self, org_id: &str, email: &str, name: &str, password_hash: &str, admin: bool) -> Result<UserRow, DbError> {
        let id = Uuid::now_v7().to_string();
        sqlx::query("INSERT INTO users (id, org_id, email, name, password_hash, admin) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .bind(&id)
            .bind(org_id)
            .bind(email)
            .bind(name)
            .bind(password_hash)
            .bind(admin as i64)
            .execute(&self.pool)
            .await
            .map_err(|e| match classify(e) {
                DbError::Conflict(_) => DbError::Conflict(format!("a user with email {email} already exists")),
                other => other,
            })?;
        Ok(UserRow { user: User { id, email: email.into(), name: name.into(), admin }, org_id: org_id.into() })
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(UserRow, String)>, DbError> {
        let row = sqlx::query("SELECT id, email, name, admin, org_id, password_hash FROM users WHERE email = ?1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        Ok(row.map(|r| (user_row(&r), r.get("password_hash"))))
    }

    async fn store_token(&self, token_hash: &str, user_id: &str, now: i64) -> Result<(), DbError> {
        sqlx::query("INSERT INTO tokens (token_hash, user_id, created_at) VALUES (?1, ?2, ?3)")
            .bind(token_hash)
            .bind(user_id)
            .bind(now)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(classify)
    }

    async fn user_by_token(&self, token_hash: &str) -> Result<Option<UserRow>, DbError> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.name, u.admin, u.org_id FROM tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = ?1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(row.as_ref().map(user_row))
    }

    async fn revoke_token(&self, token_hash: &str, now: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE tokens SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL")
            .bind(token_hash)
            .bind(now)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(classify)
    }

    async fn tasks(&self, org_id: &str) -> Result<Vec<Task>, DbError> {
        let rows = sqlx::query("SELECT id, name, project FROM tasks WHERE org_id = ?1 ORDER BY project, name")
            .bind(org_id)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        Ok(rows.iter().map(|r| Task { id: r.get("id"), name: r.get("name"), project: r.get("project") }).collect())
    }

    async fn create_task(&self, org_id: &str, task: &NewTask) -> Result<Task, DbError> {
        let id = Uuid::now_v7().to_string();
        sqlx::query("INSERT INTO tasks (id, org_id, name, project) VALUES (?1, ?2, ?3, ?4)")
            .bind(&id)
            .bind(org_id)
            .bind(&task.name)
            .bind(&task.project)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(Task { id, name: task.name.clone(), project: task.project.clone() })
    }

    async fn ingest(&self, user: &UserRow, items: Vec<Candidate>) -> Result<Vec<IngestResult>, DbError> {
        let (reply, answer) = oneshot::channel();
        let job = Job { user_id: user.user.id.clone(), org_id: user.org_id.clone(), items, reply };
        self.writer.send(job).await.map_err(|_| DbError::Unavailable("the writer stopped".into()))?;
        answer.await.map_err(|_| DbError::Unavailable("the writer stopped".into()))?
    }

    async fn intervals(&self, user_id: &str, from: i64, to: i64) -> Result<Vec<Interval>, DbError> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM intervals WHERE user_id = ?1 AND started_at < ?3 AND ended_at > ?2 ORDER BY started_at LIMIT 50000",
        )
        .bind(user_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter().map(|b| serde_json::from_str(b).map_err(|e| DbError::Other(format!("stored interval unreadable: {e}")))).collect()
    }
}
