//! API errors: every one answers `{"error": "..."}` with a fitting status. Internal details
//! (SQL, driver messages) are logged, never sent to the client.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use metron_core::wire::ErrorBody;

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("your session expired; sign in again")]
    SessionExpired,
    #[error("wrong email or password")]
    BadCredentials,
    /// The password was right; the person's second factor is needed (the client asks).
    #[error("second_factor_required: enter the 6-digit code of your authenticator app, or a recovery code")]
    SecondFactorRequired,
    /// The second factor given is wrong, outside its window, or already used.
    #[error("second_factor_invalid: that code is wrong, expired or already used")]
    SecondFactorInvalid,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A one-time link that was good once: expired, used or revoked.
    #[error("{0}")]
    Gone(String),
    #[error("request body is larger than 4 MiB")]
    PayloadTooLarge,
    #[error("too many attempts; try again in {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    /// A budget of the day is spent (`budget.rs`): 429, to retry after the day ends.
    #[error("{message}")]
    Quota { message: String, retry_after: u64 },
    #[error("the database is busy or unavailable; retry")]
    Unavailable,
    /// The server is at a limit it keeps (requests in flight, password checks): try later.
    #[error("the server is busy; try again in {retry_after} s")]
    Busy { retry_after: u64 },
    #[error("the request body did not arrive within {0} s")]
    BodyTimeout(u64),
    #[error("internal error")]
    Internal(String),
}

impl From<crate::accounts::AccountError> for ApiError {
    fn from(e: crate::accounts::AccountError) -> Self {
        use crate::accounts::AccountError;
        match e {
            AccountError::BadPassword | AccountError::BadEmail | AccountError::BadName(_) => {
                ApiError::BadRequest(e.to_string())
            }
            AccountError::NoSuchUser(_) => ApiError::NotFound(e.to_string()),
            AccountError::LastAdmin(_) => ApiError::Conflict(e.to_string()),
            AccountError::Db(db) => db.into(),
            AccountError::Hashing(why) => ApiError::Internal(why),
        }
    }
}

impl From<crate::reports::ReportError> for ApiError {
    fn from(e: crate::reports::ReportError) -> Self {
        use crate::reports::ReportError;
        match e {
            ReportError::Db(db) => db.into(),
            ReportError::DateOutOfRange => ApiError::BadRequest(e.to_string()),
            ReportError::Rules(_) | ReportError::Unreadable(_) | ReportError::Worker(_) => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}

impl From<crate::retention::RetentionError> for ApiError {
    fn from(e: crate::retention::RetentionError) -> Self {
        use crate::retention::RetentionError;
        match e {
            RetentionError::Db(db) => db.into(),
            RetentionError::DayOutOfRange(_) => ApiError::Internal(e.to_string()),
            RetentionError::Report(report) => report.into(),
        }
    }
}

impl From<crate::timesheets::TimesheetError> for ApiError {
    fn from(e: crate::timesheets::TimesheetError) -> Self {
        use crate::timesheets::TimesheetError;
        match e {
            TimesheetError::NotTheirReviewer => ApiError::Forbidden(e.to_string()),
            TimesheetError::NoSuchUser(_) => ApiError::NotFound(e.to_string()),
            TimesheetError::Locked { .. } => ApiError::Conflict(e.to_string()),
            TimesheetError::Db(db) => db.into(),
            TimesheetError::Report(report) => report.into(),
        }
    }
}

impl From<crate::ingest::IngestError> for ApiError {
    fn from(e: crate::ingest::IngestError) -> Self {
        match e {
            crate::ingest::IngestError::BadBatch(why) => ApiError::BadRequest(why),
            crate::ingest::IngestError::Db(db) => db.into(),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Conflict(what) => ApiError::Conflict(what),
            DbError::Overlap => ApiError::Conflict(DbError::Overlap.to_string()),
            DbError::Unavailable(why) => {
                tracing::warn!(%why, "database unavailable");
                ApiError::Unavailable
            }
            DbError::Other(why) => ApiError::Internal(why),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized
            | ApiError::SessionExpired
            | ApiError::BadCredentials
            | ApiError::SecondFactorRequired
            | ApiError::SecondFactorInvalid => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } | ApiError::Quota { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Unavailable | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Internal(why) => {
                tracing::error!(%why, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut response = (
            status,
            Json(ErrorBody {
                error: self.to_string(),
            }),
        )
            .into_response();
        if let ApiError::TooManyRequests { retry_after }
        | ApiError::Busy { retry_after }
        | ApiError::Quota { retry_after, .. } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after.into());
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
