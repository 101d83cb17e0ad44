//! Timesheets in storage (issue 16): the organization's policy, manual entries, corrections,
//! submitted and approved periods, who manages whom, and the audit trail. The SQL is the same
//! on both backends, so the `timesheet_store!` macro writes it once for each. Every write that
//! changes someone's time writes its audit row in the same transaction: a change is never
//! in force without its record, nor recorded without being made. Audit rows are chained
//! (`crate::audit_chain`): each is numbered and hashed after the one before it, with the
//! organization's chain head (`audit_heads`) locked until the transaction ends.

use async_trait::async_trait;
use metron_core::timesheet::Policy;

use super::{row_struct, DbError};

row_struct! {
    /// A manual entry as stored (times in unix seconds, status as text).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct EntryRow {
        pub id: String,
        pub user_id: String,
        pub task_id: String,
        pub started_at: i64,
        pub ended_at: i64,
        pub note: String,
        pub status: String,
        pub created_at: i64,
        pub created_by: String,
        pub decided_by: Option<String>,
        pub decided_at: Option<i64>,
        pub decision_note: Option<String>,
        /// Minutes east of UTC it was added in: the offset its seconds fall on days in.
        pub utc_offset_minutes: i32,
    }
}

row_struct! {
    /// A correction as stored: `change` is `metron_core::timesheet::Change` as JSON.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CorrectionRow {
        pub id: String,
        pub user_id: String,
        pub interval_id: String,
        pub interval_started_at: i64,
        pub change: String,
        pub reason: String,
        pub status: String,
        pub created_at: i64,
        pub created_by: String,
        pub decided_by: Option<String>,
        pub decided_at: Option<i64>,
        pub decision_note: Option<String>,
    }
}

row_struct! {
    /// One line of the audit trail: who (`actor_id`) changed whose time (`user_id`), when, what
    /// (`action` on `subject_id`, `before` and `after` as JSON) and why.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AuditRow {
        pub id: String,
        pub org_id: String,
        pub user_id: String,
        pub actor_id: String,
        pub at: i64,
        pub action: String,
        pub subject_id: String,
        pub before: Option<String>,
        pub after: Option<String>,
        pub reason: String,
    }
}

row_struct! {
    /// An audit row with its place in the organization's chain (`crate::audit_chain`): its
    /// number, the hash of the row before it and its own. Rows written before migration 0010
    /// and not chained yet have none.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ChainedAuditRow {
        pub id: String,
        pub org_id: String,
        pub user_id: String,
        pub actor_id: String,
        pub at: i64,
        pub action: String,
        pub subject_id: String,
        pub before: Option<String>,
        pub after: Option<String>,
        pub reason: String,
        pub seq: Option<i64>,
        pub prev_hash: Option<String>,
        pub hash: Option<String>,
        /// The removal (its tombstone row's id) that erased this row's content (issue 28).
        pub erased_by: Option<String>,
    }
}

impl ChainedAuditRow {
    /// The record as it was written, which its hash covers.
    pub fn record(&self) -> AuditRow {
        AuditRow {
            id: self.id.clone(),
            org_id: self.org_id.clone(),
            user_id: self.user_id.clone(),
            actor_id: self.actor_id.clone(),
            at: self.at,
            action: self.action.clone(),
            subject_id: self.subject_id.clone(),
            before: self.before.clone(),
            after: self.after.clone(),
            reason: self.reason.clone(),
        }
    }
}

row_struct! {
    /// A submitted or approved week or month (`kind`, `start` as YYYY-MM-DD).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PeriodRow {
        pub user_id: String,
        pub kind: String,
        pub start: String,
        pub state: String,
        pub submitted_at: i64,
        pub decided_by: Option<String>,
        pub decided_at: Option<i64>,
        /// The figures it was submitted or last approved with (`Figures` as JSON).
        pub figures: Option<String>,
    }
}

/// The two kinds of reviewed request: time a person adds by hand, and a change to time
/// they tracked. Both go the same way (created, perhaps pending a reviewer, approved or
/// denied, withdrawn), with the same rules, in tables of the same shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    ManualEntry,
    Correction,
}

impl RequestKind {
    /// What a person calls one, for messages: "entry", "correction".
    pub fn noun(self) -> &'static str {
        match self {
            RequestKind::ManualEntry => "entry",
            RequestKind::Correction => "correction",
        }
    }

    /// The noun with its article: "an entry", "a correction".
    pub fn a_noun(self) -> &'static str {
        match self {
            RequestKind::ManualEntry => "an entry",
            RequestKind::Correction => "a correction",
        }
    }

    /// Its full name: "manual entry", "correction".
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::ManualEntry => "manual entry",
            RequestKind::Correction => "correction",
        }
    }

    /// The prefix of its audit actions (`manual_entry.approve`, `correction.withdraw`).
    pub fn audit_prefix(self) -> &'static str {
        match self {
            RequestKind::ManualEntry => "manual_entry",
            RequestKind::Correction => "correction",
        }
    }
}

