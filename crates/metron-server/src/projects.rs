//! Projects and tasks (issue 28): what a name, a client and a colour may be, who may change
//! what, and the audit row of every change. Shared by the API (`routes::projects`,
//! `routes::tasks`) and the `metron-server project|task ...` commands, so both check and
//! record alike; storage is `db::projects`.
//!
//! Changes to projects and tasks are the organization's, not one person's time: their audit
//! rows are the organization's (`timesheets::org_audit`: no `user_id`; by the admin or member
//! who made them, or by the server's command line), as the settings' rows are.

use chrono::{DateTime, Utc};
use metron_core::limits;
use metron_core::wire::{NewTask, Task};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

use crate::db::timesheets::AuditRow;
use crate::db::{DbError, ProjectRow, TaskRow, UserRow};
use crate::error::ApiError;
use crate::timesheets::org_audit;
use crate::AppState;

/// The colours a new project is given in turn when none is asked for (any `#rrggbb` may be
/// asked for). Migration 0014 coloured the projects it made from the same list, in order.
pub const PALETTE: [&str; 8] = [
    "#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563",
];
/// Members of one project, at most (as many as one manager's people).
pub const MAX_MEMBERS: usize = 1_000;
/// Who makes a change, in which organization: a person signed in, or (none) the server's
/// command line or the server setting itself up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub org_id: String,
    pub user: Option<UserRow>,
}

impl Actor {
    pub fn user(user: &UserRow) -> Actor {
        Actor {
            org_id: user.org_id.clone(),
            user: Some(user.clone()),
        }
    }

    /// A command on the server's shell, acting for the organization `org_id`.
    pub fn operator(org_id: &str) -> Actor {
        Actor {
            org_id: org_id.to_string(),
            user: None,
        }
    }

    fn audit(
        &self,
        action: &str,
        subject_id: &str,
        before: Option<Value>,
        after: Value,
    ) -> AuditRow {
        org_audit(
            &self.org_id,
            self.user.as_ref(),
            action,
            subject_id,
            before,
            Some(after),
        )
    }
}

/// A project as the API shows it, with its members and tasks.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProjectView {
    pub id: String,
    pub name: String,
    /// Empty: no client.
    pub client: String,
    /// `#rrggbb`.
    pub colour: String,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// User ids; empty: everyone of the organization sees its tasks.
    pub members: Vec<String>,
    /// Its tasks by name (archived ones only when asked for).
    pub tasks: Vec<TaskView>,
}

/// A task as the admins' API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskView {
    pub id: String,
    pub name: String,
    /// None: in no project.
    pub project_id: Option<String>,
    pub archived: bool,
}

impl From<&TaskRow> for TaskView {
    fn from(t: &TaskRow) -> Self {
        TaskView {
            id: t.id.clone(),
            name: t.name.clone(),
            project_id: t.project_id.clone(),
            archived: t.archived != 0,
        }
    }
}

/// `GET /api/v1/projects`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProjectList {
    pub projects: Vec<ProjectView>,
    /// Tasks in no project.
    pub unassigned: Vec<TaskView>,
}

/// `POST /api/v1/projects`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    /// 1 to 200 bytes, unique in the organization.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// At most 200 bytes.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub client: String,
    /// `#rrggbb`; left out: the next colour of the palette.
    #[serde(default)]
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    pub colour: Option<String>,
}

/// `PATCH /api/v1/projects/{id}`: the fields to change (at least one).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectChange {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub client: Option<String>,
    #[serde(default)]
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    pub colour: Option<String>,
    /// True archives the project (its tasks leave the app's lists), false restores it.
    #[serde(default)]
    pub archived: Option<bool>,
}

/// `PATCH /api/v1/tasks/{id}`: the fields to change (at least one).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskChange {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    /// The project to move the task to; the empty string: into no project.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub project_id: Option<String>,
    /// True archives the task, false restores it.
    #[serde(default)]
    pub archived: Option<bool>,
}

/// A project's members (`PUT /api/v1/projects/{id}/members`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Members {
    /// User ids of the organization (at most 1,000); empty: everyone sees the project's tasks.
    pub users: Vec<String>,
}

/// A name (of a project or a task): trimmed, no control characters, format characters
/// dropped, 1 to 200 bytes.
pub fn checked_name(field: &str, text: &str) -> Result<String, ApiError> {
    let text = checked_text(field, text)?;
    if text.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "{field} needs 1 to {} bytes",
            limits::MAX_TASK_TEXT
        )));
    }
    Ok(text)
}

