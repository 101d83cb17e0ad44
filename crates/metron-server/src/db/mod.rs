//! Storage behind one trait, with a SQLite and a PostgreSQL implementation.
//!
//! Two concrete backends rather than sqlx's `Any` driver: the overlap rule is enforced
//! differently in each (a single writer task on SQLite, a trigger that locks the person on
//! PostgreSQL), and so are their error codes.

pub mod accounts;
pub mod kept_line;
mod migrations;
pub mod own_data;
pub mod packed;
pub mod people;
mod pg_writer;
pub mod postgres;
pub mod projects;
pub mod reports;
pub mod second_factor;
pub mod sqlite;
pub mod sso;
pub mod timesheets;
mod varint;

pub use accounts::{AccountStore, OrgSettingsRow, TaskCreation, TokenRow};
pub use own_data::OwnDataStore;
pub use people::{InvitationRow, LinkState, NewPerson, PeopleStore, ResetRow};
pub use projects::{ProjectRow, ProjectStore, TaskRow};
pub use reports::{DeviceRow, ReportStore, StoredRule};
pub use second_factor::{SecondFactorRow, SecondFactorStore};
pub use sso::{CodeRow, DeviceCodeRow, PendingLogin, ProviderRow, SsoPerson, SsoStore};
pub use timesheets::TimesheetStore;

use async_trait::async_trait;
use metron_core::wire::{IngestResult, User};
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
pub(crate) const DEVICE_SEEN_UPSERT: &str = "INSERT INTO devices (user_id, device_id, first_seen,
                                             last_seen) VALUES ($1, $2, $3, $4)
     ON CONFLICT (user_id, device_id) DO UPDATE SET
         first_seen = CASE WHEN excluded.first_seen < devices.first_seen THEN excluded.first_seen
         ELSE devices.first_seen END,
         last_seen = CASE WHEN excluded.last_seen > devices.last_seen THEN excluded.last_seen ELSE
         devices.last_seen END";

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

/// A user with the organization they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub user: User,
    pub org_id: String,
    /// A disabled user can't sign in and their tokens answer 401.
    pub disabled: bool,
}

/// An interval that passed validation, packed as it will be stored (`packed`).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub interval: Interval,
    pub packed: packed::Packed,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum DbError {
    /// A unique value already exists (an email, an organization name).
    #[error("{0}")]
    Conflict(String),
    /// A manual entry overlaps another of the same person that holds time (the table's
    /// constraint, checked again at insert: two requests at once each passed the handler's
    /// check).
    #[error("the time overlaps another manual entry of this person")]
    Overlap,
    /// Busy, locked, out of disk, connection lost: the client should retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Other(String),
}

#[async_trait]
pub trait Database:
    AccountStore
    + PeopleStore
    + SsoStore
    + ProjectStore
    + ReportStore
    + TimesheetStore
    + OwnDataStore
    + SecondFactorStore
    + Send
    + Sync
    + 'static
{
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
    /// WAL pages after which the writer copies them into the database file (SQLite's default is
    /// 1,000). Every commit writes each page it changed to the WAL whole, and a team's intervals
    /// change pages all over the time index (a person's last leaf each); a longer WAL lets a
    /// page changed by many commits be copied once (docs/PERFORMANCE.md).
    pub wal_checkpoint_pages: u32,
}

impl Sizing {
    /// A team's server: reports read in parallel, SQLite's default 2 MiB cache each; a WAL of
    /// up to 40 MiB.
    pub const SERVER: Sizing = Sizing {
        max_readers: 4,
        cache_kib: 2048,
        wal_checkpoint_pages: 10_000,
    };
    /// The desktop app's local server: one person's data, in a process that stays resident
    /// all day beside everything else on the computer.
    pub const DESKTOP: Sizing = Sizing {
        max_readers: 2,
        cache_kib: 512,
        wal_checkpoint_pages: 1_000,
    };
}

/// Whether `url` names a PostgreSQL database (anything else is SQLite).
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// [`connect`], with the SQLite sizing given. Audit rows written before migration 0010 are
/// chained here, once (`crate::audit_chain`).
pub async fn connect_sized(url: &str, sizing: Sizing) -> Result<Arc<dyn Database>, DbError> {
    let db: Arc<dyn Database> = if is_postgres(url) {
        Arc::new(postgres::PgDb::open(url).await?)
    } else {
        Arc::new(sqlite::SqliteDb::open(url, sizing).await?)
    };
    let chained = db.chain_audit_backlog().await?;
    if chained > 0 {
        tracing::info!("{chained} audit rows written before their chain are chained");
    }
    Ok(db)
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
