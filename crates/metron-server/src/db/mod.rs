//! Storage behind one trait, with a SQLite and a PostgreSQL implementation.
//!
//! Two concrete backends rather than sqlx's `Any` driver: the overlap rule is enforced
//! differently in each (a single writer task on SQLite, an exclusion constraint on
//! PostgreSQL), and so are their error codes.

pub mod accounts;
mod migrations;
pub mod postgres;
pub mod sqlite;
pub mod timesheets;

pub use accounts::{AccountStore, TaskCreation, TokenRow};
pub use timesheets::TimesheetStore;

use async_trait::async_trait;
use metron_core::report::{Rule, Thresholds};
use metron_core::wire::{ActiveDevice, IngestResult, User};
use metron_core::Interval;
use std::sync::Arc;

/// A row struct with `sqlx::FromRow` on both backends, each field read from the column of its
/// name: what `#[derive(sqlx::FromRow)]` writes. The derive is not used because it needs sqlx's
/// macros, which compile sqlx a second time for the compiler's host (see `migrations`). The
/// struct is written inside the macro, so its fields are listed once.
macro_rules! row_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$field_meta])* pub $field: $ty),*
        }
        $crate::db::row_struct!(@from_row sqlx::sqlite::SqliteRow, $name { $($field),* });
        $crate::db::row_struct!(@from_row sqlx::postgres::PgRow, $name { $($field),* });
    };
    (@from_row $row:ty, $name:ident { $($field:ident),* }) => {
        impl<'r> sqlx::FromRow<'r, $row> for $name {
            fn from_row(row: &'r $row) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok($name {
                    $($field: row.try_get(stringify!($field))?),*
                })
            }
        }
    };
}
pub(crate) use row_struct;

/// Widens a device's seen span (first and last seen, unix seconds) by the intervals just
/// stored, or creates its row. The same SQL on both backends (CASE rather than SQLite's
/// min/max or PostgreSQL's LEAST/GREATEST); rusqlite and sqlx both read `$N` by position.
pub(crate) const DEVICE_SEEN_UPSERT: &str = "INSERT INTO devices (user_id, device_id, first_seen, last_seen) VALUES ($1, $2, $3, $4)
     ON CONFLICT (user_id, device_id) DO UPDATE SET
         first_seen = CASE WHEN excluded.first_seen < devices.first_seen THEN excluded.first_seen ELSE devices.first_seen END,
         last_seen = CASE WHEN excluded.last_seen > devices.last_seen THEN excluded.last_seen ELSE devices.last_seen END";

/// The span of each device among stored intervals: device id -> (earliest start, latest end).
#[derive(Debug, Default)]
pub(crate) struct SeenSpans(std::collections::BTreeMap<String, (i64, i64)>);

impl SeenSpans {
    pub(crate) fn add(&mut self, interval: &Interval) {
        let (start, end) = (
            interval.started_at.timestamp(),
            interval.ended_at.timestamp(),
        );
        let span = self
            .0
            .entry(interval.device_id.to_string())
            .or_insert((start, end));
        span.0 = span.0.min(start);
        span.1 = span.1.max(end);
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, i64, i64)> {
        self.0.iter().map(|(d, (a, b))| (d.as_str(), *a, *b))
    }
}

row_struct! {
    /// A device as stored: its report (JSON of `DeviceInfo`), first and last seen, when it
    /// reported.
    #[derive(Debug, Clone)]
    pub struct DeviceRow {
        pub user_id: String,
        pub device_id: String,
        pub info: Option<String>,
        pub first_seen: i64,
        pub last_seen: i64,
        pub reported_at: Option<i64>,
    }
}

/// A user with the organization they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub user: User,
    pub org_id: String,
    /// A disabled user can't sign in and their tokens answer 401.
    pub disabled: bool,
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
pub trait Database: AccountStore + ReportStore + TimesheetStore + Send + Sync + 'static {
    /// A number that grows with every token revocation. Read on every authenticated request,
    /// so it must be cheap: SQLite reads it on a connection of its own without a thread hop.
    async fn revocation_epoch(&self) -> Result<i64, DbError>;
    /// Bytes of interval bodies the user stored that started in [from, to).
    async fn stored_bytes(&self, user_id: &str, from: i64, to: i64) -> Result<u64, DbError>;
    /// Stores valid intervals of `user`, judging each: accepted, duplicate, id_conflict,
    /// overlap (with the stored interval it hits) or unknown task. One result per item, in order.
    async fn ingest(
        &self,
        user: &UserRow,
        items: Vec<Candidate>,
    ) -> Result<Vec<IngestResult>, DbError>;
}

