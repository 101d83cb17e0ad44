//! The lifecycle every reviewed request shares: manual entries (`manual.rs`) and corrections
//! (`corrections.rs`). A request is created `approved` (in force) or `pending` by the policy;
//! a reviewer (an admin, or the person's manager; never for their own time) approves or denies
//! a pending one; the person or a reviewer withdraws one that holds time, inside the edit
//! window and an open period. Each step writes the request's before and after to the audit
//! trail and moves its status by compare-and-set, so two reviewers deciding at once can't both
//! succeed. The handlers stay per resource (their paths and OpenAPI text are their own) and add
//! only what is theirs: an entry's approval checks tracked time again.
//!
//! A new kind of reviewed request is a `RequestKind` and a table of the same shape with its
//! `RequestRow` (`db/timesheets.rs`), a [`Reviewed`] view here, and thin handlers.

use axum::Json;
use chrono::{DateTime, Utc};
use metron_core::timesheet::{Policy, Status, MAX_NOTE_CHARS};
use metron_core::wire::Verdict;
use serde::{Deserialize, Serialize};

use crate::db::timesheets::RequestRow;
use crate::db::UserRow;
use crate::error::ApiError;
use crate::extract::AuthUser;
use crate::routes::intervals::parse_time;
use crate::timesheets::{audit, ensure_open, reviews, MAX_RANGE_DAYS};
use crate::AppState;

/// A stored request with the view the API shows of it.
pub(crate) trait Reviewed: RequestRow {
    type View: Serialize + Send;
    fn view(&self) -> Result<Self::View, ApiError>;
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Whose (reviewers: the people they review); default the caller.
    pub(crate) user_id: Option<String>,
    /// Start of the range (RFC 3339).
    #[param(format = DateTime, required = true)]
    pub(crate) from: Option<String>,
    /// End of the range (RFC 3339), exclusive; at most 366 days after `from`.
    #[param(format = DateTime, required = true)]
    pub(crate) to: Option<String>,
    /// Rows a page (1 to 1,000; default 1,000).
    pub(crate) limit: Option<u32>,
    /// The cursor of the next page, from the previous page's `Link: rel="next"` header.
    pub(crate) after: Option<String>,
}

pub(crate) use crate::timesheets::time;

/// A note or reason as it is stored and shown to reviewers: at most [`MAX_NOTE_CHARS`], no
/// control characters, bidi and other format characters dropped
/// (`metron_core::limits::plain_text`).
pub(crate) fn plain_note(what: &str, text: &str) -> Result<String, ApiError> {
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::BadRequest(format!(
            "{what} is longer than {MAX_NOTE_CHARS} characters"
        )));
    }
    metron_core::limits::plain_text(what, text).map_err(ApiError::BadRequest)
}

/// A range of at most [`MAX_RANGE_DAYS`] from two required RFC 3339 query values.
pub(crate) fn parse_range(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let need = |name: &str, v: Option<&str>| {
        v.ok_or_else(|| ApiError::BadRequest(format!("{name} is required (RFC 3339)")))
            .and_then(|v| parse_time(name, v))
    };
    let (from, to) = (need("from", from)?, need("to", to)?);
    if to <= from || (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(ApiError::BadRequest(format!(
            "to must be after from, at most {MAX_RANGE_DAYS} days"
        )));
    }
    Ok((from, to))
}

/// The refusal of a person's own change to time before the organization's edit window.
pub(crate) fn outside_edit_window(policy: &Policy) -> ApiError {
    ApiError::Forbidden(format!(
        "time more than {} days back can't be changed (the organization's edit window)",
        policy.edit_window_days
    ))
}

/// The request `row` (as looked up by `id`) with the person it belongs to, if they are of
/// the caller's organization: anything else is "not found".
pub(crate) async fn in_org<R: Reviewed>(
    state: &AppState,
    auth: &AuthUser,
    id: &str,
    row: Option<R>,
) -> Result<(R, UserRow), ApiError> {
    let not_found = || ApiError::NotFound(format!("no {} {id}", R::KIND.name()));
    let row = row.ok_or_else(not_found)?;
    let owner = auth
        .org_member(state, row.user_id())
        .await
        .map_err(|_| not_found())?;
    Ok((row, owner))
}

