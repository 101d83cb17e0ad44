//! The Metron desktop shell: a thin Tauri layer over metron-agent.
//!
//! It owns the window, the tray, the commands the UI calls, the app's settings and local mode
//! (metron-server running inside the app). It holds no tracking logic of its own: the tracker
//! service of metron-agent does the work on its own thread and pushes its state, which this
//! layer forwards to the window as `state` events and to the tray. [`configure`] is generic
//! over the Tauri runtime so the commands are tested with `tauri::test`'s mock runtime,
//! without a display; [`run`] adds what needs a real desktop (tray, single instance,
//! notifications, autostart, the log file).

pub mod commands;
pub mod desktop;
pub mod error;
pub mod local;
pub mod settings;
pub mod tray;

use metron_agent::clock::SystemClock;
use metron_agent::delivery::account;
use metron_agent::sensors::Sensors;
use metron_agent::service::{Service, ServiceConfig};
use metron_core::EngineConfig;
use std::path::PathBuf;
use std::sync::Mutex;
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

use crate::desktop::{enter_local_mode, lock, on_service_event, Desktop};
use crate::error::AppError;

/// What the app runs on: real sensors and the user's dirs, or a test's.
pub struct Options {
    /// The agent's data dir (store, lock, token, local server database).
    pub data_dir: PathBuf,
    /// Where settings.json lives; `None`: the app's config dir.
    pub config_dir: Option<PathBuf>,
    pub sensors: Sensors,
    pub engine: EngineConfig,
}

/// Adds the app's commands to `builder` (a real one, or `tauri::test::mock_builder()`);
/// [`start_backend`] then starts what they work on.
pub fn configure<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::get_state,
        commands::sign_in,
        commands::work_locally,
        commands::sign_out,
        commands::start,
        commands::stop,
        commands::resend,
        commands::create_task,
        commands::refresh_tasks,
        commands::get_settings,
        commands::set_settings,
    ])
}

/// Loads the settings, starts the tracker service and, when no team server is configured,
/// local mode.
pub fn start_backend<R: Runtime>(app: &AppHandle<R>, options: Options) -> Result<(), AppError> {
    let config_dir = match options.config_dir {
        Some(d) => d,
        None => app.path().app_config_dir().map_err(|e| AppError::Local(format!("no config dir: {e}")))?,
    };
    let settings_path = config_dir.join("settings.json");
    let (settings, notice) = settings::load(&settings_path);
    let mut engine = options.engine;
    engine.privacy = settings.privacy.clone();
    app.manage(Desktop {
        data_dir: options.data_dir.clone(),
        settings_path,
        settings: Mutex::new(settings),
        startup_notice: Mutex::new(notice),
        service: Mutex::new(None),
        handle: Mutex::new(None),
        latest: Mutex::new(None),
        local: Mutex::new(None),
        closing: std::sync::atomic::AtomicBool::new(false),
    });
    let events = app.clone();
    let config = ServiceConfig { data_dir: options.data_dir, engine, sensors: options.sensors, clock: Box::new(SystemClock::new()) };
    let service = Service::start(config, move |e| on_service_event(&events, e))?;
    let desktop = app.state::<Desktop>();
    if let Some(i) = &service.recovered {
        tracing::warn!(seconds = i.duration_secs(), "recovered the interval left open when Metron last stopped unexpectedly");
    }
    *lock(&desktop.handle) = Some(service.handle());
    *lock(&desktop.service) = Some(service);
    // No team server configured (first run), or local mode chosen before: run it.
    let acct = account::account(&desktop.open_store()?)?;
    if acct.as_ref().is_none_or(|a| a.local) {
        if let Err(e) = tauri::async_runtime::block_on(enter_local_mode(app)) {
            tracing::error!("local mode could not start: {e}");
        }
    }
    Ok(())
}

/// Stops tracking (the open interval closes as `quit`), lets delivery make a last try, then
/// stops the local server.
pub fn shutdown<R: Runtime>(app: &AppHandle<R>) {
    let Some(desktop) = app.try_state::<Desktop>() else { return };
    desktop.closing.store(true, std::sync::atomic::Ordering::Relaxed);
    lock(&desktop.handle).take();
    if let Some(service) = lock(&desktop.service).take() {
        service.quit();
    }
    let local = lock(&desktop.local).take();
    if let Some(mut local) = local {
        local.stop();
    }
}

/// Shows the main window, building it again if it was closed to the tray.
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
        return;
    }
    let built = WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
        .title("Metron")
        .inner_size(440.0, 680.0)
        .min_inner_size(360.0, 480.0)
        .build();
    if let Err(e) = built {
        tracing::error!("cannot open the window: {e}");
    }
}

