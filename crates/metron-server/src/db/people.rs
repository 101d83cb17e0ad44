//! People in storage beyond their accounts (issue 28): invitations, password-reset links, the
//! stored manager role and the last-admin count. The SQL is the same on both backends, written
//! once by `people_store!` for each; every change of several rows is one transaction with its
//! audit rows (chained by the backend's `audit_in`).

use async_trait::async_trait;

use super::row_struct;
use super::timesheets::AuditRow;
use super::DbError;

row_struct! {
    /// An invitation as stored, without its token's hash.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct InvitationRow {
        pub id: String,
        pub org_id: String,
        pub email: String,
        pub name: String,
        /// `admin`, `manager` or `member`.
        pub role: String,
        pub manager_id: Option<String>,
        pub invited_by: String,
        pub created_at: i64,
        pub expires_at: i64,
        pub accepted_at: Option<i64>,
        pub revoked_at: Option<i64>,
        /// The person it made, once accepted.
        pub user_id: Option<String>,
    }
}

row_struct! {
    /// A password-reset link as stored, without its token's hash.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ResetRow {
        pub user_id: String,
        pub org_id: String,
        pub created_by: String,
        pub created_at: i64,
        pub expires_at: i64,
        pub used_at: Option<i64>,
        pub revoked_at: Option<i64>,
    }
}

/// A person an accepted invitation creates.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub admin: bool,
    pub manager: bool,
}

/// Why a link's token signs nothing in (the accept and reset routes word each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Unknown,
    Expired,
    Used,
    Revoked,
}

#[async_trait]
pub trait PeopleStore: Send + Sync {
    /// How many invitations the organization issued since `since` (unix seconds), and when
    /// the earliest of them was.
    async fn invitations_since(
        &self,
        org_id: &str,
        since: i64,
    ) -> Result<(i64, Option<i64>), DbError>;
    /// Stores invitations with their token hashes, after revoking the rows `revoke` names (a
    /// re-send, or an expired invitation of the same email), with the audit rows: all or none.
    async fn create_invitations(
        &self,
        items: &[(InvitationRow, String)],
        revoke: &[String],
        now: i64,
        audits: &[AuditRow],
    ) -> Result<(), DbError>;
    /// The organization's invitations neither accepted nor revoked (expired ones included),
    /// newest first.
    async fn pending_invitations(&self, org_id: &str) -> Result<Vec<InvitationRow>, DbError>;
    async fn invitation(&self, id: &str) -> Result<Option<InvitationRow>, DbError>;
    async fn invitation_by_token(&self, token_hash: &str)
        -> Result<Option<InvitationRow>, DbError>;
    /// Revokes a pending invitation; whether it was pending.
    async fn revoke_invitation(
        &self,
        id: &str,
        now: i64,
        audit: &AuditRow,
    ) -> Result<bool, DbError>;
    /// Accepts the invitation of `token_hash` if it is still pending at `now`: creates the
    /// person in its organization, gives them its manager (if that person is still there),
    /// marks it used, writes the audit row. `Err(Conflict)` when the email is a person's.
    async fn accept_invitation(
        &self,
        token_hash: &str,
        now: i64,
        person: &NewPerson,
        audit: &AuditRow,
    ) -> Result<Result<InvitationRow, LinkState>, DbError>;

    /// The ids of the organization's people holding the stored manager role.
    async fn manager_flags(&self, org_id: &str) -> Result<Vec<String>, DbError>;
    /// Whether the person holds the stored manager role.
    async fn manager_flag(&self, user_id: &str) -> Result<bool, DbError>;
    /// Sets a person's role; `member` also takes away the people they managed.
    async fn set_role(
        &self,
        user_id: &str,
        admin: bool,
        manager: bool,
        audit: &AuditRow,
    ) -> Result<(), DbError>;
    /// The organization's enabled admins other than `except`.
    async fn other_active_admins(&self, org_id: &str, except: &str) -> Result<i64, DbError>;

    /// Stores a reset link, revoking the person's earlier unused ones, with its audit row.
    async fn create_reset(
        &self,
        token_hash: &str,
        reset: &ResetRow,
        audit: &AuditRow,
    ) -> Result<(), DbError>;
    async fn reset_by_token(&self, token_hash: &str) -> Result<Option<ResetRow>, DbError>;
    /// Uses the reset link of `token_hash` if still live at `now`: sets the password hash,
    /// revokes every token of the person, writes the audit row (made by the caller, who read
    /// the link first). The link as it was.
    async fn use_reset(
        &self,
        token_hash: &str,
        now: i64,
        password_hash: &str,
        audit: &AuditRow,
    ) -> Result<Result<ResetRow, LinkState>, DbError>;
}

