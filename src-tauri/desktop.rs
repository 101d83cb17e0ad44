//! The app's managed state and the glue between the tracker service and the window: pushed
//! states become `state` events (and tray updates), notices become `notice` events and
//! desktop notifications.

use metron_agent::delivery::{self, Connection};
use metron_agent::paths::store_path;
use metron_agent::service::{AgentState, Notice, ServiceEvent, ServiceHandle};
use metron_agent::store::Store;
use std::path::PathBuf;
use std::sync::Mutex;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::error::AppError;
use crate::local::{self, LocalServer};
use crate::settings::Settings;

/// Everything the commands share.
pub struct Desktop {
    pub data_dir: PathBuf,
    pub settings_path: PathBuf,
    pub settings: Mutex<Settings>,
    /// Shown once by the window: e.g. "the settings file was damaged and set aside".
    pub startup_notice: Mutex<Option<String>>,
    pub service: Mutex<Option<metron_agent::service::Service>>,
    pub handle: Mutex<Option<ServiceHandle>>,
    pub latest: Mutex<Option<AgentState>>,
    pub local: Mutex<Option<LocalServer>>,
    /// Set while quitting: the main thread waits for the tracker thread then, so the tracker
    /// thread must not wait for the main thread (window, tray) in turn.
    pub closing: std::sync::atomic::AtomicBool,
}

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Desktop {
    pub fn handle(&self) -> Result<ServiceHandle, AppError> {
        lock(&self.handle).clone().ok_or_else(|| AppError::Local("the tracker is not running".into()))
    }

    pub fn open_store(&self) -> Result<Store, AppError> {
        Ok(Store::open(&store_path(&self.data_dir))?)
    }
}

/// The service's callback: runs on the tracker thread.
pub fn on_service_event<R: Runtime>(app: &AppHandle<R>, event: ServiceEvent) {
    let desktop = app.state::<Desktop>();
    match event {
        ServiceEvent::State(state) => {
            if !desktop.closing.load(std::sync::atomic::Ordering::Relaxed) {
                // Closed to the tray there is no window to tell (and nothing to serialize for).
                if !app.webview_windows().is_empty() {
                    let _ = app.emit("state", &*state);
                }
                // Menu calls wait for the main thread: post them there instead of waiting.
                let (tray_app, tray_state) = (app.clone(), (*state).clone());
                let _ = app.run_on_main_thread(move || crate::tray::update(&tray_app, &tray_state));
            }
            *lock(&desktop.latest) = Some(*state);
        }
        ServiceEvent::Notice(notice) => {
            let _ = app.emit("notice", &notice);
            let wants = match notice {
                Notice::StoppedIdle | Notice::StoppedSleep => lock(&desktop.settings).idle_notice,
                Notice::Rejected { .. } | Notice::OtherDevice => true,
            };
            if wants {
                notify(app, &notice);
            }
        }
    }
}

/// A desktop notification. Where no notification daemon runs (a bare X session, CI) it fails
/// quietly: a notification is a courtesy, the window shows the same.
fn notify<R: Runtime>(app: &AppHandle<R>, notice: &Notice) {
    let ru = crate::is_russian(&lock(&app.state::<Desktop>().settings).language);
    let (title, body) = match (notice, ru) {
        (Notice::StoppedIdle, false) => ("Tracking stopped".to_string(), "No input for 5 minutes.".to_string()),
        (Notice::StoppedIdle, true) => ("Учёт остановлен".to_string(), "5 минут без активности.".to_string()),
        (Notice::StoppedSleep, false) => ("Tracking stopped".to_string(), "The computer slept.".to_string()),
        (Notice::StoppedSleep, true) => ("Учёт остановлен".to_string(), "Компьютер был в спящем режиме.".to_string()),
        (Notice::Rejected { count, reason }, false) => (format!("{count} interval(s) rejected"), reason.clone()),
        (Notice::Rejected { count, reason }, true) => (format!("Сервер отклонил интервалов: {count}"), reason.clone()),
        (Notice::OtherDevice, false) => ("Another device is tracking".into(), "Another device of this account is tracking now.".into()),
        (Notice::OtherDevice, true) => {
            ("Учёт идёт на другом устройстве".into(), "Этот аккаунт сейчас ведёт учёт на другом устройстве.".into())
        }
    };
    // The plugin is registered by `run` (absent under the mock runtime of the IPC tests).
    // On its own thread: a D-Bus call to a missing notification daemon can take its timeout,
    // and the tracker thread must not miss ticks for a courtesy.
    if app.try_state::<tauri_plugin_notification::Notification<R>>().is_some() {
        let app = app.clone();
        std::thread::spawn(move || {
            let n = app.state::<tauri_plugin_notification::Notification<R>>();
            if let Err(e) = n.builder().title(title).body(body).show() {
                tracing::debug!("no notification shown: {e}");
            }
        });
    }
}

/// Local mode: starts the built-in server (if not running) and signs in to it.
pub async fn enter_local_mode<R: Runtime>(app: &AppHandle<R>) -> Result<(), AppError> {
    let desktop = app.state::<Desktop>();
    let dir = desktop.data_dir.clone();
    let running = lock(&desktop.local).as_ref().map(|l| l.base.clone());
    let (base, account) = match running {
        Some(base) => (base, local::read_account(&dir)?),
        None => {
            let (server, account) = local::start(&dir).await?;
            let base = server.base.clone();
            *lock(&desktop.local) = Some(server);
            (base, account)
        }
    };
    let app2 = app.clone();
    tauri::async_runtime::spawn_blocking(move || -> Result<(), AppError> {
        let desktop = app2.state::<Desktop>();
        let mut store = desktop.open_store()?;
        delivery::sign_in(&mut store, &desktop.data_dir, &base, &account.email, &account.password, true)?;
        desktop.handle()?.account_changed();
        Ok(())
    })
    .await
    .map_err(|e| AppError::Local(e.to_string()))?
}

/// Which tray icon a state calls for.
pub fn tray_state(state: &AgentState) -> &'static str {
    if state.tracking.is_some() {
        "tracking"
    } else if state.account.is_some()
        && matches!(state.delivery.connection, Some(Connection::Offline) | Some(Connection::SignedOut))
        && state.delivery.unsent > 0
    {
        "offline"
    } else {
        "idle"
    }
}
