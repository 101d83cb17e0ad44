//! Answers sent while they are written (issue 27): the event log and every CSV. The status
//! and headers go out at once, the body follows in chunks (`Transfer-Encoding: chunked`, no
//! `Content-Length`) as a producer on a thread of its own, at a lower priority than the
//! threads answering requests, writes it (`crate::export`).
//!
//! After the status line an error can't change the status any more: the body then ends
//! without its last chunk (the connection is cut), so the client's HTTP library reports an
//! error and a parser finds no closing bracket or tag. A body that ends normally is whole, or
//! says it was cut at the byte budget in the words of its format.

use axum::body::Body;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::export::{ExportError, ExportSink};

/// A `200` with `content_type` (and a download name) whose body `produce` writes on a thread
/// of its own; `budget` bytes at most before the format's own stop. 503 when the system
/// won't give a thread.
pub fn streamed(
    content_type: &'static str,
    attachment: Option<String>,
    budget: u64,
    produce: impl FnOnce(&mut ExportSink) -> Result<(), ExportError> + Send + 'static,
) -> Result<Response, ApiError> {
    let (mut sink, chunks) = ExportSink::new(budget);
    // A thread of its own rather than tokio's blocking pool: it lowers its own priority for
    // its whole life, which a pooled thread would keep for the next task (a password check).
    std::thread::Builder::new()
        .name("metron-export".into())
        .spawn(move || {
            priority::lower_this_thread();
            let done = produce(&mut sink).and_then(|()| sink.finish());
            match done {
                Ok(()) | Err(ExportError::Gone) => {}
                // Dropping the unfinished sink cuts the body; the reason stays in the log.
                Err(e @ ExportError::Failed(_)) => tracing::error!("{e}"),
            }
        })
        .map_err(|e| {
            tracing::warn!("no thread for an export: {e}");
            ApiError::Busy { retry_after: 5 }
        })?;
    let mut response = Body::from_stream(chunks).into_response();
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    if let Some(value) = attachment.and_then(|a| HeaderValue::try_from(a).ok()) {
        headers.insert(axum::http::header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// An export is bulk work: the threads answering requests (a health check, an ingest) go
/// first when the cores are busy, so two exports at once don't slow everyone else down.
#[cfg(target_os = "linux")]
mod priority {
    /// Nice +10 for the calling thread (Linux keeps a nice value per thread: `who` 0 is the
    /// caller). Best effort: a failure leaves the thread at the server's priority.
    pub fn lower_this_thread() {
        // SAFETY: setpriority only changes the scheduling priority of the calling thread.
        unsafe {
            libc::setpriority(libc::PRIO_PROCESS, 0, 10);
        }
    }
}

/// Elsewhere an export runs at the server's priority (nice values are per process there).
#[cfg(not(target_os = "linux"))]
mod priority {
    pub fn lower_this_thread() {}
}