/// The reads of reports and clients (users, intervals, active devices), rules, kept days and
/// retention. The SQL is the same on both
/// backends (sqlx's SQLite reads `$N` placeholders too), so the `report_store!` macro writes it once
/// for each; only the row type behind `user_row` differs.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// The user's devices whose latest interval ended at or after `since` (unix seconds).
    async fn active_devices(&self, user_id: &str, since: i64)
        -> Result<Vec<ActiveDevice>, DbError>;
    /// Stores what the user's device reports about itself (`info`, checked JSON) at `now`,
    /// which also counts as seeing it.
    async fn report_device(
        &self,
        user_id: &str,
        device_id: &str,
        info: &str,
        now: i64,
    ) -> Result<(), DbError>;
    /// The devices of one person of the organization, or of all of them, latest seen first.
    async fn devices(&self, org_id: &str, user_id: Option<&str>)
        -> Result<Vec<DeviceRow>, DbError>;
    /// The user's intervals that overlap [from, to), by start time.
    async fn intervals(&self, user_id: &str, from: i64, to: i64) -> Result<Vec<Interval>, DbError>;
    async fn user_by_id(&self, user_id: &str) -> Result<Option<UserRow>, DbError>;
    /// The organization's users, by name.
    async fn org_users(&self, org_id: &str) -> Result<Vec<User>, DbError>;
    /// The stored bodies (JSON) of everyone's intervals in the organization that overlap
    /// [from, to), with their user. Unparsed: the team report parses them on all cores.
    async fn org_interval_bodies(
        &self,
        org_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, String)>, DbError>;
    /// The UTC offset of the user's latest interval that started before `before`.
    async fn latest_offset(&self, user_id: &str, before: i64) -> Result<Option<i32>, DbError>;

    /// The organization's productivity rules, first match first.
    async fn rules(&self, org_id: &str) -> Result<Vec<StoredRule>, DbError>;
    /// Adds a rule after the others.
    async fn create_rule(&self, org_id: &str, rule: &Rule) -> Result<StoredRule, DbError>;
    /// Changes a rule of the organization (keeping its place); `None` if there is no such rule.
    async fn update_rule(
        &self,
        org_id: &str,
        id: &str,
        rule: &Rule,
    ) -> Result<Option<StoredRule>, DbError>;
    /// Whether the organization had the rule.
    async fn delete_rule(&self, org_id: &str, id: &str) -> Result<bool, DbError>;

    /// The organization's unusual-activity thresholds (the defaults until admins set them).
    async fn unusual_thresholds(&self, org_id: &str) -> Result<Thresholds, DbError>;
    async fn set_unusual_thresholds(
        &self,
        org_id: &str,
        thresholds: &Thresholds,
        now: i64,
    ) -> Result<(), DbError>;

    /// A day kept as an aggregate (JSON), once its raw intervals are gone.
    async fn day_aggregate(&self, user_id: &str, day: &str) -> Result<Option<String>, DbError>;
    async fn store_day_aggregate(
        &self,
        user_id: &str,
        day: &str,
        body: &str,
    ) -> Result<(), DbError>;
    /// The user's latest kept day: (day, body).
    async fn latest_day_aggregate(
        &self,
        user_id: &str,
    ) -> Result<Option<(String, String)>, DbError>;
    /// The kept days of everyone in the organization on `day`: (user, body).
    async fn org_day_aggregates(
        &self,
        org_id: &str,
        day: &str,
    ) -> Result<Vec<(String, String)>, DbError>;
    /// Users with intervals that started before `before`, with the earliest start.
    async fn users_with_intervals_before(&self, before: i64)
        -> Result<Vec<(String, i64)>, DbError>;
    /// Deletes the user's intervals that ended at or before `before`; how many.
    async fn delete_intervals_ending_by(&self, user_id: &str, before: i64) -> Result<u64, DbError>;
}

