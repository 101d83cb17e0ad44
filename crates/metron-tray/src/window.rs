//! The two processes find each other. The resident process starts a window process
//! ([`open_window`]) for "Show window"; a window started on its own (the desktop's launcher,
//! WebDriver) starts the resident process if none runs for its data dir ([`connect_or_start`]).
//! Both binaries sit side by side (`metron` and `metron-tray`, `.exe` on Windows).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::link::client::{Pushed, ResidentLink};
use crate::link::protocol::socket_path;

/// A binary beside the running one, or the path in `env` when set.
fn sibling(name: &str, env: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe()
        .map(|exe| exe.with_file_name(&file))
        .unwrap_or_else(|_| PathBuf::from(file))
}

/// Starts the window process (`metron`) for `data_dir`; it connects back over the socket.
pub fn open_window(data_dir: &Path) {
    let bin = sibling("metron", "METRON_WINDOW_BIN");
    let mut cmd = Command::new(&bin);
    cmd.env("METRON_DATA_DIR", data_dir)
        .env_remove("GDK_GL")
        .stdin(Stdio::null());
    match cmd.spawn() {
        // Reaped on a thread of its own, so no zombie is left when it closes.
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(e) => tracing::error!("cannot start the window ({}): {e}", bin.display()),
    }
}

/// Connects to the resident process of `data_dir`, starting it (`metron-tray --hidden`) when
/// none answers. Its own process group: it outlives the window and a Ctrl-C meant for it.
pub fn connect_or_start(
    data_dir: &Path,
    on_push: impl Fn(Pushed) + Send + Clone + 'static,
) -> Result<ResidentLink, String> {
    let socket = socket_path(data_dir);
    if let Ok(client) = ResidentLink::connect(&socket, on_push.clone()) {
        return Ok(client);
    }
    let bin = sibling("metron-tray", "METRON_TRAY_BIN");
    let mut cmd = Command::new(&bin);
    cmd.arg("--hidden")
        .env("METRON_DATA_DIR", data_dir)
        .stdin(Stdio::null());
    detach(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let start = Instant::now();
    loop {
        if let Ok(client) = ResidentLink::connect(&socket, on_push.clone()) {
            std::thread::spawn(move || child.wait());
            return Ok(client);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the tracker process ended ({status}); its message is above and in the log"
            ));
        }
        if start.elapsed() > Duration::from_secs(20) {
            return Err(format!(
                "the tracker process ({}) did not answer within 20 s",
                bin.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Puts the resident process out of the window's reach: its own process group on Unix, so a
/// Ctrl-C meant for the window spares it; on Windows a new process group, no console.
fn detach(cmd: &mut Command) {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        cmd.creation_flags(CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW);
    }
}
