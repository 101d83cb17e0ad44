//! The resident process's end of the link: one thread accepts, one reads each connection,
//! and each request runs on a thread of its own, so a slow sign-in never holds up a Stop.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::AppError;
use crate::link::protocol::{socket_path, Message, Request, WireError};
use crate::link::transport::{Listener, Stream};
use crate::resident::{send, Resident};

/// Listens on the data dir's endpoint. The caller owns the data dir (its store lock), so an
/// endpoint left there is a crashed predecessor's and is replaced.
pub fn listen(core: &Arc<Resident>) -> Result<PathBuf, AppError> {
    let path = socket_path(&core.data_dir);
    let listener = Listener::bind_private(&path)
        .map_err(|e| AppError::Local(format!("cannot listen on {}: {e}", path.display())))?;
    let core = Arc::clone(core);
    std::thread::Builder::new()
        .name("metron-socket".into())
        .spawn(move || accept(listener, core))
        .map_err(|e| AppError::Local(format!("cannot start the socket thread: {e}")))?;
    Ok(path)
}

fn accept(listener: Listener, core: Arc<Resident>) {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    for stream in listener.incoming() {
        if core.is_closing() {
            return;
        }
        let Ok(stream) = stream else { continue };
        let conn = NEXT.fetch_add(1, Ordering::Relaxed);
        let core = Arc::clone(&core);
        let _ = std::thread::Builder::new()
            .name(format!("metron-conn-{conn}"))
            .spawn(move || serve(conn, stream, core));
    }
}

fn serve(conn: u64, stream: Stream, core: Arc<Resident>) {
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    // A window that stops reading (hung, stopped) must not block the tracker thread that
    // pushes to it: a write that can't finish in half a second fails and drops the window.
    let _ = write_half.set_write_timeout(Some(std::time::Duration::from_millis(500)));
    let writer = Arc::new(Mutex::new(write_half));
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let request: Request = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                // Answer the error (with the id, when there is one) and go on reading.
                let id = serde_json::from_str::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|v| v["id"].as_u64())
                    .unwrap_or(0);
                let bad = WireError::new("input", format!("not a request: {e}"));
                send(
                    &writer,
                    &Message::Reply {
                        id,
                        result: Err(bad),
                    },
                );
                continue;
            }
        };
        let (core, writer) = (Arc::clone(&core), Arc::clone(&writer));
        let _ = std::thread::Builder::new()
            .name(format!("metron-req-{conn}"))
            .spawn(move || {
                let result = core
                    .handle_command(conn, &writer, request.command)
                    .map_err(|e| e.to_wire());
                send(
                    &writer,
                    &Message::Reply {
                        id: request.id,
                        result,
                    },
                );
            });
    }
    core.connection_closed(conn);
}
