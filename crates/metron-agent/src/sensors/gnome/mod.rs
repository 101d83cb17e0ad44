//! GNOME on Wayland: activity from mutter's idle monitor, the window from Metron's GNOME
//! Shell extension, both on the session bus.
//!
//! Mutter (GNOME 43 to at least 47) offers neither Wayland idle protocol to clients, but its
//! `org.gnome.Mutter.IdleMonitor` object answers `GetIdletime`: the milliseconds since the
//! last input of the session. One call a tick turns it into E1's flags (see `idle_time.rs`).
//! GNOME tells no program which window is focused; the extension in `extension/` (installed
//! for the user, enabled by them) answers `FocusedWindow` for Metron, and for no other program
//! of the session: the agent calls `Register` first, and the extension answers only the
//! connection that registered (issue 27).

use std::time::Duration;

use dbus::blocking::Connection;
use metron_core::WindowInfo;

use super::idle_time::IdleTime;
use super::WindowProbe;

pub const MUTTER_IDLE: &str = "org.gnome.Mutter.IdleMonitor";
const PATH: &str = "/org/gnome/Mutter/IdleMonitor/Core";
/// A hung compositor must not hold the tick up.
const CALL_TIMEOUT: Duration = Duration::from_millis(300);

/// The idle time of the GNOME session this process runs in.
pub struct MutterIdle {
    conn: Connection,
    failing: bool,
}

impl MutterIdle {
    /// Connects to the session bus and checks that mutter answers.
    pub fn connect() -> Result<MutterIdle, String> {
        let conn = Connection::new_session().map_err(|e| format!("no session bus: {e}"))?;
        let mut probe = MutterIdle {
            conn,
            failing: false,
        };
        probe
            .read()
            .map_err(|e| format!("{MUTTER_IDLE} does not answer: {e}"))?;
        Ok(probe)
    }

    fn read(&mut self) -> Result<Duration, dbus::Error> {
        let proxy = self.conn.with_proxy(MUTTER_IDLE, PATH, CALL_TIMEOUT);
        let (ms,): (u64,) = proxy.method_call(MUTTER_IDLE, "GetIdletime", ())?;
        Ok(Duration::from_millis(ms))
    }
}

impl IdleTime for MutterIdle {
    fn idle(&mut self) -> Option<Duration> {
        match self.read() {
            Ok(idle) => {
                if self.failing {
                    tracing::info!("{MUTTER_IDLE} answers again");
                    self.failing = false;
                }
                Some(idle)
            }
            Err(e) => {
                if !self.failing {
                    tracing::warn!(
                        "{MUTTER_IDLE} failed ({e}); seconds count as inactive until it answers"
                    );
                    self.failing = true;
                }
                None
            }
        }
    }
}

/// The well-known name and object of the GNOME Shell extension Metron ships.
pub const EXTENSION_UUID: &str = "metron@metron.dev";
pub const SHELL_EXTENSION: &str = "the Metron GNOME Shell extension";
const SHELL: &str = "org.gnome.Shell";
const SENSOR_PATH: &str = "/dev/metron/Shell";
const SENSOR_IFACE: &str = "dev.metron.Shell";
/// The extension's answer to a caller that did not register (or registered with a shell
/// that has restarted since).
const NOT_REGISTERED: &str = "dev.metron.Shell.Error.NotRegistered";
/// The extension's answer to `Register` while another connection is registered.
const TAKEN: &str = "dev.metron.Shell.Error.Taken";

/// Why the extension can't be used.
#[derive(Debug)]
pub enum ShellRefusal {
    /// Not installed, not enabled, or an older build without `Register`: (re)install it.
    Absent(String),
    /// Another program of the session registered with it first; it is not Metron's to use.
    Taken,
}

impl std::fmt::Display for ShellRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShellRefusal::Absent(why) => write!(f, "{SHELL_EXTENSION} does not answer: {why}"),
            ShellRefusal::Taken => write!(
                f,
                "another program of this session registered with {SHELL_EXTENSION} first, so it tells Metron nothing; \
                 windows read 'unknown' until that program quits (it may be reading your windows)"
            ),
        }
    }
}

/// The focused window as the extension reports it, asked once a tick.
pub struct ShellWindow {
    conn: Connection,
    failing: bool,
}

impl ShellWindow {
    /// Connects, registers as the one agent the extension answers, and checks that it does.
    pub fn connect() -> Result<ShellWindow, ShellRefusal> {
        let conn = Connection::new_session()
            .map_err(|e| ShellRefusal::Absent(format!("no session bus: {e}")))?;
        let probe = ShellWindow {
            conn,
            failing: false,
        };
        probe.register()?;
        probe
            .read()
            .map_err(|e| ShellRefusal::Absent(e.to_string()))?;
        Ok(probe)
    }

    fn register(&self) -> Result<(), ShellRefusal> {
        let proxy = self.conn.with_proxy(SHELL, SENSOR_PATH, CALL_TIMEOUT);
        match proxy.method_call::<(), _, _, _>(SENSOR_IFACE, "Register", ()) {
            Ok(()) => Ok(()),
            Err(e) if e.name() == Some(TAKEN) => Err(ShellRefusal::Taken),
            Err(e) => Err(ShellRefusal::Absent(e.to_string())),
        }
    }

