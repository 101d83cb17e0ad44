//! A desktop for the end-to-end tests: Xvfb, openbox (so windows have focus and titles), a
//! session D-Bus (the tray), tauri-driver with Debian's WebKitWebDriver, and xdotool for real
//! X input. Everything is a child process, killed on drop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Desktop {
    /// tauri-driver's pid: apps opened by WebDriver sessions run below it.
    pub driver_pid: u32,
    pub display: String,
    pub bus: String,
    pub driver: String,
    children: Vec<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spawn(cmd: &mut Command, what: &str) -> Child {
    cmd.spawn().unwrap_or_else(|e| {
        panic!("cannot start {what} ({e}); `bash .ci/deps.sh test` installs it")
    })
}

/// tauri-driver, installed by `.ci/test.sh` with `cargo install tauri-driver`.
fn tauri_driver() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let bin = home.join(".cargo/bin/tauri-driver");
    assert!(
        bin.exists(),
        "{} is missing: cargo install tauri-driver --version ^2 --locked (done by .ci/test.sh)",
        bin.display()
    );
    bin
}

impl Desktop {
    /// Starts the X server, window manager, bus and WebDriver; `env` goes to the app.
    pub fn start(env: &[(&str, &Path)], extra_env: &[(&str, &str)]) -> Desktop {
        // The window starts the resident process from beside itself: have it built.
        tray_bin();
        // Xvfb picks a free display number itself and writes it to its stdout
        // (`-displayfd 1`) once it accepts connections: tests run in parallel, in threads and
        // (under cargo-nextest) in processes of their own, so a number found free by looking
        // could be taken by another test before its server started.
        let mut children = Vec::new();
        let mut xvfb = spawn(
            Command::new("Xvfb")
                .args([
                    "-displayfd",
                    "1",
                    "-screen",
                    "0",
                    "1280x900x24",
                    "-nolisten",
                    "tcp",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
            "Xvfb",
        );
        let mut number = String::new();
        let _ = BufReader::new(xvfb.stdout.take().unwrap()).read_line(&mut number);
        children.push(xvfb);
        assert!(
            !number.trim().is_empty(),
            "Xvfb exited before it said which display it took"
        );
        let display = format!(":{}", number.trim());
        children.push(spawn(
            Command::new("openbox")
                .env("DISPLAY", &display)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "openbox",
        ));
        let mut bus = spawn(
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
            "dbus-daemon",
        );
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        children.push(bus);
        let bus = address.trim().to_string();
        let (port, native) = (free_port(), free_port());
        let mut driver = Command::new(tauri_driver());
        driver
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("DISPLAY", &display)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .env("LANG", "en_US.UTF-8")
            .env("NO_AT_BRIDGE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            driver.env(k, v);
        }
        for (k, v) in extra_env {
            driver.env(k, v);
        }
        // Its own process group, so WebKitWebDriver and the app it starts go down with it.
        std::os::unix::process::CommandExt::process_group(&mut driver, 0);
        let driver = spawn(&mut driver, "tauri-driver");
        let driver_pid = driver.id();
        children.push(driver);
        wait_for("tauri-driver", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Desktop {
            driver_pid,
            display,
            bus,
            driver: format!("http://127.0.0.1:{port}"),
            children,
        }
    }

    /// Starts dunst, a notification daemon, on this display and bus.
    pub fn start_notification_daemon(&mut self) {
        let child = spawn(
            Command::new("dunst")
                .env("DISPLAY", &self.display)
                .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "dunst",
        );
        self.children.push(child);
        let names = || self.busctl(&["list", "--no-legend"]);
        wait_for("dunst on the bus", Duration::from_secs(10), || {
            names().contains("org.freedesktop.Notifications")
        });
    }

    /// The summaries and bodies of the notifications dunst has shown (`dunstctl history`).
    pub fn notifications(&self) -> String {
        let out = Command::new("dunstctl")
            .arg("history")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .output()
            .expect("dunstctl");
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Starts the app directly (not through WebDriver) on this display and bus, with its own
    /// data, config and log dirs under `dir`.
    pub fn launch_app(&self, binary: &str, dir: &Path) -> Child {
        Command::new(binary)
            .env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("METRON_DATA_DIR", dir.join("data"))
            .env("METRON_CONFIG_DIR", dir.join("config"))
            .env("METRON_LOG_DIR", dir.join("logs"))
            // Autostart entries go to $HOME/.config/autostart: keep them in the test's dir.
            .env("HOME", dir)
            .env("LANG", "en_US.UTF-8")
            .env("NO_AT_BRIDGE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// Runs xdotool on this display.
    pub fn xdotool(&self, args: &[&str]) -> String {
        let out = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .expect("xdotool");
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Someone at the keyboard and mouse for `secs` seconds: real X events, which the app's
    /// input listener (XRecord) sees like hardware input.
    pub fn work(&self, secs: u64) {
        let end = Instant::now() + Duration::from_secs(secs);
        let mut k = 0;
        while Instant::now() < end {
            k += 1;
            let (dx, dy) = if k % 2 == 0 { ("7", "4") } else { ("-7", "-4") };
            self.xdotool(&["mousemove_relative", "--", dx, dy]);
            self.xdotool(&["key", "shift"]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// `busctl --user` on this session bus.
    pub fn busctl(&self, args: &[&str]) -> String {
        // The app's process has D-Bus connections besides the tray's (the idle-inhibitor
        // probe's answers once a tick): a connection that can't answer costs 5 s, not 25.
        let out = Command::new("busctl")
            .args(["--user", "--timeout=5"])
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .output()
            .expect("busctl");
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Clicks a tray menu item by its label, over D-Bus: libayatana-appindicator exports the
    /// menu as com.canonical.dbusmenu, which is what a panel would call when the item is
    /// clicked (Xvfb has no panel to click on).
    pub fn click_tray_item(&self, app_pid: u32, label: &str) {
        assert!(
            self.try_click_tray_item(app_pid, label),
            "the app (pid {app_pid}) has no enabled tray item {label:?} on the session bus"
        );
    }

    /// The tray icon's picture as a panel sees it: the PNG the StatusNotifierItem's `IconName`
    /// names (each change of picture is a new file, so the bytes are compared, not names).
    pub fn tray_icon(&self, app_pid: u32) -> Option<Vec<u8>> {
        let names = self.busctl(&["list", "--no-legend"]);
        for line in names
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some(app_pid.to_string().as_str()))
        {
            let name = line.split_whitespace().next()?;
            let tree = self.busctl(&["tree", name, "--list"]);
            for path in tree
                .lines()
                .map(str::trim)
                .filter(|p| p.contains("NotificationItem") && !p.ends_with("/Menu"))
            {
                let get = |prop: &str| {
                    let out = self.busctl(&[
                        "--json=short",
                        "get-property",
                        name,
                        path,
                        "org.kde.StatusNotifierItem",
                        prop,
                    ]);
                    serde_json::from_str::<serde_json::Value>(&out)
                        .ok()
                        .and_then(|v| v["data"].as_str().map(String::from))
                };
                // libayatana gives a file's path, or a name to look up in the theme path.
                if let Some(icon) = get("IconName") {
                    let file = if icon.starts_with('/') {
                        PathBuf::from(icon)
                    } else {
                        Path::new(&get("IconThemePath").unwrap_or_default())
                            .join(format!("{icon}.png"))
                    };
                    return std::fs::read(file).ok();
                }
            }
        }
        None
    }

    /// Like [`Desktop::click_tray_item`]; false when the menu or an enabled item is not there (yet).
    pub fn try_click_tray_item(&self, app_pid: u32, label: &str) -> bool {
        let names = self.busctl(&["list", "--no-legend"]);
        let owners: Vec<&str> = names
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some(app_pid.to_string().as_str()))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        for name in owners {
            let tree = self.busctl(&["tree", name, "--list"]);
            let Some(menu) = tree.lines().map(str::trim).find(|p| p.ends_with("/Menu")) else {
                continue;
            };
            // `--` so that the -1 (whole depth) is not read as an option.
            let layout = self.busctl(&[
                "--json=short",
                "--",
                "call",
                name,
                menu,
                "com.canonical.dbusmenu",
                "GetLayout",
                "iias",
                "0",
                "-1",
                "0",
            ]);
            let Ok(layout) = serde_json::from_str::<serde_json::Value>(&layout) else {
                continue;
            };
            let children = layout["data"][1][2].as_array().cloned().unwrap_or_default();
            let item = children
                .iter()
                .map(|c| &c["data"])
                .find(|c| c[1]["label"]["data"].as_str() == Some(label));
            let Some(item) = item else { continue };
            if item[1]["enabled"]["data"].as_bool() == Some(false) {
                return false;
            }
            let id = item[0].as_i64().unwrap_or_default().to_string();
            self.busctl(&[
                "call",
                name,
                menu,
                "com.canonical.dbusmenu",
                "Event",
                "isvu",
                &id,
                "clicked",
                "s",
                "",
                "0",
            ]);
            return true;
        }
        false
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        // SAFETY: signals the process group tauri-driver leads (created above).
        unsafe { libc::kill(-(self.driver_pid as i32), libc::SIGKILL) };
        for c in self.children.iter_mut().rev() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The pid of a running `binary` below process `root` (tests run in parallel, each with its
/// own desktop and app).
pub fn app_pid(root: u32, binary: &Path) -> Option<u32> {
    let want = std::fs::canonicalize(binary).ok()?;
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        if std::fs::read_link(format!("/proc/{p}/exe")).ok().as_ref() == Some(&want) {
            return Some(p);
        }
        let children =
            std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
        todo.extend(
            children
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok()),
        );
    }
    None
}

/// The resident process's binary (`metron-tray`, another package of the workspace), built
/// beside the window's binary in this test's profile.
pub fn tray_bin() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let window = PathBuf::from(env!("CARGO_BIN_EXE_metron"));
        // See METRON_WORKSPACE_BINS in crates/metron-agent/tests/agent/server.rs: under
        // `cargo test --workspace` the binary is built already.
        if std::env::var_os("METRON_WORKSPACE_BINS").is_none() {
            let mut cargo = Command::new(env!("CARGO"));
            cargo
                .args([
                    "build",
                    "--quiet",
                    "-p",
                    "metron-tray",
                    "--bin",
                    "metron-tray",
                ])
                .current_dir(crate::manifest_dir());
            if window.parent().is_some_and(|d| d.ends_with("release")) {
                cargo.arg("--release");
            }
            assert!(
                cargo.status().expect("run cargo").success(),
                "building metron-tray failed"
            );
        }
        window.with_file_name("metron-tray")
    })
}

/// Waits until process `pid` has ended (gone, or a zombie nobody reaped yet).
pub fn wait_gone(pid: u32, what: &str) {
    let start = Instant::now();
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or("");
        if stat.is_empty() || state == "Z" || state == "X" {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what} did not end"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