/// A stored reviewed request, whichever its kind: what the shared lifecycle reads and changes.
pub trait RequestRow: Clone + Send + Sync + 'static {
    const KIND: RequestKind;
    fn id(&self) -> &str;
    /// Whose time it is about.
    fn user_id(&self) -> &str;
    fn status(&self) -> &str;
    /// The stretch of time it touches, in unix seconds: an entry's own, a corrected
    /// interval's longest (its start and 900 s on).
    fn span(&self) -> (i64, i64);
    /// The offset its time falls on days in, where the row says (an entry's own).
    fn utc_offset(&self) -> Option<i32> {
        None
    }
    /// The row as it reads once `by` moved it to `status` at `at` with `note`.
    fn decided(self, status: &str, by: &str, at: i64, note: &str) -> Self;
}

/// The fields both tables share, for [`RequestRow`].
macro_rules! request_row {
    ($row:ty, $kind:expr, |$r:ident| $span:expr $(, offset: |$o:ident| $offset:expr)?) => {
        impl RequestRow for $row {
            const KIND: RequestKind = $kind;
            fn id(&self) -> &str {
                &self.id
            }
            fn user_id(&self) -> &str {
                &self.user_id
            }
            fn status(&self) -> &str {
                &self.status
            }
            fn span(&self) -> (i64, i64) {
                let $r = self;
                $span
            }
            $(fn utc_offset(&self) -> Option<i32> {
                let $o = self;
                $offset
            })?
            fn decided(self, status: &str, by: &str, at: i64, note: &str) -> Self {
                Self {
                    status: status.into(),
                    decided_by: Some(by.into()),
                    decided_at: Some(at),
                    decision_note: Some(note.into()),
                    ..self
                }
            }
        }
    };
}

request_row!(
    EntryRow,
    RequestKind::ManualEntry,
    |r| (r.started_at, r.ended_at),
    offset: |r| Some(r.utc_offset_minutes)
);
// A correction is checked against its interval's longest possible span (intervals are at
// most 900 s): the interval itself may be gone by the time the correction is withdrawn.
request_row!(CorrectionRow, RequestKind::Correction, |r| (
    r.interval_started_at,
    r.interval_started_at + 900
));

impl EntryRow {
    /// The entry as the report math reads it.
    pub fn entry(&self) -> Result<metron_core::timesheet::ManualEntry, DbError> {
        let time = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0).ok_or_else(|| {
                DbError::Other(format!("stored manual entry {}: bad time {t}", self.id))
            })
        };
        Ok(metron_core::timesheet::ManualEntry {
            id: self
                .id
                .parse()
                .map_err(|e| DbError::Other(format!("stored manual entry id {}: {e}", self.id)))?,
            task_id: self.task_id.clone(),
            started_at: time(self.started_at)?,
            ended_at: time(self.ended_at)?,
            note: self.note.clone(),
            utc_offset_minutes: self.utc_offset_minutes,
        })
    }
}

impl CorrectionRow {
    /// The correction as the report math reads it.
    pub fn correction(&self) -> Result<metron_core::timesheet::Correction, DbError> {
        Ok(metron_core::timesheet::Correction {
            interval_id: self.interval_id.parse().map_err(|e| {
                DbError::Other(format!("stored correction {}: interval id: {e}", self.id))
            })?,
            change: serde_json::from_str(&self.change)
                .map_err(|e| DbError::Other(format!("stored correction {}: {e}", self.id)))?,
        })
    }
}

/// The most rows a list answers with: a client can't make the server read a table whole.
pub const MAX_ROWS: i64 = 1_000;

/// One page of a list: the rows after `after` (the last row's sort key and id) in the list's
/// order, at most `limit` of them. Queries read `limit + 1` rows: the extra one only says that
/// there is more (`routes/paging.rs` turns it into a `Link: rel="next"` header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

impl Page {
    /// The first page of `limit` rows.
    pub fn first(limit: i64) -> Page {
        Page { after: None, limit }
    }

    pub(crate) fn after_key(&self) -> Option<i64> {
        self.after.as_ref().map(|(key, _)| *key)
    }

    pub(crate) fn after_id(&self) -> Option<String> {
        self.after.as_ref().map(|(_, id)| id.clone())
    }
}

#[async_trait]
pub trait TimesheetStore: Send + Sync {
    /// The organization's policy (the defaults until admins set it).
    async fn timesheet_policy(&self, org_id: &str) -> Result<Policy, DbError>;
    async fn set_timesheet_policy(
        &self,
        org_id: &str,
        policy: &Policy,
        audit: &AuditRow,
    ) -> Result<(), DbError>;

