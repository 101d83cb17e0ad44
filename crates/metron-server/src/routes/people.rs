//! The organization's people (issue 28's first part): who they are, their role, whether they
//! are disabled, who manages them, and when and with what their devices were last seen. An
//! admin lists everyone of the organization; a manager the people they manage; anyone else
//! is refused. Filtered on the server (name or email, role, status, manager); an organization
//! is bounded, so the list is whole and never cut.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use metron_core::device::DeviceInfo;
use metron_core::wire::User;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ApiError;
use crate::extract::{AuthUser, QueryParams};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(people))
}

/// The longest search text.
const MAX_SEARCH_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the organization: reads and decides on everyone's time.
    Admin,
    /// Reviews the people an admin gave them: holds the stored manager role (set with PUT
    /// /api/v1/users/{id}/role or an invitation) or manages someone.
    Manager,
    Member,
}

/// One person as the people list shows them.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Person {
    #[serde(flatten)]
    pub user: User,
    pub role: Role,
    /// Disabled people can't sign in; their time stays.
    pub disabled: bool,
    /// The ids of their managers.
    pub managers: Vec<String>,
    /// When any of their devices was last seen (an interval's end or a report); null if none.
    pub last_seen: Option<DateTime<Utc>>,
    /// How many devices they have.
    pub devices: u32,
    /// The Metron version of their most recently seen device that reported one.
    pub app_version: Option<String>,
}

/// A person's devices as the list sums them up: how many, when last seen (unix seconds), and
/// the newest reported version with when its device was seen.
#[derive(Default)]
struct DeviceSummary {
    count: u32,
    last_seen: Option<i64>,
    version: Option<(i64, String)>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// Part of the name or email, any case (at most 200 characters).
    q: Option<String>,
    /// `admin`, `manager` or `member`.
    #[param(pattern = "^(admin|manager|member)$")]
    role: Option<String>,
    /// `active` or `disabled`.
    #[param(pattern = "^(active|disabled)$")]
    status: Option<String>,
    /// Only the people this manager manages.
    manager_id: Option<String>,
}

/// The organization's people (admins) or the people the caller manages (managers), by name.
#[utoipa::path(get, tag = "users", path = "/api/v1/users", security(("bearer" = [])), params(PeopleQuery), responses(
    (status = 200, body = Vec<Person>),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody)))]
pub async fn people(
    State(state): State<AppState>,
    auth: AuthUser,
    QueryParams(q): QueryParams<PeopleQuery>,
) -> Result<Json<Vec<Person>>, ApiError> {
    let search = match q.q.as_deref().map(str::trim) {
        Some(t) if t.chars().count() > MAX_SEARCH_CHARS => {
            return Err(ApiError::BadRequest(format!(
                "q is longer than {MAX_SEARCH_CHARS} characters"
            )))
        }
        Some(t) if !t.is_empty() => Some(t.to_lowercase()),
        _ => None,
    };
    let role = match q.role.as_deref() {
        None => None,
        Some("admin") => Some(Role::Admin),
        Some("manager") => Some(Role::Manager),
        Some("member") => Some(Role::Member),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "role must be admin, manager or member, not {other:?}"
            )))
        }
    };
    let disabled = match q.status.as_deref() {
        None => None,
        Some("active") => Some(false),
        Some("disabled") => Some(true),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "status must be active or disabled, not {other:?}"
            )))
        }
    };
    let org = &auth.user.org_id;
    let pairs = state.db.org_managers(org).await?;
    let managers_of = |person: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(_, p)| p == person)
            .map(|(m, _)| m.clone())
            .collect()
    };
    // Managers: whoever manages someone, and whoever holds the stored role (issue 28: an admin
    // makes someone a manager before giving them people).
    let flagged = state.db.manager_flags(org).await?;
    let is_manager: BTreeSet<&str> = pairs
        .iter()
        .map(|(m, _)| m.as_str())
        .chain(flagged.iter().map(String::as_str))
        .collect();
    // Whom the caller may list: everyone (admins) or the people they manage.
    let visible: Option<BTreeSet<&str>> = if auth.user.user.admin {
        None
    } else if is_manager.contains(auth.user.user.id.as_str()) {
        Some(
            pairs
                .iter()
                .filter(|(m, _)| *m == auth.user.user.id)
                .map(|(_, p)| p.as_str())
                .collect(),
        )
    } else {
        return Err(ApiError::Forbidden(
            "only admins and managers list people".into(),
        ));
    };
    // Each person's devices: how many, when last seen, and the newest reported version.
    let mut devices: BTreeMap<String, DeviceSummary> = BTreeMap::new();
    for d in state.db.devices(org, None).await? {
        let summary = devices.entry(d.user_id.clone()).or_default();
        summary.count += 1;
        let seen = d.last_seen.max(d.reported_at.unwrap_or(i64::MIN));
        summary.last_seen = Some(summary.last_seen.map_or(seen, |s| s.max(seen)));
        let version = d
            .info
            .as_deref()
            .and_then(|i| serde_json::from_str::<DeviceInfo>(i).ok())
            .map(|i| i.app_version);
        if let Some(v) = version {
            if summary.version.as_ref().is_none_or(|(at, _)| seen > *at) {
                summary.version = Some((seen, v));
            }
        }
    }
    let mut out = Vec::new();
    for row in state.db.org_user_rows(org).await? {
        if visible
            .as_ref()
            .is_some_and(|v| !v.contains(row.user.id.as_str()))
        {
            continue;
        }
        let person_role = if row.user.admin {
            Role::Admin
        } else if is_manager.contains(row.user.id.as_str()) {
            Role::Manager
        } else {
            Role::Member
        };
        let managers = managers_of(&row.user.id);
        let keep = role.is_none_or(|r| r == person_role)
            && disabled.is_none_or(|d| d == row.disabled)
            && q.manager_id.as_ref().is_none_or(|m| managers.contains(m))
            && search.as_ref().is_none_or(|s| {
                row.user.name.to_lowercase().contains(s)
                    || row.user.email.to_lowercase().contains(s)
            });
        if !keep {
            continue;
        }
        let summary = devices.remove(&row.user.id).unwrap_or_default();
        out.push(Person {
            role: person_role,
            disabled: row.disabled,
            managers,
            last_seen: summary
                .last_seen
                .and_then(|s| DateTime::from_timestamp(s, 0)),
            devices: summary.count,
            app_version: summary.version.map(|(_, v)| v),
            user: row.user,
        });
    }
    Ok(Json(out))
}