/// Implements [`ReportStore`] for a backend with a `pool` field and a `user_row` function in
/// scope where it is invoked.
macro_rules! report_store {
    ($backend:ty) => {
        #[async_trait::async_trait]
        impl $crate::db::ReportStore for $backend {
            async fn user_by_id(&self, user_id: &str) -> Result<Option<$crate::db::UserRow>, $crate::db::DbError> {
                let row = sqlx::query("SELECT id, email, name, admin, disabled, org_id FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::db::classify)?;
                Ok(row.as_ref().map(user_row))
            }

            async fn org_users(&self, org_id: &str) -> Result<Vec<metron_core::wire::User>, $crate::db::DbError> {
                let rows = sqlx::query("SELECT id, email, name, admin, disabled, org_id FROM users WHERE org_id = $1 ORDER BY name, email")
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::db::classify)?;
                Ok(rows.iter().map(|r| user_row(r).user).collect())
            }

            async fn org_interval_bodies(&self, org_id: &str, from: i64, to: i64) -> Result<Vec<(String, String)>, $crate::db::DbError> {
                sqlx::query_as(
                    "SELECT i.user_id, i.body FROM users u JOIN intervals i ON i.user_id = u.id
                     WHERE u.org_id = $1 AND i.started_at >= $2 - 900 AND i.started_at < $3 AND i.ended_at > $2",
                )
                .bind(org_id)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::db::classify)
            }

            async fn latest_offset(&self, user_id: &str, before: i64) -> Result<Option<i32>, $crate::db::DbError> {
                let body: Option<String> =
                    sqlx::query_scalar("SELECT body FROM intervals WHERE user_id = $1 AND started_at < $2 ORDER BY started_at DESC LIMIT 1")
                        .bind(user_id)
                        .bind(before)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err($crate::db::classify)?;
                Ok(body.and_then(|b| serde_json::from_str::<metron_core::Interval>(&b).ok()).map(|i| i.utc_offset_minutes))
            }

            async fn rules(&self, org_id: &str) -> Result<Vec<$crate::db::StoredRule>, $crate::db::DbError> {
                let rows: Vec<(String, String, String, String, String)> =
                    sqlx::query_as("SELECT id, target, kind, pattern, class FROM rules WHERE org_id = $1 ORDER BY position, id")
                        .bind(org_id)
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::db::classify)?;
                rows.into_iter().map(|(id, target, kind, pattern, class)| $crate::db::rule_from(id, &target, &kind, pattern, &class)).collect()
            }

            async fn create_rule(&self, org_id: &str, rule: &metron_core::report::Rule) -> Result<$crate::db::StoredRule, $crate::db::DbError> {
                let id = uuid::Uuid::now_v7().to_string();
                sqlx::query(
                    "INSERT INTO rules (id, org_id, position, target, kind, pattern, class)
                     VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM rules WHERE org_id = $2), $3, $4, $5, $6)",
                )
                .bind(&id)
                .bind(org_id)
                .bind($crate::db::enum_text(&rule.target))
                .bind($crate::db::enum_text(&rule.kind))
                .bind(&rule.pattern)
                .bind($crate::db::enum_text(&rule.class))
                .execute(&self.pool)
                .await
                .map_err($crate::db::classify)?;
                Ok($crate::db::StoredRule { id, rule: rule.clone() })
            }

            async fn update_rule(&self, org_id: &str, id: &str, rule: &metron_core::report::Rule) -> Result<Option<$crate::db::StoredRule>, $crate::db::DbError> {
                let done = sqlx::query("UPDATE rules SET target = $3, kind = $4, pattern = $5, class = $6 WHERE id = $1 AND org_id = $2")
                    .bind(id)
                    .bind(org_id)
                    .bind($crate::db::enum_text(&rule.target))
                    .bind($crate::db::enum_text(&rule.kind))
                    .bind(&rule.pattern)
                    .bind($crate::db::enum_text(&rule.class))
                    .execute(&self.pool)
                    .await
                    .map_err($crate::db::classify)?;
                Ok((done.rows_affected() == 1).then(|| $crate::db::StoredRule { id: id.to_string(), rule: rule.clone() }))
            }

            async fn delete_rule(&self, org_id: &str, id: &str) -> Result<bool, $crate::db::DbError> {
                let done = sqlx::query("DELETE FROM rules WHERE id = $1 AND org_id = $2")
                    .bind(id)
                    .bind(org_id)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::db::classify)?;
                Ok(done.rows_affected() == 1)
            }

            async fn unusual_thresholds(&self, org_id: &str) -> Result<metron_core::report::Thresholds, $crate::db::DbError> {
                let body: Option<String> = sqlx::query_scalar("SELECT body FROM unusual_thresholds WHERE org_id = $1")
                    .bind(org_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::db::classify)?;
                // Fields added later read as their defaults (`serde(default)`).
                body.map_or(Ok(Default::default()), |b| {
                    serde_json::from_str(&b).map_err(|e| $crate::db::DbError::Other(format!("stored unusual thresholds unreadable: {e}")))
                })
            }

            async fn set_unusual_thresholds(&self, org_id: &str, thresholds: &metron_core::report::Thresholds, now: i64) -> Result<(), $crate::db::DbError> {
                sqlx::query(
                    "INSERT INTO unusual_thresholds (org_id, body, updated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (org_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                )
                .bind(org_id)
                .bind(serde_json::to_string(thresholds).expect("thresholds serialize"))
                .bind(now)
                .execute(&self.pool)
                .await
                .map(drop)
                .map_err($crate::db::classify)
            }

            async fn day_aggregate(&self, user_id: &str, day: &str) -> Result<Option<String>, $crate::db::DbError> {
                sqlx::query_scalar("SELECT body FROM day_aggregates WHERE user_id = $1 AND day = $2")
                    .bind(user_id)
                    .bind(day)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::db::classify)
            }

            async fn store_day_aggregate(&self, user_id: &str, day: &str, body: &str) -> Result<(), $crate::db::DbError> {
                sqlx::query("INSERT INTO day_aggregates (user_id, day, body) VALUES ($1, $2, $3) ON CONFLICT (user_id, day) DO UPDATE SET body = excluded.body")
                    .bind(user_id)
                    .bind(day)
                    .bind(body)
                    .execute(&self.pool)
                    .await
                    .map(drop)
                    .map_err($crate::db::classify)
            }

            async fn latest_day_aggregate(&self, user_id: &str) -> Result<Option<(String, String)>, $crate::db::DbError> {
                sqlx::query_as("SELECT day, body FROM day_aggregates WHERE user_id = $1 ORDER BY day DESC LIMIT 1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::db::classify)
            }

            async fn org_day_aggregates(&self, org_id: &str, day: &str) -> Result<Vec<(String, String)>, $crate::db::DbError> {
                sqlx::query_as("SELECT a.user_id, a.body FROM users u JOIN day_aggregates a ON a.user_id = u.id WHERE u.org_id = $1 AND a.day = $2")
                    .bind(org_id)
                    .bind(day)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::db::classify)
            }

            async fn users_with_intervals_before(&self, before: i64) -> Result<Vec<(String, i64)>, $crate::db::DbError> {
                sqlx::query_as("SELECT user_id, MIN(started_at) FROM intervals WHERE started_at < $1 GROUP BY user_id ORDER BY user_id")
                    .bind(before)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::db::classify)
            }

            async fn active_devices(&self, user_id: &str, since: i64) -> Result<Vec<metron_core::wire::ActiveDevice>, $crate::db::DbError> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT device_id, max(ended_at) FROM intervals WHERE user_id = $1 AND ended_at >= $2 GROUP BY device_id ORDER BY device_id",
                )
                .bind(user_id)
                .bind(since)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::db::classify)?;
                Ok($crate::db::active_devices_from(rows))
            }

            async fn report_device(&self, user_id: &str, device_id: &str, info: &str, now: i64) -> Result<(), $crate::db::DbError> {
                sqlx::query(
                    "INSERT INTO devices (user_id, device_id, info, first_seen, last_seen, reported_at) VALUES ($1, $2, $3, $4, $4, $4)
                     ON CONFLICT (user_id, device_id) DO UPDATE SET info = excluded.info, reported_at = excluded.reported_at,
                         first_seen = CASE WHEN excluded.first_seen < devices.first_seen THEN excluded.first_seen ELSE devices.first_seen END,
                         last_seen = CASE WHEN excluded.last_seen > devices.last_seen THEN excluded.last_seen ELSE devices.last_seen END",
                )
                .bind(user_id)
                .bind(device_id)
                .bind(info)
                .bind(now)
                .execute(&self.pool)
                .await
                .map(drop)
                .map_err($crate::db::classify)
            }

            async fn devices(&self, org_id: &str, user_id: Option<&str>) -> Result<Vec<$crate::db::DeviceRow>, $crate::db::DbError> {
                sqlx::query_as(
                    "SELECT d.user_id, d.device_id, d.info, d.first_seen, d.last_seen, d.reported_at
                     FROM devices d JOIN users u ON u.id = d.user_id
                     WHERE u.org_id = $1 AND ($2 IS NULL OR d.user_id = $2)
                     ORDER BY d.last_seen DESC, d.device_id LIMIT 10000",
                )
                .bind(org_id)
                .bind(user_id)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::db::classify)
            }

            async fn intervals(&self, user_id: &str, from: i64, to: i64) -> Result<Vec<metron_core::Interval>, $crate::db::DbError> {
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
                .map_err($crate::db::classify)?;
                $crate::db::parse_bodies(&rows)
            }

            async fn delete_intervals_ending_by(&self, user_id: &str, before: i64) -> Result<u64, $crate::db::DbError> {
                let done = sqlx::query("DELETE FROM intervals WHERE user_id = $1 AND ended_at <= $2")
                    .bind(user_id)
                    .bind(before)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::db::classify)?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use report_store;

