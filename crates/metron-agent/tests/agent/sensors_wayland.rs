//! The Wayland sensors in a real compositor: sway (wlroots) headless, a real window (foot)
//! and real input typed by wtype through the virtual-keyboard protocol. sway refuses to run
//! as root, so it runs as a system user of its own (made here if missing, which needs root:
//! the test command runs as root). The packages come from `.ci/deps.sh wayland`; a missing
//! one fails the test, it never skips.

use super::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const USER: &str = "metron-wayland";
const APP_ID: &str = "metron-test-editor";

/// The compositor and its clients, ended however the test ends.
struct Session {
    runtime: tempfile::TempDir,
    display: String,
    children: Vec<Child>,
}

impl Drop for Session {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // runuser does not pass SIGKILL on to sway: end whatever the test user still runs.
        let _ = Command::new("pkill").args(["-KILL", "-u", USER]).status();
    }
}

impl Session {
    fn env<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command
            .env_remove("DISPLAY")
            .env("XDG_RUNTIME_DIR", self.runtime.path())
            .env("WAYLAND_DISPLAY", &self.display)
    }
}

fn ensure_user() {
    // SAFETY: getuid has no preconditions.
    assert_eq!(
        unsafe { libc::getuid() },
        0,
        "the Wayland test runs sway as a user of its own and needs root to do so (the test command runs as root)"
    );
    let exists = Command::new("id")
        .arg(USER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !exists {
        let made = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                USER,
            ])
            .status()
            .is_ok_and(|s| s.success());
        assert!(made, "useradd {USER} failed");
    }
}

fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn start_sway() -> Session {
    ensure_user();
    let runtime = tempfile::tempdir().unwrap();
    let chown = Command::new("chown")
        .args([USER, runtime.path().to_str().unwrap()])
        .status()
        .unwrap();
    assert!(chown.success());
    std::fs::set_permissions(runtime.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let config = runtime.path().join("sway.conf");
    std::fs::write(
        &config,
        "xwayland disable\noutput HEADLESS-1 resolution 1024x768\n",
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let sway = Command::new("runuser")
        .args(["-u", USER, "--", "env"])
        .arg(format!("XDG_RUNTIME_DIR={}", runtime.path().display()))
        .args([
            "WLR_BACKENDS=headless",
            "WLR_LIBINPUT_NO_DEVICES=1",
            "WLR_RENDERER=pixman",
            "sway",
            "-c",
        ])
        .arg(&config)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start sway ({e}); run the README test command, which installs it")
        });
    let mut session = Session {
        runtime,
        display: String::new(),
        children: vec![sway],
    };
    let dir = session.runtime.path().to_path_buf();
    wait_until("sway's Wayland socket", Duration::from_secs(20), || {
        session.display = socket_in(&dir).unwrap_or_default();
        !session.display.is_empty()
    });
    session
}

fn socket_in(dir: &Path) -> Option<String> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .find_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name.starts_with("wayland-") && !name.ends_with(".lock")).then_some(name)
        })
}

