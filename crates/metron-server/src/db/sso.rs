//! Signing in with the organization's identity provider, in storage (issue 29): the provider's
//! settings, the link from a provider's subject to a person, and the short-lived rows of a
//! sign-in on its way (the login waiting for the provider's answer, the code a client trades
//! for its token, an agent's device code). Every row that stands for a sign-in in progress is
//! taken with `DELETE ... RETURNING`, so it is used once even across server instances. The SQL
//! is the same on both backends, written once by `sso_store!`.

use async_trait::async_trait;

use super::row_struct;
use super::timesheets::AuditRow;
use super::{DbError, UserRow};

row_struct! {
    /// An organization's OpenID Connect provider as stored.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ProviderRow {
        pub org_id: String,
        /// Shown on the sign-in button.
        pub name: String,
        pub issuer: String,
        pub client_id: String,
        pub client_secret: String,
        /// Lowercase, comma-separated; empty: any.
        pub allowed_domains: String,
        pub groups_claim: String,
        pub admin_groups: String,
        pub manager_groups: String,
        pub sso_only: bool,
        pub break_glass_email: String,
        pub updated_at: i64,
    }
}

row_struct! {
    /// A sign-in waiting for the provider's answer.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PendingLogin {
        pub state_hash: String,
        pub org_id: String,
        pub nonce: String,
        pub pkce_verifier: String,
        /// An app's loopback address; empty for the page and for a device code.
        pub redirect_uri: String,
        pub client_state: String,
        pub client_challenge: String,
        /// Set when the sign-in approves an agent's device code.
        pub device_code_hash: String,
        pub expires_at: i64,
    }
}

row_struct! {
    /// A code a client trades, with the verifier of `challenge`, for a device token.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CodeRow {
        pub user_id: String,
        pub challenge: String,
        pub redirect_uri: String,
        pub expires_at: i64,
    }
}

row_struct! {
    /// An agent's device code (RFC 8628).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct DeviceCodeRow {
        pub device_code_hash: String,
        pub user_code: String,
        pub org_id: String,
        pub device_id: Option<String>,
        /// `pending`, `approved` or `refused`.
        pub status: String,
        pub user_id: Option<String>,
        pub reason: String,
        pub last_poll_at: i64,
        pub expires_at: i64,
    }
}

/// A person a first sign-in makes: the account (its id made by the caller) and the stored
/// manager role.
#[derive(Debug, Clone)]
pub struct SsoPerson {
    pub user: UserRow,
    pub manager: bool,
}

#[async_trait]
pub trait SsoStore: Send + Sync {
    async fn sso_provider(&self, org_id: &str) -> Result<Option<ProviderRow>, DbError>;
    /// Every organization's provider (the sign-in page lists their names).
    async fn sso_providers(&self) -> Result<Vec<ProviderRow>, DbError>;
    /// Sets (inserts or replaces) the organization's provider, with its audit row.
    async fn put_sso_provider(&self, row: &ProviderRow, audit: &AuditRow) -> Result<(), DbError>;
    /// Removes the organization's provider; whether there was one.
    async fn delete_sso_provider(&self, org_id: &str, audit: &AuditRow) -> Result<bool, DbError>;

    async fn insert_sso_login(&self, login: &PendingLogin) -> Result<(), DbError>;
    /// Takes the login of `state_hash` (once), if it has not expired at `now`.
    async fn take_sso_login(
        &self,
        state_hash: &str,
        now: i64,
    ) -> Result<Option<PendingLogin>, DbError>;

    /// The person a provider's subject was linked to.
    async fn sso_identity(&self, issuer: &str, subject: &str) -> Result<Option<String>, DbError>;
    /// Links a provider's subject to an existing person.
    async fn link_sso_identity(
        &self,
        issuer: &str,
        subject: &str,
        user_id: &str,
        now: i64,
        audit: &AuditRow,
    ) -> Result<(), DbError>;
    /// Creates `person` (its new id in `person.user.id`), linked to the subject, in one
    /// transaction with its audit row.
    async fn create_sso_person(
        &self,
        person: &SsoPerson,
        issuer: &str,
        subject: &str,
        now: i64,
        audit: &AuditRow,
    ) -> Result<(), DbError>;

    async fn insert_sso_code(&self, code_hash: &str, code: &CodeRow) -> Result<(), DbError>;
    /// Takes the code of `code_hash` (once), if it has not expired at `now`.
    async fn take_sso_code(&self, code_hash: &str, now: i64) -> Result<Option<CodeRow>, DbError>;

    async fn insert_device_code(&self, row: &DeviceCodeRow) -> Result<(), DbError>;
    async fn device_code_by_user_code(
        &self,
        user_code: &str,
    ) -> Result<Option<DeviceCodeRow>, DbError>;
    /// Records the poll at `now` and answers the row as it was before; an approved or refused
    /// row is taken (deleted) as it is answered, so its token is handed out once.
    async fn poll_device_code(
        &self,
        device_code_hash: &str,
        now: i64,
    ) -> Result<Option<DeviceCodeRow>, DbError>;
    /// Approves (`Ok(user_id)`) or refuses (`Err(reason)`) a pending device code.
    async fn finish_device_code(
        &self,
        device_code_hash: &str,
        outcome: Result<&str, &str>,
    ) -> Result<(), DbError>;
    /// Deletes logins, codes and device codes that expired before `now`.
    async fn purge_sso(&self, now: i64) -> Result<u64, DbError>;
}

