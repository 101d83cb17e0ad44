//! The access log (issue 28): every read of a person's day, events, timesheet, entries,
//! corrections, audit trail, devices or export by someone else (a manager, an admin) is
//! recorded, and the person reads the log (`GET /api/v1/me/access-log`). A route records
//! after it decided the reader may read, before it answers: one insert, which the database
//! drops when the same reader read the same thing this hour (no read before the write). A
//! failed insert fails the read: nothing is read unrecorded. Reads of one's own data are not
//! recorded. Rows are kept as long as raw intervals (the retention setting).

use chrono::Utc;

use crate::db::own_data::AccessRow;
use crate::db::{DbError, UserRow};
use crate::AppState;

/// What was read, as the log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    Day,
    Timesheet,
    ManualEntries,
    Corrections,
    Audit,
    Events,
    Devices,
    Export,
}

impl Read {
    pub fn as_str(self) -> &'static str {
        match self {
            Read::Day => "day",
            Read::Timesheet => "timesheet",
            Read::ManualEntries => "manual_entries",
            Read::Corrections => "corrections",
            Read::Audit => "audit",
            Read::Events => "events",
            Read::Devices => "devices",
            Read::Export => "export",
        }
    }
}

/// Records that `reader` read `what` of `subject` (`scope`: the day, period or range, at
/// most 100 characters); nothing when they are the same person.
pub async fn record(
    state: &AppState,
    reader: &UserRow,
    subject: &UserRow,
    what: Read,
    scope: &str,
) -> Result<(), DbError> {
    if reader.user.id == subject.user.id {
        return Ok(());
    }
    let scope: String = scope.chars().take(100).collect();
    state
        .db
        .record_access(&AccessRow {
            id: uuid::Uuid::now_v7().to_string(),
            org_id: subject.org_id.clone(),
            user_id: subject.user.id.clone(),
            reader_id: reader.user.id.clone(),
            at: Utc::now().timestamp(),
            what: what.as_str().into(),
            scope,
        })
        .await
}

/// Forgets access-log rows older than the retention (`days`), as the hourly cleanup runs.
pub async fn forget_expired(state: &AppState, days: u32) -> Result<u64, DbError> {
    let before = Utc::now().timestamp() - i64::from(days) * 86_400;
    state.db.forget_access_before(before).await
}
