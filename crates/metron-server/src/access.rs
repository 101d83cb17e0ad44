//! Who sees what of a person's time (issue 27), decided here and nowhere else.
//!
//! Whether someone may read a person's time at all is `timesheets::subject`: the person, an
//! admin of their organization, or a manager an admin gave them (another organization's
//! person is "not found"). What they then see:
//!
//! | reader | figures, timesheets, tasks, apps, timeline | window titles, addresses, event log, devices |
//! |---|---|---|
//! | the person | yes | yes |
//! | an admin | yes | yes |
//! | their manager | yes | only if the organization's `managers_see_detail` is on (off by default) |
//!
//! docs/SECURITY.md ("Who sees what") and the OpenAPI descriptions of the routes say the same.

use metron_core::report::DailyReport;

use crate::db::{DbError, UserRow};
use crate::error::ApiError;
use crate::AppState;

/// Whether `reader` (already allowed to read `subject`'s time) sees its activity detail: the
/// window titles, addresses (URLs and their hosts), the event log and the devices.
pub async fn sees_detail(
    state: &AppState,
    reader: &UserRow,
    subject: &UserRow,
) -> Result<bool, DbError> {
    if reader.user.id == subject.user.id || reader.user.admin {
        return Ok(true);
    }
    state.db.managers_see_detail(&subject.org_id).await
}

/// Refuses (403) a read of activity detail `reader` doesn't see.
pub async fn require_detail(
    state: &AppState,
    reader: &UserRow,
    subject: &UserRow,
) -> Result<(), ApiError> {
    if sees_detail(state, reader, subject).await? {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "managers read people's figures and timesheets; window titles, addresses, the \
             event log and devices only where an admin turned that on for the organization"
                .into(),
        ))
    }
}

/// A day report as a reader without the detail sees it: its figures, tasks, apps and
/// timeline, without window titles or addresses (the titles list, the hosts list, and the
/// titles in unusual activity's evidence).
pub fn without_detail(report: &mut DailyReport) {
    report.titles.clear();
    report.hosts.clear();
    if let Some(unusual) = &mut report.unusual {
        unusual.forget_titles();
    }
}