/// A text that may be empty (a client, a task's project name), checked as a name is.
pub fn checked_text(field: &str, text: &str) -> Result<String, ApiError> {
    let plain = limits::plain_text(field, text.trim()).map_err(ApiError::BadRequest)?;
    let plain = plain.trim().to_string();
    limits::check_text(field, &plain, limits::MAX_TASK_TEXT).map_err(ApiError::BadRequest)?;
    Ok(plain)
}

/// A colour: `#rrggbb` in hex digits, returned in lower case.
pub fn checked_colour(text: &str) -> Result<String, ApiError> {
    let hex = text.strip_prefix('#').unwrap_or("");
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::BadRequest(format!(
            "colour must be #rrggbb in hex digits, such as {}",
            PALETTE[0]
        )));
    }
    Ok(text.to_ascii_lowercase())
}

fn time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

fn project_fields(p: &ProjectRow) -> Value {
    json!({"name": p.name, "client": p.client, "colour": p.colour, "archived": p.archived != 0})
}

fn task_fields(t: &TaskRow) -> Value {
    json!({"name": t.name, "project_id": t.project_id, "archived": t.archived != 0})
}

fn name_taken(name: &str) -> ApiError {
    ApiError::Conflict(format!("the organization has a project named {name:?}"))
}

/// The organization's projects by name, each with its members and tasks, and the tasks in no
/// project; archived projects and tasks only when `archived`.
pub async fn list(state: &AppState, org_id: &str, archived: bool) -> Result<ProjectList, ApiError> {
    let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (project, user) in state.db.project_members(org_id).await? {
        members.entry(project).or_default().push(user);
    }
    let mut tasks: BTreeMap<Option<String>, Vec<TaskView>> = BTreeMap::new();
    for t in state.db.task_rows(org_id).await? {
        if archived || t.archived == 0 {
            tasks
                .entry(t.project_id.clone())
                .or_default()
                .push((&t).into());
        }
    }
    let projects = state
        .db
        .projects(org_id)
        .await?
        .into_iter()
        .filter(|p| archived || p.archived == 0)
        .map(|p| ProjectView {
            members: members.remove(&p.id).unwrap_or_default(),
            tasks: tasks.remove(&Some(p.id.clone())).unwrap_or_default(),
            ..view(p)
        })
        .collect();
    Ok(ProjectList {
        projects,
        unassigned: tasks.remove(&None).unwrap_or_default(),
    })
}

fn view(p: ProjectRow) -> ProjectView {
    ProjectView {
        archived: p.archived != 0,
        created_at: time(p.created_at),
        updated_at: time(p.updated_at),
        id: p.id,
        name: p.name,
        client: p.client,
        colour: p.colour,
        members: Vec::new(),
        tasks: Vec::new(),
    }
}

/// One project of the organization, with its members and tasks (archived ones too).
pub async fn project_view(
    state: &AppState,
    org_id: &str,
    id: &str,
) -> Result<ProjectView, ApiError> {
    let all = list(state, org_id, true).await?;
    all.projects
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| no_project(id))
}

fn no_project(id: &str) -> ApiError {
    ApiError::NotFound(format!("no project {id} in your organization"))
}

/// The project `id` of the organization, or 404.
pub async fn find_project(
    state: &AppState,
    org_id: &str,
    id: &str,
) -> Result<ProjectRow, ApiError> {
    state
        .db
        .project(org_id, id)
        .await?
        .ok_or_else(|| no_project(id))
}