/// Implements [`SsoStore`] for a backend with a `pool` field and the timesheet store's
/// `audit_in` in scope.
macro_rules! sso_store {
    ($backend:ty) => {
        const _: () = {
            use $crate::db::sso::{
                CodeRow, DeviceCodeRow, PendingLogin, ProviderRow, SsoPerson, SsoStore,
            };
            use $crate::db::timesheets::AuditRow;
            use $crate::db::{classify, DbError};

            const PROVIDER: &str = "SELECT org_id, name, issuer, client_id, client_secret,
                allowed_domains, groups_claim, admin_groups, manager_groups, sso_only,
                break_glass_email, updated_at FROM sso_providers";

            #[async_trait::async_trait]
            impl SsoStore for $backend {
                async fn sso_provider(
                    &self,
                    org_id: &str,
                ) -> Result<Option<ProviderRow>, DbError> {
                    let sql = format!("{PROVIDER} WHERE org_id = $1");
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(org_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(classify)
                }

                async fn sso_providers(&self) -> Result<Vec<ProviderRow>, DbError> {
                    let sql = format!("{PROVIDER} ORDER BY name, org_id");
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(classify)
                }

                async fn put_sso_provider(
                    &self,
                    row: &ProviderRow,
                    audit: &AuditRow,
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query("DELETE FROM sso_providers WHERE org_id = $1")
                        .bind(&row.org_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    sqlx::query(
                        "INSERT INTO sso_providers (org_id, name, issuer, client_id,
                         client_secret, allowed_domains, groups_claim, admin_groups,
                         manager_groups, sso_only, break_glass_email, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(&row.org_id)
                    .bind(&row.name)
                    .bind(&row.issuer)
                    .bind(&row.client_id)
                    .bind(&row.client_secret)
                    .bind(&row.allowed_domains)
                    .bind(&row.groups_claim)
                    .bind(&row.admin_groups)
                    .bind(&row.manager_groups)
                    .bind(row.sso_only)
                    .bind(&row.break_glass_email)
                    .bind(row.updated_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn delete_sso_provider(
                    &self,
                    org_id: &str,
                    audit: &AuditRow,
                ) -> Result<bool, DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    let n = sqlx::query("DELETE FROM sso_providers WHERE org_id = $1")
                        .bind(org_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?
                        .rows_affected();
                    if n > 0 {
                        Self::audit_in(&mut tx, audit).await?;
                    }
                    tx.commit().await.map_err(classify)?;
                    Ok(n > 0)
                }

                async fn insert_sso_login(&self, login: &PendingLogin) -> Result<(), DbError> {
                    sqlx::query(
                        "INSERT INTO sso_logins (state_hash, org_id, nonce, pkce_verifier,
                         redirect_uri, client_state, client_challenge, device_code_hash,
                         expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(&login.state_hash)
                    .bind(&login.org_id)
                    .bind(&login.nonce)
                    .bind(&login.pkce_verifier)
                    .bind(&login.redirect_uri)
                    .bind(&login.client_state)
                    .bind(&login.client_challenge)
                    .bind(&login.device_code_hash)
                    .bind(login.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(())
                }

                async fn take_sso_login(
                    &self,
                    state_hash: &str,
                    now: i64,
                ) -> Result<Option<PendingLogin>, DbError> {
                    let row: Option<PendingLogin> = sqlx::query_as(
                        "DELETE FROM sso_logins WHERE state_hash = $1 RETURNING state_hash,
                         org_id, nonce, pkce_verifier, redirect_uri, client_state,
                         client_challenge, device_code_hash, expires_at",
                    )
                    .bind(state_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(row.filter(|r| r.expires_at > now))
                }

                async fn sso_identity(
                    &self,
                    issuer: &str,
                    subject: &str,
                ) -> Result<Option<String>, DbError> {
                    sqlx::query_scalar(
                        "SELECT user_id FROM sso_identities WHERE issuer = $1 AND subject = $2",
                    )
                    .bind(issuer)
                    .bind(subject)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn link_sso_identity(
                    &self,
                    issuer: &str,
                    subject: &str,
                    user_id: &str,
                    now: i64,
                    audit: &AuditRow,
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query(
                        "INSERT INTO sso_identities (issuer, subject, user_id, created_at)
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(issuer)
                    .bind(subject)
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn create_sso_person(
                    &self,
                    person: &SsoPerson,
                    issuer: &str,
                    subject: &str,
                    now: i64,
                    audit: &AuditRow,
                ) -> Result<(), DbError> {
                    let id = &person.user.user.id;
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    // No password: '!' is no hash argon2 can match, so only the provider
                    // signs this person in (until a reset link gives them one).
                    sqlx::query(
                        "INSERT INTO users (id, org_id, email, name, password_hash, admin,
                         manager) VALUES ($1, $2, $3, $4, '!sso', $5, $6)",
                    )
                    .bind(id)
                    .bind(&person.user.org_id)
                    .bind(&person.user.user.email)
                    .bind(&person.user.user.name)
                    .bind(person.user.user.admin)
                    .bind(i32::from(person.manager))
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    sqlx::query(
                        "INSERT INTO sso_identities (issuer, subject, user_id, created_at)
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(issuer)
                    .bind(subject)
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn insert_sso_code(
                    &self,
                    code_hash: &str,
                    code: &CodeRow,
                ) -> Result<(), DbError> {
                    sqlx::query(
                        "INSERT INTO sso_codes (code_hash, user_id, challenge, redirect_uri,
                         expires_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(code_hash)
                    .bind(&code.user_id)
                    .bind(&code.challenge)
                    .bind(&code.redirect_uri)
                    .bind(code.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(())
                }

                async fn take_sso_code(
                    &self,
                    code_hash: &str,
                    now: i64,
                ) -> Result<Option<CodeRow>, DbError> {
                    let row: Option<CodeRow> = sqlx::query_as(
                        "DELETE FROM sso_codes WHERE code_hash = $1
                         RETURNING user_id, challenge, redirect_uri, expires_at",
                    )
                    .bind(code_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(row.filter(|r| r.expires_at > now))
                }

                async fn insert_device_code(&self, row: &DeviceCodeRow) -> Result<(), DbError> {
                    sqlx::query(
                        "INSERT INTO sso_device_codes (device_code_hash, user_code, org_id,
                         device_id, status, expires_at) VALUES ($1, $2, $3, $4, 'pending', $5)",
                    )
                    .bind(&row.device_code_hash)
                    .bind(&row.user_code)
                    .bind(&row.org_id)
                    .bind(&row.device_id)
                    .bind(row.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(())
                }

                async fn device_code_by_user_code(
                    &self,
                    user_code: &str,
                ) -> Result<Option<DeviceCodeRow>, DbError> {
                    sqlx::query_as(
                        "SELECT device_code_hash, user_code, org_id, device_id, status, user_id,
                         reason, last_poll_at, expires_at FROM sso_device_codes
                         WHERE user_code = $1",
                    )
                    .bind(user_code)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn poll_device_code(
                    &self,
                    device_code_hash: &str,
                    now: i64,
                ) -> Result<Option<DeviceCodeRow>, DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    let row: Option<DeviceCodeRow> = sqlx::query_as(
                        "SELECT device_code_hash, user_code, org_id, device_id, status, user_id,
                         reason, last_poll_at, expires_at FROM sso_device_codes
                         WHERE device_code_hash = $1",
                    )
                    .bind(device_code_hash)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                    if let Some(row) = &row {
                        // The status is in the WHERE: of two polls racing for an approved
                        // code, one deletes it and answers the token, the other finds nothing.
                        let query = if row.status == "pending" {
                            sqlx::query(
                                "UPDATE sso_device_codes SET last_poll_at = $3
                                 WHERE device_code_hash = $1 AND status = $2",
                            )
                            .bind(device_code_hash)
                            .bind(&row.status)
                            .bind(now)
                        } else {
                            sqlx::query(
                                "DELETE FROM sso_device_codes WHERE device_code_hash = $1
                                 AND status = $2",
                            )
                            .bind(device_code_hash)
                            .bind(&row.status)
                        };
                        let n = query
                            .execute(&mut *tx)
                            .await
                            .map_err(classify)?
                            .rows_affected();
                        if n == 0 {
                            return Ok(None);
                        }
                    }
                    tx.commit().await.map_err(classify)?;
                    Ok(row)
                }

                async fn finish_device_code(
                    &self,
                    device_code_hash: &str,
                    outcome: Result<&str, &str>,
                ) -> Result<(), DbError> {
                    let (status, user_id, reason) = match outcome {
                        Ok(user_id) => ("approved", Some(user_id), ""),
                        Err(reason) => ("refused", None, reason),
                    };
                    sqlx::query(
                        "UPDATE sso_device_codes SET status = $2, user_id = $3, reason = $4
                         WHERE device_code_hash = $1 AND status = 'pending'",
                    )
                    .bind(device_code_hash)
                    .bind(status)
                    .bind(user_id)
                    .bind(reason)
                    .execute(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(())
                }

                async fn purge_sso(&self, now: i64) -> Result<u64, DbError> {
                    let mut n = 0;
                    for table in ["sso_logins", "sso_codes", "sso_device_codes"] {
                        let sql = format!("DELETE FROM {table} WHERE expires_at <= $1");
                        n += sqlx::query(sqlx::AssertSqlSafe(sql))
                            .bind(now)
                            .execute(&self.pool)
                            .await
                            .map_err(classify)?
                            .rows_affected();
                    }
                    Ok(n)
                }
            }
        };
    };
}
pub(crate) use sso_store;
