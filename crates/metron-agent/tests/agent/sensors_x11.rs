//! The real sensors on a real X display: Xvfb with openbox (an EWMH window manager, so the
//! active window is known), a real window (xmessage), and real input injected by xdotool.
//! The test command installs these packages; a missing one fails the test, it never skips.

use super::*;
use metron_core::events::EventType;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the spawned X programs when the test ends, however it ends.
pub struct Procs(pub Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for child in self.0.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn spawn(program: &str, args: &[&str], display: &str) -> Child {
    Command::new(program)
        .args(args)
        .env("DISPLAY", display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {program} ({e}); run the README test command, which installs it")
        })
}

pub fn wait_until(what: &str, timeout: Duration, ok: impl FnMut() -> bool) {
    assert!(waited(timeout, ok), "timed out waiting for {what}");
}

/// Whether `ok` came true within `timeout` (asked every 100 ms).
pub fn waited(timeout: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !ok() {
        if start.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

pub fn xdotool(display: &str, args: &[&str]) -> bool {
    Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Starts Xvfb on a display number it picks itself (`-displayfd`, here its stdout) and
/// returns the server and its display. Tests run in parallel, in threads and (under
/// cargo-nextest) in processes of their own: a number chosen by looking for a free one could
/// be taken by another test between the look and the start; the X server is the one judge.
pub fn xvfb(screen: &str) -> (Child, String) {
    use std::io::BufRead;
    let mut server = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            screen,
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start Xvfb ({e}); run the README test command, which installs it")
        });
    // Written once the server accepts connections; end of file first means it died.
    let mut number = String::new();
    let _ = std::io::BufReader::new(server.stdout.take().unwrap()).read_line(&mut number);
    let number = number.trim();
    assert!(
        !number.is_empty(),
        "Xvfb exited before it said which display it took"
    );
    let display = format!(":{number}");
    (server, display)
}

/// An X display of its own (Xvfb) with an EWMH window manager (openbox), so the active
/// window is known; both end with the returned `Procs`.
pub fn x_desktop() -> (Procs, String) {
    let (server, display) = xvfb("1280x800x24");
    let mut procs = Procs(vec![server]);
    procs.0.push(spawn("openbox", &[], &display));
    (procs, display)
}

#[test]
fn real_input_and_the_focused_window_reach_the_intervals_but_never_the_keys() {
    let _desktop = one_desktop_at_a_time();
    let (mut procs, display) = x_desktop();
    let window = spawn(
        "xmessage",
        &[
            "-title",
            "Metron sensor test",
            "-geometry",
            "400x200+100+100",
            "Quarterly plan",
        ],
        &display,
    );
    let window_pid = window.id().to_string();
    procs.0.push(window);
    let mut window_id = String::new();
    wait_until("the test window", Duration::from_secs(15), || {
        let out = Command::new("xdotool")
            .args(["search", "--name", "Metron sensor test"])
            .env("DISPLAY", &display)
            .output();
        window_id = out
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .unwrap_or_default();
        !window_id.is_empty()
    });
    // xmessage is an old Athena app: give it the EWMH name and pid every GTK/Qt/Electron window
    // has, which is what active-win-pos-rs reads.
    for (format, property, value) in [
        ("8u", "_NET_WM_NAME", "Metron sensor test"),
        ("32c", "_NET_WM_PID", window_pid.as_str()),
    ] {
        let ok = Command::new("xprop")
            .args([
                "-id", &window_id, "-f", property, format, "-set", property, value,
            ])
            .env("DISPLAY", &display)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "xprop could not set {property}");
    }
    // openbox may still be starting (under load it takes seconds): until it manages the
    // screen there is no active window to set.
    wait_until(
        "openbox to activate the window",
        Duration::from_secs(20),
        || xdotool(&display, &["windowactivate", "--sync", &window_id]),
    );

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut agent = Command::new(agent_bin())
        .args([
            "--data-dir",
            d,
            "--interval-range",
            "3..3",
            "track",
            "--task",
            "t1",
        ])
        .env("DISPLAY", &display)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Input counts only once the tracker ticks (its first checkpoint is written by then), and
    // the listener thread needs a moment more under load.
    let store = metron_agent::paths::store_path(dir.path());
    wait_until(
        "the tracker's first checkpoint",
        Duration::from_secs(20),
        || {
            let Ok(conn) = rusqlite::Connection::open_with_flags(
                &store,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            ) else {
                return false;
            };
            conn.query_row("SELECT count(*) FROM checkpoint", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n > 0)
            .unwrap_or(false)
        },
    );
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        xdotool(&display, &["mousemove", "--window", "%1", "50", "50"])
            || xdotool(&display, &["mousemove", "200", "200"])
    );
    assert!(xdotool(
        &display,
        &["type", "--delay", "40", "secret words"]
    ));
    // Pointer motion through XTEST (xte); xdotool's mousemove warps the pointer instead,
    // which no device and no XTEST event makes: XInput 2 sees no input in a warp, so a
    // jiggler that warps makes no activity at all.
    let moved = Command::new("xte")
        .args([
            "mousemove 150 150",
            "mousemove 160 170",
            "mousemove 180 150",
        ])
        .env("DISPLAY", &display)
        .status()
        .map(|s| s.success())
        .unwrap_or_else(|e| panic!("cannot run xte ({e}); the test command installs xautomation"));
    assert!(moved);
    assert!(xdotool(&display, &["click", "3"]));
    assert!(xdotool(&display, &["click", "4"]));
    std::thread::sleep(Duration::from_millis(2500));
    unsafe { libc::kill(agent.id() as i32, libc::SIGTERM) };
    let status = agent.wait().unwrap();
    let mut log = String::new();
    use std::io::Read;
    let _ = agent.stderr.take().unwrap().read_to_string(&mut log);
    assert!(status.success(), "{log}");
    assert!(
        !log.contains("can't be"),
        "a sensor failed under Xvfb+openbox: {log}"
    );

    let intervals = read_intervals(&store);
    let total = intervals.iter().fold(Counts::default(), |mut c, i| {
        c.add(&i.counts);
        c
    });
    assert!(
        total.keys >= 12,
        "12 characters typed, {} key presses counted",
        total.keys
    );
    assert!(total.moves >= 3, "{} moves", total.moves);
    assert!(total.clicks >= 1 && total.scrolls >= 1, "{total:?}");
    assert!(intervals.iter().any(|i| i.active.contains('1')));
    // xdotool injects through XTEST, and XInput 2 says so: every active second is flagged
    // injected and every event counted is an injected one (issue 15).
    for i in &intervals {
        let injected = i.injected.as_deref().unwrap_or_else(|| {
            panic!("XInput 2 tells origins under Xvfb; interval without them: {i:?}")
        });
        assert_eq!(injected, i.active, "every active second was injected");
        assert_eq!(i.injected_counts, Some(i.counts), "all input was injected");
    }
    let kinds: Vec<EventType> = intervals
        .iter()
        .flat_map(|i| &i.events)
        .map(|e| e.kind)
        .collect();
    assert!(
        kinds.contains(&EventType::InjectedKeyboardEvent) && kinds.contains(&EventType::WindowOpen),
        "{kinds:?}"
    );
    assert!(
        !kinds
            .iter()
            .any(|k| format!("{k:?}").starts_with("Hardware")),
        "no hardware input under Xvfb: {kinds:?}"
    );
    let windows: Vec<&WindowSegment> = intervals.iter().flat_map(|i| &i.windows).collect();
    assert!(
        windows.iter().any(|w| w.title == "Metron sensor test"
            && w.app.eq_ignore_ascii_case("xmessage")
            && w.path.as_deref().is_some_and(|p| p.ends_with("xmessage"))),
        "the focused window is recorded: {windows:?}"
    );
    // E6: what was typed is nowhere in the store.
    for file in std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
    {
        let bytes = std::fs::read(file.path()).unwrap();
        assert!(
            !bytes.windows(6).any(|w| w == b"secret"),
            "typed text found in {}",
            file.path().display()
        );
    }

    // E6 across binaries: `track` follows the privacy file the app writes into the data dir...
    let root = tempfile::tempdir().unwrap();
    let titles_off = root.path().join("titles-off");
    std::fs::create_dir(&titles_off).unwrap();
    std::fs::write(
        metron_agent::privacy::path(&titles_off),
        r#"{"record_titles": false, "urls": "host_only"}"#,
    )
    .unwrap();
    let windows = track_briefly(&display, &titles_off, &[]);
    assert!(!windows.is_empty(), "no window recorded");
    assert!(
        windows
            .iter()
            .all(|w| w.title.is_empty() && w.app.eq_ignore_ascii_case("xmessage")),
        "{windows:?}"
    );
    // ... and its flags override it for one run.
    let fresh = root.path().join("fresh");
    let windows = track_briefly(&display, &fresh, &["--exclude", "XMessage"]);
    assert!(
        !windows.is_empty()
            && windows
                .iter()
                .all(|w| w.app == "excluded" && w.title.is_empty()),
        "{windows:?}"
    );
    // Files private to their owner: the folder the agent made, and the store in it.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&fresh), 0o700, "the data dir");
    assert_eq!(
        mode(&metron_agent::paths::store_path(&fresh)),
        0o600,
        "the store"
    );
}

