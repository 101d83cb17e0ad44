//! Projects, their members and the tasks in them, in storage (issue 28). The SQL is the same on
//! both backends, so the `project_store!` macro writes it once for each. Every write carries
//! its audit row and commits with it, in one transaction; what a change means (who may make
//! it, what is valid) is `crate::projects`'s to decide.

use async_trait::async_trait;
use metron_core::wire::Task;

use super::timesheets::AuditRow;
use super::{row_struct, DbError};

row_struct! {
    /// A project as stored. `archived` is 0 or 1; times are unix seconds.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ProjectRow {
        pub id: String,
        pub org_id: String,
        pub name: String,
        pub client: String,
        /// `#rrggbb`, lower case.
        pub colour: String,
        pub archived: i32,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

row_struct! {
    /// A task as stored: its project by id (none for a task outside every project).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TaskRow {
        pub id: String,
        pub org_id: String,
        pub name: String,
        pub project_id: Option<String>,
        pub archived: i32,
    }
}

#[async_trait]
pub trait ProjectStore: Send + Sync {
    /// The organization's projects, archived ones too, by name.
    async fn projects(&self, org_id: &str) -> Result<Vec<ProjectRow>, DbError>;
    async fn project(&self, org_id: &str, id: &str) -> Result<Option<ProjectRow>, DbError>;
    async fn project_named(&self, org_id: &str, name: &str) -> Result<Option<ProjectRow>, DbError>;
    async fn count_projects(&self, org_id: &str) -> Result<u64, DbError>;
    /// [`DbError::Conflict`] when the organization has a project of that name.
    async fn insert_project(&self, project: &ProjectRow, audit: &AuditRow) -> Result<(), DbError>;
    /// Replaces the project's name, client, colour, archived flag and update time.
    async fn update_project(&self, project: &ProjectRow, audit: &AuditRow) -> Result<(), DbError>;
    /// Every (project id, user id) membership of the organization's projects.
    async fn project_members(&self, org_id: &str) -> Result<Vec<(String, String)>, DbError>;
    /// Replaces the project's members.
    async fn set_project_members(
        &self,
        project_id: &str,
        users: &[String],
        audit: &AuditRow,
    ) -> Result<(), DbError>;

    /// The organization's tasks, archived ones too.
    async fn task_rows(&self, org_id: &str) -> Result<Vec<TaskRow>, DbError>;
    async fn task_row(&self, org_id: &str, id: &str) -> Result<Option<TaskRow>, DbError>;
    /// Stores a task and, when given, the new project it opens, with their audit rows.
    async fn insert_task(
        &self,
        task: &TaskRow,
        new_project: Option<&ProjectRow>,
        audits: &[AuditRow],
    ) -> Result<(), DbError>;
    /// Replaces the task's name, project and archived flag.
    async fn update_task(&self, task: &TaskRow, audit: &AuditRow) -> Result<(), DbError>;
    /// What `GET /api/v1/tasks` lists for this person: tasks that are not archived, outside
    /// any project or in a project that is not archived and either has no members, has them
    /// among its members, or they are an admin. By project name, then name.
    async fn visible_tasks(
        &self,
        org_id: &str,
        user_id: &str,
        admin: bool,
    ) -> Result<Vec<Task>, DbError>;
}

