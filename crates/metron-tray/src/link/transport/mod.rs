//! The byte pipe under the link, per OS: a Unix socket in the data dir ([`unix`]), a named
//! pipe on Windows ([`windows`]). Both offer the same items, only the owner can connect, and
//! the endpoint is named by the file [`crate::link::protocol::socket_path`] in the data dir:
//!
//! - `Stream`: `Read + Write`, `try_clone` (a second handle for a reader thread),
//!   `set_write_timeout` (a write that can't finish in time fails), and `shutdown` (ends
//!   the reads of every handle, so the other side sees the connection close);
//! - `connect(path)` and `Listener::bind_private(path)` with `incoming()`.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use self::unix::{connect, Listener, Stream};

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use self::windows::{connect, current_user_sid, Listener, Stream};
