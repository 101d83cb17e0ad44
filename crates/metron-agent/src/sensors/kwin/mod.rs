//! KDE Plasma on Wayland: the window in front from a KWin script.
//!
//! KWin tells no Wayland client which window is active. It runs scripts, though, loaded over
//! D-Bus (`org.kde.KWin` `/Scripting`), and a script may call D-Bus. Metron loads
//! `window.js`, which calls back into this process (at its unique bus name) with the active
//! window's class, title and process id each time it or its title changes. The script is
//! unloaded when the probe is dropped.
//!
//! Only calls from the process that owns `org.kde.KWin` count. When KWin restarts (a crash,
//! `kwin_wayland --replace`, an update), a new process takes the name and knows nothing of
//! the script: the sensor follows `NameOwnerChanged`, trusts the new owner and loads the
//! script into it again, instead of waiting forever on the old one (issue 27).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbus::blocking::Connection;
use dbus::channel::MatchingReceiver;
use dbus::message::MatchRule;
use dbus::Message;
use metron_core::WindowInfo;

use super::{lock, WindowProbe};

pub const KWIN_SCRIPT: &str = "a KWin script";
const SCRIPT: &str = include_str!("window.js");
const KWIN: &str = "org.kde.KWin";
const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// The active window as KWin's script last reported it.
pub struct KwinWindow {
    front: Arc<Mutex<Option<WindowInfo>>>,
    alive: Arc<AtomicBool>,
    plugin: String,
    script: PathBuf,
}

impl KwinWindow {
    /// Loads the script into the KWin of this session and starts listening for its calls.
    pub fn start() -> Result<KwinWindow, String> {
        // Only the user's own runtime dir: a script file in /tmp could be planted or read.
        let dir = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .ok_or("XDG_RUNTIME_DIR is not set")?;
        let conn = Connection::new_session().map_err(|e| format!("no session bus: {e}"))?;
        Self::start_on(conn, &dir)
    }

    /// [`KwinWindow::start`] on the bus connection `conn`, with the script written into `dir`
    /// (the tests give a private bus and a folder of their own).
    pub fn start_on(conn: Connection, dir: &Path) -> Result<KwinWindow, String> {
        let service = conn.unique_name().to_string();
        // Only KWin's own calls count: another program of the session must not name windows.
        let kwin = Arc::new(Mutex::new(kwin_owner(&conn)?));
        let front = Arc::new(Mutex::new(None));
        let sink = Arc::clone(&front);
        let trusted = Arc::clone(&kwin);
        conn.start_receive(
            MatchRule::new_method_call().with_path("/dev/metron/KWin"),
            Box::new(move |msg, conn| {
                let from_kwin = msg.sender().is_some_and(|s| *s == *lock(&trusted));
                if let (true, Ok((class, title, pid))) =
                    (from_kwin, msg.read3::<&str, &str, &str>())
                {
                    let pid = pid.parse().unwrap_or(0);
                    let window = (!class.is_empty() || !title.is_empty())
                        .then(|| crate::sensors::window_from_compositor(class, title, pid));
                    *lock(&sink) = window;
                }
                let _ = dbus::channel::Sender::send(conn, msg.method_return());
                true
            }),
        );
        let plugin = format!("metron-window-{}", std::process::id());
        let script = dir.join(format!("{plugin}.js"));
        std::fs::write(&script, SCRIPT.replace("__SERVICE__", &service))
            .map_err(|e| format!("cannot write the KWin script to {}: {e}", script.display()))?;
        let loaded = load(&conn, &script, &plugin);
        if let Err(e) = loaded {
            let _ = std::fs::remove_file(&script);
            return Err(e);
        }
        // A new owner of org.kde.KWin: noted here, the script loaded by the thread below (a
        // call from inside the bus's own dispatch would wait on itself).
        let new_owner: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let noted = Arc::clone(&new_owner);
        let gone = Arc::clone(&front);
        conn.add_match(
            MatchRule::new_signal("org.freedesktop.DBus", "NameOwnerChanged"),
            move |(name, _old, new): (String, String, String), _: &Connection, _: &Message| {
                if name == KWIN {
                    // Whatever the old KWin said is stale: no window is known until the new
                    // one tells.
                    *lock(&gone) = None;
                    *lock(&noted) = (!new.is_empty()).then_some(new);
                }
                true
            },
        )
        .map_err(|e| format!("cannot follow {KWIN} on the bus: {e}"))?;
        let alive = Arc::new(AtomicBool::new(true));
        let running = Arc::clone(&alive);
        let (script_path, plugin_name) = (script.clone(), plugin.clone());
        std::thread::Builder::new()
            .name("metron-kwin".into())
            .spawn(move || {
                let mut reload = Reload::default();
                while running.load(Ordering::Relaxed) {
                    if let Err(e) = conn.process(Duration::from_secs(1)) {
                        tracing::warn!("the session bus connection for KWin ended ({e})");
                        break;
                    }
                    if let Some(owner) = lock(&new_owner).take() {
                        *lock(&kwin) = owner;
                        reload = Reload::due();
                    }
                    reload.try_load(&conn, &script_path, &plugin_name);
                }
            })
            .map_err(|e| format!("could not start the KWin thread: {e}"))?;
        Ok(KwinWindow {
            front,
            alive,
            plugin,
            script,
        })
    }
}

