//! PostgreSQL backend, for teams that run several stateless server instances on one database.
//! The overlap rule is the `intervals_no_overlap` exclusion constraint, so it holds across
//! instances; each interval is its own statement, so what was accepted stays accepted.
//! The simple queries mirror the SQLite backend's; they differ in placeholders and types.

use async_trait::async_trait;
use metron_core::wire::{IngestResult, IngestStatus, User};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::Row;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use super::{classify, Candidate, Database, DbError, UserRow};

/// SQLSTATE of an exclusion-constraint violation.
const EXCLUSION_VIOLATION: &str = "23P01";

pub struct PgDb {
    pool: PgPool,
    /// (org, task) pairs known to exist: tasks are never deleted, so this never goes stale.
    known_tasks: Mutex<HashSet<(String, String)>>,
}

impl PgDb {
    pub async fn open(url: &str) -> Result<PgDb, DbError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(classify)?;
        super::migrations::migrator(super::migrations::POSTGRES)
            .await
            .map_err(|e| DbError::Other(format!("reading the migrations: {e}")))?
            .run(&pool)
            .await
            .map_err(|e| DbError::Other(format!("migrating: {e}")))?;
        Ok(PgDb {
            pool,
            known_tasks: Mutex::new(HashSet::new()),
        })
    }

    async fn task_exists(&self, org_id: &str, task_id: &str) -> Result<bool, DbError> {
        let key = (org_id.to_string(), task_id.to_string());
        if self
            .known_tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&key)
        {
            return Ok(true);
        }
        let found = sqlx::query("SELECT 1 FROM tasks WHERE id = $1 AND org_id = $2")
            .bind(task_id)
            .bind(org_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        if found.is_some() {
            self.known_tasks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key);
        }
        Ok(found.is_some())
    }

    async fn ingest_one(
        &self,
        user: &UserRow,
        item: &Candidate,
        now: i64,
    ) -> Result<IngestResult, DbError> {
        let i = &item.interval;
        let id = i.id.to_string();
        if !self.task_exists(&user.org_id, &i.task_id).await? {
            return Ok(IngestResult::rejected(
                Some(id),
                format!("invalid: unknown task {}", i.task_id),
            ));
        }
        let (start, end) = (i.started_at.timestamp(), i.ended_at.timestamp());
        let inserted = sqlx::query(
            "INSERT INTO intervals (id, user_id, device_id, task_id, started_at, ended_at, body,
             received_at)
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
                Ok(
                    if owner == user.user.id && super::same_content(&body, &item.body) {
                        IngestResult::duplicate(id)
                    } else {
                        IngestResult::rejected(Some(id), "id_conflict")
                    },
                )
            }
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(EXCLUSION_VIOLATION) => {
                let other: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM intervals WHERE user_id = $1 AND started_at < $3 AND ended_at >
                     $2 ORDER BY started_at LIMIT 1",
                )
                .bind(&user.user.id)
                .bind(start)
                .bind(end)
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?;
                Ok(IngestResult {
                    conflicts_with: other,
                    ..IngestResult::rejected(Some(id), "overlap")
                })
            }
            Err(e) => Err(classify(e)),
        }
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
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT SUM(OCTET_LENGTH(body))::BIGINT FROM intervals WHERE user_id = $1 AND
             started_at >= $2 AND started_at < $3",
        )
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
        let mut results = Vec::with_capacity(items.len());
        let mut seen = super::SeenSpans::default();
        for item in &items {
            let result = self.ingest_one(user, item, now).await?;
            if matches!(
                result.status,
                IngestStatus::Accepted | IngestStatus::Duplicate
            ) {
                seen.add(&item.interval);
            }
            results.push(result);
        }
        for (device, first, last) in seen.iter() {
            sqlx::query(super::DEVICE_SEEN_UPSERT)
                .bind(&user.user.id)
                .bind(device)
                .bind(first)
                .bind(last)
                .execute(&self.pool)
                .await
                .map_err(classify)?;
        }
        Ok(results)
    }
}

super::reports::report_store!(PgDb);
super::people::people_store!(PgDb);
super::accounts::account_store!(PgDb);
super::timesheets::timesheet_store!(PgDb, sqlx::Postgres, " FOR UPDATE");
super::own_data::own_data_store!(PgDb, sqlx::Postgres);
super::projects::project_store!(PgDb, sqlx::Postgres);
super::sso::sso_store!(PgDb);
super::second_factor::second_factor_store!(PgDb, sqlx::Postgres);