/// The OS locale's language ("ru", "en", ...), from LC_ALL / LC_MESSAGES / LANG.
pub fn os_locale() -> String {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        .map(|v| v.split(['_', '.', '-']).next().unwrap_or("en").to_lowercase())
        .unwrap_or_else(|| "en".into())
}

/// Whether the UI speaks Russian under the `language` setting.
pub fn is_russian(language: &str) -> bool {
    language == "ru" || (language == "auto" && os_locale() == "ru")
}

/// Turns start-at-login on or off (only where the autostart plugin is registered).
pub fn apply_autostart<R: Runtime>(app: &AppHandle<R>, on: bool) {
    if let Some(manager) = app.try_state::<tauri_plugin_autostart::AutoLaunchManager>() {
        let result = if on { manager.enable() } else { manager.disable() };
        if let Err(e) = result {
            tracing::warn!("autostart: {e}");
        }
    }
}

/// Logs to stderr and to a daily file in the app's log dir (7 kept).
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::prelude::*;
    let filter = || tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let dir = std::env::var_os("METRON_LOG_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::data_local_dir().map(|d| d.join("dev.metron.desktop").join("logs")));
    let file = dir.and_then(|dir| {
        let _ = std::fs::create_dir_all(&dir);
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("metron")
            .filename_suffix("log")
            .max_log_files(7)
            .build(&dir)
            .map_err(|e| eprintln!("metron: no log file in {}: {e}", dir.display()))
            .ok()
    });
    let (writer, guard) = match file {
        Some(appender) => {
            let (w, g) = tracing_appender::non_blocking(appender);
            (Some(w), Some(g))
        }
        None => (None, None),
    };
    let registry = tracing_subscriber::registry().with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter()));
    match writer {
        Some(w) => registry.with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(w).with_filter(filter())).init(),
        None => registry.init(),
    }
    guard
}

/// Runs the desktop app.
pub fn run() {
    let _log_guard = init_logging();
    let data_dir = std::env::var_os("METRON_DATA_DIR").map(PathBuf::from).unwrap_or_else(metron_agent::paths::default_data_dir);
    let mut engine = EngineConfig::default();
    if let Some(range) = std::env::var("METRON_INTERVAL_RANGE").ok().and_then(|r| metron_core::planner::parse_range(&r).ok()) {
        engine.interval_range = range;
    }
    let options =
        Options { data_dir, config_dir: std::env::var_os("METRON_CONFIG_DIR").map(PathBuf::from), sensors: Sensors::system(), engine };
    let has_tray = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tray_flag = std::sync::Arc::clone(&has_tray);
    let builder = tauri::Builder::default()
        // First, so a second launch hands over before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| show_window(app)))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_autostart::init(tauri_plugin_autostart::MacosLauncher::LaunchAgent, None));
    let app = configure(builder).setup(move |app| {
        if let Err(e) = start_backend(app.handle(), options) {
            // E.g. the headless agent already tracks with this data dir (S7): say so and
            // stop, rather than Tauri's panic on a failed setup.
            tracing::error!("{e}");
            eprintln!("metron: {e}");
            std::process::exit(2);
        }
        // Without a tray (no StatusNotifier host, no session bus) closing the window quits.
        match tray::create(app.handle()) {
            Ok(()) => tray_flag.store(true, std::sync::atomic::Ordering::Relaxed),
            Err(e) => tracing::warn!("no tray icon: {e}; closing the window will quit"),
        }
        Ok(())
    });
    let app = match app.build(tauri::generate_context!()) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("metron: could not start: {e}");
            std::process::exit(1);
        }
    };
    app.run(move |app, event| match event {
        // The last window closed (its webview is gone, freeing its memory): keep tracking in
        // the tray. An explicit exit (Quit) carries a code and goes through.
        tauri::RunEvent::ExitRequested { api, code: None, .. } if has_tray.load(std::sync::atomic::Ordering::Relaxed) => api.prevent_exit(),
        tauri::RunEvent::Exit => shutdown(app),
        // The window is gone (closed to the tray): hand the memory its webview freed back to
        // the OS instead of keeping it in the allocator's arenas.
        #[cfg(target_os = "linux")]
        tauri::RunEvent::WindowEvent { event: tauri::WindowEvent::Destroyed, .. } => {
            // SAFETY: malloc_trim only releases free memory; it is safe to call at any time.
            unsafe { libc::malloc_trim(0) };
        }
        _ => {}
    });
}
