//! Answers sent while they are written (issue 27): the event log and every CSV. The status
//! and headers go out at once, the body follows in chunks (`Transfer-Encoding: chunked`, no
//! `Content-Length`) as a producer on a blocking thread writes it (`crate::export`).
//!
//! After the status line an error can't change the status any more: the body then ends
//! without its last chunk (the connection is cut), so the client's HTTP library reports an
//! error and a parser finds no closing bracket or tag. A body that ends normally is whole, or
//! says it was cut at the byte budget in the words of its format.

use axum::body::Body;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

use crate::export::{ExportError, ExportSink};

/// A `200` with `content_type` (and a download name) whose body `produce` writes on a
/// blocking thread; `budget` bytes at most before the format's own stop.
pub fn streamed(
    content_type: &'static str,
    attachment: Option<String>,
    budget: u64,
    produce: impl FnOnce(&mut ExportSink) -> Result<(), ExportError> + Send + 'static,
) -> Response {
    let (mut sink, chunks) = ExportSink::new(budget);
    tokio::task::spawn_blocking(move || {
        let done = produce(&mut sink).and_then(|()| sink.finish());
        match done {
            Ok(()) | Err(ExportError::Gone) => {}
            // Dropping the unfinished sink cuts the body; the reason stays in the log.
            Err(e @ ExportError::Failed(_)) => tracing::error!("{e}"),
        }
    });
    let mut response = Body::from_stream(chunks).into_response();
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    if let Some(value) = attachment.and_then(|a| HeaderValue::try_from(a).ok()) {
        headers.insert(axum::http::header::CONTENT_DISPOSITION, value);
    }
    response
}
