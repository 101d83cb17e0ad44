//! PostgreSQL backend, for teams that run several stateless server instances on one database.
//! The overlap rule is the `intervals_no_overlap` exclusion constraint, so it holds across
//! instances; each interval is its own statement, so what was accepted stays accepted.
//! The simple queries mirror the SQLite backend's; they differ in placeholders and types.

use async_trait::async_trait;
use metron_core::report::Rule;
use metron_core::wire::{ActiveDevice, IngestResult, NewTask, Task, User};
use metron_core::Interval;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::Row;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;
use uuid::Uuid;

use super::{active_devices_from, classify, enum_text, parse_bodies, rule_from, Candidate, Database, DbError, StoredRule, UserRow};

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

    async fn user_by_id(&self, user_id: &str) -> Result<Option<UserRow>, DbError> {
        let row = sqlx::query("SELECT id, email, name, admin, org_id FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        Ok(row.as_ref().map(user_row))
    }

    async fn org_users(&self, org_id: &str) -> Result<Vec<User>, DbError> {
        let rows = sqlx::query("SELECT id, email, name, admin, org_id FROM users WHERE org_id = $1 ORDER BY name, email")
            .bind(org_id)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        Ok(rows.iter().map(|r| user_row(r).user).collect())
    }

    async fn org_interval_bodies(&self, org_id: &str, from: i64, to: i64) -> Result<Vec<(String, String)>, DbError> {
        sqlx::query_as(
            "SELECT i.user_id, i.body FROM users u JOIN intervals i ON i.user_id = u.id
             WHERE u.org_id = $1 AND i.started_at >= $2 - 900 AND i.started_at < $3 AND i.ended_at > $2",
        )
        .bind(org_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)
    }

    async fn latest_offset(&self, user_id: &str, before: i64) -> Result<Option<i32>, DbError> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM intervals WHERE user_id = $1 AND started_at < $2 ORDER BY started_at DESC LIMIT 1")
                .bind(user_id)
                .bind(before)
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?;
        Ok(body.and_then(|b| serde_json::from_str::<Interval>(&b).ok()).map(|i| i.utc_offset_minutes))
    }

    async fn rules(&self, org_id: &str) -> Result<Vec<StoredRule>, DbError> {
        let rows: Vec<(String, String, String, String, String)> =
            sqlx::query_as("SELECT id, target, kind, pattern, class FROM rules WHERE org_id = $1 ORDER BY position, id")
                .bind(org_id)
                .fetch_all(&self.pool)
                .await
                .map_err(classify)?;
        rows.into_iter().map(|(id, target, kind, pattern, class)| rule_from(id, &target, &kind, pattern, &class)).collect()
    }

    async fn create_rule(&self, org_id: &str, rule: &Rule) -> Result<StoredRule, DbError> {
        let id = Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO rules (id, org_id, position, target, kind, pattern, class)
             VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM rules WHERE org_id = $2), $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(org_id)
        .bind(enum_text(&rule.target))
        .bind(enum_text(&rule.kind))
        .bind(&rule.pattern)
        .bind(enum_text(&rule.class))
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(StoredRule { id, rule: rule.clone() })
    }

    async fn update_rule(&self, org_id: &str, id: &str, rule: &Rule) -> Result<Option<StoredRule>, DbError> {
        let done = sqlx::query("UPDATE rules SET target = $3, kind = $4, pattern = $5, class = $6 WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .bind(enum_text(&rule.target))
            .bind(enum_text(&rule.kind))
            .bind(&rule.pattern)
            .bind(enum_text(&rule.class))
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok((done.rows_affected() == 1).then(|| StoredRule { id: id.to_string(), rule: rule.clone() }))
    }

    async fn delete_rule(&self, org_id: &str, id: &str) -> Result<bool, DbError> {
        let done = sqlx::query("DELETE FROM rules WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    async fn day_aggregate(&self, user_id: &str, day: &str) -> Result<Option<String>, DbError> {
        sqlx::query_scalar("SELECT body FROM day_aggregates WHERE user_id = $1 AND day = $2")
            .bind(user_id)
            .bind(day)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)
    }

    async fn store_day_aggregate(&self, user_id: &str, day: &str, body: &str) -> Result<(), DbError> {
        sqlx::query("INSERT INTO day_aggregates (user_id, day, body) VALUES ($1, $2, $3) ON CONFLICT (user_id, day) DO UPDATE SET body = excluded.body")
            .bind(user_id)
            .bind(day)
            .bind(body)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(classify)
    }

    async fn latest_day_aggregate(&self, user_id: &str) -> Result<Option<(String, String)>, DbError> {
        sqlx::query_as("SELECT day, body FROM day_aggregates WHERE user_id = $1 ORDER BY day DESC LIMIT 1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)
    }

    async fn org_day_aggregates(&self, org_id: &str, day: &str) -> Result<Vec<(String, String)>, DbError> {
        sqlx::query_as("SELECT a.user_id, a.body FROM users u JOIN day_aggregates a ON a.user_id = u.id WHERE u.org_id = $1 AND a.day = $2")
            .bind(org_id)
            .bind(day)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)
    }

    async fn users_with_intervals_before(&self, before: i64) -> Result<Vec<(String, i64)>, DbError> {
        sqlx::query_as("SELECT user_id, MIN(started_at) FROM intervals WHERE started_at < $1 GROUP BY user_id ORDER BY user_id")
            .bind(before)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)
    }

    async fn delete_intervals_ending_by(&self, user_id: &str, before: i64) -> Result<u64, DbError> {
        let done = sqlx::query("DELETE FROM intervals WHERE user_id = $1 AND ended_at <= $2")
            .bind(user_id)
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(done.rows_affected())
    }
}
