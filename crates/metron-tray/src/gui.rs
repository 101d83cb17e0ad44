//! The resident process on a real desktop: the main thread's event loop for the tray
//! ([`crate::event_loop`]), notifications, autostart, window processes, and the session's end
//! handled cleanly. Written once for every OS.

use metron_agent::tracker_thread::TrackerView;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::link::client::ResidentLink;
use crate::link::protocol::{socket_path, Command};
use crate::resident::{Desktop, Options, Resident};
use crate::settings::{Settings, Speaks};

/// [`Desktop`] on the OS's desktop.
pub struct SystemDesktop {
    has_tray: Arc<AtomicBool>,
}

impl Desktop for SystemDesktop {
    fn state_changed(&self, state: &TrackerView, can_start: bool, speaks: Speaks) {
        if self.has_tray() {
            crate::tray::post_update(state.clone(), can_start, speaks);
        }
    }

    fn notify(&self, title: String, body: String) {
        crate::notify::show(title, body);
    }

    fn ask(
        &self,
        title: String,
        body: String,
        actions: Vec<(&'static str, String)>,
        on_action: Box<dyn FnOnce(&str) + Send>,
    ) {
        crate::notify::ask(title, body, actions, on_action);
    }

    fn open_window(&self, data_dir: &std::path::Path) {
        crate::window::open_window(data_dir);
    }

    fn quit(&self) {
        crate::event_loop::quit();
    }

    fn has_tray(&self) -> bool {
        self.has_tray.load(Ordering::Relaxed)
    }

    fn settings_changed(&self, settings: &Settings, _speaks: Speaks) {
        crate::autostart::apply(settings.autostart);
    }

    fn open_url(&self, url: &str) {
        // The system's handler for http(s) (xdg-open and kin, ShellExecute, `open`), not
        // waited for: the browser may take a while, or stay.
        if let Err(e) = open::that_detached(url) {
            tracing::warn!("cannot open {url} in the browser: {e}");
        }
    }
}

/// The settings' dir: `METRON_CONFIG_DIR`, else the OS's place for it
/// ([`metron_agent::paths::default_config_dir`]).
fn config_dir() -> PathBuf {
    std::env::var_os("METRON_CONFIG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(metron_agent::paths::default_config_dir)
}

/// Runs the resident process; returns the exit status.
pub fn run() -> i32 {
    metron_agent::process::init();
    // GTK probes OpenGL visuals when it opens the display, which loads the GL driver (with
    // Mesa's software renderer, 48 MB of LLVM). A tray never draws with GL.
    #[cfg(target_os = "linux")]
    std::env::set_var("GDK_GL", "disable");
    let hidden = std::env::args().any(|a| a == "--hidden");
    let _log = crate::logging::init("metron-tray");
    let data_dir = std::env::var_os("METRON_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(metron_agent::paths::default_data_dir);
    // A second launch hands over to the running one and ends.
    if let Ok(client) = ResidentLink::connect(&socket_path(&data_dir), |_| {}) {
        if !hidden {
            let _ = client.call(Command::ShowWindow, std::time::Duration::from_secs(5));
        }
        return 0;
    }
    if let Err(e) = crate::event_loop::init() {
        eprintln!(
            "metron: no desktop to show a tray on ({e}); the headless tracker is `metron-agent`"
        );
        return 1;
    }
    let mut engine = metron_core::EngineConfig::default();
    if let Some(range) = std::env::var("METRON_INTERVAL_RANGE")
        .ok()
        .and_then(|r| metron_core::planner::parse_range(&r).ok())
    {
        engine.interval_range = range;
    }
    // Seconds without input before the idle stop (default 300): the end-to-end tests wait
    // seconds, not minutes, for one. 3..=3600.
    if let Some(secs) = std::env::var("METRON_IDLE_LIMIT_SECS")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .filter(|s| (3..=3600).contains(s))
    {
        engine.idle_limit_secs = secs;
    }
    let options = Options {
        data_dir,
        config_dir: config_dir(),
        sensors: metron_agent::sensors::Sensors::system(),
        engine,
    };
    let has_tray = Arc::new(AtomicBool::new(false));
    let core = match Resident::start(
        options,
        Box::new(SystemDesktop {
            has_tray: Arc::clone(&has_tray),
        }),
    ) {
        Ok(core) => core,
        Err(e) => {
            // E.g. the headless agent already tracks with this data dir (S7).
            tracing::error!("{e}");
            eprintln!("metron: {e}");
            return 2;
        }
    };
    match crate::link::socket::listen(&core) {
        Ok(_) => {}
        Err(e) => {
            eprintln!("metron: {e}");
            core.shutdown();
            return 1;
        }
    };
    // Without a tray (no libayatana, or a Wayland panel with no tray host) closing the
    // window quits.
    #[cfg(target_os = "linux")]
    let host_missing = crate::tray_host::wayland_without_host() == Some(true);
    #[cfg(not(target_os = "linux"))]
    let host_missing = false;
    if host_missing {
        tracing::warn!("no tray host on this Wayland desktop; closing the window will quit");
        #[cfg(target_os = "linux")]
        core.tell_once("tray_hint_told", crate::tray_host::NO_HOST_HINT.into());
    } else {
        match crate::tray::create(&core) {
            Ok(()) => has_tray.store(true, Ordering::Relaxed),
            Err(e) => tracing::warn!("no tray icon: {e}; closing the window will quit"),
        }
    }
    let ending = Arc::clone(&core);
    crate::event_loop::on_termination(move || ending.request_quit());
    if !hidden {
        core.show_window();
    }
    crate::event_loop::run();
    // request_quit has removed the endpoint (see there).
    core.shutdown();
    0
}