/// A rule as stored: its id and the rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct StoredRule {
    pub id: String,
    #[serde(flatten)]
    pub rule: Rule,
}

/// The text forms of a rule's enums in the database (the same as in JSON).
pub(crate) fn enum_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// A rule from its stored columns.
pub(crate) fn rule_from(
    id: String,
    target: &str,
    kind: &str,
    pattern: String,
    class: &str,
) -> Result<StoredRule, DbError> {
    fn parse<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, DbError> {
        serde_json::from_value(serde_json::Value::String(text.into()))
            .map_err(|e| DbError::Other(format!("stored rule {what}: {e}")))
    }
    Ok(StoredRule {
        id,
        rule: Rule {
            target: parse("target", target)?,
            kind: parse("kind", kind)?,
            pattern,
            class: parse("class", class)?,
        },
    })
}

/// Parses stored interval bodies.
pub(crate) fn parse_bodies(rows: &[String]) -> Result<Vec<Interval>, DbError> {
    rows.iter()
        .map(|b| {
            serde_json::from_str(b)
                .map_err(|e| DbError::Other(format!("stored interval unreadable: {e}")))
        })
        .collect()
}

/// Opens the database named by `url`: a `postgres://` URL, `sqlite::memory:`, or a SQLite path.
pub async fn connect(url: &str) -> Result<Arc<dyn Database>, DbError> {
    connect_sized(url, Sizing::SERVER).await
}

