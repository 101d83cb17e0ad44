//! The Metron window: a thin Tauri shell over the resident process.
//!
//! Metron runs as two processes (see metron-tray). This one is only the window: the UI in
//! ui/, and commands that forward to the resident process over its socket, whose pushed
//! states and notices become `state` and `notice` events. Closing the window ends this
//! process, and all of WebKit's memory with it; tracking goes on in the tray. [`configure`]
//! and [`attach`] are generic over the Tauri runtime so the commands are tested with
//! `tauri::test`'s mock runtime against a real resident core, without a display.

pub mod commands;

use metron_tray::link::client::{Pushed, ResidentLink};
use metron_tray::link::protocol::Command;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

/// Adds the app's commands to `builder` (a real one, or `tauri::test::mock_builder()`);
/// [`attach`] then gives them the connection they forward to.
pub fn configure<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::get_state,
        commands::sign_in,
        commands::sso_providers,
        commands::sign_in_sso,
        commands::cancel_sso,
        commands::work_locally,
        commands::sign_out,
        commands::start,
        commands::stop,
        commands::resend,
        commands::create_task,
        commands::refresh_tasks,
        commands::get_today,
        commands::get_transparency_notice,
        commands::acknowledge_notice,
        commands::get_settings,
        commands::set_settings,
        commands::open_download,
        commands::answer_away,
        commands::add_manual_entry,
    ])
}

/// Gives the commands their connection to the resident process.
pub fn attach<R: Runtime>(app: &AppHandle<R>, client: Arc<ResidentLink>) {
    app.manage(commands::Link(client));
}

/// What a pushed message does to the app.
pub fn on_pushed<R: Runtime>(app: &AppHandle<R>, pushed: Pushed) {
    match pushed {
        Pushed::State(state) => {
            let _ = app.emit("state", state);
        }
        Pushed::Notice(notice) => {
            let _ = app.emit("notice", notice);
        }
        Pushed::Show => {
            let app2 = app.clone();
            let _ = app.run_on_main_thread(move || show_window(&app2));
        }
        // Quit from the tray, or the resident process is gone: the window has nothing to show.
        Pushed::Quit | Pushed::Closed => app.exit(0),
    }
}

/// Shows the main window, building it if it is not there.
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

/// Runs the window process.
pub fn run() {
    metron_agent::process::init();
    let _log_guard = metron_tray::logging::init("metron-window");
    let data_dir = std::env::var_os("METRON_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(metron_agent::paths::default_data_dir);
    // The app handle exists only once Tauri is built; pushed messages that come before wait.
    let handle: Arc<std::sync::OnceLock<AppHandle>> = Arc::default();
    let early = Arc::clone(&handle);
    let client =
        match metron_tray::window::connect_or_start(&data_dir, move |p| match early.get() {
            Some(app) => on_pushed(app, p),
            None if matches!(p, Pushed::Quit | Pushed::Closed) => std::process::exit(0),
            None => {}
        }) {
            Ok(c) => Arc::new(c),
            Err(e) => {
                // E.g. the headless agent already tracks with this data dir (S7).
                eprintln!("metron: {e}");
                std::process::exit(2);
            }
        };
    // One window: when one is open, it comes forward and this process ends.
    match client.call(Command::OpenWindow, Duration::from_secs(10)) {
        Ok(serde_json::Value::Bool(true)) => {}
        Ok(_) => return,
        Err(e) => {
            eprintln!("metron: {e}");
            std::process::exit(1);
        }
    }
    let app = configure(tauri::Builder::default()).setup(move |app| {
        attach(app.handle(), Arc::clone(&client));
        let _ = handle.set(app.handle().clone());
        show_window(app.handle());
        Ok(())
    });
    if let Err(e) = app.run(tauri::generate_context!()) {
        eprintln!("metron: could not start the window: {e}");
        std::process::exit(1);
    }
}
