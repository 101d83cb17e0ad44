//! Two-factor codes in storage (issue 29): a person's TOTP secret with its enrolment state and
//! the last step a code was accepted at, and their recovery codes' hashes. The SQL is the same
//! on both backends, written once by `second_factor_store!`; every change of several rows is
//! one transaction with its audit row. Whether a code is right is decided by the caller
//! (`crate::second_factor`); the store makes each accepted step and recovery code count once,
//! whatever requests run at once (a conditional UPDATE claims it).

use async_trait::async_trait;

use super::row_struct;
use super::timesheets::AuditRow;
use super::DbError;

row_struct! {
    /// A person's second factor as stored.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SecondFactorRow {
        /// Base32.
        pub secret: String,
        pub created_at: i64,
        /// `None`: enrolment begun, not confirmed (not on).
        pub confirmed_at: Option<i64>,
        /// The last step a code was accepted at.
        pub last_step: i64,
    }
}

#[async_trait]
pub trait SecondFactorStore: Send + Sync {
    async fn second_factor(&self, user_id: &str) -> Result<Option<SecondFactorRow>, DbError>;
    /// Whether the person's codes are on (a confirmed row).
    async fn second_factor_on(&self, user_id: &str) -> Result<bool, DbError>;
    /// Starts (or starts again) an enrolment with `secret` at `now`; `false` if the person's
    /// codes are already on (nothing changes then).
    async fn begin_second_factor(
        &self,
        user_id: &str,
        secret: &str,
        now: i64,
    ) -> Result<bool, DbError>;
    /// Turns the begun enrolment on if it began after `begun_after`, with the step its
    /// confirming code was of, the recovery codes' hashes (replacing any), the person's
    /// enrolment-only tokens made whole, and the audit row; `false` if there was no such
    /// enrolment (nothing changes then).
    async fn confirm_second_factor(
        &self,
        user_id: &str,
        begun_after: i64,
        step: i64,
        now: i64,
        recovery_hashes: &[String],
        audit: &AuditRow,
    ) -> Result<bool, DbError>;
    /// Claims `step` for the person's confirmed codes: `true` if it is later than the last
    /// accepted step (it becomes the last), `false` for a replay.
    async fn use_second_factor_step(&self, user_id: &str, step: i64) -> Result<bool, DbError>;
    /// Uses the unused recovery code of this hash; whether there was one.
    async fn use_recovery_code(
        &self,
        user_id: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<bool, DbError>;
    /// Recovery codes not used yet.
    async fn recovery_codes_left(&self, user_id: &str) -> Result<i64, DbError>;
    /// Replaces the person's recovery codes, with the audit row.
    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        recovery_hashes: &[String],
        audit: &AuditRow,
    ) -> Result<(), DbError>;
    /// Removes the person's second factor and recovery codes, with the audit row; whether
    /// their codes were on (nothing is written otherwise).
    async fn remove_second_factor(&self, user_id: &str, audit: &AuditRow) -> Result<bool, DbError>;
}

