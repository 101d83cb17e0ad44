//! The Metron desktop shell: a thin Tauri layer over metron-agent.
//!
//! It owns the window, the commands the UI calls and the app's managed state. It holds no
//! tracking logic of its own: every command delegates to metron-agent (store, tracker) and
//! metron-core (model). The builder is generic over the Tauri runtime so the commands can be
//! tested with `tauri::test`'s mock runtime, without a display.

pub mod commands;
pub mod error;

use std::path::PathBuf;
use tauri::{Manager, Runtime};

/// Where this app keeps its agent data (store and lock).
pub struct AppDataDir(pub PathBuf);

/// Adds the app's commands and state to `builder` (a real one, or `tauri::test::mock_builder()`).
pub fn configure<R: Runtime>(builder: tauri::Builder<R>, data_dir: PathBuf) -> tauri::Builder<R> {
    builder.manage(AppDataDir(data_dir)).invoke_handler(tauri::generate_handler![commands::store_summary])
}

/// Runs the desktop app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let data_dir = std::env::var_os("METRON_DATA_DIR").map(PathBuf::from).unwrap_or_else(metron_agent::paths::default_data_dir);
    let app = configure(tauri::Builder::default(), data_dir).setup(|app| {
        let dir = &app.state::<AppDataDir>().0;
        tracing::info!(data_dir = %dir.display(), "Metron started");
        Ok(())
    });
    if let Err(e) = app.run(tauri::generate_context!()) {
        eprintln!("metron: could not start the desktop app: {e}");
        std::process::exit(1);
    }
}