/// Runs `metron-agent track` on `data_dir` for a few seconds of 2-second intervals and returns
/// the window segments it stored.
fn track_briefly(display: &str, data_dir: &std::path::Path, flags: &[&str]) -> Vec<WindowSegment> {
    let mut agent = Command::new(agent_bin())
        .args([
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--interval-range",
            "2..2",
            "track",
            "--task",
            "t1",
        ])
        .args(flags)
        .env("DISPLAY", display)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let store = metron_agent::paths::store_path(data_dir);
    wait_until(
        "the tracker's first checkpoint",
        Duration::from_secs(20),
        || {
            let Ok(conn) = rusqlite::Connection::open_with_flags(
                &store,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            ) else {
                return false;
            };
            conn.query_row("SELECT count(*) FROM checkpoint", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n > 0)
            .unwrap_or(false)
        },
    );
    std::thread::sleep(Duration::from_millis(3500));
    unsafe { libc::kill(agent.id() as i32, libc::SIGTERM) };
    let status = agent.wait().unwrap();
    let mut log = String::new();
    use std::io::Read;
    let _ = agent.stderr.take().unwrap().read_to_string(&mut log);
    assert!(status.success(), "{log}");
    read_intervals(&store)
        .into_iter()
        .flat_map(|i| i.windows)
        .collect()
}