/// Takes a request back: the person or a reviewer, while it holds time (pending or approved),
/// the person's own inside the edit window, and only in an open period. It stays on record as
/// `withdrawn`.
pub(crate) async fn withdraw<R: Reviewed>(
    state: &AppState,
    auth: &AuthUser,
    row: R,
    owner: UserRow,
    reason: &str,
) -> Result<Json<R::View>, ApiError> {
    let kind = R::KIND;
    let own = owner.user.id == auth.user.user.id;
    if !own && !reviews(state, &auth.user, &owner).await? {
        return Err(ApiError::Forbidden(format!(
            "only the person or their reviewer can withdraw {}",
            kind.a_noun()
        )));
    }
    let from = Status::parse(row.status()).unwrap_or(Status::Denied);
    if !from.holds_time() {
        return Err(ApiError::Conflict(format!(
            "the {} is already {}",
            kind.noun(),
            row.status()
        )));
    }
    let policy = state.db.timesheet_policy(&owner.org_id).await?;
    let (start, end) = row.span();
    if own && !auth.user.user.admin && time(start) < policy.window_start(Utc::now()) {
        return Err(outside_edit_window(&policy));
    }
    ensure_open(state, &owner, time(start), time(end), row.utc_offset()).await?;
    crate::budget::charge(state, &auth.user, &owner).await?;
    settle(state, auth, &owner, row, from, Status::Withdrawn, reason).await
}

/// Where a reviewer's decision moves a pending request, once it is checked that the caller
/// reviews the person and that the request is still pending.
pub(crate) async fn decision<R: Reviewed>(
    state: &AppState,
    auth: &AuthUser,
    row: &R,
    owner: &UserRow,
    verdict: Verdict,
) -> Result<Status, ApiError> {
    if !reviews(state, &auth.user, owner).await? {
        return Err(ApiError::Forbidden(
            "only an admin or the person's manager can decide on their time".into(),
        ));
    }
    if row.status() != Status::Pending.as_str() {
        return Err(ApiError::Conflict(format!(
            "the {} is already {}",
            R::KIND.noun(),
            row.status()
        )));
    }
    // A decision changes (or confirms) the figures of a period someone may already have
    // submitted or approved: it waits for an unlock, so a locked period's figures move only
    // by a reviewer's deliberate step.
    let (start, end) = row.span();
    ensure_open(state, owner, time(start), time(end), row.utc_offset()).await?;
    Ok(match verdict {
        Verdict::Approve => Status::Approved,
        Verdict::Deny => Status::Denied,
    })
}

/// Moves a request from `from` to `to` (a decision or a withdrawal by the caller, with
/// `note`), with its audit record: refused (409) if it left `from` meanwhile.
pub(crate) async fn settle<R: Reviewed>(
    state: &AppState,
    auth: &AuthUser,
    owner: &UserRow,
    row: R,
    from: Status,
    to: Status,
    note: &str,
) -> Result<Json<R::View>, ApiError> {
    let kind = R::KIND;
    let before = row.view()?;
    let now = Utc::now().timestamp();
    let by = &auth.user.user.id;
    let after_row = row.decided(to.as_str(), by, now, note);
    let after = after_row.view()?;
    let verb = match to {
        Status::Withdrawn => "withdraw",
        Status::Approved => "approve",
        _ => "deny",
    };
    let record = audit(
        &auth.user,
        owner,
        &format!("{}.{verb}", kind.audit_prefix()),
        after_row.id(),
        Some(serde_json::to_value(&before).expect("views serialize")),
        Some(serde_json::to_value(&after).expect("views serialize")),
        note,
    );
    let done = state
        .db
        .set_request_status(
            kind,
            after_row.id(),
            from.as_str(),
            to.as_str(),
            (by, now, Some(note)),
            &record,
        )
        .await?;
    if !done {
        return Err(ApiError::Conflict(format!(
            "the {} changed meanwhile; read it again",
            kind.noun()
        )));
    }
    Ok(Json(after))
}
