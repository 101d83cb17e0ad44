//! The link over a Unix socket: the socket file is the endpoint, mode 0600 from the moment
//! it exists.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;

pub use std::os::unix::net::UnixStream as Stream;

/// Connects to the socket at `path`.
pub fn connect(path: &Path) -> std::io::Result<Stream> {
    Stream::connect(path)
}

/// The resident process's listening socket.
pub struct Listener(UnixListener);

impl Listener {
    /// Binds with a umask that leaves the socket to its owner from the first moment (a chmod
    /// after bind would leave a window in which anyone could connect). A file left at `path`
    /// is a crashed predecessor's (the caller holds the data dir's lock) and is replaced.
    pub fn bind_private(path: &Path) -> std::io::Result<Listener> {
        let _ = std::fs::remove_file(path);
        // SAFETY: umask only swaps the process's file mode mask; restored right after.
        let old = unsafe { libc::umask(0o077) };
        let bound = UnixListener::bind(path);
        unsafe { libc::umask(old) };
        let listener = bound?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok(Listener(listener))
    }

    /// The connections, as they come.
    pub fn incoming(&self) -> impl Iterator<Item = std::io::Result<Stream>> + '_ {
        self.0.incoming()
    }
}
