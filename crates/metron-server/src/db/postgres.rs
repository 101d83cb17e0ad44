//! PostgreSQL backend, for teams that run several stateless server instances on one database.
//! The overlap rule is the `intervals_no_overlap` exclusion constraint, so it holds across
//! instances; each interval is its own statement, so what was accepted stays accepted.
//! The simple queries mirror the SQLite backend's; they differ in placeholders and types.

use async_trait::async_trait;
use metron_core::wire::{ActiveDevice, IngestResult, NewTask, Task, User};
use metron_core::Interval;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::Row;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;
use uuid::Uuid;

use super::{active_devices_from, classify, parse_bodies, Candidate, Database, DbError, UserRow};

/// SQLSTATE of an exclusion-constraint violation.
const EXCLUSION_VIOLATION: &str = "23P01";

pub struct PgDb {
    pool: PgPool,
    /// (org, task) pairs known to exist: tasks are never deleted, so this never goes stale.
    known_tasks: Mutex<HashSet<(String, String)>>,
}

impl PgDb {
    pub async fn open(url: &str) -> Result<PgDb, DbError> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await.map_err(classify)?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await.map_err(|e| DbError::Other(format!("migrating: {e}")))?;
        Ok(PgDb { pool, known_tasks: Mutex::new(HashSet::new()) })
    }

    async fn task_exists(&self, org_id: &str, task_id: &str) -> Result<bool, DbError> {
        let key = (org_id.to_string(), task_id.to_string());
        if self.known_tasks.lock().unwrap_or_else(|p| p.into_inner()).contains(&key) {
            return Ok(true);
        }
        let found = sqlx::query("SELECT 1 FROM tasks WHERE id = $1 AND org_id = $2")
            .bind(task_id)
            .bind(org_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        if found.is_some() {
            self.known_tasks.lock().unwrap_or_else(|p| p.into_inner()).insert(key);
        }
        Ok(found.is_some())
    }

    async fn ingest_one(&self, user: &UserRow, item: &Candidate, now: i64) -> Result<IngestResult, DbError> {
        let i = &item.interval;
        let id = i.id.to_string();
        if !self.task_exists(&user.org_id, &i.task_id).await? {
            return Ok(IngestResult::rejected(Some(id), format!("invalid: unknown task {}", i.task_id)));
        }
        let (start, end) = (i.started_at.timestamp(), i.ended_at.timestamp());
        let inserted = sqlx::query(
            "INSERT INTO intervals (id, user_id, device_id, task_id, started_at, ended_at, body, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&id)
        .bind(&user.user.id)
        .bind(i.device_id.to_string())
        .bind(&i.task_id)
        .bind(start)
        .bind(end)
        .bind(&item.body)
        .bind(now)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(done) if done.rows_affected() == 1 => Ok(IngestResult::accepted(id)),
            Ok(_) => {
                let row = sqlx::query("SELECT user_id, body FROM intervals WHERE id = $1")
                    .bind(&id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(classify)?;
                let (owner, body): (String, String) = (row.get(0), row.get(1));
                Ok(if owner == user.user.id && body == item.body {
                    IngestResult::duplicate(id)
                } else {
                    IngestResult::rejected(Some(id), "id_conflict")
                })
            }
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(EXCLUSION_VIOLATION) => {
                let other: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM intervals WHERE user_id = $1 AND started_at < $3 AND ended_at > $2 ORDER BY started_at LIMIT 1",
                )
                .bind(&user.user.id)
                .bind(start)
                .bind(end)
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?;
                Ok(IngestResult { conflicts_with: other, ..IngestResult::rejected(Some(id), "overlap") })
            }
            Err(e) => Err(classify(e)),
        }
    }
}

fn user_row(row: &PgRow) -> UserRow {
    UserRow {
        user: User { id: row.get("id"), email: row.get("email"), name: row.get("name"), admin: row.get("admin") },
        org_id: row.get("org_id"),
    }
}

#[async_trait]
impl Database for PgDb {
    async fn organization(&self, name: &str) -> Result<String, DbError> {
        sqlx::query("INSERT INTO organizations (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(Uuid::now_v7().to_string())
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        sqlx::query_scalar("SELECT id FROM organizations WHERE name = $1").bind(name).fetch_one(&self.pool).await.map_err(classify)
    }

    async fn create_user(&self, org_id: &str, email: &str, name: &str, password_hash: &str, admin: bool) -> Result<UserRow, DbError> {
        let id = Uuid::now_v7().to_string();
        sqlx::query("INSERT INTO users (id, org_id, email, name, password_hash, admin) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&id)
            .bind(org_id)
            .bind(email)
            .bind(name)
            .bind(password_hash)
            .bind(admin)
            .execute(&self.pool)
            .await
            .map_err(|e| match classify(e) {
                DbError::Conflict(_) => DbError::Conflict(format!("a user with email {email} already exists")),
                other => other,
            })?;
        Ok(UserRow { user: User { id, email: email.into(), name: name.into(), admin }, org_id: org_id.into() })
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(UserRow, String)>, DbError> {
        let row = sqlx::query("SELECT id, email, name, admin, org_id, password_hash FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        Ok(row.map(|r| (user_row(&r), r.get("password_hash"))))
    }

    async fn store_token(&self, token_hash: &str, user_id: &str, now: i64) -> Result<(), DbError> {
        sqlx::query("INSERT INTO tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)")
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
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(row.as_ref().map(user_row))
    }

    async fn revoke_token(&self, token_hash: &str, now: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(token_hash)
            .bind(now)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(classify)
    }

    async fn tasks(&self, org_id: &str) -> Result<Vec<Task>, DbError> {
        let rows = sqlx::query("SELECT id, name, project FROM tasks WHERE org_id = $1 ORDER BY project, name")
            .bind(org_id)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        Ok(rows.iter().map(|r| Task { id: r.get("id"), name: r.get("name"), project: r.get("project") }).collect())
    }

    async fn create_task(&self, org_id: &str, task: &NewTask) -> Result<Task, DbError> {
        let id = Uuid::now_v7().to_string();
        sqlx::query("INSERT INTO tasks (id, org_id, name, project) VALUES ($1, $2, $3, $4)")
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
        let now = chrono::Utc::now().timestamp();
        let mut results = Vec::with_capacity(items.len());
        for item in &items {
            results.push(self.ingest_one(user, item, now).await?);
        }
        Ok(results)
    }

    async fn active_devices(&self, user_id: &str, since: i64) -> Result<Vec<ActiveDevice>, DbError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT device_id, max(ended_at) FROM intervals WHERE user_id = $1 AND ended_at >= $2 GROUP BY device_id ORDER BY device_id",
        )
        .bind(user_id)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(active_devices_from(rows))
    }

    async fn intervals(&self, user_id: &str, from: i64, to: i64) -> Result<Vec<Interval>, DbError> {
        let rows: Vec<String> = sqlx::query_scalar(
            // started_at >= from - 900 (the longest interval) lets the index bound the scan.
            "SELECT body FROM intervals WHERE user_id = $1 AND started_at >= $2 - 900 AND started_at < $3 AND ended_at > $2
             ORDER BY started_at LIMIT 100000",
        )
        .bind(user_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        parse_bodies(&rows)
    }
}

super::report_store!(PgDb);