/// What a stored link is at `now`, by its columns.
pub fn link_state(
    expires_at: i64,
    used_at: Option<i64>,
    revoked_at: Option<i64>,
    now: i64,
) -> Option<LinkState> {
    if used_at.is_some() {
        Some(LinkState::Used)
    } else if revoked_at.is_some() {
        Some(LinkState::Revoked)
    } else if now >= expires_at {
        Some(LinkState::Expired)
    } else {
        None
    }
}

/// Implements [`PeopleStore`] for a backend with a `pool` field and the timesheet store's
/// `audit_in` in scope.
macro_rules! people_store {
    ($backend:ty) => {
        const _: () = {
            use $crate::db::people::{
                link_state, InvitationRow, LinkState, NewPerson, PeopleStore, ResetRow,
            };
            use $crate::db::timesheets::AuditRow;
            use $crate::db::{classify, DbError};

            const INVITATION: &str = "SELECT id, org_id, email, name, role, manager_id,
                invited_by, created_at, expires_at, accepted_at, revoked_at, user_id
                FROM invitations";

            #[async_trait::async_trait]
            impl PeopleStore for $backend {
                async fn invitations_since(
                    &self,
                    org_id: &str,
                    since: i64,
                ) -> Result<(i64, Option<i64>), DbError> {
                    sqlx::query_as(
                        "SELECT COUNT(*), MIN(created_at) FROM invitations WHERE org_id = $1
                         AND created_at > $2",
                    )
                    .bind(org_id)
                    .bind(since)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn create_invitations(
                    &self,
                    items: &[(InvitationRow, String)],
                    revoke: &[String],
                    now: i64,
                    audits: &[AuditRow],
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    for id in revoke {
                        sqlx::query(
                            "UPDATE invitations SET revoked_at = $2 WHERE id = $1 AND
                             accepted_at IS NULL AND revoked_at IS NULL",
                        )
                        .bind(id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    }
                    for (i, token_hash) in items {
                        sqlx::query(
                            "INSERT INTO invitations (id, org_id, email, name, role, manager_id,
                             token_hash, invited_by, created_at, expires_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                        )
                        .bind(&i.id)
                        .bind(&i.org_id)
                        .bind(&i.email)
                        .bind(&i.name)
                        .bind(&i.role)
                        .bind(&i.manager_id)
                        .bind(token_hash)
                        .bind(&i.invited_by)
                        .bind(i.created_at)
                        .bind(i.expires_at)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| match classify(e) {
                            DbError::Conflict(_) => DbError::Conflict(format!(
                                "{} was invited meanwhile: re-send or revoke that invitation",
                                i.email
                            )),
                            other => other,
                        })?;
                    }
                    for audit in audits {
                        Self::audit_in(&mut tx, audit).await?;
                    }
                    tx.commit().await.map_err(classify)
                }

                async fn pending_invitations(
                    &self,
                    org_id: &str,
                ) -> Result<Vec<InvitationRow>, DbError> {
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{INVITATION} WHERE org_id = $1 AND accepted_at IS NULL AND revoked_at
                         IS NULL ORDER BY created_at DESC, id DESC"
                    )))
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn invitation(&self, id: &str) -> Result<Option<InvitationRow>, DbError> {
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("{INVITATION} WHERE id = $1")))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(classify)
                }

                async fn invitation_by_token(
                    &self,
                    token_hash: &str,
                ) -> Result<Option<InvitationRow>, DbError> {
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{INVITATION} WHERE token_hash = $1"
                    )))
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn revoke_invitation(
                    &self,
                    id: &str,
                    now: i64,
                    audit: &AuditRow,
                ) -> Result<bool, DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    let done = sqlx::query(
                        "UPDATE invitations SET revoked_at = $2 WHERE id = $1 AND accepted_at IS
                         NULL AND revoked_at IS NULL",
                    )
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    if done.rows_affected() == 0 {
                        return Ok(false);
                    }
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(true)
                }

                async fn accept_invitation(
                    &self,
                    token_hash: &str,
                    now: i64,
                    person: &NewPerson,
                    audit: &AuditRow,
                ) -> Result<Result<InvitationRow, LinkState>, DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    // The claim first: of two acceptances at once, one updates the row and the
                    // other finds it used (PostgreSQL re-reads the row after the first commits).
                    let claimed = sqlx::query(
                        "UPDATE invitations SET accepted_at = $2, user_id = $3 WHERE token_hash =
                         $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
                    )
                    .bind(token_hash)
                    .bind(now)
                    .bind(&person.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    let row: Option<InvitationRow> = sqlx::query_as(sqlx::AssertSqlSafe(
                        format!("{INVITATION} WHERE token_hash = $1"),
                    ))
                    .bind(token_hash)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                    let Some(row) = row else {
                        return Ok(Err(LinkState::Unknown));
                    };
                    if claimed.rows_affected() == 0 {
                        let state = link_state(row.expires_at, row.accepted_at, row.revoked_at, now)
                            .unwrap_or(LinkState::Used);
                        return Ok(Err(state));
                    }
                    sqlx::query(
                        "INSERT INTO users (id, org_id, email, name, password_hash, admin,
                         manager) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&person.id)
                    .bind(&row.org_id)
                    .bind(&person.email)
                    .bind(&person.name)
                    .bind(&person.password_hash)
                    .bind(person.admin)
                    .bind(i32::from(person.manager))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match classify(e) {
                        DbError::Conflict(_) => DbError::Conflict(format!(
                            "{} is already a person here; sign in instead",
                            person.email
                        )),
                        other => other,
                    })?;
                    if let Some(manager) = &row.manager_id {
                        sqlx::query(
                            "INSERT INTO managers (manager_id, user_id) SELECT $1, $2 WHERE
                             EXISTS (SELECT 1 FROM users WHERE id = $1 AND org_id = $3)",
                        )
                        .bind(manager)
                        .bind(&person.id)
                        .bind(&row.org_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    }
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(Ok(row))
                }

                async fn manager_flags(&self, org_id: &str) -> Result<Vec<String>, DbError> {
                    sqlx::query_scalar(
                        "SELECT id FROM users WHERE org_id = $1 AND manager = 1 ORDER BY id",
                    )
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn manager_flag(&self, user_id: &str) -> Result<bool, DbError> {
                    let flag: Option<i32> =
                        sqlx::query_scalar("SELECT manager FROM users WHERE id = $1")
                            .bind(user_id)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(classify)?;
                    Ok(flag == Some(1))
                }

                async fn set_role(
                    &self,
                    user_id: &str,
                    admin: bool,
                    manager: bool,
                    audit: &AuditRow,
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query("UPDATE users SET admin = $2, manager = $3 WHERE id = $1")
                        .bind(user_id)
                        .bind(admin)
                        .bind(i32::from(manager))
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    if !admin && !manager {
                        sqlx::query("DELETE FROM managers WHERE manager_id = $1")
                            .bind(user_id)
                            .execute(&mut *tx)
                            .await
                            .map_err(classify)?;
                    }
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn other_active_admins(
                    &self,
                    org_id: &str,
                    except: &str,
                ) -> Result<i64, DbError> {
                    sqlx::query_scalar(
                        "SELECT COUNT(*) FROM users WHERE org_id = $1 AND id <> $2 AND admin = $3
                         AND disabled = $4",
                    )
                    .bind(org_id)
                    .bind(except)
                    .bind(true)
                    .bind(false)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn create_reset(
                    &self,
                    token_hash: &str,
                    reset: &ResetRow,
                    audit: &AuditRow,
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query(
                        "UPDATE password_resets SET revoked_at = $2 WHERE user_id = $1 AND
                         used_at IS NULL AND revoked_at IS NULL",
                    )
                    .bind(&reset.user_id)
                    .bind(reset.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    sqlx::query(
                        "INSERT INTO password_resets (token_hash, user_id, org_id, created_by,
                         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(token_hash)
                    .bind(&reset.user_id)
                    .bind(&reset.org_id)
                    .bind(&reset.created_by)
                    .bind(reset.created_at)
                    .bind(reset.expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn reset_by_token(
                    &self,
                    token_hash: &str,
                ) -> Result<Option<ResetRow>, DbError> {
                    sqlx::query_as(
                        "SELECT user_id, org_id, created_by, created_at, expires_at, used_at,
                         revoked_at FROM password_resets WHERE token_hash = $1",
                    )
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn use_reset(
                    &self,
                    token_hash: &str,
                    now: i64,
                    password_hash: &str,
                    audit: &AuditRow,
                ) -> Result<Result<ResetRow, LinkState>, DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    let claimed = sqlx::query(
                        "UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND
                         used_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
                    )
                    .bind(token_hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    let row: Option<ResetRow> = sqlx::query_as(
                        "SELECT user_id, org_id, created_by, created_at, expires_at, used_at,
                         revoked_at FROM password_resets WHERE token_hash = $1",
                    )
                    .bind(token_hash)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                    let Some(row) = row else {
                        return Ok(Err(LinkState::Unknown));
                    };
                    if claimed.rows_affected() == 0 {
                        let state = link_state(row.expires_at, row.used_at, row.revoked_at, now)
                            .unwrap_or(LinkState::Used);
                        return Ok(Err(state));
                    }
                    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                        .bind(&row.user_id)
                        .bind(password_hash)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    sqlx::query(
                        "UPDATE tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS
                         NULL",
                    )
                    .bind(&row.user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(Ok(row))
                }
            }
        };
    };
}
pub(crate) use people_store;
