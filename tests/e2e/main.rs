//! End to end, in a real window: the built app under Xvfb and openbox, driven through
//! tauri-driver and WebKitWebDriver, with real X input from xdotool, against a real
//! `metron-server` on 127.0.0.1. Screenshots of the main states go to target/e2e-screenshots/.
//!
//! Linux only: the window's WebDriver is WebKitGTK's. On Windows the window runs on WebView2,
//! which does not exist under Wine (docs/WINDOWS.md), so there it is compile-checked only.
#![cfg(target_os = "linux")]

#[allow(dead_code)]
#[path = "../../crates/metron-agent/tests/agent/compositor.rs"]
mod compositor;
mod desktop;
#[allow(dead_code)]
#[path = "../../crates/metron-agent/tests/agent/server.rs"]
mod server;
mod wayland;
mod webdriver;

use desktop::{app_pid, tray_bin, wait_gone, Desktop};
use server::{server_cli, ServerProc};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use webdriver::Session;

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

const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery";

fn shots() -> PathBuf {
    manifest_dir().join("target/e2e-screenshots")
}

fn secs(clock: &str) -> u64 {
    clock
        .trim()
        .split(':')
        .fold(0, |acc, part| acc * 60 + part.parse::<u64>().unwrap_or(0))
}

fn count(text: &str) -> u64 {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn an_employee_signs_in_tracks_survives_a_server_outage_and_quits_from_the_tray() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, config, logs) = (
        tmp.path().join("data"),
        tmp.path().join("config"),
        tmp.path().join("logs"),
    );
    let db = tmp.path().join("server.sqlite");
    server_cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            EMAIL,
            "--name",
            "Ann",
            "--password",
            PASSWORD,
        ],
    );
    // A free port the server comes back on after the outage.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    // The organization announces a newer desktop release: the app says so after sign-in.
    server_cli(
        &db,
        &[
            "client-version",
            "set",
            "--latest",
            "9.0.0",
            "--url",
            "https://metron.example.com/download",
        ],
    );
    let mut server = ServerProc::start(&db, &listen);
    let desktop = Desktop::start(
        &[
            ("METRON_DATA_DIR", &data),
            ("METRON_CONFIG_DIR", &config),
            ("METRON_LOG_DIR", &logs),
        ],
        &[("METRON_INTERVAL_RANGE", "3..5")],
    );
    let app = env!("CARGO_BIN_EXE_metron");
    let s = Session::open(&desktop.driver, app);
    let dir = shots();

    // First run: local mode, no set-up.
    s.wait("#view-main:not([hidden])");
    s.wait_text("#connection", "local mode", Duration::from_secs(20), |t| {
        t == "Local"
    });
    s.screenshot(&dir.join("01-first-run-local.png"));

    // Sign in to the team server: a wrong password first.
    s.click("#open-settings");
    s.click("#to-team");
    s.type_into("#signin-server", &server.base());
    s.type_into("#signin-email", EMAIL);
    s.type_into("#signin-password", "wrong password");
    s.click("#signin-submit");
    s.wait_text(
        "#signin-error",
        "the refusal",
        Duration::from_secs(15),
        |t| t.contains("refused"),
    );
    s.screenshot(&dir.join("02-wrong-password.png"));
    s.type_into("#signin-password", PASSWORD);
    s.click("#signin-submit");
    s.wait_text("#connection", "online", Duration::from_secs(20), |t| {
        t == "Online"
    });
    // A first sign-in: the organization's transparency notice, the server's own sentences,
    // until "I understand" tells the server, which then says it is acknowledged.
    let notice = my_notice(&server.base());
    assert!(notice["acknowledged_at"].is_null(), "{notice}");
    s.wait("#org-notice:not([hidden])");
    let shown = s.script(
        "return [...document.querySelectorAll('#org-notice-text li')].map(li => li.textContent)",
    );
    assert_eq!(shown, notice["text"]["en"]);
    // Its end, with the button, in the window.
    s.script("document.getElementById('org-notice-ack').scrollIntoView({block: 'end'}); return 0");
    s.screenshot(&dir.join("03a-transparency-notice.png"));
    s.click("#org-notice-ack");
    s.wait("#org-notice[hidden]");
    let acked = my_notice(&server.base());
    assert!(acked["acknowledged_at"].is_string(), "{acked}");
    assert_eq!(acked["version"], notice["version"]);
    s.wait_text(
        "#release",
        "the announced release",
        Duration::from_secs(20),
        |t| t.contains("9.0.0") && t.contains("https://metron.example.com/download"),
    );
    s.screenshot(&dir.join("03-release-available.png"));

    // A new task, started.
    s.type_into("#new-task-name", "Write the quarterly report");
    s.click("#new-task-form button[type=submit]");
    s.wait_text("#tasks", "the new task", Duration::from_secs(20), |t| {
        t.contains("Write the quarterly report")
    });
    s.click("#tasks li:first-child button");
    s.wait_text("#current-task", "tracking", Duration::from_secs(10), |t| {
        t == "Write the quarterly report"
    });

    // Real typing and mouse moves; the counter advances and the activity bars fill.
    let before = secs(&s.text("#session"));
    desktop.work(9);
    let after = secs(&s.text("#session"));
    assert!(
        after >= before + 6,
        "the session counter went {before} -> {after}"
    );
    let high = s.script("return document.querySelectorAll('#bars .bar[data-level=high], #bars .bar[data-level=mid]').length");
    assert!(high.as_u64().unwrap() >= 1, "no active bar");
    let today = s.text("#today-activity");
    assert!(
        count(&today) > 0 && today.contains("active"),
        "today's activity: {today}"
    );
    s.screenshot(&dir.join("03-tracking.png"));
    // Intervals reach the server.
    let start = Instant::now();
    while ServerProc::stored_ids(&db).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "nothing reached the server"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The Today view draws the server's report of the day: what was delivered.
    s.wait_text(
        "#today-tracked",
        "today's report",
        Duration::from_secs(30),
        |t| count(t) > 0,
    );
    let blocks = s
        .script("return document.querySelectorAll('#today-timeline .block').length")
        .as_u64()
        .unwrap();
    assert!(
        blocks as usize >= 1 && blocks as usize <= ServerProc::stored_ids(&db).len(),
        "{blocks} timeline blocks"
    );
    assert!(
        s.script("return document.querySelectorAll('#today-apps li').length")
            .as_u64()
            .unwrap()
            >= 1,
        "no top app"
    );
    assert!(
        count(&s.text("#today-active")) > 0,
        "today's activity on the server"
    );
    s.script("document.getElementById('today-card').scrollIntoView(); return 0");
    s.screenshot(&dir.join("03b-today.png"));
    s.script("window.scrollTo(0, 0); return 0");

    // The server goes away: the unsent list grows.
    server.kill();
    let waiting = s.wait_text(
        "#delivery-summary",
        "a backlog",
        Duration::from_secs(40),
        |t| count(t) >= 2 && t.contains("waiting"),
    );
    desktop.work(2);
    s.wait_text("#connection", "offline", Duration::from_secs(20), |t| {
        t == "Offline"
    });
    assert!(
        s.script("return document.querySelectorAll('#undelivered li').length")
            .as_u64()
            .unwrap()
            >= 2,
        "{waiting}"
    );
    s.screenshot(&dir.join("04-offline-backlog.png"));

    // It comes back; Resend all empties the list.
    let stored_before = ServerProc::stored_ids(&db).len();
    server = ServerProc::start(&db, &listen);
    s.click("#resend-all");
    s.wait_text(
        "#delivery-summary",
        "all delivered",
        Duration::from_secs(20),
        |t| t == "Everything is delivered.",
    );
    assert!(ServerProc::stored_ids(&db).len() >= stored_before + 2);
    s.screenshot(&dir.join("05-resent.png"));

    // Quit from the tray menu (over D-Bus): the open interval closes as `quit` and is delivered.
    // The tray belongs to the resident process, which the window started.
    let window = app_pid(desktop.driver_pid, std::path::Path::new(app)).expect("the window runs");
    let resident = app_pid(window, tray_bin()).expect("the resident process runs");
    desktop.click_tray_item(resident, "Quit");
    wait_gone(resident, "the resident process after Quit");
    wait_gone(window, "the window after Quit");
    // Everything the app recorded, the `quit` interval included (when Quit came a second or
    // more after the last boundary), was delivered before it exited.
    let agent = rusqlite::Connection::open(data.join("agent.sqlite")).unwrap();
    let mut stmt = agent
        .prepare("SELECT id, status, json_extract(body, '$.end_reason') FROM intervals")
        .unwrap();
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let on_server: std::collections::HashSet<String> = ServerProc::stored_ids(&db)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert!(rows.len() >= 4, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.1 == "sent" && on_server.contains(&r.0)),
        "undelivered at exit: {rows:?}"
    );
    drop(server);
}

