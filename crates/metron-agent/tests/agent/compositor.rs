//! Headless Wayland compositors for tests, from Debian's packages (`.ci/deps.sh wayland`):
//! sway as a user of its own (it refuses root), mutter, kwin_wayland and gnome-shell as root on
//! private session buses. Shared by the agent's Wayland sensor tests and the desktop app's
//! end-to-end test on Wayland (tests/e2e). A missing package fails the test, never skips it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SWAY_USER: &str = "metron-wayland";

/// A compositor and its clients, ended however the test ends.
pub struct Compositor {
    pub runtime: tempfile::TempDir,
    pub display: String,
    pub bus: Option<String>,
    pub children: Vec<Child>,
    pub user: Option<&'static str>,
    /// Folders that must outlive the compositor (a copied binary).
    pub keep: Vec<tempfile::TempDir>,
}

impl Drop for Compositor {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            // Each child leads a process group (see `spawn_group`): the signal reaches what it
            // started too (dbus-run-session's bus and mutter).
            // SAFETY: kill has no memory preconditions; the group is our child's.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGTERM) };
            let start = Instant::now();
            while child.try_wait().ok().flatten().is_none()
                && start.elapsed() < Duration::from_secs(3)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            // SAFETY: as above.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.kill();
            let _ = child.wait();
        }
        // runuser does not pass a kill on to sway: end whatever the test user still runs.
        if let Some(user) = self.user {
            let _ = Command::new("pkill").args(["-KILL", "-u", user]).status();
        }
    }
}

impl Compositor {
    pub fn env<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command
            .env_remove("DISPLAY")
            .env("XDG_RUNTIME_DIR", self.runtime.path())
            .env("WAYLAND_DISPLAY", &self.display);
        match &self.bus {
            Some(bus) => command.env("DBUS_SESSION_BUS_ADDRESS", bus),
            None => command.env_remove("DBUS_SESSION_BUS_ADDRESS"),
        }
    }

    pub fn wait_for_socket(&mut self) {
        let dir = self.runtime.path().to_path_buf();
        let mut found = String::new();
        wait_until(
            "the compositor's Wayland socket",
            Duration::from_secs(30),
            || {
                found = socket_in(&dir).unwrap_or_default();
                !found.is_empty()
            },
        );
        self.display = found;
    }
}

/// Spawns `command` as the leader of a new process group, so the test can end all of it.
pub fn spawn_group(command: &mut Command, program: &str) -> Child {
    use std::os::unix::process::CommandExt;
    command
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| installed(program, e))
}

pub fn installed(program: &str, e: std::io::Error) -> ! {
    panic!("cannot run {program} ({e}); run the README test command, which installs it")
}

pub fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn socket_in(dir: &Path) -> Option<String> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .find_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name.starts_with("wayland-") && !name.ends_with(".lock")).then_some(name)
        })
}

