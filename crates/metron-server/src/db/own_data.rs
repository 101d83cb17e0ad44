//! A person's own data in storage (issue 28): the access log (reads of their data by someone
//! else), the transparency notice they acknowledged, what their export reads beyond the other
//! stores, and their removal (erasure) in one transaction. The SQL is the same on both
//! backends, so the `own_data_store!` macro writes it once for each.

use async_trait::async_trait;

use super::timesheets::{AuditRow, Page};
use super::{row_struct, DbError, UserRow};

row_struct! {
    /// One read of a person's data by someone else: who (`reader_id`, empty once the reader
    /// was removed), what kind of read (`day`, `timesheet`, `events`, `export`, ...), of which
    /// day or period (`scope`), first at `at` within its hour.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AccessRow {
        pub id: String,
        pub org_id: String,
        pub user_id: String,
        pub reader_id: String,
        pub at: i64,
        pub what: String,
        pub scope: String,
    }
}

/// What a removal deleted or erased, table by table, in the order it went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    pub counts: Vec<(&'static str, u64)>,
    /// Earlier audit rows about the person whose content was erased.
    pub erased_audit_rows: u64,
    /// The tombstone row's id.
    pub tombstone: String,
}

/// Why a removal was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveOutcome {
    Removed(Removed),
    /// The person is the organization's last admin who is not disabled.
    LastAdmin,
}

/// The tables a removal deletes the person's rows from, with the column that names them, in
/// an order the foreign keys allow (the user row last). `managers` goes both ways; `person`
/// is their number (`users.seq`), not their id.
pub const DELETED: &[(&str, &str)] = &[
    ("timesheet_days", "user_id"),
    ("time_versions", "user_id"),
    ("day_aggregates", "user_id"),
    ("intervals", "person"),
    ("window_names", "user_id"),
    ("devices", "user_id"),
    ("manual_entries", "user_id"),
    ("corrections", "user_id"),
    ("timesheet_periods", "user_id"),
    ("managers", "user_id"),
    ("managers", "manager_id"),
    ("tokens", "user_id"),
    ("access_log", "user_id"),
    ("notice_acks", "user_id"),
    ("password_resets", "user_id"),
    ("invitations", "user_id"),
    ("project_members", "user_id"),
    ("sso_identities", "user_id"),
    ("sso_codes", "user_id"),
    ("sso_device_codes", "user_id"),
    ("recovery_codes", "user_id"),
    ("second_factors", "user_id"),
];

/// Columns of other people's rows that name the person as who made or decided them: emptied,
/// since the rows are the other people's records (their entry stays approved; by whom is no
/// longer said).
pub const ANONYMIZED: &[(&str, &str)] = &[
    ("manual_entries", "created_by"),
    ("manual_entries", "decided_by"),
    ("corrections", "created_by"),
    ("corrections", "decided_by"),
    ("timesheet_periods", "decided_by"),
    ("invitations", "invited_by"),
    ("password_resets", "created_by"),
];

/// The audit rows a removal erases: every row that names the person (about them, made by
/// them, about them as its subject, or naming them in its content, such as a manager's list
/// of people). `$1` the organization, `$2` the person, `$3` `%id%`, `$4` the removal action.
pub(crate) const NAMING: &str = "org_id = $1 AND erased_by IS NULL AND action <> $4
     AND (user_id = $2 OR actor_id = $2 OR subject_id = $2 OR before LIKE $3 OR after LIKE $3
          OR reason LIKE $3)";

#[async_trait]
pub trait OwnDataStore: Send + Sync {
    /// Records a read; nothing when the same reader read the same of the person this hour.
    async fn record_access(&self, row: &AccessRow) -> Result<(), DbError>;
    /// One page of the reads of the person's data, newest first (`page.after`: the last row's
    /// time and id; at most `page.limit + 1` rows).
    async fn access_log(&self, user_id: &str, page: &Page) -> Result<Vec<AccessRow>, DbError>;
    /// Deletes access-log rows older than `before` (the retention); how many.
    async fn forget_access_before(&self, before: i64) -> Result<u64, DbError>;

    /// The notice version the person acknowledged, and when.
    async fn notice_ack(&self, user_id: &str) -> Result<Option<(String, i64)>, DbError>;
    async fn ack_notice(&self, user_id: &str, version: &str, at: i64) -> Result<(), DbError>;

