//! metron-agent's tests on real SQLite files and real processes. One binary, several modules.

#[cfg(target_os = "linux")]
mod browser;
mod cli;
mod client_version;
#[cfg(target_os = "linux")]
mod compositor;
mod crash;
#[cfg(windows)]
mod credential_manager;
mod delivery;
#[cfg(target_os = "linux")]
mod keyring;
#[cfg(target_os = "linux")]
mod kwin_restart;
mod org_policy;
#[cfg(target_os = "linux")]
mod presence;
mod proxy;
mod replay;
mod second_factor;
#[cfg(target_os = "linux")]
mod sensors_wayland;
#[cfg(target_os = "linux")]
mod sensors_x11;
mod server;
mod sso;
mod store;
mod tracker;
mod tracker_thread;
mod transport;
mod whereabouts;
#[cfg(windows)]
mod win_hooks;

use chrono::{DateTime, TimeZone, Utc};

/// The package's folder in the checkout under test: `CARGO_MANIFEST_DIR` as cargo and
/// cargo-nextest set it when they run the test, else as it was when the test was compiled. A
/// compiled test can outlive its checkout: the test command's build cache reuses it for a
/// fresh clone elsewhere (the compile-time path names the clone that built it, which may be
/// gone, or hold other files).
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Held by each test that runs a whole desktop (Xvfb and a window manager, a Wayland
/// compositor, a browser): one at a time. On two cores, two browsers beside four compositors
/// starved the timed parts of each other (an agent that took seconds to start, a browser's
/// first window after 20 s), and each test's own timing is what it checks.
#[cfg(target_os = "linux")]
pub fn one_desktop_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static DESKTOP: std::sync::Mutex<()> = std::sync::Mutex::new(());
    // A test that failed holding it poisons it; the next one runs all the same.
    DESKTOP.lock().unwrap_or_else(|p| p.into_inner())
}
use metron_core::{Counts, EndReason, Interval, WindowSegment};
use uuid::Uuid;

/// A valid interval of `secs` seconds starting `start` seconds after a fixed instant.
pub fn interval(start: i64, secs: i64) -> Interval {
    let t0: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
    Interval {
        id: Uuid::now_v7(),
        device_id: Uuid::nil(),
        task_id: "t1".into(),
        started_at: t0 + chrono::Duration::seconds(start),
        ended_at: t0 + chrono::Duration::seconds(start + secs),
        utc_offset_minutes: 60,
        end_reason: EndReason::Boundary,
        active: "1".repeat(secs as usize),
        counts: Counts {
            keys: 10,
            clicks: 2,
            scrolls: 1,
            moves: 40,
        },
        counts_measured: true,
        injected: None,
        injected_counts: None,
        passive: None,
        presence: Vec::new(),
        events: Vec::new(),
        windows: vec![WindowSegment {
            offset: 0,
            seconds: secs as u32,
            app: "editor".into(),
            title: "notes".into(),
            url: None,
            path: None,
        }],
    }
}

/// The built `metron-agent` binary.
/// The wall clock as unix seconds with a fraction, as tests compare it with stored times.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

pub fn agent_bin() -> &'static str {
    env!("CARGO_BIN_EXE_metron-agent")
}

/// A `metron-agent` command that [`terminate`] can stop: on Windows in a process group of
/// its own, the unit a console control event addresses.
pub fn agent_command() -> std::process::Command {
    #[allow(unused_mut)]
    let mut command = std::process::Command::new(agent_bin());
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        command.creation_flags(CREATE_NEW_PROCESS_GROUP);
    }
    command
}

/// Asks a `track` started by [`agent_command`] to stop as a user would: SIGTERM on Unix,
/// Ctrl-Break on Windows. Either closes the open interval as `quit`.
pub fn terminate(child: &std::process::Child) {
    #[cfg(unix)]
    // SAFETY: a signal to a child this test started and has not reaped.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    #[cfg(windows)]
    // SAFETY: a console control event to the child's own process group.
    unsafe {
        use windows_sys::Win32::System::Console::{GenerateConsoleCtrlEvent, CTRL_BREAK_EVENT};
        GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, child.id());
    }
}

/// Every stored interval of a store file, read directly (read-only) with SQLite.
pub fn read_intervals(path: &std::path::Path) -> Vec<Interval> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare("SELECT body FROM intervals ORDER BY started_at")
        .unwrap();
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(|b| serde_json::from_str(&b.unwrap()).unwrap())
        .collect()
}

/// What has a place in time: an interval of a store, or a row the server stored.
pub trait Span: std::fmt::Debug {
    fn span(&self) -> (DateTime<Utc>, DateTime<Utc>);
}

impl Span for Interval {
    fn span(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.started_at, self.ended_at)
    }
}

impl Span for server::StoredRow {
    fn span(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let time = |t| DateTime::from_timestamp(t, 0).unwrap();
        (time(self.started_at), time(self.ended_at))
    }
}

pub fn assert_no_overlap<T: Span>(intervals: &[T]) {
    let mut sorted: Vec<&T> = intervals.iter().collect();
    sorted.sort_by_key(|i| i.span().0);
    for pair in sorted.windows(2) {
        assert!(
            pair[0].span().1 <= pair[1].span().0,
            "overlap:\n{:?}\n{:?}",
            pair[0],
            pair[1]
        );
    }
}
