//! Accounts, tokens, organizations and tasks in storage. The SQL is the same on both backends
//! (sqlx's SQLite reads `$N` placeholders too, and binds a `bool` as 0/1), so the
//! `account_store!` macro writes it once for each; only `user_row`, which reads the backend's
//! boolean columns, differs and is in scope where the macro is invoked.

use async_trait::async_trait;
use metron_core::wire::{ClientVersion, ClientVersionUpdate, Task};
use metron_core::UrlPolicy;

use super::timesheets::AuditRow;
use super::{DbError, UserRow};

/// A live (not revoked) token and whose it is. Whether it has expired is decided by the caller
/// (`auth`), which knows the configured lifetimes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub user: UserRow,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Given to a person the organization requires to have two-factor codes before they set
    /// them up: it may only set them up (`crate::extract::Session`).
    pub enrol_only: bool,
}

/// Who may create tasks in an organization.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TaskCreation {
    Everyone,
    Admins,
}

impl TaskCreation {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskCreation::Everyone => "everyone",
            TaskCreation::Admins => "admins",
        }
    }

    /// The stored text; anything unknown is read as the stricter setting.
    pub fn from_stored(text: &str) -> Self {
        if text == "everyone" {
            TaskCreation::Everyone
        } else {
            TaskCreation::Admins
        }
    }
}

/// An organization's settings as stored (its `organizations` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSettingsRow {
    pub name: String,
    pub task_creation: TaskCreation,
    pub managers_see_detail: bool,
    /// What the server keeps of page addresses (`Full`: what arrives).
    pub url_policy: UrlPolicy,
    /// Days of raw detail kept; `None`: the server's `retention_days`.
    pub retention_days: Option<u32>,
    /// Who must have two-factor codes.
    pub require_second_factor: crate::second_factor::Requirement,
}

/// How a URL policy is stored.
pub fn url_policy_text(policy: UrlPolicy) -> &'static str {
    match policy {
        UrlPolicy::Full => "full",
        UrlPolicy::HostOnly => "host_only",
        UrlPolicy::Drop => "drop",
    }
}

/// A stored URL policy; anything unknown reads as the strictest.
pub fn url_policy_from(text: &str) -> UrlPolicy {
    match text {
        "full" => UrlPolicy::Full,
        "host_only" => UrlPolicy::HostOnly,
        _ => UrlPolicy::Drop,
    }
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The organization's id, creating it if needed.
    async fn organization(&self, name: &str) -> Result<String, DbError>;
    /// The organization's id, if it exists.
    async fn find_organization(&self, name: &str) -> Result<Option<String>, DbError>;
    async fn create_user(
        &self,
        org_id: &str,
        email: &str,
        name: &str,
        password_hash: &str,
        admin: bool,
    ) -> Result<UserRow, DbError>;
    /// The user and their password hash.
    async fn user_by_email(&self, email: &str) -> Result<Option<(UserRow, String)>, DbError>;
    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<(), DbError>;
    async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> Result<(), DbError>;

    async fn store_token(
        &self,
        token_hash: &str,
        user_id: &str,
        device_id: Option<&str>,
        now: i64,
        enrol_only: bool,
    ) -> Result<(), DbError>;
    /// A token that is not revoked, with its user (disabled or not).
    async fn token(&self, token_hash: &str) -> Result<Option<TokenRow>, DbError>;
    /// Notes that the token was used at `now` (for the idle lifetime).
    async fn touch_token(&self, token_hash: &str, now: i64) -> Result<(), DbError>;
    /// Revokes one token; whether it was live.
    async fn revoke_token(&self, token_hash: &str, now: i64) -> Result<bool, DbError>;
    /// Revokes all of a user's tokens (or only those of one device); how many were live.
    async fn revoke_user_tokens(
        &self,
        user_id: &str,
        device_id: Option<&str>,
        now: i64,
    ) -> Result<u64, DbError>;
    /// Tells every server instance that tokens were revoked (see `Database::revocation_epoch`).
    async fn bump_revocation_epoch(&self) -> Result<(), DbError>;

    /// Every task of the organization, archived ones too (reports name a task by its id
    /// whatever became of it), its project by name; by project, then name.
    async fn tasks(&self, org_id: &str) -> Result<Vec<Task>, DbError>;
    async fn count_tasks(&self, org_id: &str) -> Result<u64, DbError>;
    async fn task_creation(&self, org_id: &str) -> Result<TaskCreation, DbError>;
    /// Whether the organization's managers read the activity detail of their people
    /// (`access.rs`).
    async fn managers_see_detail(&self, org_id: &str) -> Result<bool, DbError>;
    /// The fewest days of detail any organization keeps by its own setting (`None`: none
    /// set one).
    async fn shortest_retention_days(&self) -> Result<Option<u32>, DbError>;
    /// The organization's settings; `None` if there is no such organization.
    async fn org_settings(&self, org_id: &str) -> Result<Option<OrgSettingsRow>, DbError>;
    /// Replaces the organization's settings with `audit` in one transaction;
    /// [`DbError::Conflict`] if another organization has the name.
    async fn set_org_settings(
        &self,
        org_id: &str,
        settings: &OrgSettingsRow,
        audit: &AuditRow,
    ) -> Result<(), DbError>;

    /// The client release the organization announces (all none if it never set one).
    async fn client_version(&self, org_id: &str) -> Result<ClientVersion, DbError>;
    /// Replaces the organization's announcement (checked by the caller) as of `audit.at`,
    /// with its audit row, in one transaction.
    async fn set_client_version(
        &self,
        org_id: &str,
        update: &ClientVersionUpdate,
        audit: &AuditRow,
    ) -> Result<ClientVersion, DbError>;
}

