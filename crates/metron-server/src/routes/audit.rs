//! The audit trail of changes to people's time (issue 16): who changed whose time, when,
//! what (before and after) and why.

use axum::extract::{OriginalUri, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ApiError;
use crate::extract::{AuthUser, QueryParams};
use crate::routes::paging::{page_of, respond};
use crate::routes::requests::{parse_range, time};
use crate::timesheets::subject;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit_trail))
}

/// One line of the audit trail.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    /// Whose time it concerns; null for a change to the organization itself (its settings,
    /// rules, thresholds, announcement, sign-in: `organization.*`, `rules.*`), never an empty id
    /// a client could put in a path.
    pub user_id: Option<String>,
    /// Who made the change.
    pub actor_id: String,
    pub at: DateTime<Utc>,
    /// What was done, such as `manual_entry.create`, `correction.approve`,
    /// `timesheet.unlock`, `policy.set`, `managers.set`.
    pub action: String,
    /// The id of the entry, correction, period (`week:2026-11-23`) or organization.
    pub subject_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Whose time (reviewers: the people they review; admins may leave it out for the whole
    /// organization); default the caller.
    user_id: Option<String>,
    /// `all` (admins): everyone's.
    #[param(pattern = "^all$")]
    scope: Option<String>,
    /// Start of the range (RFC 3339).
    #[param(format = DateTime, required = true)]
    from: Option<String>,
    /// End of the range (RFC 3339), exclusive; at most 366 days after `from`.
    #[param(format = DateTime, required = true)]
    to: Option<String>,
    /// Rows a page (1 to 1,000; default 1,000).
    limit: Option<u32>,
    /// The cursor of the next page, from the previous page's `Link: rel="next"` header.
    after: Option<String>,
}

/// The audit trail of a person's time (their own for everyone; the people they review for
/// reviewers; the whole organization for admins with `scope=all`), newest first, a page at a
/// time: a `Link: <...>; rel="next"` header says there is more and where.
#[utoipa::path(get, tag = "timesheets", path = "/api/v1/audit", security(("bearer" = [])), params(AuditQuery), responses(
    (status = 200, body = Vec<AuditEntry>),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn audit_trail(
    State(state): State<AppState>,
    auth: AuthUser,
    uri: OriginalUri,
    QueryParams(q): QueryParams<AuditQuery>,
) -> Result<Response, ApiError> {
    let (from, to) = parse_range(q.from.as_deref(), q.to.as_deref())?;
    let page = page_of(q.limit, q.after.as_deref())?;
    let user = match q.scope.as_deref() {
        Some("all") => {
            auth.require_admin("read the whole organization's audit trail")?;
            None
        }
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "scope must be all, not {other:?}"
            )))
        }
        None => {
            let who = subject(&state, &auth.user, q.user_id.as_deref()).await?;
            let scope = format!("{}/{}", from.to_rfc3339(), to.to_rfc3339());
            crate::own_data::access::record(
                &state,
                &auth.user,
                &who,
                crate::own_data::access::Read::Audit,
                &scope,
            )
            .await?;
            Some(who.user.id)
        }
    };
    let rows = state
        .db
        .audit(
            &auth.user.org_id,
            user.as_deref(),
            from.timestamp(),
            to.timestamp(),
            &page,
        )
        .await?;
    let json = |v: &Option<String>| v.as_deref().and_then(|t| serde_json::from_str(t).ok());
    let entries: Vec<AuditEntry> = rows
        .iter()
        .map(|r| AuditEntry {
            id: r.id.clone(),
            user_id: Some(r.user_id.clone()).filter(|id| !id.is_empty()),
            actor_id: r.actor_id.clone(),
            at: time(r.at),
            action: r.action.clone(),
            subject_id: r.subject_id.clone(),
            before: json(&r.before),
            after: json(&r.after),
            reason: r.reason.clone(),
        })
        .collect();
    Ok(respond(entries, &page, &uri.0, |e| {
        (e.at.timestamp(), e.id.clone())
    }))
}