/// `GET /api/v1/me/notice` as Ann (signed in for it on its own token).
fn my_notice(base: &str) -> serde_json::Value {
    let http = reqwest::blocking::Client::new();
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = login["token"].as_str().expect("a token");
    http.get(format!("{base}/api/v1/me/notice"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// All processes below `pid` (itself included), with their resident memory in KiB.
fn app_tree(pid: u32) -> Vec<(u32, String, u64)> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let status = std::fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
        let field = |k: &str| {
            status
                .lines()
                .find(|l| l.starts_with(k))
                .and_then(|l| l.split_whitespace().nth(1))
                .map(str::to_string)
        };
        let rss = field("VmRSS:").and_then(|v| v.parse().ok()).unwrap_or(0);
        out.push((p, field("Name:").unwrap_or_default(), rss));
        let children =
            std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
        todo.extend(
            children
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok()),
        );
    }
    out
}

/// The resident process the window `window` started (it is its child until the window ends).
fn resident_of(window: u32) -> u32 {
    let start = Instant::now();
    loop {
        if let Some(pid) = app_pid(window, tray_bin()) {
            return pid;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the window started no resident process"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Closes a window the way a person does, with openbox's Alt+F4 (pressed again if a busy
/// machine let the first press reach the window before the window manager focused it).
fn close(desktop: &Desktop, window: &str) {
    let start = Instant::now();
    while !desktop
        .xdotool(&["search", "--onlyvisible", "--name", "^Metron$"])
        .trim()
        .is_empty()
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the window did not close"
        );
        desktop.xdotool(&["windowactivate", "--sync", window]);
        desktop.xdotool(&["key", "alt+F4"]);
        std::thread::sleep(Duration::from_millis(1500));
    }
}

#[test]
fn closing_the_window_ends_its_process_tracking_stays_in_the_tray_and_show_or_a_second_launch_brings_a_window(
) {
    let tmp = tempfile::tempdir().unwrap();
    let desktop = Desktop::start(&[], &[]);
    let launch = || desktop.launch_app(env!("CARGO_BIN_EXE_metron"), tmp.path());
    let mut first = launch();
    let resident = resident_of(first.id());
    let window = |what: &str| {
        let start = Instant::now();
        loop {
            let w = desktop.xdotool(&["search", "--onlyvisible", "--name", "^Metron$"]);
            if let Some(id) = w.lines().next() {
                return id.to_string();
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no window: {what}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let w = window("first launch");
    std::thread::sleep(Duration::from_secs(3));
    let shown = app_tree(first.id());
    assert!(
        shown.iter().any(|p| p.1.starts_with("WebKitWeb")),
        "a web process renders the window: {shown:?}"
    );

    // Close the window (openbox's Alt+F4): its process ends, WebKit with it; the resident
    // process stays, with the tray, and links no WebKit at all.
    close(&desktop, &w);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = first.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the window's process outlived the window: {:?}",
            app_tree(first.id())
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let hidden = app_tree(resident);
    assert_eq!(
        hidden.len(),
        1,
        "only the resident process is left: {hidden:?}"
    );
    let maps = std::fs::read_to_string(format!("/proc/{resident}/maps")).unwrap();
    assert!(
        !maps.contains("libwebkit2gtk") && !maps.contains("libLLVM"),
        "the resident process loaded WebKit or GL"
    );
    let shown_kib: u64 = shown.iter().map(|p| p.2).sum::<u64>() + hidden[0].2;
    eprintln!(
        "memory (RSS) of all the app's processes: {} MiB shown, {} MiB hidden",
        shown_kib / 1024,
        hidden[0].2 / 1024
    );

    // Show window from the tray starts a window process again.
    desktop.click_tray_item(resident, "Show window");
    let w2 = window("Show window");
    close(&desktop, &w2);

    // A second launch while a window is open brings that one forward and exits.
    let mut third = launch();
    window("a window launched again");
    let mut second = launch();
    let status = {
        let start = Instant::now();
        loop {
            if let Some(s) = second.try_wait().unwrap() {
                break s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the second window process kept running"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    assert!(
        status.success(),
        "the second launch ended with {status:?}; the app's logs:\n{}",
        logs_of(tmp.path())
    );
    assert_eq!(
        desktop
            .xdotool(&["search", "--onlyvisible", "--name", "^Metron$"])
            .lines()
            .count(),
        1,
        "one window"
    );

    // The autostart setting writes and removes an XDG autostart entry that starts the resident
    // process to the tray (what the settings' checkbox sends, over the window's socket).
    let core = metron_tray::link::client::ResidentLink::connect(
        &tmp.path().join("data/desktop.sock"),
        |_| {},
    )
    .unwrap();
    let call =
        |c: metron_tray::link::protocol::Command| core.call(c, Duration::from_secs(10)).unwrap();
    let mut settings: metron_tray::settings::Settings = serde_json::from_value(
        call(metron_tray::link::protocol::Command::GetSettings)["settings"].clone(),
    )
    .unwrap();
    let entry = tmp.path().join(".config/autostart/Metron.desktop");
    assert!(!settings.autostart && !entry.exists());
    settings.autostart = true;
    call(metron_tray::link::protocol::Command::SetSettings {
        settings: settings.clone(),
    });
    let text = std::fs::read_to_string(&entry).expect("an autostart entry");
    assert!(
        text.contains(&format!("Exec={} --hidden", tray_bin().display())),
        "{text}"
    );
    settings.autostart = false;
    call(metron_tray::link::protocol::Command::SetSettings { settings });
    assert!(!entry.exists(), "autostart off removes the entry");
    drop(core);
    desktop.click_tray_item(resident, "Quit");
    wait_gone(resident, "the resident process after Quit");
    wait_gone(third.id(), "the window after Quit");
    let _ = third.wait();
}

#[test]
fn a_sleep_stops_tracking_with_a_desktop_notification_and_the_tray_starts_it_again() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut desktop = Desktop::start(&[], &[]);
    desktop.start_notification_daemon();
    let mut window = desktop.launch_app(env!("CARGO_BIN_EXE_metron"), tmp.path());
    // The tracker and the tray live in the resident process.
    let pid = resident_of(window.id());
    let open_interval = || {
        rusqlite::Connection::open(data.join("agent.sqlite"))
            .ok()
            .and_then(|c| {
                c.query_row("SELECT count(*) FROM checkpoint", [], |r| {
                    r.get::<_, i64>(0)
                })
                .ok()
            })
            .unwrap_or(0)
    };
    // Local mode's first task, started from the tray menu; the tray's picture follows.
    let start = Instant::now();
    while desktop.tray_icon(pid).is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no tray icon on the bus"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let idle_icon = desktop.tray_icon(pid).unwrap();
    // The menu exists once the tray is built; "Start" is enabled once the task list is in.
    while !desktop.try_click_tray_item(pid, "Start") {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no enabled Start in the tray menu"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Each wait has its own budget, so a slow step before can't use up the next one's.
    let clicked = Instant::now();
    while open_interval() != 1 {
        assert!(
            clicked.elapsed() < Duration::from_secs(60),
            "the tray's Start did not start tracking"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let tracking = Instant::now();
    while desktop.tray_icon(pid).as_ref() == Some(&idle_icon) {
        assert!(
            tracking.elapsed() < Duration::from_secs(30),
            "the tray icon did not change for tracking"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The machine "sleeps": the process is frozen for 8 s (more than the 5 s sleep gap).
    unsafe { libc::kill(pid as i32, libc::SIGSTOP) };
    std::thread::sleep(Duration::from_secs(8));
    unsafe { libc::kill(pid as i32, libc::SIGCONT) };
    let start = Instant::now();
    loop {
        let shown = desktop.notifications();
        if shown.contains("Tracking stopped") && shown.contains("The computer slept.") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no notification; dunst history: {shown}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(open_interval(), 0, "tracking stopped");
    let start = Instant::now();
    while desktop.tray_icon(pid).as_ref() != Some(&idle_icon) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the tray icon did not go back to idle"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    desktop.click_tray_item(pid, "Quit");
    wait_gone(pid, "the resident process after Quit");
    wait_gone(window.id(), "the window after Quit");
    let _ = window.wait();
}

/// The rows of the app's local server: corrections (change, reason, status) and manual
/// entries (task, start, end, note, status).
type ServerChanges = (
    Vec<(String, String, String)>,
    Vec<(String, i64, i64, String, String)>,
);

fn local_changes(data: &std::path::Path) -> ServerChanges {
    let db = rusqlite::Connection::open(data.join("local-server.sqlite")).unwrap();
    let mut stmt = db
        .prepare("SELECT change, reason, status FROM corrections ORDER BY created_at, interval_started_at")
        .unwrap();
    let corrections = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut stmt = db
        .prepare("SELECT task_id, started_at, ended_at, note, status FROM manual_entries ORDER BY started_at")
        .unwrap();
    let entries = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (corrections, entries)
}

/// Waits until the local server holds what `ok` wants; returns it. On a timeout the message
/// carries what the window showed (its requests list, the manual form's error, the delivery
/// line), a screenshot and the app's logs: the cause of a slow delivery is in one of them.
fn wait_changes(
    s: &Session,
    tmp: &std::path::Path,
    what: &str,
    ok: impl Fn(&ServerChanges) -> bool,
) -> ServerChanges {
    let data = tmp.join("data");
    let start = Instant::now();
    loop {
        let changes = local_changes(&data);
        if ok(&changes) {
            return changes;
        }
        if start.elapsed() > Duration::from_secs(45) {
            s.screenshot(&shots().join("timed-out.png"));
            let shown = s.script(
                "const t = (id) => { const e = document.getElementById(id); \
                   return e ? `${id}${e.hidden ? ' (hidden)' : ''}: ${e.textContent.trim()}` : ''; }; \
                 return ['requests', 'manual-error', 'connection', 'delivery-summary', 'undelivered'].map(t).join('\\n')",
            );
            panic!(
                "timed out waiting for {what}: {changes:?}\nthe window showed:\n{}\nthe app's logs:\n{}",
                shown.as_str().unwrap_or_default(),
                logs_of(tmp)
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn coming_back_after_an_idle_stop_the_window_asks_and_keeps_or_discards_the_time_away() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, config, logs) = (
        tmp.path().join("data"),
        tmp.path().join("config"),
        tmp.path().join("logs"),
    );
    // Local mode (its person is the organization's admin: their time is in force at once).
    // A 5-second idle limit stands in for 5 minutes.
    let desktop = Desktop::start(
        &[
            ("METRON_DATA_DIR", &data),
            ("METRON_CONFIG_DIR", &config),
            ("METRON_LOG_DIR", &logs),
        ],
        &[
            ("METRON_INTERVAL_RANGE", "3..5"),
            ("METRON_IDLE_LIMIT_SECS", "5"),
        ],
    );
    let app = env!("CARGO_BIN_EXE_metron");
    let s = Session::open(&desktop.driver, app);
    let dir = shots();
    s.wait("#view-main:not([hidden])");
    s.wait_text("#connection", "local mode", Duration::from_secs(20), |t| {
        t == "Local"
    });
    s.type_into("#new-task-name", "Meetings");
    s.click("#new-task-form button[type=submit]");
    s.wait_text("#tasks", "the new task", Duration::from_secs(20), |t| {
        t.contains("Meetings")
    });
    // Local mode's first task, started.
    let first_task = s
        .script(
            "const li = [...document.querySelectorAll('#tasks li')] \
               .find((li) => li.querySelector('.task-name').textContent !== 'Meetings'); \
             li.querySelector('button').click(); return li.querySelector('.task-name').textContent",
        )
        .as_str()
        .unwrap()
        .to_string();
    s.wait_text("#current-task", "tracking", Duration::from_secs(10), |t| {
        t == first_task
    });
    desktop.work(3);

    // Hands off: the idle stop comes, and nothing is asked while nobody is there.
    s.wait_text(
        "#current-task",
        "the idle stop",
        Duration::from_secs(20),
        |t| t == "Not tracking",
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        s.script("return document.getElementById('away-card').hidden"),
        serde_json::json!(true)
    );
    // Back: a mouse move (real X input through XTEST; an absolute `mousemove` only warps the
    // pointer) opens the question.
    desktop.xdotool(&["mousemove_relative", "--", "20", "10"]);
    let text = s.wait_text("#away-text", "the question", Duration::from_secs(15), |t| {
        t.contains("You were away from")
    });
    assert!(text.contains("5 s of idle time"), "{text}");
    assert_eq!(
        s.text("#away-keep"),
        format!("Keep as work on {first_task}")
    );
    s.screenshot(&dir.join("06-back-after-idle.png"));

    // Keep it as another task, with a note: tracking goes on with that task.
    s.click("#away-other");
    s.script(
        "const sel = document.getElementById('away-task'); \
         sel.value = [...sel.options].find((o) => o.textContent === 'Meetings').value; return 0",
    );
    s.type_into("#away-note", "stand-up by the window");
    s.screenshot(&dir.join("07-keep-as-another-task.png"));
    s.click("#away-keep-other");
    s.wait_text(
        "#current-task",
        "tracking Meetings",
        Duration::from_secs(10),
        |t| t == "Meetings",
    );
    // Some work on it; the next idle stop comes 5 s after.
    desktop.work(2);
    assert_eq!(
        s.script("return document.getElementById('away-card').hidden"),
        serde_json::json!(true)
    );
    let (corrections, entries) = wait_changes(&s, tmp.path(), "the kept stretch", |(c, e)| {
        !c.is_empty() && e.len() == 1
    });
    assert!(
        corrections.iter().all(
            |(_, reason, status)| reason == "away: kept as manual time" && status == "approved"
        ),
        "{corrections:?}"
    );
    let (task, started, ended, note, status) = &entries[0];
    assert_ne!(task, "", "the entry names the task");
    assert_eq!(
        (note.as_str(), status.as_str()),
        ("stand-up by the window", "approved")
    );
    assert!(
        ended - started >= 8,
        "from the last input to the return: {started}..{ended}"
    );
    s.wait_text(
        "#requests",
        "the list of changes",
        Duration::from_secs(15),
        |t| {
            t.contains("Manual time") && t.contains("Meetings") && t.contains("Time away taken out")
        },
    );
    assert!(
        !s.text("#requests").contains("waiting"),
        "{}",
        s.text("#requests")
    );
    s.script("document.getElementById('manual-card').scrollIntoView(); return 0");
    s.screenshot(&dir.join("08-changes-listed.png"));
    s.script("window.scrollTo(0, 0); return 0");

    // Away again: Discard takes the idle seconds out and keeps nothing.
    s.wait_text(
        "#current-task",
        "the second idle stop",
        Duration::from_secs(20),
        |t| t == "Not tracking",
    );
    desktop.xdotool(&["mousemove_relative", "--", "-20", "-10"]);
    s.wait_text(
        "#away-text",
        "the second question",
        Duration::from_secs(15),
        |t| t.contains("You were away from"),
    );
    s.click("#away-discard");
    s.wait_text(
        "#current-task",
        "tracking again",
        Duration::from_secs(10),
        |t| t == "Meetings",
    );
    let (corrections, entries) = wait_changes(&s, tmp.path(), "the discarded tail", |(c, _)| {
        c.iter().any(|(_, reason, _)| reason == "away: discarded")
    });
    assert_eq!(entries.len(), 1, "discarding keeps nothing: {entries:?}");
    let discarded: Vec<_> = corrections
        .iter()
        .filter(|(_, reason, _)| reason == "away: discarded")
        .collect();
    // The tail is the 5 idle seconds: in intervals of 3-5 s, one trimmed and at most two removed.
    assert!((1..=3).contains(&discarded.len()), "{discarded:?}");
    assert!(discarded
        .iter()
        .all(|(change, _, status)| status == "approved"
            && (change.contains("\"trim\"") || change.contains("\"remove\""))));
    s.click("#stop");

    // Manual time added by hand, in the window.
    s.click("#manual-open");
    s.script(
        "const sel = document.getElementById('manual-task'); \
         sel.value = [...sel.options].find((o) => o.textContent === 'Meetings').value; \
         const d = new Date(Date.now() - 3 * 3600e3); const p = (n) => String(n).padStart(2, '0'); \
         document.getElementById('manual-date').value = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`; \
         document.getElementById('manual-from').value = `${p(d.getHours())}:00`; \
         document.getElementById('manual-to').value = `${p(d.getHours())}:30`; return 0",
    );
    s.type_into("#manual-note", "client call from the car");
    s.click("#manual-submit");
    let (_, entries) = wait_changes(&s, tmp.path(), "the entry added by hand", |(_, e)| {
        e.len() == 2
    });
    let by_hand = entries
        .iter()
        .find(|e| e.3 == "client call from the car")
        .expect("the entry");
    assert_eq!(
        (by_hand.2 - by_hand.1, by_hand.4.as_str()),
        (1800, "approved")
    );
    s.wait_text(
        "#requests",
        "the entry listed",
        Duration::from_secs(15),
        |t| t.contains("client call from the car"),
    );
    s.script("document.getElementById('manual-card').scrollIntoView(); return 0");
    s.screenshot(&dir.join("09-manual-time.png"));
}

/// Every log file the app's processes wrote under `dir` (METRON_LOG_DIR), for a failure's
/// message: the window processes' stderr is not kept.
fn logs_of(dir: &std::path::Path) -> String {
    let Ok(files) = std::fs::read_dir(dir.join("logs")) else {
        return "(no logs)".into();
    };
    let mut out = String::new();
    for f in files.flatten() {
        let text = std::fs::read_to_string(f.path()).unwrap_or_default();
        out += &format!("--- {}\n{text}\n", f.path().display());
    }
    out
}