/// Loading the script into a KWin that has just taken its name: its `/Scripting` object may
/// come a moment later, so a failed load is tried again once a second, for a while.
#[derive(Default)]
struct Reload {
    tries_left: u32,
}

impl Reload {
    const TRIES: u32 = 30;

    fn due() -> Reload {
        Reload {
            tries_left: Self::TRIES,
        }
    }

    fn try_load(&mut self, conn: &Connection, script: &Path, plugin: &str) {
        if self.tries_left == 0 {
            return;
        }
        self.tries_left -= 1;
        match load(conn, script, plugin) {
            Ok(()) => {
                tracing::info!("KWin restarted: the window script is loaded again");
                self.tries_left = 0;
            }
            Err(e) if self.tries_left == 0 => {
                tracing::warn!("KWin restarted and would not load the window script ({e}); windows read 'unknown'")
            }
            Err(_) => {}
        }
    }
}

/// The unique bus name of the process that owns `org.kde.KWin`.
fn kwin_owner(conn: &Connection) -> Result<String, String> {
    let bus = conn.with_proxy(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        CALL_TIMEOUT,
    );
    let (owner,): (String,) = bus
        .method_call("org.freedesktop.DBus", "GetNameOwner", (KWIN,))
        .map_err(|e| format!("{KWIN} is not on the session bus: {e}"))?;
    Ok(owner)
}

/// Unloads the script `plugin`, if KWin has it (it answers false otherwise).
fn unload(conn: &Connection, plugin: &str) {
    let scripting = conn.with_proxy(KWIN, "/Scripting", CALL_TIMEOUT);
    let _: Result<(bool,), _> =
        scripting.method_call("org.kde.kwin.Scripting", "unloadScript", (plugin,));
}

/// `loadScript`, then run it: KWin 6 runs one script by its object, KWin 5 starts all.
fn load(conn: &Connection, script: &Path, plugin: &str) -> Result<(), String> {
    // A script of an earlier run of this pid would make loadScript refuse the name.
    unload(conn, plugin);
    let scripting = conn.with_proxy(KWIN, "/Scripting", CALL_TIMEOUT);
    let (id,): (i32,) = scripting
        .method_call(
            "org.kde.kwin.Scripting",
            "loadScript",
            (script.to_string_lossy().as_ref(), plugin),
        )
        .map_err(|e| format!("{KWIN} does not load scripts: {e}"))?;
    if id < 0 {
        return Err(format!("KWin refused the script {}", script.display()));
    }
    let object = conn.with_proxy(KWIN, format!("/Scripting/Script{id}"), CALL_TIMEOUT);
    let run: Result<(), _> = object.method_call("org.kde.kwin.Script", "run", ());
    if run.is_err() {
        scripting
            .method_call::<(), _, _, _>("org.kde.kwin.Scripting", "start", ())
            .map_err(|e| format!("KWin did not start the script: {e}"))?;
    }
    Ok(())
}

impl WindowProbe for KwinWindow {
    fn current(&mut self) -> Option<WindowInfo> {
        lock(&self.front).clone()
    }
}

impl Drop for KwinWindow {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Relaxed);
        if let Ok(conn) = Connection::new_session() {
            unload(&conn, &self.plugin);
        }
        let _ = std::fs::remove_file(&self.script);
    }
}
