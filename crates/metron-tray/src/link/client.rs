//! The window's end of the link: requests with replies matched by id, and a reader thread
//! that hands pushed messages (state, notice, show, quit) to a callback.

use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::link::protocol::{Command, Message, Request, WireError};
use crate::link::transport::{self, Stream};
use crate::resident::lock;

type Pending = Arc<Mutex<HashMap<u64, Sender<Result<Value, WireError>>>>>;

/// A connection to the resident process. Cheap to share between threads.
pub struct ResidentLink {
    writer: Mutex<Stream>,
    pending: Pending,
    next: AtomicU64,
}

/// A pushed message, or the end of the connection.
#[derive(Debug)]
pub enum Pushed {
    State(Value),
    Notice(Value),
    Show,
    Quit,
    /// The resident process went away (quit or crashed).
    Closed,
}

impl ResidentLink {
    /// Connects to the endpoint at `path`; `on_push` runs on the reader thread.
    pub fn connect(
        path: &Path,
        on_push: impl Fn(Pushed) + Send + 'static,
    ) -> std::io::Result<ResidentLink> {
        let stream = transport::connect(path)?;
        let reader = stream.try_clone()?;
        let pending: Pending = Arc::default();
        let replies = Arc::clone(&pending);
        std::thread::Builder::new()
            .name("metron-core-reader".into())
            .spawn(move || {
                for line in BufReader::new(reader).lines() {
                    let Ok(line) = line else { break };
                    match serde_json::from_str::<Message>(&line) {
                        Ok(Message::Reply { id, result }) => {
                            if let Some(tx) = lock(&replies).remove(&id) {
                                let _ = tx.send(result);
                            }
                        }
                        Ok(Message::State { state }) => on_push(Pushed::State(state)),
                        Ok(Message::Notice { notice }) => on_push(Pushed::Notice(notice)),
                        Ok(Message::Show) => on_push(Pushed::Show),
                        Ok(Message::Quit) => on_push(Pushed::Quit),
                        Err(e) => tracing::warn!("an unreadable message from the tracker: {e}"),
                    }
                }
                // Whoever still waits for a reply hears that it will not come.
                lock(&replies).clear();
                on_push(Pushed::Closed);
            })?;
        Ok(ResidentLink {
            writer: Mutex::new(stream),
            pending,
            next: AtomicU64::new(1),
        })
    }

    /// Sends `command` and waits for its reply (at most `timeout`).
    pub fn call(&self, command: Command, timeout: Duration) -> Result<Value, WireError> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = channel();
        lock(&self.pending).insert(id, tx);
        let mut line = serde_json::to_vec(&Request { id, command }).expect("requests serialize");
        line.push(b'\n');
        if let Err(e) = lock(&self.writer).write_all(&line) {
            lock(&self.pending).remove(&id);
            return Err(gone(&e.to_string()));
        }
        match rx.recv_timeout(timeout) {
            Ok(result) => result,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                lock(&self.pending).remove(&id);
                Err(WireError::new(
                    "internal",
                    "the tracker did not answer in time",
                ))
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                Err(gone("the connection closed"))
            }
        }
    }
}

fn gone(why: &str) -> WireError {
    WireError::new("internal", format!("the tracker process is gone ({why})"))
}

impl Drop for ResidentLink {
    /// Closes the connection (the reader thread holds a clone of the stream, which alone
    /// would keep it open): the resident process sees the window go.
    fn drop(&mut self) {
        let _ = lock(&self.writer).shutdown(std::net::Shutdown::Both);
    }
}