pub fn ensure_user(user: &str) {
    // SAFETY: getuid has no preconditions.
    assert_eq!(
        unsafe { libc::getuid() },
        0,
        "the Wayland test runs sway as a user of its own and needs root to do so (the test command runs as root)"
    );
    let exists = || {
        Command::new("id")
            .arg(user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    // Tests in other processes (cargo-nextest) may make the same user at the same moment:
    // useradd then fails on the lock of /etc/passwd or finds the user made, so the user's
    // existence is what counts, asked again after each try.
    for _ in 0..50 {
        if exists() {
            return;
        }
        let _ = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                user,
            ])
            .stderr(Stdio::null())
            .status();
        if exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("useradd {user} failed for 10 s");
}

pub fn start_sway() -> Compositor {
    ensure_user(SWAY_USER);
    let runtime = tempfile::tempdir().unwrap();
    let chown = Command::new("chown")
        .args([SWAY_USER, runtime.path().to_str().unwrap()])
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
    let mut sway = Command::new("runuser");
    sway.args(["-u", SWAY_USER, "--", "env"])
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
        .env_remove("WAYLAND_DISPLAY");
    let sway = spawn_group(&mut sway, "sway");
    let mut sway = Compositor {
        runtime,
        display: String::new(),
        bus: None,
        children: vec![sway],
        user: Some(SWAY_USER),
        keep: Vec::new(),
    };
    sway.wait_for_socket();
    sway
}

/// Runs `script` (shell, ending in `exec` of the compositor) as root on a session bus of its
/// own, and waits until it has a Wayland socket and answers `method` of `dest` at `path`.
pub fn start_on_bus(script: &str, env: &[(&str, &str)], probe: [&str; 3]) -> Compositor {
    let runtime = tempfile::tempdir().unwrap();
    let bus_file = runtime.path().join("bus");
    let mut command = Command::new("dbus-run-session");
    command
        .args(["--", "sh", "-c"])
        .arg(format!(
            "echo \"$DBUS_SESSION_BUS_ADDRESS\" > {} && {script}",
            bus_file.display()
        ))
        .env("XDG_RUNTIME_DIR", runtime.path())
        .envs(env.iter().copied())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    let child = spawn_group(&mut command, "dbus-run-session");
    let mut session = Compositor {
        runtime,
        display: String::new(),
        bus: None,
        children: vec![child],
        user: None,
        keep: Vec::new(),
    };
    session.wait_for_socket();
    wait_until("the session bus", Duration::from_secs(10), || {
        std::fs::read_to_string(&bus_file).is_ok_and(|b| !b.trim().is_empty())
    });
    let bus = std::fs::read_to_string(&bus_file)
        .unwrap()
        .trim()
        .to_string();
    let [dest, path, method] = probe;
    wait_until(dest, Duration::from_secs(30), || {
        Command::new("gdbus")
            .args([
                "call",
                "--session",
                "--dest",
                dest,
                "--object-path",
                path,
                "--method",
                method,
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    session.bus = Some(bus);
    session
}

/// mutter as GNOME Shell runs it, headless; its bus holds the idle monitor and the
/// RemoteDesktop API. mutter runs as root.
pub fn start_mutter() -> Compositor {
    start_on_bus(
        "exec mutter --headless --wayland --no-x11 --virtual-monitor 1024x768",
        &[],
        [
            "org.gnome.Mutter.IdleMonitor",
            "/org/gnome/Mutter/IdleMonitor/Core",
            "org.gnome.Mutter.IdleMonitor.GetIdletime",
        ],
    )
}

/// kwin_wayland on its virtual backend, as root. Its fake-input protocol is for privileged
/// clients only; KWIN_WAYLAND_NO_PERMISSION_CHECKS lets the test's input client bind it.
pub fn start_kwin() -> Compositor {
    // Debian gives kwin_wayland a file capability (cap_sys_resource), and a container that
    // may not grant it refuses to exec the file ("Operation not permitted"); a copy has none.
    let bin = tempfile::tempdir().unwrap();
    let kwin = bin.path().join("kwin_wayland");
    std::fs::copy("/usr/bin/kwin_wayland", &kwin).unwrap_or_else(|e| installed("kwin_wayland", e));
    let mut session = start_on_bus(
        &format!(
            "exec {} --virtual --no-lockscreen --width 1024 --height 768",
            kwin.display()
        ),
        &[("KWIN_WAYLAND_NO_PERMISSION_CHECKS", "1")],
        [
            "org.kde.KWin",
            "/Scripting",
            "org.freedesktop.DBus.Peer.Ping",
        ],
    );
    session.keep.push(bin);
    session
}

/// GNOME Shell 43, headless, with Metron's extension installed and enabled in a home of its
/// own. The shell wants a system bus (logind) too: a private one stands in for it.
pub fn start_gnome_shell() -> Compositor {
    let home = tempfile::tempdir().unwrap();
    let dir = home
        .path()
        .join(".local/share/gnome-shell/extensions")
        .join(metron_agent::sensors::gnome::EXTENSION_UUID);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in metron_agent::sensors::gnome::extension_files(43) {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let system_bus = home.path().join("system-bus");
    let script = format!(
        "dbus-daemon --session --nofork --print-address=3 3>{sys} & \
         while [ ! -s {sys} ]; do sleep 0.1; done; \
         export DBUS_SYSTEM_BUS_ADDRESS=$(head -1 {sys}) && \
         gsettings set org.gnome.shell enabled-extensions \"['{uuid}']\" && \
         exec gnome-shell --headless --wayland --no-x11 --virtual-monitor 1024x768",
        sys = system_bus.display(),
        uuid = metron_agent::sensors::gnome::EXTENSION_UUID,
    );
    let home_str = home.path().to_str().unwrap().to_string();
    let mut session = start_on_bus(
        &script,
        &[("HOME", &home_str)],
        [
            "org.gnome.Shell",
            "/dev/metron/Shell",
            // FocusedWindow answers only a registered client; registering proves the
            // extension is up, and ends when gdbus leaves the bus.
            "dev.metron.Shell.Register",
        ],
    );
    session.keep.push(home);
    session
}