    fn read(&self) -> Result<Option<WindowInfo>, dbus::Error> {
        let proxy = self.conn.with_proxy(SHELL, SENSOR_PATH, CALL_TIMEOUT);
        let (app_id, title, pid): (String, String, u32) =
            proxy.method_call(SENSOR_IFACE, "FocusedWindow", ())?;
        if app_id.is_empty() && title.is_empty() {
            return Ok(None);
        }
        Ok(Some(crate::sensors::window_from_compositor(
            &app_id, &title, pid,
        )))
    }
}

impl WindowProbe for ShellWindow {
    fn current(&mut self) -> Option<WindowInfo> {
        let mut read = self.read();
        // The shell restarted (or the extension was turned off and on): it forgot Metron.
        if matches!(&read, Err(e) if e.name() == Some(NOT_REGISTERED)) {
            read = match self.register() {
                Ok(()) => self.read(),
                Err(refusal) => {
                    if !self.failing {
                        tracing::warn!("{refusal}");
                        self.failing = true;
                    }
                    return None;
                }
            };
        }
        match read {
            Ok(window) => {
                self.failing = false;
                window
            }
            Err(e) => {
                if !self.failing {
                    tracing::warn!("{SHELL_EXTENSION} failed ({e}); recording 'unknown'");
                    self.failing = true;
                }
                None
            }
        }
    }
}

/// The GNOME Shell version of this session, when it is GNOME.
pub fn shell_version() -> Option<u32> {
    let conn = Connection::new_session().ok()?;
    let proxy = conn.with_proxy(SHELL, "/org/gnome/Shell", CALL_TIMEOUT);
    use dbus::blocking::stdintf::org_freedesktop_dbus::Properties;
    let version: String = proxy.get(SHELL, "ShellVersion").ok()?;
    version.split('.').next()?.parse().ok()
}

/// The extension's files for GNOME Shell `major`: 43-44 load a script with `init()`, 45 and
/// later an ES module.
pub fn extension_files(major: u32) -> [(&'static str, String); 2] {
    let common = include_str!("extension/common.js");
    let (code, versions) = if major >= 45 {
        (
            format!("{common}\n{}", include_str!("extension/modern.js")),
            r#"45", "46", "47", "48", "49"#,
        )
    } else {
        (
            format!("{common}\n{}", include_str!("extension/legacy.js")),
            r#"43", "44"#,
        )
    };
    [
        (
            "metadata.json",
            include_str!("extension/metadata.json").replace("__VERSIONS__", versions),
        ),
        ("extension.js", code),
    ]
}

/// Writes the extension into the user's GNOME Shell extensions folder (unless it is there
/// as it would be written). Returns the folder, and whether anything was written. GNOME loads
/// a new extension at the next login, and only once the person enabled it.
pub fn install_extension(major: u32) -> Result<(std::path::PathBuf, bool), String> {
    let data = dirs::data_dir().ok_or("no data folder for this user")?;
    install_extension_in(&data, major)
}

/// [`install_extension`] into the data folder `data` (`~/.local/share`).
pub fn install_extension_in(
    data: &std::path::Path,
    major: u32,
) -> Result<(std::path::PathBuf, bool), String> {
    let dir = data.join("gnome-shell/extensions").join(EXTENSION_UUID);
    let files = extension_files(major);
    let current = files
        .iter()
        .all(|(name, text)| std::fs::read_to_string(dir.join(name)).is_ok_and(|t| &t == text));
    if current {
        return Ok((dir, false));
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (name, text) in &files {
        std::fs::write(dir.join(name), text)
            .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))?;
    }
    Ok((dir, true))
}

/// What the person is told, once, when the extension is installed but not running.
pub fn enable_hint(dir: &std::path::Path) -> String {
    format!(
        "On GNOME, Metron needs its Shell extension to see which window is in front. It is installed in {}: \
         log out and back in, then turn on \"Metron window sensor\" in the Extensions app \
         (or run: gnome-extensions enable {EXTENSION_UUID}). Until then, windows read 'unknown'; activity is recorded.",
        dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_is_written_once_in_the_shells_format() {
        let home = tempfile::tempdir().unwrap();
        let (dir, written) = install_extension_in(home.path(), 43).unwrap();
        assert!(written);
        assert!(dir.ends_with("gnome-shell/extensions/metron@metron.dev"));
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("metadata.json")).unwrap())
                .unwrap();
        assert_eq!(meta["uuid"], EXTENSION_UUID);
        assert_eq!(meta["shell-version"], serde_json::json!(["43", "44"]));
        let code = std::fs::read_to_string(dir.join("extension.js")).unwrap();
        assert!(code.contains("function init()") && !code.contains("export default"));
        assert!(
            !install_extension_in(home.path(), 43).unwrap().1,
            "unchanged: not rewritten"
        );
        // GNOME 45 takes an ES module: the files are replaced.
        assert!(install_extension_in(home.path(), 46).unwrap().1);
        let code = std::fs::read_to_string(dir.join("extension.js")).unwrap();
        assert!(code.contains("export default class") && !code.contains("function init()"));
        let meta = std::fs::read_to_string(dir.join("metadata.json")).unwrap();
        assert!(meta.contains(r#""45", "46""#));
    }
}
