//! Each person's own data (issue 28, `crate::own_data`): their export as a streamed ZIP (and
//! an admin's download of anyone's, e.g. before removing them), the access log of reads of
//! their data by others, the transparency notice and its acknowledgement, and an admin's
//! removal of a person (erasure).

use std::sync::Arc;

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::db::UserRow;
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, QueryParams};
use crate::own_data::access::{self, Read};
use crate::own_data::erase::{self, RemoveError, Remover};
use crate::own_data::notice::{self, Notice};
use crate::routes::paging::{page_of, respond};
use crate::routes::stream::streamed;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_export))
        .routes(routes!(user_export))
        .routes(routes!(access_log))
        .routes(routes!(my_notice))
        .routes(routes!(ack_notice))
        .routes(routes!(remove_user))
}

/// The ZIP of `who`, streamed; a few at once (503 with Retry-After past them).
async fn export_of(state: AppState, who: UserRow) -> Result<Response, ApiError> {
    let permit = tokio::time::timeout(
        state.limits.export_wait,
        Arc::clone(&state.exports).acquire_owned(),
    )
    .await
    .map_err(|_| ApiError::Busy { retry_after: 5 })?
    .map_err(|_| ApiError::Busy { retry_after: 5 })?;
    let name = who.user.email.replace(
        |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '@',
        "_",
    );
    let disposition = format!(
        "attachment; filename=\"metron-{name}-{}.zip\"",
        Utc::now().format("%Y-%m-%d")
    );
    let runtime = tokio::runtime::Handle::current();
    let budget = state.limits.max_export_bytes;
    streamed("application/zip", Some(disposition), budget, move |sink| {
        let _permit = permit;
        crate::own_data::export::write(&runtime, &state, &who, sink)
    })
}

/// Everything the server holds about you, as one ZIP of JSON and CSV (intervals with their
/// windows, titles, addresses and events; devices; manual entries; corrections; timesheets;
/// the audit rows and access log about you; kept days) with a README.txt naming the files.
/// Streamed (chunked). Past the server's export budget the files stop and `manifest.json`
/// says `complete: false` (README.txt too); an error after the answer started cuts the body.
#[utoipa::path(get, tag = "my data", path = "/api/v1/me/export", security(("bearer" = [])), responses(
    (status = 200, description = "The ZIP", content_type = "application/zip", body = Vec<u8>),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 503, description = "As many exports as the server runs at once are running: try again after Retry-After", body = metron_core::wire::ErrorBody)))]
pub async fn my_export(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Response, ApiError> {
    export_of(state, auth.user).await
}

/// A person's export (admins; e.g. before removing them). Recorded in the person's access log.
#[utoipa::path(get, tag = "my data", path = "/api/v1/users/{id}/export", security(("bearer" = [])), params(("id" = String, Path, description = "The user's id")), responses(
    (status = 200, description = "The ZIP, as `GET /api/v1/me/export` answers it to the person", content_type = "application/zip", body = Vec<u8>),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 503, description = "As many exports as the server runs at once are running: try again after Retry-After", body = metron_core::wire::ErrorBody)))]
pub async fn user_export(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth.require_admin("download another person's export")?;
    let who = auth.org_member(&state, &id).await?;
    access::record(&state, &auth.user, &who, Read::Export, "").await?;
    export_of(state, who).await
}

/// One read of your data by someone else.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessEntry {
    pub id: String,
    /// When (the first such read of its hour).
    pub at: DateTime<Utc>,
    /// The reader's id; empty once the reader was removed.
    pub reader_id: String,
    /// The reader's name and email (absent once removed).
    pub reader_name: Option<String>,
    pub reader_email: Option<String>,
    /// `admin` or `manager` (as the reader is now), absent once removed.
    pub reader_role: Option<String>,
    /// `day`, `timesheet`, `manual_entries`, `corrections`, `audit`, `events`, `devices`,
    /// `export`.
    pub what: String,
    /// The day (YYYY-MM-DD), period (`week:2026-11-23`) or range read; empty for all.
    pub scope: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessQuery {
    /// Rows a page (1 to 1,000; default 1,000).
    limit: Option<u32>,
    /// The cursor of the next page, from the previous page's `Link: rel="next"` header.
    after: Option<String>,
}