/// The project of the organization named `name` (exactly), or 404.
pub async fn project_named(
    state: &AppState,
    org_id: &str,
    name: &str,
) -> Result<ProjectRow, ApiError> {
    state
        .db
        .project_named(org_id, name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no project named {name:?}")))
}

/// A new project row (not stored), after the cap and the name are checked.
async fn new_project_row(
    state: &AppState,
    org_id: &str,
    name: String,
    client: String,
    colour: Option<String>,
) -> Result<ProjectRow, ApiError> {
    let count = state.db.count_projects(org_id).await?;
    let cap = state.limits.max_projects_per_org;
    if count >= cap {
        return Err(ApiError::Conflict(format!(
            "the organization has {cap} projects, the most it may have"
        )));
    }
    if state.db.project_named(org_id, &name).await?.is_some() {
        return Err(name_taken(&name));
    }
    let colour = match colour {
        Some(c) => checked_colour(&c)?,
        None => PALETTE[(count % PALETTE.len() as u64) as usize].to_string(),
    };
    let now = Utc::now().timestamp();
    Ok(ProjectRow {
        id: uuid::Uuid::now_v7().to_string(),
        org_id: org_id.to_string(),
        name,
        client,
        colour,
        archived: 0,
        created_at: now,
        updated_at: now,
    })
}

/// Creates a project.
pub async fn create_project(
    state: &AppState,
    actor: &Actor,
    new: NewProject,
) -> Result<ProjectView, ApiError> {
    let name = checked_name("name", &new.name)?;
    let client = checked_text("client", &new.client)?;
    let row = new_project_row(state, &actor.org_id, name, client, new.colour).await?;
    let audit = actor.audit("project.create", &row.id, None, project_fields(&row));
    match state.db.insert_project(&row, &audit).await {
        Err(DbError::Conflict(_)) => Err(name_taken(&row.name)),
        other => other.map_err(ApiError::from),
    }?;
    Ok(view(row))
}

/// Renames a project, sets its client or colour, archives or restores it.
pub async fn change_project(
    state: &AppState,
    actor: &Actor,
    id: &str,
    change: ProjectChange,
) -> Result<ProjectView, ApiError> {
    let before = find_project(state, &actor.org_id, id).await?;
    let mut after = before.clone();
    if let Some(name) = &change.name {
        after.name = checked_name("name", name)?;
    }
    if let Some(client) = &change.client {
        after.client = checked_text("client", client)?;
    }
    if let Some(colour) = &change.colour {
        after.colour = checked_colour(colour)?;
    }
    if let Some(archived) = change.archived {
        after.archived = i32::from(archived);
    }
    if change.name.is_none()
        && change.client.is_none()
        && change.colour.is_none()
        && change.archived.is_none()
    {
        return Err(ApiError::BadRequest(
            "name, client, colour or archived: say what changes".into(),
        ));
    }
    if after.name != before.name
        && state
            .db
            .project_named(&actor.org_id, &after.name)
            .await?
            .is_some()
    {
        return Err(name_taken(&after.name));
    }
    let only_archived = (&after.name, &after.client, &after.colour)
        == (&before.name, &before.client, &before.colour);
    let action = match (only_archived, before.archived, after.archived) {
        (true, 0, 1) => "project.archive",
        (true, 1, 0) => "project.restore",
        _ => "project.update",
    };
    after.updated_at = Utc::now().timestamp();
    let audit = actor.audit(
        action,
        id,
        Some(project_fields(&before)),
        project_fields(&after),
    );
    match state.db.update_project(&after, &audit).await {
        Err(DbError::Conflict(_)) => Err(name_taken(&after.name)),
        other => other.map_err(ApiError::from),
    }?;
    project_view(state, &actor.org_id, id).await
}

/// Replaces a project's members (people of the organization); returns them, sorted.
pub async fn set_members(
    state: &AppState,
    actor: &Actor,
    id: &str,
    users: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    let project = find_project(state, &actor.org_id, id).await?;
    if users.len() > MAX_MEMBERS {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_MEMBERS} members per project"
        )));
    }
    let mut users = users;
    users.sort();
    users.dedup();
    for user in &users {
        match state.db.user_by_id(user).await? {
            Some(row) if row.org_id == actor.org_id => {}
            _ => {
                return Err(ApiError::NotFound(format!(
                    "no user {user} in your organization"
                )))
            }
        }
    }
    let before: Vec<String> = state
        .db
        .project_members(&actor.org_id)
        .await?
        .into_iter()
        .filter(|(p, _)| *p == project.id)
        .map(|(_, u)| u)
        .collect();
    let audit = actor.audit(
        "project.members",
        id,
        Some(json!({ "users": before })),
        json!({ "users": users }),
    );
    state.db.set_project_members(id, &users, &audit).await?;
    Ok(users)
}

