//! Exports written as they are sent (issue 27): a producer on a thread of its own writes an
//! answer a day at a time into an [`ExportSink`], which hands it on in chunks through a small
//! bounded channel to the response body (`routes::stream`). So an export holds one day of its
//! range and a few chunks at most, whatever the range, and its work never runs on the async
//! runtime's threads, which stay free for every other request.
//!
//! The sink counts the bytes it sent against the request's byte budget
//! (`Limits::max_export_bytes`); each format decides where it may stop and how it says so (the
//! JSON's `complete: false`, the XES's and CSV's last words). Nothing here knows HTTP.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::mpsc;

/// What an export's chunks travel in: a chunk, or the error that ends the body unfinished.
pub type Chunk = Result<Bytes, std::io::Error>;

/// Bytes gathered before they go to the body as one chunk: large enough that a chunk's framing
/// and a channel hand-over are noise, small enough that a few in flight cost nothing.
const CHUNK_BYTES: usize = 64 * 1024;

/// Chunks waiting for the client at most: a slow reader holds the producer back (it blocks),
/// never makes it buffer.
pub const CHUNKS_IN_FLIGHT: usize = 4;

/// Why an export stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The client went away (the body was dropped): nothing more to do.
    #[error("the client stopped reading the export")]
    Gone,
    /// The export can't go on (the database failed, a stored interval is unreadable). The
    /// status line went out long ago, so the body ends unfinished (see [`ExportChunks`]).
    #[error("the export failed halfway: {0}")]
    Failed(String),
}

impl From<crate::db::DbError> for ExportError {
    fn from(e: crate::db::DbError) -> Self {
        ExportError::Failed(e.to_string())
    }
}

/// The producer's end of an export: text in, chunks out, bytes counted against the budget.
pub struct ExportSink {
    chunks: mpsc::Sender<Chunk>,
    pending: Vec<u8>,
    sent: u64,
    budget: u64,
    finished: Arc<AtomicBool>,
}

impl ExportSink {
    /// A sink and the chunks it sends, for the body.
    pub fn new(budget: u64) -> (ExportSink, ExportChunks) {
        let (chunks, receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let finished = Arc::new(AtomicBool::new(false));
        let sink = ExportSink {
            chunks,
            pending: Vec::with_capacity(CHUNK_BYTES),
            sent: 0,
            budget,
            finished: Arc::clone(&finished),
        };
        let chunks = ExportChunks {
            receiver,
            finished,
            ended: false,
        };
        (sink, chunks)
    }

    /// Appends `text`; a full chunk goes to the client, waiting while it has enough unread
    /// (call from the producer's thread only, never from the async runtime).
    pub fn push(&mut self, text: &str) -> Result<(), ExportError> {
        self.push_bytes(text.as_bytes())
    }

    /// Appends bytes (a ZIP's, `own_data::export`), as [`Self::push`] does text.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> Result<(), ExportError> {
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Whether what was written so far passed the byte budget: the format stops at the next
    /// place it can end or resume from, and says so.
    pub fn over_budget(&self) -> bool {
        self.sent + self.pending.len() as u64 > self.budget
    }

    /// The byte budget of this export.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Sends what is pending, so a finished day reaches the client without waiting for the
    /// next one.
    pub fn flush(&mut self) -> Result<(), ExportError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK_BYTES));
        self.sent += chunk.len() as u64;
        self.chunks
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| ExportError::Gone)
    }

    /// Sends the rest: the export is whole. A sink dropped without this (an error, a panic)
    /// ends its body unfinished instead, so a client never takes a cut export for a whole one.
    pub fn finish(mut self) -> Result<(), ExportError> {
        self.flush()?;
        self.finished.store(true, Ordering::Release);
        Ok(())
    }
}

/// The chunks of an export as a stream for its body. When the sink is gone without
/// [`ExportSink::finish`], the stream's last item is an error: the server cuts the response
/// (no last chunk), which every HTTP client reports.
pub struct ExportChunks {
    receiver: mpsc::Receiver<Chunk>,
    finished: Arc<AtomicBool>,
    ended: bool,
}

impl Stream for ExportChunks {
    type Item = Chunk;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
        if self.ended {
            return Poll::Ready(None);
        }
        match self.receiver.poll_recv(cx) {
            Poll::Ready(None) => {
                self.ended = true;
                if self.finished.load(Ordering::Acquire) {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Err(std::io::Error::other(
                        "the export ended unfinished",
                    ))))
                }
            }
            other => other,
        }
    }
}
