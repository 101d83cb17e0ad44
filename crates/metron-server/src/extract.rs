//! The request extractors every handler uses, so a bad request is answered alike everywhere.
//!
//! The JSON body: axum's own answers malformed bodies in text/plain and insists on a
//! content type; the spec wants `{"error": ..}` with 400 for anything not JSON of the right
//! shape, 413 past 4 MiB, and 408 when the whole body has not arrived within the body timeout
//! (a client sending a byte a second can't hold a request open for days).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::AppState;

/// Largest request body accepted (SPEC §4).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let deadline = state.limits.body_timeout;
        let read = tokio::time::timeout(deadline, Bytes::from_request(req, state));
        let bytes = read
            .await
            .map_err(|_| ApiError::BodyTimeout(deadline.as_secs()))?
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::BadRequest(format!("unreadable body: {rejection}"))
                }
            })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
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