    /// Stores a new entry. [`DbError::Overlap`] when it overlaps another entry that holds
    /// time (pending or approved), checked inside the insert.
    async fn insert_manual_entry(&self, entry: &EntryRow, audit: &AuditRow) -> Result<(), DbError>;
    async fn manual_entry(&self, id: &str) -> Result<Option<EntryRow>, DbError>;
    /// One page of the user's entries of any status that overlap [from, to), by start and
    /// id (at most `page.limit + 1` rows: the last says there is more).
    async fn manual_entries(
        &self,
        user_id: &str,
        from: i64,
        to: i64,
        page: &Page,
    ) -> Result<Vec<EntryRow>, DbError>;
    /// The user's approved entries that overlap [from, to), by start: all of them (what a
    /// report counts; the write budget bounds how many there can be).
    async fn approved_manual_entries(
        &self,
        user_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<EntryRow>, DbError>;
    /// The user's stored interval `id`.
    async fn interval_of(
        &self,
        user_id: &str,
        id: &str,
    ) -> Result<Option<metron_core::Interval>, DbError>;
    async fn insert_correction(
        &self,
        correction: &CorrectionRow,
        audit: &AuditRow,
    ) -> Result<(), DbError>;
    async fn correction(&self, id: &str) -> Result<Option<CorrectionRow>, DbError>;
    /// One page of the user's corrections of any status of intervals that started in
    /// [from - 900, to), in the order they were made (at most `page.limit + 1` rows).
    async fn corrections(
        &self,
        user_id: &str,
        from: i64,
        to: i64,
        page: &Page,
    ) -> Result<Vec<CorrectionRow>, DbError>;
    /// The user's corrections in force (approved) of intervals that started in
    /// [from - 900, to), in the order they were made: all of them (what a report applies; an
    /// interval holds at most three).
    async fn corrections_in_force(
        &self,
        user_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<CorrectionRow>, DbError>;
    /// Moves a reviewed request (`kind`: an entry or a correction) from status `from` to
    /// `to` with the decision's who, when and note, and writes its audit row; false if it was
    /// no longer in `from` (someone else decided first).
    async fn set_request_status(
        &self,
        kind: RequestKind,
        id: &str,
        from: &str,
        to: &str,
        decision: (&str, i64, Option<&str>),
        audit: &AuditRow,
    ) -> Result<bool, DbError>;

    /// The approved entries of everyone in the organization that overlap [from, to).
    async fn org_manual_entries(
        &self,
        org_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<EntryRow>, DbError>;
    /// The approved corrections of everyone in the organization of intervals that started
    /// in [from - 900, to), in the order they were made.
    async fn org_corrections(
        &self,
        org_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<CorrectionRow>, DbError>;

    /// Every organization's id (for the hourly settling of timesheet days).
    async fn organization_ids(&self) -> Result<Vec<String>, DbError>;
    /// Each person's version of their time (see migration 0008): bumped by every change to
    /// it that can touch a kept day. Everyone has one from when they are created.
    async fn time_version(&self, user_id: &str) -> Result<Option<i64>, DbError>;
    /// The versions of everyone in the organization who has one.
    async fn org_time_versions(&self, org_id: &str) -> Result<Vec<(String, i64)>, DbError>;
    /// The user's kept timesheet days in [from, to] (YYYY-MM-DD): (day, line as kept,
    /// `kept_line::unpack`).
    async fn timesheet_days(
        &self,
        user_id: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, DbError>;
    /// Everyone's kept timesheet days in [from, to]: (user id, day, line as kept).
    async fn org_timesheet_days(
        &self,
        org_id: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, String, Vec<u8>)>, DbError>;
    /// Everyone's kept days of `day` with their team lines (migration 0022): (user id, team
    /// line if one was kept).
    async fn org_team_days(
        &self,
        org_id: &str,
        day: &str,
    ) -> Result<Vec<(String, Option<String>)>, DbError>;
    /// Keeps computed days of the user if their version is still `version` (read before the
    /// data the days were computed from); false, keeping nothing, if it moved. A day kept
    /// already keeps its line and takes the new team line, if one came.
    async fn keep_timesheet_days(
        &self,
        user_id: &str,
        version: i64,
        days: &[KeptLine],
    ) -> Result<bool, DbError>;

    /// The entries and corrections waiting for `reviewer`'s decision, oldest first, at most
    /// `limit + 1` of each: of the people they manage (`Some(id)`), or of everyone in the
    /// organization but themselves (`None`, an admin's, with their own id in `me`).
    async fn pending(
        &self,
        org_id: &str,
        reviewer: Option<&str>,
        me: &str,
        limit: i64,
    ) -> Result<(Vec<EntryRow>, Vec<CorrectionRow>), DbError>;

    /// The periods submitted and not yet decided that wait for `reviewer` (as in
    /// [`Self::pending`]), oldest first, at most `limit + 1`.
    async fn submitted_periods(
        &self,
        org_id: &str,
        reviewer: Option<&str>,
        me: &str,
        limit: i64,
    ) -> Result<Vec<PeriodRow>, DbError>;
    /// The user's submitted or approved periods that start in [from, to] (YYYY-MM-DD).
    async fn periods(&self, user_id: &str, from: &str, to: &str)
        -> Result<Vec<PeriodRow>, DbError>;
    /// The organization's submitted or approved periods of one kind and start.
    async fn org_periods(
        &self,
        org_id: &str,
        kind: &str,
        start: &str,
    ) -> Result<Vec<PeriodRow>, DbError>;
    /// Stores a period's state (submitted or approved), replacing what was there.
    async fn set_period(&self, period: &PeriodRow, audit: &AuditRow) -> Result<(), DbError>;
    /// Opens a period again (removes its row); false if it had none.
    async fn open_period(
        &self,
        user_id: &str,
        kind: &str,
        start: &str,
        audit: &AuditRow,
    ) -> Result<bool, DbError>;

    /// The people `manager_id` reviews.
    async fn managed(&self, manager_id: &str) -> Result<Vec<String>, DbError>;
    /// Replaces the people `manager_id` reviews.
    async fn set_managed(
        &self,
        manager_id: &str,
        users: &[String],
        audit: &AuditRow,
    ) -> Result<(), DbError>;

    /// The audit rows about `user_id`'s time since `since` (unix seconds) and their bytes:
    /// what the person's daily write budget counts (`budget.rs`).
    async fn write_usage(&self, user_id: &str, since: i64) -> Result<(i64, i64), DbError>;

    /// The organization's chained audit rows numbered after `after_seq`, by number, at most
    /// `limit` (`crate::audit_chain::verify` reads the chain with it).
    async fn audit_chain(
        &self,
        org_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<ChainedAuditRow>, DbError>;
    /// The organization's chain head: its last row's number and hash (none before its first).
    async fn audit_head(&self, org_id: &str) -> Result<Option<(i64, String)>, DbError>;
    /// An audit row of the organization that has no number in its chain, if there is one.
    async fn unchained_audit_row(&self, org_id: &str) -> Result<Option<String>, DbError>;
    /// Chains the audit rows written before migration 0010, once, oldest first, for each
    /// organization whose chain has not begun; how many. Run when the database is opened.
    async fn chain_audit_backlog(&self) -> Result<u64, DbError>;

    /// One page of the audit trail of the organization, or of one person's time, in
    /// [from, to), newest first (`page.after` is the last row's time and id; at most
    /// `page.limit + 1` rows).
    async fn audit(
        &self,
        org_id: &str,
        user_id: Option<&str>,
        from: i64,
        to: i64,
        page: &Page,
    ) -> Result<Vec<AuditRow>, DbError>;
}

/// An insert's error, with the manual-entry overlap (SQLite's trigger, PostgreSQL's exclusion
/// constraint, both named `manual_entries_no_overlap`) told apart.
pub(crate) fn overlap_or(e: sqlx::Error) -> DbError {
    if let sqlx::Error::Database(db) = &e {
        if db.message().contains("manual_entries_no_overlap")
            || db.constraint() == Some("manual_entries_no_overlap")
        {
            return DbError::Overlap;
        }
    }
    super::classify(e)
}

/// Whether PostgreSQL aborted the transaction as a deadlock (SQLSTATE 40P01).
pub(crate) fn is_deadlock(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("40P01"))
}

/// One computed day of a person to keep: its date (YYYY-MM-DD), timesheet line and team line
/// (JSON; `None` when the path that computed it made none).
#[derive(Debug, Clone)]
pub struct KeptLine {
    pub day: String,
    /// The timesheet line, packed (`kept_line::pack`).
    pub body: Vec<u8>,
    pub team: Option<String>,
}

/// Keeps one computed line ($1 person, $2 day, $3 body, $4 team line) unless one is kept
/// already, whose team line a new one replaces (a stale one is computed again: its stamp no
/// longer matched); the same SQL on both backends.
pub(crate) const KEEP_DAY: &str =
    "INSERT INTO timesheet_days (user_id, day, body, team) VALUES ($1,
                                   $2, $3, $4) ON CONFLICT (user_id, day) DO UPDATE SET team =
                                   COALESCE(excluded.team, timesheet_days.team)";

/// Implements [`TimesheetStore`] for a backend with a `pool` field of sqlx database `$db` and
/// a `keep_days` method of its own (the write of kept lines).
macro_rules! timesheet_store {
    ($backend:ty, $db:ty) => {
        // A scope of its own, so the expansion names what it uses once.
        const _: () = {
            use $crate::db::timesheets::{
                is_deadlock, overlap_or, AuditRow, ChainedAuditRow, CorrectionRow, EntryRow,
                Page, PeriodRow, RequestKind, TimesheetStore,
            };
            use $crate::db::{classify, DbError};

            impl $backend {
                /// Writes an audit row inside `tx`, chained after its organization's last.
                async fn audit_in(
                    tx: &mut sqlx::Transaction<'_, $db>,
                    a: &AuditRow,
                ) -> Result<(), DbError> {
                    Self::chain_in(tx, a).await.map_err(classify)
                }

                /// The organization's chain head (last number and hash), locked until `tx`
                /// ends: the upsert takes the head row's write lock on PostgreSQL (a second
                /// writer of the same organization waits here, then reads the head the first
                /// one left), and SQLite has one writer at a time. Made at the first row.
                async fn lock_head(
                    tx: &mut sqlx::Transaction<'_, $db>,
                    org_id: &str,
                ) -> Result<(i64, String), sqlx::Error> {
                    sqlx::query_as(
                        "INSERT INTO audit_heads (org_id, seq, hash) VALUES ($1, 0, $2)
                         ON CONFLICT (org_id) DO UPDATE SET seq = audit_heads.seq
                         RETURNING seq, hash",
                    )
                    .bind(org_id)
                    .bind($crate::audit_chain::GENESIS)
                    .fetch_one(&mut **tx)
                    .await
                }

                async fn move_head(
                    tx: &mut sqlx::Transaction<'_, $db>,
                    org_id: &str,
                    seq: i64,
                    hash: &str,
                ) -> Result<(), sqlx::Error> {
                    sqlx::query("UPDATE audit_heads SET seq = $2, hash = $3 WHERE org_id = $1")
                        .bind(org_id)
                        .bind(seq)
                        .bind(hash)
                        .execute(&mut **tx)
                        .await
                        .map(drop)
                }

                async fn chain_in(
                    tx: &mut sqlx::Transaction<'_, $db>,
                    a: &AuditRow,
                ) -> Result<(), sqlx::Error> {
                    let (last, prev) = Self::lock_head(tx, &a.org_id).await?;
                    let seq = last + 1;
                    let hash = $crate::audit_chain::link(a, seq, &prev);
                    sqlx::query(
                        "INSERT INTO audit_log (id, org_id, user_id, actor_id, at, action,
                         subject_id, before, after, reason, seq, prev_hash, hash)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    )
                    .bind(&a.id)
                    .bind(&a.org_id)
                    .bind(&a.user_id)
                    .bind(&a.actor_id)
                    .bind(a.at)
                    .bind(&a.action)
                    .bind(&a.subject_id)
                    .bind(&a.before)
                    .bind(&a.after)
                    .bind(&a.reason)
                    .bind(seq)
                    .bind(&prev)
                    .bind(&hash)
                    .execute(&mut **tx)
                    .await?;
                    Self::move_head(tx, &a.org_id, seq, &hash).await
                }

                async fn try_insert_manual_entry(
                    &self,
                    e: &EntryRow,
                    audit: &AuditRow,
                ) -> Result<(), sqlx::Error> {
                    let mut tx = self.pool.begin().await?;
                    sqlx::query(
                        "INSERT INTO manual_entries (id, user_id, task_id, started_at, ended_at,
                         note, status, created_at, created_by, decided_by, decided_at,
                         decision_note, utc_offset_minutes)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    )
                    .bind(&e.id)
                    .bind(&e.user_id)
                    .bind(&e.task_id)
                    .bind(e.started_at)
                    .bind(e.ended_at)
                    .bind(&e.note)
                    .bind(&e.status)
                    .bind(e.created_at)
                    .bind(&e.created_by)
                    .bind(&e.decided_by)
                    .bind(e.decided_at)
                    .bind(&e.decision_note)
                    .bind(e.utc_offset_minutes)
                    .execute(&mut *tx)
                    .await?;
                    Self::chain_in(&mut tx, audit).await?;
                    tx.commit().await
                }
            }

            #[async_trait::async_trait]
            impl TimesheetStore for $backend {
                async fn timesheet_policy(
                    &self,
                    org_id: &str,
                ) -> Result<metron_core::timesheet::Policy, DbError> {
                    let body: Option<String> =
                        sqlx::query_scalar("SELECT body FROM timesheet_policies WHERE org_id = $1")
                            .bind(org_id)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(classify)?;
                    body.map_or(Ok(Default::default()), |b| {
                        serde_json::from_str(&b).map_err(|e| {
                            DbError::Other(format!(
                                "stored timesheet policy unreadable: {e}"
                            ))
                        })
                    })
                }

                async fn set_timesheet_policy(
                    &self,
                    org_id: &str,
                    policy: &metron_core::timesheet::Policy,
                    audit: &AuditRow,
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query(
                        "INSERT INTO timesheet_policies (org_id, body, updated_at) VALUES ($1, $2,
                         $3)
                         ON CONFLICT (org_id) DO UPDATE SET body = excluded.body, updated_at =
                         excluded.updated_at",
                    )
                    .bind(org_id)
                    .bind(serde_json::to_string(policy).expect("a policy serializes"))
                    .bind(audit.at)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn insert_manual_entry(
                    &self,
                    e: &EntryRow,
                    audit: &AuditRow,
                ) -> Result<(), DbError> {
                    // Two overlapping entries inserted at the same instant can each wait for the
                    // other's exclusion check (PostgreSQL then aborts one as a deadlock): tried
                    // again, it meets the other's committed row and is told "overlap".
                    let mut attempt = 0;
                    loop {
                        attempt += 1;
                        match self.try_insert_manual_entry(e, audit).await {
                            Err(err) if attempt < 3 && is_deadlock(&err) => continue,
                            other => return other.map_err(overlap_or),
                        }
                    }
                }

                async fn manual_entry(&self, id: &str) -> Result<Option<EntryRow>, DbError> {
                    sqlx::query_as("SELECT * FROM manual_entries WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(classify)
                }

                async fn manual_entries(
                    &self,
                    user_id: &str,
                    from: i64,
                    to: i64,
                    page: &Page,
                ) -> Result<Vec<EntryRow>, DbError> {
                    // started_at >= from - 86400 (the longest entry) lets the index bound the scan.
                    sqlx::query_as(
                        "SELECT * FROM manual_entries WHERE user_id = $1 AND started_at >= $2 -
                         86400 AND started_at < $3 AND ended_at > $2
                         AND ($4 IS NULL OR started_at > $4 OR (started_at = $4 AND id > $5))
                         ORDER BY started_at, id LIMIT $6",
                    )
                    .bind(user_id)
                    .bind(from)
                    .bind(to)
                    .bind(page.after_key())
                    .bind(page.after_id())
                    .bind(page.limit + 1)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn approved_manual_entries(
                    &self,
                    user_id: &str,
                    from: i64,
                    to: i64,
                ) -> Result<Vec<EntryRow>, DbError> {
                    sqlx::query_as(
                        "SELECT * FROM manual_entries WHERE user_id = $1 AND status = 'approved'
                         AND started_at >= $2 - 86400 AND started_at < $3 AND ended_at > $2
                         ORDER BY started_at, id",
                    )
                    .bind(user_id)
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn insert_correction(
                    &self,
                    c: &CorrectionRow,
                    audit: &AuditRow,
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query(
                        "INSERT INTO corrections (id, user_id, interval_id, interval_started_at,
                         change, reason, status, created_at, created_by, decided_by, decided_at,
                         decision_note)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(&c.id)
                    .bind(&c.user_id)
                    .bind(&c.interval_id)
                    .bind(c.interval_started_at)
                    .bind(&c.change)
                    .bind(&c.reason)
                    .bind(&c.status)
                    .bind(c.created_at)
                    .bind(&c.created_by)
                    .bind(&c.decided_by)
                    .bind(c.decided_at)
                    .bind(&c.decision_note)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn interval_of(
                    &self,
                    user_id: &str,
                    id: &str,
                ) -> Result<Option<metron_core::Interval>, DbError> {
                    use $crate::db::packed::{day_of, NamesReader as _, StoredInterval, Whose};
                    // Ids are stored as UUIDs: one that isn't names no interval.
                    let Ok(id) = uuid::Uuid::parse_str(id) else {
                        return Ok(None);
                    };
                    let row: Option<StoredInterval> = sqlx::query_as(concat!(
                        "SELECT ",
                        $crate::db::packed::stored_columns!(),
                        $crate::db::packed::stored_from!(),
                        " WHERE i.id = $1 AND u.id = $2"
                    ))
                    .bind(id)
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)?;
                    let Some(row) = row else { return Ok(None) };
                    let day = day_of(row.started_at);
                    let names = self
                        .pool
                        .window_names(Whose::Person(user_id), day, day)
                        .await?;
                    row.decode(&names).map(Some)
                }

                async fn correction(&self, id: &str) -> Result<Option<CorrectionRow>, DbError> {
                    sqlx::query_as("SELECT * FROM corrections WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(classify)
                }

                async fn corrections(
                    &self,
                    user_id: &str,
                    from: i64,
                    to: i64,
                    page: &Page,
                ) -> Result<Vec<CorrectionRow>, DbError> {
                    sqlx::query_as(
                        "SELECT * FROM corrections WHERE user_id = $1 AND interval_started_at >= $2
                         - 900 AND interval_started_at < $3
                         AND ($4 IS NULL OR created_at > $4 OR (created_at = $4 AND id > $5))
                         ORDER BY created_at, id LIMIT $6",
                    )
                    .bind(user_id)
                    .bind(from)
                    .bind(to)
                    .bind(page.after_key())
                    .bind(page.after_id())
                    .bind(page.limit + 1)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn corrections_in_force(
                    &self,
                    user_id: &str,
                    from: i64,
                    to: i64,
                ) -> Result<Vec<CorrectionRow>, DbError> {
                    sqlx::query_as(
                        "SELECT * FROM corrections WHERE user_id = $1 AND status = 'approved'
                         AND interval_started_at >= $2 - 900 AND interval_started_at < $3
                         ORDER BY created_at, id",
                    )
                    .bind(user_id)
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn set_request_status(
                    &self,
                    kind: RequestKind,
                    id: &str,
                    from: &str,
                    to: &str,
                    (by, at, note): (&str, i64, Option<&str>),
                    audit: &AuditRow,
                ) -> Result<bool, DbError> {
                    // Compare and set: the row changes only if it is still in `from`.
                    let sql = match kind {
                        RequestKind::ManualEntry => {
                            "UPDATE manual_entries
                             SET status = $3, decided_by = $4, decided_at = $5, decision_note = $6
                             WHERE id = $1 AND status = $2"
                        }
                        RequestKind::Correction => {
                            "UPDATE corrections
                             SET status = $3, decided_by = $4, decided_at = $5, decision_note = $6
                             WHERE id = $1 AND status = $2"
                        }
                    };
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    let done = sqlx::query(sql)
                        .bind(id)
                        .bind(from)
                        .bind(to)
                        .bind(by)
                        .bind(at)
                        .bind(note)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    if done.rows_affected() != 1 {
                        return Ok(false);
                    }
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(true)
                }

                async fn org_manual_entries(
                    &self,
                    org_id: &str,
                    from: i64,
                    to: i64,
                ) -> Result<Vec<EntryRow>, DbError> {
                    sqlx::query_as(
                        "SELECT m.* FROM users u JOIN manual_entries m ON m.user_id = u.id
                         WHERE u.org_id = $1 AND m.status = 'approved' AND m.started_at >= $2 -
                         86400 AND m.started_at < $3 AND m.ended_at > $2
                         ORDER BY m.started_at, m.id",
                    )
                    .bind(org_id)
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn org_corrections(
                    &self,
                    org_id: &str,
                    from: i64,
                    to: i64,
                ) -> Result<Vec<CorrectionRow>, DbError> {
                    sqlx::query_as(
                        "SELECT c.* FROM users u JOIN corrections c ON c.user_id = u.id
                         WHERE u.org_id = $1 AND c.status = 'approved' AND c.interval_started_at >=
                         $2 - 900 AND c.interval_started_at < $3
                         ORDER BY c.created_at, c.id",
                    )
                    .bind(org_id)
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn pending(
                    &self,
                    org_id: &str,
                    reviewer: Option<&str>,
                    me: &str,
                    limit: i64,
                ) -> Result<(Vec<EntryRow>, Vec<CorrectionRow>), DbError> {
                    // The reviewer's people in SQL, so one person's flood can't push another's
                    // request out of the page.
                    let entries = sqlx::query_as(
                        "SELECT m.* FROM manual_entries m JOIN users u ON u.id = m.user_id
                         WHERE u.org_id = $1 AND m.status = 'pending' AND m.user_id <> $3
                         AND ($2 IS NULL OR m.user_id IN
                             (SELECT user_id FROM managers WHERE manager_id = $2))
                         ORDER BY m.created_at, m.id LIMIT $4",
                    )
                    .bind(org_id)
                    .bind(reviewer)
                    .bind(me)
                    .bind(limit + 1)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)?;
                    let corrections = sqlx::query_as(
                        "SELECT c.* FROM corrections c JOIN users u ON u.id = c.user_id
                         WHERE u.org_id = $1 AND c.status = 'pending' AND c.user_id <> $3
                         AND ($2 IS NULL OR c.user_id IN
                             (SELECT user_id FROM managers WHERE manager_id = $2))
                         ORDER BY c.created_at, c.id LIMIT $4",
                    )
                    .bind(org_id)
                    .bind(reviewer)
                    .bind(me)
                    .bind(limit + 1)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok((entries, corrections))
                }

                async fn submitted_periods(
                    &self,
                    org_id: &str,
                    reviewer: Option<&str>,
                    me: &str,
                    limit: i64,
                ) -> Result<Vec<PeriodRow>, DbError> {
                    sqlx::query_as(
                        "SELECT p.* FROM timesheet_periods p JOIN users u ON u.id = p.user_id
                         WHERE u.org_id = $1 AND p.state = 'submitted' AND p.user_id <> $3
                         AND ($2 IS NULL OR p.user_id IN
                             (SELECT user_id FROM managers WHERE manager_id = $2))
                         ORDER BY p.submitted_at, p.user_id LIMIT $4",
                    )
                    .bind(org_id)
                    .bind(reviewer)
                    .bind(me)
                    .bind(limit + 1)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn periods(
                    &self,
                    user_id: &str,
                    from: &str,
                    to: &str,
                ) -> Result<Vec<PeriodRow>, DbError> {
                    sqlx::query_as(
                        "SELECT * FROM timesheet_periods WHERE user_id = $1 AND start >= $2 AND
                         start <= $3 ORDER BY start, kind",
                    )
                    .bind(user_id)
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn set_period(&self, p: &PeriodRow, audit: &AuditRow) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query(
                        "INSERT INTO timesheet_periods (user_id, kind, start, state, submitted_at,
                         decided_by, decided_at, figures)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                         ON CONFLICT (user_id, kind, start) DO UPDATE SET state = excluded.state,
                         submitted_at = excluded.submitted_at,
                             decided_by = excluded.decided_by, decided_at = excluded.decided_at,
                             figures = excluded.figures",
                    )
                    .bind(&p.user_id)
                    .bind(&p.kind)
                    .bind(&p.start)
                    .bind(&p.state)
                    .bind(p.submitted_at)
                    .bind(&p.decided_by)
                    .bind(p.decided_at)
                    .bind(&p.figures)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn open_period(
                    &self,
                    user_id: &str,
                    kind: &str,
                    start: &str,
                    audit: &AuditRow,
                ) -> Result<bool, DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    let done = sqlx::query(
                        "DELETE FROM timesheet_periods WHERE user_id = $1 AND kind = $2 AND start =
                         $3",
                    )
                    .bind(user_id)
                    .bind(kind)
                    .bind(start)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    if done.rows_affected() != 1 {
                        return Ok(false);
                    }
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(true)
                }

                async fn org_periods(
                    &self,
                    org_id: &str,
                    kind: &str,
                    start: &str,
                ) -> Result<Vec<PeriodRow>, DbError> {
                    sqlx::query_as(
                        "SELECT p.* FROM timesheet_periods p JOIN users u ON u.id = p.user_id
                         WHERE u.org_id = $1 AND p.kind = $2 AND p.start = $3",
                    )
                    .bind(org_id)
                    .bind(kind)
                    .bind(start)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn organization_ids(&self) -> Result<Vec<String>, DbError> {
                    sqlx::query_scalar("SELECT id FROM organizations ORDER BY id")
                        .fetch_all(&self.pool)
                        .await
                        .map_err(classify)
                }

                async fn time_version(&self, user_id: &str) -> Result<Option<i64>, DbError> {
                    sqlx::query_scalar("SELECT version FROM time_versions WHERE user_id = $1")
                        .bind(user_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(classify)
                }

                async fn org_time_versions(
                    &self,
                    org_id: &str,
                ) -> Result<Vec<(String, i64)>, DbError> {
                    sqlx::query_as(
                        "SELECT v.user_id, v.version FROM time_versions v JOIN users u ON u.id =
                         v.user_id WHERE u.org_id = $1",
                    )
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn timesheet_days(
                    &self,
                    user_id: &str,
                    from: &str,
                    to: &str,
                ) -> Result<Vec<(String, Vec<u8>)>, DbError> {
                    sqlx::query_as(
                        "SELECT day, body FROM timesheet_days WHERE user_id = $1 AND day >= $2 AND
                         day <= $3 ORDER BY day LIMIT 400",
                    )
                    .bind(user_id)
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn org_timesheet_days(
                    &self,
                    org_id: &str,
                    from: &str,
                    to: &str,
                ) -> Result<Vec<(String, String, Vec<u8>)>, DbError> {
                    sqlx::query_as(
                        "SELECT d.user_id, d.day, d.body FROM timesheet_days d JOIN users u ON u.id
                         = d.user_id
                         WHERE u.org_id = $1 AND d.day >= $2 AND d.day <= $3",
                    )
                    .bind(org_id)
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn org_team_days(
                    &self,
                    org_id: &str,
                    day: &str,
                ) -> Result<Vec<(String, Option<String>)>, DbError> {
                    sqlx::query_as(
                        "SELECT d.user_id, d.team FROM timesheet_days d JOIN users u ON
                         u.id = d.user_id WHERE u.org_id = $1 AND d.day = $2",
                    )
                    .bind(org_id)
                    .bind(day)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn keep_timesheet_days(
                    &self,
                    user_id: &str,
                    version: i64,
                    days: &[$crate::db::timesheets::KeptLine],
                ) -> Result<bool, DbError> {
                    // Each backend's own: SQLite's goes through its one writer.
                    self.keep_days(user_id, version, days).await
                }

                async fn managed(&self, manager_id: &str) -> Result<Vec<String>, DbError> {
                    sqlx::query_scalar(
                        "SELECT user_id FROM managers WHERE manager_id = $1 ORDER BY user_id",
                    )
                    .bind(manager_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn set_managed(
                    &self,
                    manager_id: &str,
                    users: &[String],
                    audit: &AuditRow,
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query("DELETE FROM managers WHERE manager_id = $1")
                        .bind(manager_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    for user in users {
                        sqlx::query("INSERT INTO managers (manager_id, user_id) VALUES ($1, $2)")
                            .bind(manager_id)
                            .bind(user)
                            .execute(&mut *tx)
                            .await
                            .map_err(classify)?;
                    }
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn write_usage(&self, user_id: &str, since: i64) -> Result<(i64, i64), DbError> {
                    sqlx::query_as(
                        "SELECT COUNT(*), COALESCE(SUM(LENGTH(COALESCE(before, '')) +
                         LENGTH(COALESCE(after, '')) + LENGTH(reason)), 0)
                         FROM audit_log WHERE user_id = $1 AND at >= $2",
                    )
                    .bind(user_id)
                    .bind(since)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn audit_chain(
                    &self,
                    org_id: &str,
                    after_seq: i64,
                    limit: i64,
                ) -> Result<Vec<ChainedAuditRow>, DbError> {
                    sqlx::query_as(
                        "SELECT * FROM audit_log WHERE org_id = $1 AND seq > $2 ORDER BY seq
                         LIMIT $3",
                    )
                    .bind(org_id)
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn audit_head(&self, org_id: &str) -> Result<Option<(i64, String)>, DbError> {
                    sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE org_id = $1")
                        .bind(org_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(classify)
                }

                async fn unchained_audit_row(&self, org_id: &str) -> Result<Option<String>, DbError> {
                    sqlx::query_scalar(
                        "SELECT id FROM audit_log WHERE org_id = $1 AND seq IS NULL ORDER BY at, id
                         LIMIT 1",
                    )
                    .bind(org_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn chain_audit_backlog(&self) -> Result<u64, DbError> {
                    let orgs: Vec<String> = sqlx::query_scalar(
                        "SELECT DISTINCT org_id FROM audit_log WHERE seq IS NULL ORDER BY org_id",
                    )
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)?;
                    let mut chained = 0;
                    for org_id in orgs {
                        let mut tx = self.pool.begin().await.map_err(classify)?;
                        let (last, mut prev) =
                            Self::lock_head(&mut tx, &org_id).await.map_err(classify)?;
                        // Once a chain has begun, every row comes in through it (a trigger
                        // refuses any other): a row without a number is for `audit verify`
                        // to report, never to be slipped in here.
                        if last != 0 {
                            continue;
                        }
                        let rows: Vec<AuditRow> = sqlx::query_as(
                            "SELECT * FROM audit_log WHERE org_id = $1 AND seq IS NULL ORDER BY
                             at, id",
                        )
                        .bind(&org_id)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(classify)?;
                        let mut seq = 0;
                        for row in &rows {
                            seq += 1;
                            let hash = $crate::audit_chain::link(row, seq, &prev);
                            sqlx::query(
                                "UPDATE audit_log SET seq = $2, prev_hash = $3, hash = $4 WHERE
                                 id = $1",
                            )
                            .bind(&row.id)
                            .bind(seq)
                            .bind(&prev)
                            .bind(&hash)
                            .execute(&mut *tx)
                            .await
                            .map_err(classify)?;
                            prev = hash;
                        }
                        Self::move_head(&mut tx, &org_id, seq, &prev)
                            .await
                            .map_err(classify)?;
                        tx.commit().await.map_err(classify)?;
                        chained += rows.len() as u64;
                    }
                    Ok(chained)
                }

                async fn audit(
                    &self,
                    org_id: &str,
                    user_id: Option<&str>,
                    from: i64,
                    to: i64,
                    page: &Page,
                ) -> Result<Vec<AuditRow>, DbError> {
                    sqlx::query_as(
                        "SELECT * FROM audit_log WHERE org_id = $1 AND ($2 IS NULL OR user_id = $2)
                         AND at >= $3 AND at < $4
                         AND ($5 IS NULL OR at < $5 OR (at = $5 AND id < $6))
                         ORDER BY at DESC, id DESC LIMIT $7",
                    )
                    .bind(org_id)
                    .bind(user_id)
                    .bind(from)
                    .bind(to)
                    .bind(page.after_key())
                    .bind(page.after_id())
                    .bind(page.limit + 1)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }
            }
        };
    };
}
pub(crate) use timesheet_store;