/// Implements [`AccountStore`] for a backend with a `pool` field and a `user_row` function in
/// scope where it is invoked.
macro_rules! account_store {
    ($backend:ty) => {
        // A scope of its own, so the expansion names what it uses once.
        const _: () = {
            use $crate::db::accounts::{
                url_policy_from, url_policy_text, AccountStore, OrgSettingsRow, TaskCreation,
                TokenRow,
            };
            use $crate::db::{classify, DbError, UserRow};
            use metron_core::wire::{ClientVersion, ClientVersionUpdate, Task, User};

            #[async_trait::async_trait]
            impl AccountStore for $backend {
                async fn organization(&self, name: &str) -> Result<String, DbError> {
                    sqlx::query(
                        "INSERT INTO organizations (id, name) VALUES ($1, $2) ON CONFLICT
                                 (name) DO NOTHING",
                    )
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(name)
                    .execute(&self.pool)
                    .await
                    .map_err(classify)?;
                    sqlx::query_scalar("SELECT id FROM organizations WHERE name = $1")
                        .bind(name)
                        .fetch_one(&self.pool)
                        .await
                        .map_err(classify)
                }

                async fn find_organization(&self, name: &str) -> Result<Option<String>, DbError> {
                    sqlx::query_scalar("SELECT id FROM organizations WHERE name = $1")
                        .bind(name)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(classify)
                }

                async fn create_user(
                    &self,
                    org_id: &str,
                    email: &str,
                    name: &str,
                    password_hash: &str,
                    admin: bool,
                ) -> Result<UserRow, DbError> {
                    let id = uuid::Uuid::now_v7().to_string();
                    sqlx::query(
                        "INSERT INTO users (id, org_id, email, name, password_hash, admin)
                                 VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&id)
                    .bind(org_id)
                    .bind(email)
                    .bind(name)
                    .bind(password_hash)
                    .bind(admin)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| match classify(e) {
                        DbError::Conflict(_) => DbError::Conflict(format!(
                            "a user with email {email} already exists"
                        )),
                        other => other,
                    })?;
                    Ok(UserRow {
                        user: User {
                            id,
                            email: email.into(),
                            name: name.into(),
                            admin,
                        },
                        org_id: org_id.into(),
                        disabled: false,
                    })
                }

                async fn user_by_email(
                    &self,
                    email: &str,
                ) -> Result<Option<(UserRow, String)>, DbError> {
                    let row = sqlx::query(
                        "SELECT id, email, name, admin, disabled, org_id,
                                           password_hash FROM users WHERE email = $1",
                    )
                    .bind(email)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(row.map(|r| (user_row(&r), sqlx::Row::get(&r, "password_hash"))))
                }

                async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<(), DbError> {
                    sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
                        .bind(user_id)
                        .bind(disabled)
                        .execute(&self.pool)
                        .await
                        .map(drop)
                        .map_err(classify)
                }

                async fn set_password_hash(
                    &self,
                    user_id: &str,
                    password_hash: &str,
                ) -> Result<(), DbError> {
                    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                        .bind(user_id)
                        .bind(password_hash)
                        .execute(&self.pool)
                        .await
                        .map(drop)
                        .map_err(classify)
                }

                async fn store_token(
                    &self,
                    token_hash: &str,
                    user_id: &str,
                    device_id: Option<&str>,
                    now: i64,
                    enrol_only: bool,
                ) -> Result<(), DbError> {
                    sqlx::query(
                        "INSERT INTO tokens (token_hash, user_id, device_id, created_at,
                                 last_used_at, enrol_only) VALUES ($1, $2, $3, $4, $4, $5)",
                    )
                    .bind(token_hash)
                    .bind(user_id)
                    .bind(device_id)
                    .bind(now)
                    .bind(i32::from(enrol_only))
                    .execute(&self.pool)
                    .await
                    .map(drop)
                    .map_err(classify)
                }

                async fn token(&self, token_hash: &str) -> Result<Option<TokenRow>, DbError> {
                    let row = sqlx::query(
                        "SELECT u.id, u.email, u.name, u.admin, u.disabled, u.org_id, t.created_at,
                         t.last_used_at, t.enrol_only
                         FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND
                         t.revoked_at IS NULL",
                    )
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(row.map(|r| TokenRow {
                        user: user_row(&r),
                        created_at: sqlx::Row::get(&r, "created_at"),
                        last_used_at: sqlx::Row::get(&r, "last_used_at"),
                        enrol_only: sqlx::Row::get::<i32, _>(&r, "enrol_only") != 0,
                    }))
                }

                async fn touch_token(&self, token_hash: &str, now: i64) -> Result<(), DbError> {
                    // Each backend's own: SQLite's goes through its one writer.
                    self.touch(token_hash, now).await
                }

                async fn revoke_token(&self, token_hash: &str, now: i64) -> Result<bool, DbError> {
                    let done = sqlx::query(
                        "UPDATE tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS
                         NULL",
                    )
                    .bind(token_hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn revoke_user_tokens(
                    &self,
                    user_id: &str,
                    device_id: Option<&str>,
                    now: i64,
                ) -> Result<u64, DbError> {
                    // A NULL device matches every token of the user.
                    let done = sqlx::query(
                        "UPDATE tokens SET revoked_at = $3 WHERE user_id = $1 AND revoked_at IS
                         NULL AND ($2 IS NULL OR device_id = $2)",
                    )
                    .bind(user_id)
                    .bind(device_id)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(done.rows_affected())
                }

                async fn bump_revocation_epoch(&self) -> Result<(), DbError> {
                    sqlx::query("UPDATE revocations SET epoch = epoch + 1 WHERE id = 1")
                        .execute(&self.pool)
                        .await
                        .map(drop)
                        .map_err(classify)
                }

                async fn tasks(&self, org_id: &str) -> Result<Vec<Task>, DbError> {
                    let rows: Vec<(String, String, String)> = sqlx::query_as(
                        "SELECT t.id, t.name, COALESCE(p.name, '') AS project
                         FROM tasks t LEFT JOIN projects p ON p.id = t.project_id
                         WHERE t.org_id = $1 ORDER BY project, t.name, t.id",
                    )
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, name, project)| Task { id, name, project })
                        .collect())
                }

                async fn count_tasks(&self, org_id: &str) -> Result<u64, DbError> {
                    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tasks WHERE org_id = $1")
                        .bind(org_id)
                        .fetch_one(&self.pool)
                        .await
                        .map_err(classify)?;
                    Ok(n.max(0) as u64)
                }

                async fn task_creation(&self, org_id: &str) -> Result<TaskCreation, DbError> {
                    let text: Option<String> =
                        sqlx::query_scalar("SELECT task_creation FROM organizations WHERE id = $1")
                            .bind(org_id)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(classify)?;
                    Ok(text.map_or(TaskCreation::Everyone, |t| TaskCreation::from_stored(&t)))
                }

                async fn managers_see_detail(&self, org_id: &str) -> Result<bool, DbError> {
                    let on: Option<i32> = sqlx::query_scalar(
                        "SELECT managers_see_detail FROM organizations WHERE id = $1",
                    )
                    .bind(org_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(on == Some(1))
                }

                async fn shortest_retention_days(&self) -> Result<Option<u32>, DbError> {
                    let days: Option<i32> =
                        sqlx::query_scalar("SELECT MIN(retention_days) FROM organizations")
                            .fetch_one(&self.pool)
                            .await
                            .map_err(classify)?;
                    Ok(days.and_then(|d| u32::try_from(d).ok()))
                }

                async fn org_settings(
                    &self,
                    org_id: &str,
                ) -> Result<Option<OrgSettingsRow>, DbError> {
                    let row: Option<(String, String, i32, String, Option<i32>, String)> =
                        sqlx::query_as(
                        "SELECT name, task_creation, managers_see_detail, url_policy,
                         retention_days, require_second_factor FROM organizations WHERE id = $1",
                    )
                    .bind(org_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(row.map(|(name, tasks, detail, urls, days, second)| OrgSettingsRow {
                        name,
                        task_creation: TaskCreation::from_stored(&tasks),
                        managers_see_detail: detail == 1,
                        url_policy: url_policy_from(&urls),
                        retention_days: days.and_then(|d| u32::try_from(d).ok()),
                        require_second_factor:
                            $crate::second_factor::Requirement::from_stored(&second),
                    }))
                }

                async fn set_org_settings(
                    &self,
                    org_id: &str,
                    s: &OrgSettingsRow,
                    audit: &$crate::db::timesheets::AuditRow,
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query(
                        "UPDATE organizations SET name = $2, task_creation = $3,
                         managers_see_detail = $4, url_policy = $5, retention_days = $6,
                         require_second_factor = $7 WHERE id = $1",
                    )
                    .bind(org_id)
                    .bind(&s.name)
                    .bind(s.task_creation.as_str())
                    .bind(i32::from(s.managers_see_detail))
                    .bind(url_policy_text(s.url_policy))
                    .bind(s.retention_days.and_then(|d| i32::try_from(d).ok()))
                    .bind(s.require_second_factor.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match classify(e) {
                        DbError::Conflict(_) => DbError::Conflict(format!(
                            "another organization is named {:?}",
                            s.name
                        )),
                        other => other,
                    })?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn client_version(&self, org_id: &str) -> Result<ClientVersion, DbError> {
                    let row: Option<(Option<String>, Option<String>, Option<String>, i64)> =
                        sqlx::query_as(
                            "SELECT latest, download_url, notes, updated_at FROM client_versions
                             WHERE org_id = $1",
                        )
                        .bind(org_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(classify)?;
                    Ok(row.map_or_else(
                        Default::default,
                        |(latest, download_url, notes, updated_at)| ClientVersion {
                            latest,
                            download_url,
                            notes,
                            updated_at: chrono::DateTime::from_timestamp(updated_at, 0),
                        },
                    ))
                }

                async fn set_client_version(
                    &self,
                    org_id: &str,
                    update: &ClientVersionUpdate,
                    audit: &$crate::db::timesheets::AuditRow,
                ) -> Result<ClientVersion, DbError> {
                    let now = audit.at;
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query(
                        "INSERT INTO client_versions (org_id, latest, download_url, notes,
                         updated_at) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (org_id) DO UPDATE SET latest = excluded.latest, download_url
                         = excluded.download_url,
                             notes = excluded.notes, updated_at = excluded.updated_at",
                    )
                    .bind(org_id)
                    .bind(&update.latest)
                    .bind(&update.download_url)
                    .bind(&update.notes)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(ClientVersion {
                        latest: update.latest.clone(),
                        download_url: update.download_url.clone(),
                        notes: update.notes.clone(),
                        updated_at: chrono::DateTime::from_timestamp(now, 0),
                    })
                }
            }
        };
    };
}
pub(crate) use account_store;
