//! The desktop app on Wayland: the window (WebKitGTK) and the resident process in a headless
//! sway session with no X display at all, driven through tauri-driver, which works there too.
//! sway has no tray host, so the app must say so once and keep its window as the way in; the
//! sensors are the compositor's, named in the settings.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::compositor::{start_sway, wait_until};
use crate::desktop::{app_pid, tray_bin};
use crate::webdriver::Session;

#[test]
fn the_window_runs_as_a_wayland_client_with_the_compositors_sensors_and_says_there_is_no_tray() {
    let mut sway = start_sway();
    let resident = tray_bin();
    let dirs = tempfile::tempdir().unwrap();
    // A session bus of the test's own (notifications, the tray-host check).
    let mut bus = Command::new("dbus-daemon");
    bus.args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut bus, 0);
    let mut bus = bus
        .spawn()
        .expect("dbus-daemon (`bash .ci/deps.sh test` installs it)");
    let mut address = String::new();
    BufReader::new(bus.stdout.take().unwrap())
        .read_line(&mut address)
        .unwrap();
    sway.children.push(bus);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut driver = Command::new(
        std::path::Path::new(&std::env::var_os("HOME").unwrap()).join(".cargo/bin/tauri-driver"),
    );
    driver
        .args(["--port", &port.to_string()])
        .env_remove("DISPLAY")
        .env("XDG_RUNTIME_DIR", sway.runtime.path())
        .env("WAYLAND_DISPLAY", &sway.display)
        .env("DBUS_SESSION_BUS_ADDRESS", address.trim())
        .env("LANG", "en_US.UTF-8")
        .env("NO_AT_BRIDGE", "1")
        .env("METRON_DATA_DIR", dirs.path().join("data"))
        .env("METRON_CONFIG_DIR", dirs.path().join("config"))
        .env("METRON_LOG_DIR", dirs.path().join("logs"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut driver, 0);
    let driver = driver
        .spawn()
        .expect("tauri-driver (installed by .ci/test.sh)");
    let driver_pid = driver.id();
    sway.children.push(driver);
    wait_until("tauri-driver", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });

    let app = env!("CARGO_BIN_EXE_metron");
    let s = Session::open(&format!("http://127.0.0.1:{port}"), app);
    // No tray host in sway: said in the window's banner (and as a notification).
    let banner = s.wait_text(
        "#banner",
        "the no-tray notice",
        Duration::from_secs(60),
        |t| t.contains("no tray icons"),
    );
    assert!(banner.contains("AppIndicator"), "{banner}");
    // The window is a Wayland client: there is no X display for it to use.
    let window = app_pid(driver_pid, std::path::Path::new(app)).expect("the window process");
    let maps = std::fs::read_to_string(format!("/proc/{window}/maps")).unwrap();
    assert!(
        maps.contains("libwayland-client"),
        "the window links no Wayland client library"
    );
    let environ = std::fs::read(format!("/proc/{window}/environ")).unwrap();
    assert!(
        !environ
            .split(|b| *b == 0)
            .any(|v| v.starts_with(b"DISPLAY=")),
        "the window has an X display"
    );
    // Tracking works, with the compositor's sensors named in the settings.
    s.click("#tasks li:first-child button");
    s.wait_text(
        "#session",
        "the session counter",
        Duration::from_secs(30),
        |t| crate::secs(t) >= 2,
    );
    s.click("#open-settings");
    let sensors = s.wait_text(
        "#sensors-line",
        "the sensors line",
        Duration::from_secs(20),
        |t| !t.is_empty(),
    );
    assert!(
        sensors.contains("org_kde_kwin_idle")
            && sensors.contains("Wayland; input not counted")
            && sensors.contains("wlr-foreign-toplevel"),
        "{sensors}"
    );
    std::fs::create_dir_all(crate::shots()).unwrap();
    s.screenshot(&crate::shots().join("wayland-settings.png"));
    // The resident process is detached from the window: end this test's one.
    let ours = dirs.path().to_string_lossy().into_owned();
    for entry in std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()) {
        let proc_dir = entry.path();
        let is_resident = std::fs::read_link(proc_dir.join("exe")).is_ok_and(|exe| exe == resident);
        let environ = std::fs::read(proc_dir.join("environ")).unwrap_or_default();
        if is_resident && String::from_utf8_lossy(&environ).contains(&ours) {
            let pid: i32 = entry.file_name().to_string_lossy().parse().unwrap();
            // SAFETY: kill has no memory preconditions; the pid is this test's resident.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
    }
}