/// Who else (a manager, an admin) read your day, timesheet, entries, corrections, audit
/// trail, events, devices or export, newest first, a page at a time (`Link: rel="next"`).
/// One row per reader, kind and scope an hour. Your own reads are not recorded.
#[utoipa::path(get, tag = "my data", path = "/api/v1/me/access-log", security(("bearer" = [])), params(AccessQuery), responses(
    (status = 200, body = Vec<AccessEntry>),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn access_log(
    State(state): State<AppState>,
    auth: AuthUser,
    uri: OriginalUri,
    QueryParams(q): QueryParams<AccessQuery>,
) -> Result<Response, ApiError> {
    let page = page_of(q.limit, q.after.as_deref())?;
    let rows = state.db.access_log(&auth.user.user.id, &page).await?;
    let mut readers: std::collections::HashMap<String, Option<(UserRow, bool)>> =
        Default::default();
    let mut entries = Vec::with_capacity(rows.len());
    for r in rows {
        if !readers.contains_key(&r.reader_id) {
            let reader = match state.db.user_by_id(&r.reader_id).await? {
                Some(u) => {
                    let manages = state
                        .db
                        .managed(&u.user.id)
                        .await?
                        .contains(&auth.user.user.id);
                    Some((u, manages))
                }
                None => None,
            };
            readers.insert(r.reader_id.clone(), reader);
        }
        let reader = readers.get(&r.reader_id).and_then(Option::as_ref);
        entries.push(AccessEntry {
            id: r.id,
            at: DateTime::from_timestamp(r.at, 0).unwrap_or_default(),
            reader_id: r.reader_id,
            reader_name: reader.map(|(u, _)| u.user.name.clone()),
            reader_email: reader.map(|(u, _)| u.user.email.clone()),
            reader_role: reader.map(|(u, manages)| {
                if u.user.admin {
                    "admin"
                } else if *manages {
                    "manager"
                } else {
                    "former manager"
                }
                .to_string()
            }),
            what: r.what,
            scope: r.scope,
        });
    }
    Ok(respond(entries, &page, &uri.0, |e| {
        (e.at.timestamp(), e.id.clone())
    }))
}

/// The transparency notice: what is collected about you, what never is, who sees what and
/// how long it is kept, from the organization's settings as they stand (structured, and in
/// English and Russian sentences), and whether you acknowledged this version.
#[utoipa::path(get, tag = "my data", path = "/api/v1/me/notice", security(("bearer" = [])), responses(
    (status = 200, body = Notice),
    (status = 401, body = metron_core::wire::ErrorBody)))]
pub async fn my_notice(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Notice>, ApiError> {
    Ok(Json(notice::notice(&state, &auth.user).await?))
}

/// The version of the notice acknowledged.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeAck {
    /// The `version` of the notice shown (16 hex digits).
    #[schema(max_length = 64)]
    pub version: String,
}

/// Acknowledge the notice you were shown; 409 when it changed meanwhile (show the new one).
#[utoipa::path(post, tag = "my data", path = "/api/v1/me/notice/ack", security(("bearer" = [])), request_body = NoticeAck, responses(
    (status = 200, body = Notice),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn ack_notice(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(body): JsonBody<NoticeAck>,
) -> Result<Json<Notice>, ApiError> {
    let current = notice::notice(&state, &auth.user).await?;
    if body.version != current.version {
        return Err(ApiError::Conflict(format!(
            "the notice changed (now version {}): read it again before acknowledging it",
            current.version
        )));
    }
    state
        .db
        .ack_notice(&auth.user.user.id, &current.version, Utc::now().timestamp())
        .await?;
    Ok(Json(notice::notice(&state, &auth.user).await?))
}

/// What a removal deleted.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RemovedPerson {
    /// The audit trail's tombstone row.
    pub tombstone: String,
    /// Rows deleted per table.
    pub deleted: std::collections::BTreeMap<String, u64>,
    /// Earlier audit rows about the person whose content was erased.
    pub erased_audit_rows: u64,
}

/// Remove a person (admins): everything the server holds of them is deleted in one
/// transaction (intervals, events, devices, entries, corrections, kept days, timesheets,
/// tokens, manager links, access log); the audit trail keeps a tombstone with counts and
/// erases the content of the rows about them. Download their export first
/// (`GET /api/v1/users/{id}/export`) if it is wanted. The last admin can't be removed (409),
/// nor can you remove yourself (400).
#[utoipa::path(delete, tag = "users", path = "/api/v1/users/{id}", security(("bearer" = [])), params(("id" = String, Path, description = "The user's id")), responses(
    (status = 200, body = RemovedPerson),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 409, body = metron_core::wire::ErrorBody)))]
pub async fn remove_user(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<RemovedPerson>), ApiError> {
    auth.require_admin("remove people")?;
    let who = auth.org_member(&state, &id).await?;
    if who.user.id == auth.user.user.id {
        return Err(ApiError::BadRequest(
            "you can't remove yourself; ask another admin".into(),
        ));
    }
    let removed = erase::remove(&state, Remover::Admin(&auth.user), &who)
        .await
        .map_err(|e| match e {
            RemoveError::LastAdmin(_) => ApiError::Conflict(e.to_string()),
            RemoveError::Db(db) => db.into(),
        })?;
    let mut deleted = std::collections::BTreeMap::new();
    for (table, n) in removed.counts {
        *deleted.entry(table.to_string()).or_insert(0) += n;
    }
    Ok((
        StatusCode::OK,
        Json(RemovedPerson {
            tombstone: removed.tombstone,
            deleted,
            erased_audit_rows: removed.erased_audit_rows,
        }),
    ))
}
