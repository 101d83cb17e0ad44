//! The link over a named pipe. Named pipes live in one namespace for the whole machine, so
//! the resident process picks an unguessable name at each start and writes it into the
//! endpoint file in the data dir, which the profile's ACL keeps to its user: another user
//! can neither find the pipe nor squat its name before it exists. The pipe's own DACL
//! grants only the current user (by SID), and remote clients are refused.
//!
//! Named pipes have no I/O timeouts and no `shutdown`. [`Stream::set_write_timeout`] puts
//! the writes on a thread of their own behind a bounded queue: a peer that stops reading
//! fills the queue and the next write fails, as a timed-out write does on Unix.
//! [`Stream::shutdown`] cancels the read blocked on another handle of the stream.

use interprocess::os::windows::named_pipe::{
    pipe_mode, DuplexPipeStream, PipeListener as NpListener, PipeListenerOptions,
};
use interprocess::os::windows::security_descriptor::SecurityDescriptor;
use std::io::{self, Read, Write};
use std::os::windows::io::{AsHandle, AsRawHandle};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

type Pipe = DuplexPipeStream<pipe_mode::Bytes>;

/// Messages a peer may leave unread before a write to it fails (state pushes come once a
/// second, so about a minute of a hung window).
const OUTBOX: usize = 64;

/// One end of a connection; clones (from [`Stream::try_clone`]) share the pipe.
pub struct Stream {
    pipe: Arc<Pipe>,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    closed: AtomicBool,
    reading: AtomicBool,
    outbox: OnceLock<SyncSender<Vec<u8>>>,
}

impl Stream {
    fn new(pipe: Pipe) -> Stream {
        Stream {
            pipe: Arc::new(pipe),
            shared: Arc::default(),
        }
    }

    /// A second handle to the same connection (for a reader thread).
    pub fn try_clone(&self) -> io::Result<Stream> {
        Ok(Stream {
            pipe: Arc::clone(&self.pipe),
            shared: Arc::clone(&self.shared),
        })
    }

    /// From now on writes are queued and written by a thread of this stream; a write finding
    /// the queue full fails. The bound is the queue's length, not `_timeout`.
    pub fn set_write_timeout(&self, _timeout: Option<Duration>) -> io::Result<()> {
        let (tx, rx) = sync_channel::<Vec<u8>>(OUTBOX);
        if self.shared.outbox.set(tx).is_ok() {
            let pipe = Arc::clone(&self.pipe);
            std::thread::Builder::new()
                .name("metron-pipe-writer".into())
                .spawn(move || {
                    for bytes in rx {
                        if (&*pipe).write_all(&bytes).is_err() {
                            break;
                        }
                    }
                })?;
        }
        Ok(())
    }

    /// Ends the connection for every handle: reads return end of file from now on, and a
    /// read blocked in another thread is cancelled (again until it has noticed).
    pub fn shutdown(&self, _how: std::net::Shutdown) -> io::Result<()> {
        self.shared.closed.store(true, SeqCst);
        let handle = self.pipe.as_handle().as_raw_handle();
        for _ in 0..200 {
            if !self.shared.reading.load(SeqCst) {
                break;
            }
            // SAFETY: the handle stays open while `self.pipe` lives; a null OVERLAPPED
            // cancels every I/O of this process on it.
            unsafe { windows_sys::Win32::System::IO::CancelIoEx(handle as _, std::ptr::null()) };
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.shared.reading.store(true, SeqCst);
        let read = if self.shared.closed.load(SeqCst) {
            Ok(0)
        } else {
            (&*self.pipe).read(buf)
        };
        self.shared.reading.store(false, SeqCst);
        match read {
            _ if self.shared.closed.load(SeqCst) => Ok(0),
            other => other,
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.shared.closed.load(SeqCst) {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        match self.shared.outbox.get() {
            None => (&*self.pipe).write(buf),
            Some(outbox) => match outbox.try_send(buf.to_vec()) {
                Ok(()) => Ok(buf.len()),
                Err(TrySendError::Full(_)) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the other end has stopped reading",
                )),
                Err(TrySendError::Disconnected(_)) => Err(io::ErrorKind::BrokenPipe.into()),
            },
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Connects to the pipe named in the endpoint file at `path`.
pub fn connect(path: &Path) -> io::Result<Stream> {
    let name = std::fs::read_to_string(path)?;
    Pipe::connect_by_path(name.trim()).map(Stream::new)
}

/// The resident process's pipe.
pub struct Listener(NpListener<pipe_mode::Bytes, pipe_mode::Bytes>);

impl Listener {
    /// Creates a pipe under a fresh random name only the current user may open, then writes
    /// the name to `path` (replacing a crashed predecessor's).
    pub fn bind_private(path: &Path) -> io::Result<Listener> {
        use rand::Rng;
        let name = format!(r"\\.\pipe\metron-{:032x}", rand::rng().random::<u128>());
        let sddl = format!("D:P(A;;GA;;;{})", current_user_sid()?);
        let sddl = widestring::U16CString::from_str(&sddl)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let listener = PipeListenerOptions::new()
            .path(name.as_str())
            .security_descriptor(Some(SecurityDescriptor::deserialize(&sddl)?))
            .create_duplex::<pipe_mode::Bytes>()?;
        std::fs::write(path, &name)?;
        Ok(Listener(listener))
    }

    /// The connections, as they come.
    pub fn incoming(&self) -> impl Iterator<Item = io::Result<Stream>> + '_ {
        self.0.incoming().map(|c| c.map(Stream::new))
    }
}

/// The SID of the user this process runs as, in its string form ("S-1-5-21-...").
pub fn current_user_sid() -> io::Result<String> {
    use windows_sys::Win32::Foundation::{CloseHandle, LocalFree, HANDLE};
    use windows_sys::Win32::Security::Authorization::ConvertSidToStringSidW;
    use windows_sys::Win32::Security::{GetTokenInformation, TokenUser, TOKEN_QUERY, TOKEN_USER};
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: each call gets buffers of the size it asked for; handles and the string the
    // system allocated are released before return.
    unsafe {
        if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
            return Err(io::Error::last_os_error());
        }
        let mut len = 0u32;
        GetTokenInformation(token, TokenUser, std::ptr::null_mut(), 0, &mut len);
        // u64 words: TOKEN_USER holds pointers and must be aligned for them.
        let mut buf = vec![0u64; (len as usize).div_ceil(8)];
        let ok = GetTokenInformation(token, TokenUser, buf.as_mut_ptr().cast(), len, &mut len);
        CloseHandle(token);
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        let user = &*(buf.as_ptr() as *const TOKEN_USER);
        let mut text: *mut u16 = std::ptr::null_mut();
        if ConvertSidToStringSidW(user.User.Sid, &mut text) == 0 {
            return Err(io::Error::last_os_error());
        }
        let sid = widestring::U16CStr::from_ptr_str(text).to_string_lossy();
        LocalFree(text.cast());
        Ok(sid)
    }
}