    /// The first start and the last end of the person's stored intervals.
    async fn interval_span(&self, user_id: &str) -> Result<Option<(i64, i64)>, DbError>;
    /// The person's kept days (retention's aggregates) after `after` (YYYY-MM-DD), by day, at
    /// most `limit`: (day, body).
    async fn day_aggregates_after(
        &self,
        user_id: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<(String, String)>, DbError>;

    /// Removes the person (see [`DELETED`]) and erases the content of the audit rows about
    /// them, writing `tombstone` (its `after` is filled in here with the counts) into the
    /// chain, in one transaction; refused for the organization's last enabled admin.
    async fn remove_user(
        &self,
        user: &UserRow,
        tombstone: AuditRow,
    ) -> Result<RemoveOutcome, DbError>;
}

/// Implements [`OwnDataStore`] for a backend with a `pool` field of sqlx database `$db`. Its
/// audit chain helpers (`lock_head`, `chain_in`) come from `timesheet_store!` in the same
/// module.
macro_rules! own_data_store {
    ($backend:ty, $db:ty) => {
        const _: () = {
            use futures_util::TryStreamExt as _;
            use $crate::audit_chain::ErasedRows;
            use $crate::db::own_data::{
                AccessRow, OwnDataStore, RemoveOutcome, Removed, ANONYMIZED, DELETED, NAMING,
            };
            use $crate::db::timesheets::{AuditRow, Page};
            use $crate::db::{classify, DbError, UserRow};

            impl $backend {
                async fn try_remove_user(
                    &self,
                    user: &UserRow,
                    mut tombstone: AuditRow,
                ) -> Result<RemoveOutcome, sqlx::Error> {
                    let id = user.user.id.as_str();
                    let mut tx = self.pool.begin().await?;
                    // The chain head first: removals, and every audit write of the
                    // organization, take turns from here, so the admins counted next and
                    // the rows erased below can't change until this commits.
                    Self::lock_head(&mut tx, &user.org_id).await?;
                    let admins: i64 = sqlx::query_scalar(
                        "SELECT count(*) FROM users WHERE org_id = $1 AND admin = $2
                         AND disabled = $3 AND id <> $4",
                    )
                    .bind(&user.org_id)
                    .bind(true)
                    .bind(false)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                    if user.user.admin && admins == 0 {
                        return Ok(RemoveOutcome::LastAdmin);
                    }
                    let mut removed = Removed::default();
                    for (table, column) in DELETED {
                        // Intervals name their person by number (`users.seq`).
                        let sql = if *column == "person" {
                            format!(
                                "DELETE FROM {table} WHERE person =
                                 (SELECT seq FROM users WHERE id = $1)"
                            )
                        } else {
                            format!("DELETE FROM {table} WHERE {column} = $1")
                        };
                        let n = sqlx::query(sqlx::AssertSqlSafe(sql))
                            .bind(id)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                        removed.counts.push((table, n));
                    }
                    // Invitations to their address that were never accepted (re-sent, revoked,
                    // expired) name them too.
                    let n = sqlx::query("DELETE FROM invitations WHERE email = $1")
                        .bind(&user.user.email)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if let Some(count) =
                        removed.counts.iter_mut().find(|(t, _)| *t == "invitations")
                    {
                        count.1 += n;
                    }
                    // Invitations that would have made them someone's manager make no one so.
                    sqlx::query("UPDATE invitations SET manager_id = NULL WHERE manager_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    for (table, column) in ANONYMIZED {
                        let sql = format!("UPDATE {table} SET {column} = '' WHERE {column} = $1");
                        sqlx::query(sqlx::AssertSqlSafe(sql))
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    // Reads the person made of others' data stay in those people's logs,
                    // without the reader's id.
                    let n =
                        sqlx::query("UPDATE access_log SET reader_id = '' WHERE reader_id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    removed.counts.push(("access_log (reads by them)", n));
                    // The audit rows about them, named to the tombstone by a digest.
                    let mut erased = ErasedRows::default();
                    {
                        let sql =
                            format!("SELECT id, hash FROM audit_log WHERE {NAMING} ORDER BY seq");
                        let mut rows =
                            sqlx::query_as::<_, (String, Option<String>)>(sqlx::AssertSqlSafe(sql))
                                .bind(&user.org_id)
                                .bind(id)
                                .bind(format!("%{id}%"))
                                .bind($crate::audit_chain::REMOVAL)
                                .fetch(&mut *tx);
                        while let Some((row, hash)) = rows.try_next().await? {
                            erased.add(&row, hash.as_deref().unwrap_or_default());
                        }
                    }
                    let counts: serde_json::Map<String, serde_json::Value> = removed
                        .counts
                        .iter()
                        .fold(serde_json::Map::new(), |mut m, (t, n)| {
                            let sum = m.get(*t).and_then(|v| v.as_u64()).unwrap_or(0) + n;
                            m.insert((*t).to_string(), sum.into());
                            m
                        });
                    tombstone.after = Some(
                        serde_json::json!({
                            "deleted": counts,
                            "erased_audit_rows": erased.count,
                            "erased_digest": erased.digest(),
                        })
                        .to_string(),
                    );
                    tombstone.before = None;
                    Self::chain_in(&mut tx, &tombstone).await?;
                    // The tombstone names the person but is a removal: NAMING leaves it out.
                    let sql = format!(
                        "UPDATE audit_log SET user_id = '', subject_id = '', reason = '',
                         before = NULL, after = NULL,
                         actor_id = CASE WHEN actor_id = $2 THEN '' ELSE actor_id END,
                         erased_by = $5 WHERE {NAMING}"
                    );
                    let n = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(&user.org_id)
                        .bind(id)
                        .bind(format!("%{id}%"))
                        .bind($crate::audit_chain::REMOVAL)
                        .bind(&tombstone.id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if n != erased.count {
                        // The head is locked: this can't happen short of a bug; nothing is
                        // left half done.
                        return Err(sqlx::Error::Protocol(format!(
                            "erased {n} audit rows where {} were counted",
                            erased.count
                        )));
                    }
                    removed.erased_audit_rows = n;
                    let n = sqlx::query("DELETE FROM users WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    removed.counts.push(("users", n));
                    // Every instance forgets its cached tokens of them at once.
                    sqlx::query("UPDATE revocations SET epoch = epoch + 1 WHERE id = 1")
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    removed.tombstone = tombstone.id;
                    Ok(RemoveOutcome::Removed(removed))
                }
            }

            #[async_trait::async_trait]
            impl OwnDataStore for $backend {
                async fn record_access(&self, r: &AccessRow) -> Result<(), DbError> {
                    sqlx::query(
                        "INSERT INTO access_log (id, org_id, user_id, reader_id, at, hour, what,
                         scope) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                         ON CONFLICT (user_id, reader_id, what, scope, hour) DO NOTHING",
                    )
                    .bind(&r.id)
                    .bind(&r.org_id)
                    .bind(&r.user_id)
                    .bind(&r.reader_id)
                    .bind(r.at)
                    .bind(r.at.div_euclid(3600))
                    .bind(&r.what)
                    .bind(&r.scope)
                    .execute(&self.pool)
                    .await
                    .map(drop)
                    .map_err(classify)
                }

                async fn access_log(
                    &self,
                    user_id: &str,
                    page: &Page,
                ) -> Result<Vec<AccessRow>, DbError> {
                    sqlx::query_as(
                        "SELECT id, org_id, user_id, reader_id, at, what, scope FROM access_log
                         WHERE user_id = $1
                         AND ($2 IS NULL OR at < $2 OR (at = $2 AND id < $3))
                         ORDER BY at DESC, id DESC LIMIT $4",
                    )
                    .bind(user_id)
                    .bind(page.after_key())
                    .bind(page.after_id())
                    .bind(page.limit + 1)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn forget_access_before(&self, before: i64) -> Result<u64, DbError> {
                    sqlx::query("DELETE FROM access_log WHERE at < $1")
                        .bind(before)
                        .execute(&self.pool)
                        .await
                        .map(|d| d.rows_affected())
                        .map_err(classify)
                }

                async fn notice_ack(
                    &self,
                    user_id: &str,
                ) -> Result<Option<(String, i64)>, DbError> {
                    sqlx::query_as(
                        "SELECT version, acknowledged_at FROM notice_acks WHERE user_id = $1",
                    )
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn ack_notice(
                    &self,
                    user_id: &str,
                    version: &str,
                    at: i64,
                ) -> Result<(), DbError> {
                    sqlx::query(
                        "INSERT INTO notice_acks (user_id, version, acknowledged_at)
                         VALUES ($1, $2, $3)
                         ON CONFLICT (user_id) DO UPDATE SET version = excluded.version,
                         acknowledged_at = excluded.acknowledged_at",
                    )
                    .bind(user_id)
                    .bind(version)
                    .bind(at)
                    .execute(&self.pool)
                    .await
                    .map(drop)
                    .map_err(classify)
                }

                async fn interval_span(
                    &self,
                    user_id: &str,
                ) -> Result<Option<(i64, i64)>, DbError> {
                    let span: (Option<i64>, Option<i64>) = sqlx::query_as(concat!(
                        "SELECT min(i.started_at), max(i.ended_at)",
                        $crate::db::packed::stored_from!(),
                        " WHERE u.id = $1"
                    ))
                    .bind(user_id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(span.0.zip(span.1))
                }

                async fn day_aggregates_after(
                    &self,
                    user_id: &str,
                    after: &str,
                    limit: i64,
                ) -> Result<Vec<(String, String)>, DbError> {
                    sqlx::query_as(
                        "SELECT day, body FROM day_aggregates WHERE user_id = $1 AND day > $2
                         ORDER BY day LIMIT $3",
                    )
                    .bind(user_id)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn remove_user(
                    &self,
                    user: &UserRow,
                    tombstone: AuditRow,
                ) -> Result<RemoveOutcome, DbError> {
                    self.try_remove_user(user, tombstone)
                        .await
                        .map_err(classify)
                }
            }
        };
    };
}
pub(crate) use own_data_store;