/// Implements [`SecondFactorStore`] for a backend with a `pool` field of sqlx database `$db`
/// and the timesheet store's `audit_in` in scope.
macro_rules! second_factor_store {
    ($backend:ty, $db:ty) => {
        const _: () = {
            use $crate::db::second_factor::{SecondFactorRow, SecondFactorStore};
            use $crate::db::timesheets::AuditRow;
            use $crate::db::{classify, DbError};

            impl $backend {
                async fn insert_recovery_codes(
                    tx: &mut sqlx::Transaction<'_, $db>,
                    user_id: &str,
                    hashes: &[String],
                ) -> Result<(), DbError> {
                    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&mut **tx)
                        .await
                        .map_err(classify)?;
                    for hash in hashes {
                        sqlx::query(
                            "INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)",
                        )
                        .bind(user_id)
                        .bind(hash)
                        .execute(&mut **tx)
                        .await
                        .map_err(classify)?;
                    }
                    Ok(())
                }
            }

            #[async_trait::async_trait]
            impl SecondFactorStore for $backend {
                async fn second_factor(
                    &self,
                    user_id: &str,
                ) -> Result<Option<SecondFactorRow>, DbError> {
                    sqlx::query_as(
                        "SELECT secret, created_at, confirmed_at, last_step FROM second_factors
                         WHERE user_id = $1",
                    )
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn second_factor_on(&self, user_id: &str) -> Result<bool, DbError> {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM second_factors WHERE user_id = $1 AND
                         confirmed_at IS NOT NULL",
                    )
                    .bind(user_id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(n > 0)
                }

                async fn begin_second_factor(
                    &self,
                    user_id: &str,
                    secret: &str,
                    now: i64,
                ) -> Result<bool, DbError> {
                    let done = sqlx::query(
                        "INSERT INTO second_factors (user_id, secret, created_at) VALUES ($1, $2,
                         $3) ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret,
                         created_at = excluded.created_at, last_step = 0
                         WHERE second_factors.confirmed_at IS NULL",
                    )
                    .bind(user_id)
                    .bind(secret)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn confirm_second_factor(
                    &self,
                    user_id: &str,
                    begun_after: i64,
                    step: i64,
                    now: i64,
                    recovery_hashes: &[String],
                    audit: &AuditRow,
                ) -> Result<bool, DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    let done = sqlx::query(
                        "UPDATE second_factors SET confirmed_at = $2, last_step = $3
                         WHERE user_id = $1 AND confirmed_at IS NULL AND created_at > $4",
                    )
                    .bind(user_id)
                    .bind(now)
                    .bind(step)
                    .bind(begun_after)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    if done.rows_affected() == 0 {
                        return Ok(false);
                    }
                    Self::insert_recovery_codes(&mut tx, user_id, recovery_hashes).await?;
                    sqlx::query("UPDATE tokens SET enrol_only = 0 WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(true)
                }

                async fn use_second_factor_step(
                    &self,
                    user_id: &str,
                    step: i64,
                ) -> Result<bool, DbError> {
                    let done = sqlx::query(
                        "UPDATE second_factors SET last_step = $2 WHERE user_id = $1 AND
                         confirmed_at IS NOT NULL AND last_step < $2",
                    )
                    .bind(user_id)
                    .bind(step)
                    .execute(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn use_recovery_code(
                    &self,
                    user_id: &str,
                    code_hash: &str,
                    now: i64,
                ) -> Result<bool, DbError> {
                    let done = sqlx::query(
                        "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND
                         code_hash = $2 AND used_at IS NULL",
                    )
                    .bind(user_id)
                    .bind(code_hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn recovery_codes_left(&self, user_id: &str) -> Result<i64, DbError> {
                    sqlx::query_scalar(
                        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS
                         NULL",
                    )
                    .bind(user_id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn replace_recovery_codes(
                    &self,
                    user_id: &str,
                    recovery_hashes: &[String],
                    audit: &AuditRow,
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    Self::insert_recovery_codes(&mut tx, user_id, recovery_hashes).await?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn remove_second_factor(
                    &self,
                    user_id: &str,
                    audit: &AuditRow,
                ) -> Result<bool, DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    let on: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM second_factors WHERE user_id = $1 AND
                         confirmed_at IS NOT NULL",
                    )
                    .bind(user_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(classify)?;
                    for sql in [
                        "DELETE FROM recovery_codes WHERE user_id = $1",
                        "DELETE FROM second_factors WHERE user_id = $1",
                    ] {
                        sqlx::query(sql)
                            .bind(user_id)
                            .execute(&mut *tx)
                            .await
                            .map_err(classify)?;
                    }
                    if on == 0 {
                        // A begun enrolment goes too, but nothing was on: no audit row.
                        tx.commit().await.map_err(classify)?;
                        return Ok(false);
                    }
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(true)
                }
            }
        };
    };
}
pub(crate) use second_factor_store;
