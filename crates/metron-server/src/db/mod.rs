//! Storage behind one trait, with a SQLite and a PostgreSQL implementation.
//!
//! Two concrete backends rather than sqlx's `Any` driver: the overlap rule is enforced
//! differently in each (a single writer task on SQLite, an exclusion constraint on
//! PostgreSQL), and so are their error codes.

pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use metron_core::report::Rule;
use metron_core::wire::{ActiveDevice, IngestResult, NewTask, Task, User};
use metron_core::Interval;
use std::sync::Arc;

/// A user with the organization they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub user: User,
    pub org_id: String,
}

/// An interval that passed validation, with its canonical JSON (what "same content" compares).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub interval: Interval,
    pub body: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum DbError {
    /// A unique value already exists (an email, an organization name).
    #[error("{0}")]
    Conflict(String),
    /// Busy, locked, out of disk, connection lost: the client should retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Other(String),
}

#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// The organization's id, creating it if needed.
    async fn organization(&self, name: &str) -> Result<String, DbError>;
    async fn create_user(&self, org_id: &str, email: &str, name: &str, password_hash: &str, admin: bool) -> Result<UserRow, DbError>;
    /// The user and their password hash.
    async fn user_by_email(&self, email: &str) -> Result<Option<(UserRow, String)>, DbError>;
    async fn store_token(&self, token_hash: &str, user_id: &str, now: i64) -> Result<(), DbError>;
    /// The user a live (not revoked) token belongs to.
    async fn user_by_token(&self, token_hash: &str) -> Result<Option<UserRow>, DbError>;
    async fn revoke_token(&self, token_hash: &str, now: i64) -> Result<(), DbError>;
    async fn tasks(&self, org_id: &str) -> Result<Vec<Task>, DbError>;
    async fn create_task(&self, org_id: &str, task: &NewTask) -> Result<Task, DbError>;
    /// Stores valid intervals of `user`, judging each: accepted, duplicate, id_conflict,
    /// overlap (with the stored interval it hits) or unknown task. One result per item, in order.
    async fn ingest(&self, user: &UserRow, items: Vec<Candidate>) -> Result<Vec<IngestResult>, DbError>;
    /// The user's devices whose latest interval ended at or after `since` (unix seconds).
    async fn active_devices(&self, user_id: &str, since: i64) -> Result<Vec<ActiveDevice>, DbError>;
    /// The user's intervals that overlap [from, to), by start time.
    async fn intervals(&self, user_id: &str, from: i64, to: i64) -> Result<Vec<Interval>, DbError>;

    async fn user_by_id(&self, user_id: &str) -> Result<Option<UserRow>, DbError>;
    /// The organization's users, by name.
    async fn org_users(&self, org_id: &str) -> Result<Vec<User>, DbError>;
    /// The stored bodies (JSON) of everyone's intervals in the organization that overlap
    /// [from, to), with their user. Unparsed: the team report parses them on all cores.
    async fn org_interval_bodies(&self, org_id: &str, from: i64, to: i64) -> Result<Vec<(String, String)>, DbError>;
    /// The UTC offset of the user's latest interval that started before `before`.
    async fn latest_offset(&self, user_id: &str, before: i64) -> Result<Option<i32>, DbError>;

    /// The organization's productivity rules, first match first.
    async fn rules(&self, org_id: &str) -> Result<Vec<StoredRule>, DbError>;
    /// Adds a rule after the others.
    async fn create_rule(&self, org_id: &str, rule: &Rule) -> Result<StoredRule, DbError>;
    /// Changes a rule of the organization (keeping its place); `None` if there is no such rule.
    async fn update_rule(&self, org_id: &str, id: &str, rule: &Rule) -> Result<Option<StoredRule>, DbError>;
    /// Whether the organization had the rule.
    async fn delete_rule(&self, org_id: &str, id: &str) -> Result<bool, DbError>;

    /// A day kept as an aggregate (JSON), once its raw intervals are gone.
    async fn day_aggregate(&self, user_id: &str, day: &str) -> Result<Option<String>, DbError>;
    async fn store_day_aggregate(&self, user_id: &str, day: &str, body: &str) -> Result<(), DbError>;
    /// The user's latest kept day: (day, body).
    async fn latest_day_aggregate(&self, user_id: &str) -> Result<Option<(String, String)>, DbError>;
    /// The kept days of everyone in the organization on `day`: (user, body).
    async fn org_day_aggregates(&self, org_id: &str, day: &str) -> Result<Vec<(String, String)>, DbError>;
    /// Users with intervals that started before `before`, with the earliest start.
    async fn users_with_intervals_before(&self, before: i64) -> Result<Vec<(String, i64)>, DbError>;
    /// Deletes the user's intervals that ended at or before `before`; how many.
    async fn delete_intervals_ending_by(&self, user_id: &str, before: i64) -> Result<u64, DbError>;
}

/// A rule as stored: its id and the rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct StoredRule {
    pub id: String,
    #[serde(flatten)]
    pub rule: Rule,
}

/// The text forms of a rule's enums in the database (the same as in JSON).
pub(crate) fn enum_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// A rule from its stored columns.
pub(crate) fn rule_from(id: String, target: &str, kind: &str, pattern: String, class: &str) -> Result<StoredRule, DbError> {
    fn parse<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, DbError> {
        serde_json::from_value(serde_json::Value::String(text.into())).map_err(|e| DbError::Other(format!("stored rule {what}: {e}")))
    }
    Ok(StoredRule {
        id,
        rule: Rule { target: parse("target", target)?, kind: parse("kind", kind)?, pattern, class: parse("class", class)? },
    })
}

/// Parses stored interval bodies.
pub(crate) fn parse_bodies(rows: &[String]) -> Result<Vec<Interval>, DbError> {
    rows.iter().map(|b| serde_json::from_str(b).map_err(|e| DbError::Other(format!("stored interval unreadable: {e}")))).collect()
}

/// Opens the database named by `url`: a `postgres://` URL, `sqlite::memory:`, or a SQLite path.
pub async fn connect(url: &str) -> Result<Arc<dyn Database>, DbError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgDb::open(url).await?))
    } else {
        Ok(Arc::new(sqlite::SqliteDb::open(url).await?))
    }
}

/// Turns `(device_id, last ended_at)` rows into the wire type.
pub(crate) fn active_devices_from(rows: Vec<(String, i64)>) -> Vec<ActiveDevice> {
    rows.into_iter()
        .filter_map(|(device_id, end)| {
            chrono::DateTime::from_timestamp(end, 0).map(|last_ended_at| ActiveDevice { device_id, last_ended_at })
        })
        .collect()
}

/// Maps sqlx errors to what the API can act on.
pub(crate) fn classify(e: sqlx::Error) -> DbError {
    match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => {
            DbError::Unavailable(e.to_string())
        }
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLite: 5 busy, 6 locked, 13 full (extended codes keep the low byte).
            let sqlite_code = code.parse::<i32>().ok().map(|c| c & 0xff);
            if db.is_unique_violation() {
                DbError::Conflict(db.message().to_string())
            } else if matches!(sqlite_code, Some(5 | 6 | 13)) || code.starts_with("53") || code.starts_with("08") {
                DbError::Unavailable(e.to_string())
            } else {
                DbError::Other(e.to_string())
            }
        }
        _ => DbError::Other(e.to_string()),
    }
}