/// Implements [`ProjectStore`] for a backend with a `pool` field of sqlx database `$db`, in
/// the module where `timesheet_store!` gave it `audit_in`.
macro_rules! project_store {
    ($backend:ty, $db:ty) => {
        // A scope of its own, so the expansion names what it uses once.
        const _: () = {
            use metron_core::wire::Task;
            use $crate::db::projects::{ProjectRow, ProjectStore, TaskRow};
            use $crate::db::timesheets::AuditRow;
            use $crate::db::{classify, DbError};

            impl $backend {
                async fn insert_project_in(
                    tx: &mut sqlx::Transaction<'_, $db>,
                    p: &ProjectRow,
                ) -> Result<(), DbError> {
                    sqlx::query(
                        "INSERT INTO projects (id, org_id, name, client, colour, archived,
                         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&p.id)
                    .bind(&p.org_id)
                    .bind(&p.name)
                    .bind(&p.client)
                    .bind(&p.colour)
                    .bind(p.archived)
                    .bind(p.created_at)
                    .bind(p.updated_at)
                    .execute(&mut **tx)
                    .await
                    .map(drop)
                    .map_err(classify)
                }
            }

            #[async_trait::async_trait]
            impl ProjectStore for $backend {
                async fn projects(&self, org_id: &str) -> Result<Vec<ProjectRow>, DbError> {
                    sqlx::query_as(
                        "SELECT id, org_id, name, client, colour, archived, created_at, updated_at
                         FROM projects WHERE org_id = $1 ORDER BY name",
                    )
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn project(
                    &self,
                    org_id: &str,
                    id: &str,
                ) -> Result<Option<ProjectRow>, DbError> {
                    sqlx::query_as(
                        "SELECT id, org_id, name, client, colour, archived, created_at, updated_at
                         FROM projects WHERE org_id = $1 AND id = $2",
                    )
                    .bind(org_id)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn project_named(
                    &self,
                    org_id: &str,
                    name: &str,
                ) -> Result<Option<ProjectRow>, DbError> {
                    sqlx::query_as(
                        "SELECT id, org_id, name, client, colour, archived, created_at, updated_at
                         FROM projects WHERE org_id = $1 AND name = $2",
                    )
                    .bind(org_id)
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn count_projects(&self, org_id: &str) -> Result<u64, DbError> {
                    let n: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM projects WHERE org_id = $1")
                            .bind(org_id)
                            .fetch_one(&self.pool)
                            .await
                            .map_err(classify)?;
                    Ok(n.max(0) as u64)
                }

                async fn insert_project(
                    &self,
                    project: &ProjectRow,
                    audit: &AuditRow,
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    Self::insert_project_in(&mut tx, project).await?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn update_project(
                    &self,
                    p: &ProjectRow,
                    audit: &AuditRow,
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query(
                        "UPDATE projects SET name = $3, client = $4, colour = $5, archived = $6,
                         updated_at = $7 WHERE org_id = $1 AND id = $2",
                    )
                    .bind(&p.org_id)
                    .bind(&p.id)
                    .bind(&p.name)
                    .bind(&p.client)
                    .bind(&p.colour)
                    .bind(p.archived)
                    .bind(p.updated_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn project_members(
                    &self,
                    org_id: &str,
                ) -> Result<Vec<(String, String)>, DbError> {
                    sqlx::query_as(
                        "SELECT m.project_id, m.user_id FROM project_members m
                         JOIN projects p ON p.id = m.project_id
                         WHERE p.org_id = $1 ORDER BY m.project_id, m.user_id",
                    )
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn set_project_members(
                    &self,
                    project_id: &str,
                    users: &[String],
                    audit: &AuditRow,
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query("DELETE FROM project_members WHERE project_id = $1")
                        .bind(project_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    for user in users {
                        sqlx::query(
                            "INSERT INTO project_members (project_id, user_id) VALUES ($1, $2)",
                        )
                        .bind(project_id)
                        .bind(user)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    }
                    // The update time moves too: the members are part of the project.
                    sqlx::query("UPDATE projects SET updated_at = $2 WHERE id = $1")
                        .bind(project_id)
                        .bind(audit.at)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn task_rows(&self, org_id: &str) -> Result<Vec<TaskRow>, DbError> {
                    sqlx::query_as(
                        "SELECT id, org_id, name, project_id, archived FROM tasks
                         WHERE org_id = $1 ORDER BY name, id",
                    )
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn task_row(
                    &self,
                    org_id: &str,
                    id: &str,
                ) -> Result<Option<TaskRow>, DbError> {
                    sqlx::query_as(
                        "SELECT id, org_id, name, project_id, archived FROM tasks
                         WHERE org_id = $1 AND id = $2",
                    )
                    .bind(org_id)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn insert_task(
                    &self,
                    t: &TaskRow,
                    new_project: Option<&ProjectRow>,
                    audits: &[AuditRow],
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    if let Some(p) = new_project {
                        Self::insert_project_in(&mut tx, p).await?;
                    }
                    sqlx::query(
                        "INSERT INTO tasks (id, org_id, name, project_id, archived)
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&t.id)
                    .bind(&t.org_id)
                    .bind(&t.name)
                    .bind(&t.project_id)
                    .bind(t.archived)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    for audit in audits {
                        Self::audit_in(&mut tx, audit).await?;
                    }
                    tx.commit().await.map_err(classify)
                }

                async fn update_task(&self, t: &TaskRow, audit: &AuditRow) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query(
                        "UPDATE tasks SET name = $3, project_id = $4, archived = $5
                         WHERE org_id = $1 AND id = $2",
                    )
                    .bind(&t.org_id)
                    .bind(&t.id)
                    .bind(&t.name)
                    .bind(&t.project_id)
                    .bind(t.archived)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn visible_tasks(
                    &self,
                    org_id: &str,
                    user_id: &str,
                    admin: bool,
                ) -> Result<Vec<Task>, DbError> {
                    let rows: Vec<(String, String, String)> = sqlx::query_as(
                        "SELECT t.id, t.name, COALESCE(p.name, '') AS project
                         FROM tasks t LEFT JOIN projects p ON p.id = t.project_id
                         WHERE t.org_id = $1 AND t.archived = 0
                           AND (p.id IS NULL OR (p.archived = 0 AND (
                               $3 = 1
                               OR NOT EXISTS (SELECT 1 FROM project_members m
                                              WHERE m.project_id = p.id)
                               OR EXISTS (SELECT 1 FROM project_members m
                                          WHERE m.project_id = p.id AND m.user_id = $2))))
                         ORDER BY project, t.name, t.id",
                    )
                    .bind(org_id)
                    .bind(user_id)
                    .bind(i32::from(admin))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, name, project)| Task { id, name, project })
                        .collect())
                }
            }
        };
    };
}
pub(crate) use project_store;
