//! The request extractors every handler uses, so a bad request is answered alike everywhere.
//!
//! The caller: [`AuthUser`], from the bearer token (`crate::auth::session`), 401 without a
//! live one; [`Session`] also lets in a token that may only set up two-factor codes.
//!
//! The JSON body: axum's own answers malformed bodies in text/plain and insists on a
//! content type; the spec wants `{"error": ..}` with 400 for anything not JSON of the right
//! shape, 413 past 4 MiB, and 408 when the whole body has not arrived within the body timeout
//! (a client sending a byte a second can't hold a request open for days).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::auth::session;
use crate::db::UserRow;
use crate::error::ApiError;
use crate::AppState;

/// Largest request body accepted (SPEC §4).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let BodyBytes(bytes) = BodyBytes::from_request(req, state).await?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
    }
}

/// The body's bytes, read as [`JsonBody`] reads them (413 past the body limit, 408 past the
/// body timeout), for a handler that parses them itself.
pub struct BodyBytes(pub Bytes);

impl FromRequest<AppState> for BodyBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let deadline = state.limits.body_timeout;
        let read = tokio::time::timeout(deadline, Bytes::from_request(req, state));
        read.await
            .map_err(|_| ApiError::BodyTimeout(deadline.as_secs()))?
            .map(BodyBytes)
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::BadRequest(format!("unreadable body: {rejection}"))
                }
            })
    }
}

/// A UTF-8 text body (a CSV), read as [`JsonBody`] reads JSON: 413 past the body limit, 408
/// past the body timeout, 400 when it is not UTF-8, whatever its content type says.
pub struct TextBody(pub String);

impl FromRequest<AppState> for TextBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let BodyBytes(bytes) = BodyBytes::from_request(req, state).await?;
        String::from_utf8(bytes.to_vec())
            .map(TextBody)
            .map_err(|_| ApiError::BadRequest("the body is not UTF-8 text".into()))
    }
}

/// The query string as `T`: a malformed one is `400 {"error": "bad query: ..."}`, not axum's
/// text/plain answer.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| QueryParams(value))
            .map_err(|e| ApiError::BadRequest(format!("bad query: {e}")))
    }
}

/// The signed-in caller, and the hash of the token they used. A token that may only set up
/// two-factor codes ([`Session`]) is refused: 403 with an error starting
/// `second_factor_setup_required`.
pub struct AuthUser {
    pub user: UserRow,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await?;
        if session.enrol_only {
            return Err(ApiError::Forbidden(format!(
                "{}: your organization requires two-factor codes; set them up first",
                metron_core::wire::SECOND_FACTOR_SETUP_REQUIRED
            )));
        }
        Ok(AuthUser {
            user: session.user,
            token_hash: session.token_hash,
        })
    }
}

/// Any live session, including one given to a person the organization requires to have
/// two-factor codes before they set them up (`enrol_only`): what signing out, `/me` and the
/// person's own two-factor routes take. Every other route takes [`AuthUser`].
pub struct Session {
    pub user: UserRow,
    pub token_hash: String,
    pub enrol_only: bool,
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let hash = session::token_hash(token);
        let epoch = state.db.revocation_epoch().await?;
        let now = chrono::Utc::now().timestamp();
        let row = match state.auth.get(&hash, epoch) {
            Some(row) => row,
            None => {
                let mut row = state.db.token(&hash).await?.ok_or(ApiError::Unauthorized)?;
                session::judge_token(&row, now, &state.limits).map_err(refusal)?;
                if row
                    .last_used_at
                    .is_none_or(|t| now - t >= session::TOUCH_EVERY_SECS)
                {
                    state.db.touch_token(&hash, now).await?;
                    row.last_used_at = Some(now);
                }
                state.auth.put(hash.clone(), row.clone(), epoch);
                row
            }
        };
        // The lifetimes run out while an entry is cached too.
        session::judge_token(&row, now, &state.limits).map_err(refusal)?;
        Ok(Session {
            user: row.user,
            token_hash: hash,
            enrol_only: row.enrol_only,
        })
    }
}

impl AuthUser {
    /// Refuses (403) a caller who is not an admin: "only an admin can {to}".
    pub fn require_admin(&self, to: &str) -> Result<(), ApiError> {
        if self.user.user.admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("only an admin can {to}")))
        }
    }

    /// The user `id` of the caller's organization. Another organization's user is "not
    /// found", so ids can't be probed.
    pub async fn org_member(&self, state: &AppState, id: &str) -> Result<UserRow, ApiError> {
        match state.db.user_by_id(id).await? {
            Some(row) if row.org_id == self.user.org_id => Ok(row),
            _ => Err(ApiError::NotFound(format!(
                "no user {id} in your organization"
            ))),
        }
    }
}

fn refusal(why: session::TokenRefusal) -> ApiError {
    match why {
        session::TokenRefusal::Expired => ApiError::SessionExpired,
        session::TokenRefusal::Disabled => ApiError::Unauthorized,
    }
}
