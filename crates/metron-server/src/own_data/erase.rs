//! Removing a person is erasure (issue 28, GDPR article 17): their intervals, events,
//! devices, manual entries, corrections, kept days and timesheet lines, periods, tokens,
//! manager links, access-log rows and notice acknowledgement are deleted with their user row
//! in one transaction (`db::own_data::OwnDataStore::remove_user`). The audit trail keeps a
//! tombstone (who removed whom, when, how many rows of each table) and erases the content of
//! the rows about them without breaking its chain (`audit_chain`). The organization's last
//! enabled admin can't be removed. The API (`DELETE /api/v1/users/{id}`) and the CLI
//! (`metron-server user remove`) both come here.

use chrono::Utc;

use crate::db::own_data::{RemoveOutcome, Removed};
use crate::db::timesheets::AuditRow;
use crate::db::{DbError, UserRow};
use crate::AppState;

/// Who removes: an admin through the API, or the server's operator through the CLI (the
/// tombstone's actor is then `cli`).
pub enum Remover<'a> {
    Admin(&'a UserRow),
    Operator,
}

#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error("{0} is the organization's last admin: make someone else an admin first")]
    LastAdmin(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Removes `user` and everything the server holds of them.
pub async fn remove(
    state: &AppState,
    by: Remover<'_>,
    user: &UserRow,
) -> Result<Removed, RemoveError> {
    let actor_id = match by {
        Remover::Admin(admin) => admin.user.id.clone(),
        Remover::Operator => "cli".into(),
    };
    let tombstone = AuditRow {
        id: uuid::Uuid::now_v7().to_string(),
        org_id: user.org_id.clone(),
        user_id: user.user.id.clone(),
        actor_id,
        at: Utc::now().timestamp(),
        action: crate::audit_chain::REMOVAL.into(),
        subject_id: user.user.id.clone(),
        before: None,
        // Filled in by the store with the counts of what it deleted.
        after: None,
        reason: String::new(),
    };
    match state.db.remove_user(user, tombstone).await? {
        // The store bumped the revocation epoch: every instance drops its cached tokens.
        RemoveOutcome::Removed(removed) => {
            state.running.forget(&user.org_id);
            Ok(removed)
        }
        RemoveOutcome::LastAdmin => Err(RemoveError::LastAdmin(user.user.email.clone())),
    }
}