/// How much a SQLite database may hold in memory: its reader connections (each a thread with
/// a page cache) and the cache of each. PostgreSQL keeps its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizing {
    pub max_readers: u32,
    /// Page cache per connection, in KiB.
    pub cache_kib: u32,
}

impl Sizing {
    /// A team's server: reports read in parallel, SQLite's default 2 MiB cache each.
    pub const SERVER: Sizing = Sizing {
        max_readers: 4,
        cache_kib: 2048,
    };
    /// The desktop app's local server: one person's data, in a process that stays resident
    /// all day beside everything else on the computer.
    pub const DESKTOP: Sizing = Sizing {
        max_readers: 2,
        cache_kib: 512,
    };
}

/// Whether `url` names a PostgreSQL database (anything else is SQLite).
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// [`connect`], with the SQLite sizing given.
pub async fn connect_sized(url: &str, sizing: Sizing) -> Result<Arc<dyn Database>, DbError> {
    if is_postgres(url) {
        Ok(Arc::new(postgres::PgDb::open(url).await?))
    } else {
        Ok(Arc::new(sqlite::SqliteDb::open(url, sizing).await?))
    }
}

/// Turns `(device_id, last ended_at)` rows into the wire type.
pub(crate) fn active_devices_from(rows: Vec<(String, i64)>) -> Vec<ActiveDevice> {
    rows.into_iter()
        .filter_map(|(device_id, end)| {
            chrono::DateTime::from_timestamp(end, 0).map(|last_ended_at| ActiveDevice {
                device_id,
                last_ended_at,
            })
        })
        .collect()
}

/// Maps sqlx errors to what the API can act on.
pub(crate) fn classify(e: sqlx::Error) -> DbError {
    match &e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::WorkerCrashed => DbError::Unavailable(e.to_string()),
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLite: 5 busy, 6 locked, 13 full (extended codes keep the low byte).
            let sqlite_code = code.parse::<i32>().ok().map(|c| c & 0xff);
            if db.is_unique_violation() {
                DbError::Conflict(db.message().to_string())
            } else if matches!(sqlite_code, Some(5 | 6 | 13))
                || code.starts_with("53")
                || code.starts_with("08")
                // Deadlock and serialization failure: a retry goes through.
                || code.starts_with("40")
            {
                DbError::Unavailable(e.to_string())
            } else {
                DbError::Other(e.to_string())
            }
        }
        _ => DbError::Other(e.to_string()),
    }
}