/// Creates a task in the project named by `task.project` (opened when the organization has
/// none of that name; refused when it is archived), within the caps.
pub async fn create_task(state: &AppState, actor: &Actor, task: NewTask) -> Result<Task, ApiError> {
    let name = checked_name("name", &task.name)?;
    let project_name = checked_text("project", &task.project)?;
    let org = &actor.org_id;
    let cap = state.limits.max_tasks_per_org;
    if state.db.count_tasks(org).await? >= cap {
        return Err(ApiError::Conflict(format!(
            "the organization has {cap} tasks, the most it may have"
        )));
    }
    // Twice at most: a project of the same name opened by another request meanwhile is
    // found the second time.
    for _ in 0..2 {
        let (project_id, new_project) = if project_name.is_empty() {
            (None, None)
        } else {
            match state.db.project_named(org, &project_name).await? {
                Some(p) if p.archived != 0 => {
                    return Err(ApiError::Conflict(format!(
                        "the project {project_name:?} is archived; an admin can restore it"
                    )))
                }
                Some(p) => (Some(p.id), None),
                None => {
                    let p = new_project_row(state, org, project_name.clone(), String::new(), None)
                        .await?;
                    (Some(p.id.clone()), Some(p))
                }
            }
        };
        let row = TaskRow {
            id: uuid::Uuid::now_v7().to_string(),
            org_id: org.clone(),
            name: name.clone(),
            project_id,
            archived: 0,
        };
        let mut audits = Vec::new();
        if let Some(p) = &new_project {
            audits.push(actor.audit("project.create", &p.id, None, project_fields(p)));
        }
        audits.push(actor.audit("task.create", &row.id, None, task_fields(&row)));
        match state
            .db
            .insert_task(&row, new_project.as_ref(), &audits)
            .await
        {
            Err(DbError::Conflict(_)) if new_project.is_some() => continue,
            other => other?,
        }
        return Ok(Task {
            id: row.id,
            name: row.name,
            project: project_name,
        });
    }
    Err(name_taken(&project_name))
}

/// Renames a task, moves it to another project (or none), archives or restores it.
pub async fn change_task(
    state: &AppState,
    actor: &Actor,
    id: &str,
    change: TaskChange,
) -> Result<TaskView, ApiError> {
    let before = state
        .db
        .task_row(&actor.org_id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no task {id} in your organization")))?;
    if change.name.is_none() && change.project_id.is_none() && change.archived.is_none() {
        return Err(ApiError::BadRequest(
            "name, project_id or archived: say what changes".into(),
        ));
    }
    let mut after = before.clone();
    if let Some(name) = &change.name {
        after.name = checked_name("name", name)?;
    }
    match change.project_id.as_deref() {
        None => {}
        Some("") => after.project_id = None,
        Some(project) => {
            let p = find_project(state, &actor.org_id, project).await?;
            if p.archived != 0 && before.project_id.as_deref() != Some(project) {
                return Err(ApiError::Conflict(format!(
                    "the project {:?} is archived; restore it before moving tasks into it",
                    p.name
                )));
            }
            after.project_id = Some(p.id);
        }
    }
    if let Some(archived) = change.archived {
        after.archived = i32::from(archived);
    }
    let only_archived = (&after.name, &after.project_id) == (&before.name, &before.project_id);
    let action = match (only_archived, before.archived, after.archived) {
        (true, 0, 1) => "task.archive",
        (true, 1, 0) => "task.restore",
        _ => "task.update",
    };
    let audit = actor.audit(action, id, Some(task_fields(&before)), task_fields(&after));
    state.db.update_task(&after, &audit).await?;
    Ok((&after).into())
}

/// The task of the organization named `name` (exactly; in `project` when given), for the
/// commands: 404 when none, 409 when several match.
pub async fn task_named(
    state: &AppState,
    org_id: &str,
    name: &str,
    project: Option<&str>,
) -> Result<TaskRow, ApiError> {
    let project_id = match project {
        Some(p) => Some(project_named(state, org_id, p).await?.id),
        None => None,
    };
    let mut found = state.db.task_rows(org_id).await?.into_iter().filter(|t| {
        t.id == name || (t.name == name && (project_id.is_none() || t.project_id == project_id))
    });
    match (found.next(), found.next()) {
        (Some(t), None) => Ok(t),
        (None, _) => Err(ApiError::NotFound(format!("no task {name:?}"))),
        (Some(_), Some(_)) => Err(ApiError::Conflict(format!(
            "several tasks are named {name:?}: give --project or the task's id"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_six_hex_digits_kept_in_lower_case() {
        assert_eq!(checked_colour("#A1b2C3").unwrap(), "#a1b2c3");
        for bad in [
            "",
            "#",
            "a1b2c3",
            "#a1b2c",
            "#a1b2c3d",
            "#g1b2c3",
            "red",
            "#a1b2c3\n",
        ] {
            assert!(checked_colour(bad).is_err(), "{bad:?}");
        }
        for c in PALETTE {
            assert_eq!(checked_colour(c).unwrap(), c);
        }
    }

    #[test]
    fn names_are_trimmed_plain_and_bounded() {
        assert_eq!(checked_name("name", "  Q4 \u{200B}").unwrap(), "Q4");
        assert!(checked_name("name", "   ").is_err());
        assert!(checked_name("name", "a\nb").is_err());
        assert!(checked_name("name", &"x".repeat(201)).is_err());
        assert_eq!(checked_name("name", &"x".repeat(200)).unwrap().len(), 200);
        assert_eq!(checked_text("client", "").unwrap(), "");
    }
}