fn wtype(session: &Session, args: &[&str]) {
    let ok = session
        .env(&mut Command::new("wtype"))
        .args(args)
        .status()
        .unwrap_or_else(|e| {
            panic!("cannot run wtype ({e}); run the README test command, which installs it")
        })
        .success();
    assert!(ok, "wtype {args:?} failed");
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn idle_notifications_and_the_toplevel_list_of_sway_reach_the_intervals_but_never_the_keys() {
    let mut session = start_sway();
    let foot = session
        .env(&mut Command::new("foot"))
        .args([
            "--app-id",
            APP_ID,
            "--title",
            "Quarterly plan",
            "sleep",
            "600",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start foot ({e}); run the README test command, which installs it")
        });
    session.children.push(foot);
    // foot maps its window within a second or two; swaymsg would need sway's IPC socket path,
    // so the agent's own record says whether it was seen.
    std::thread::sleep(Duration::from_secs(2));

    let dir = tempfile::tempdir().unwrap();
    let data: PathBuf = dir.path().to_path_buf();
    let mut agent = session
        .env(&mut Command::new(agent_bin()))
        .arg("--data-dir")
        .arg(&data)
        .args(["--interval-range", "10..10", "track", "--task", "t1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let store = metron_agent::paths::store_path(&data);
    wait_until(
        "the tracker's first checkpoint",
        Duration::from_secs(20),
        || {
            rusqlite::Connection::open_with_flags(
                &store,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .and_then(|c| {
                c.query_row("SELECT count(*) FROM checkpoint", [], |r| {
                    r.get::<_, i64>(0)
                })
            })
            .is_ok_and(|n| n > 0)
        },
    );
    let status = Command::new(agent_bin())
        .arg("--data-dir")
        .arg(&data)
        .arg("status")
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(
        status.contains("org_kde_kwin_idle") && status.contains("wlr-foreign-toplevel"),
        "status names the Wayland sources: {status}"
    );

    // Quiet, then 10 s of typing (a key every 0.4 s), quiet, one key, quiet: 64 s in all.
    std::thread::sleep(Duration::from_secs(8));
    let burst_start = unix_now();
    wtype(&session, &["-d", "400", "secret words, more words"]);
    let burst_end = unix_now();
    std::thread::sleep(Duration::from_secs(20));
    let key_start = unix_now();
    wtype(&session, &["k"]);
    let key_end = unix_now();
    std::thread::sleep(
        Duration::from_secs(64) - Duration::from_secs_f64(key_end - burst_start + 8.0),
    );

    // SAFETY: kill has no memory preconditions; the pid is our child's.
    unsafe { libc::kill(agent.id() as i32, libc::SIGTERM) };
    let exit = agent.wait().unwrap();
    let mut log = String::new();
    use std::io::Read;
    let _ = agent.stderr.take().unwrap().read_to_string(&mut log);
    assert!(exit.success(), "{log}");

    let intervals = read_intervals(&store);
    assert_no_overlap(&intervals);
    let tracked: i64 = intervals.iter().map(|i| i.duration_secs()).sum();
    assert!(tracked >= 60, "tracked {tracked} s");
    // One (second's start, active) pair per tracked second.
    let seconds: Vec<(i64, bool)> = intervals
        .iter()
        .flat_map(|i| {
            let start = i.started_at.timestamp();
            i.active
                .bytes()
                .enumerate()
                .map(move |(k, b)| (start + k as i64, b == b'1'))
        })
        .collect();
    // A recorded second is stamped with whole seconds from the session's start, so the real
    // second it stands for began up to one second after its stamp: second `s` covers some part
    // of [s, s+2). It must be active when all of that lies inside the burst (a key every
    // 0.4 s), and idle when none of it comes near any input.
    let inside_burst = |s: i64| s as f64 >= burst_start && s as f64 + 2.0 <= burst_end;
    let away_from_input = |s: i64| {
        [(burst_start, burst_end), (key_start, key_end)]
            .iter()
            .all(|(a, b)| s as f64 + 2.0 <= a - 0.5 || s as f64 >= b + 0.5)
    };
    let wrong: Vec<String> = seconds
        .iter()
        .filter(|(s, active)| (inside_burst(*s) && !active) || (away_from_input(*s) && *active))
        .map(|(s, active)| format!("{s}: recorded {}", if *active { "active" } else { "idle" }))
        .collect();
    assert!(
        wrong.is_empty(),
        "activity differs from the input typed (burst {burst_start:.1}..{burst_end:.1}, key {key_start:.1}..{key_end:.1}): {wrong:?}"
    );
    assert!(
        seconds.iter().filter(|(s, _)| inside_burst(*s)).count() >= 3,
        "the burst covers whole seconds"
    );
    let active = seconds.iter().filter(|(_, a)| *a).count();
    assert!(
        (8..=14).contains(&active),
        "{active} active seconds for a 10-s burst and one key"
    );
    assert!(
        seconds
            .iter()
            .any(|(s, a)| *a && *s as f64 <= key_start && key_start < *s as f64 + 2.0),
        "the single key made its second active"
    );
    // Wayland can't count input: the counts say so rather than claiming 0 keys.
    assert!(intervals
        .iter()
        .all(|i| !i.counts_measured && !i.counts.any()));
    // The window in front, by its app id and title.
    let windows: Vec<&WindowSegment> = intervals.iter().flat_map(|i| &i.windows).collect();
    assert!(
        windows
            .iter()
            .all(|w| w.app == APP_ID && w.title == "Quarterly plan"),
        "{windows:?}"
    );
    // E6: what was typed is nowhere in the store.
    for file in std::fs::read_dir(&data).unwrap().filter_map(|e| e.ok()) {
        let bytes = std::fs::read(file.path()).unwrap();
        assert!(
            !bytes.windows(6).any(|w| w == b"secret"),
            "typed text found in {}",
            file.path().display()
        );
    }
}
