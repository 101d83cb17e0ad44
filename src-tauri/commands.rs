//! The commands the UI invokes. Each one delegates to metron-agent (the tracker service,
//! sign-in, tasks) or to the local server; blocking work runs off the async workers.

use metron_agent::delivery::{self, account};
use metron_agent::service::{AccountView, AgentState};
use metron_core::wire::Task;
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::desktop::{enter_local_mode, lock, Desktop};
use crate::error::AppError;
use crate::settings::{self, Settings};

/// Runs blocking agent code (HTTP, SQLite) on the blocking pool.
async fn blocking<R: Runtime, T: Send + 'static>(
    app: &AppHandle<R>,
    f: impl FnOnce(&Desktop) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || f(&app.state::<Desktop>()))
        .await
        .map_err(|e| AppError::Local(format!("a background task failed: {e}")))?
}

/// The latest state (the window asks once at load; then it listens to `state` events).
#[tauri::command]
pub fn get_state(desktop: State<'_, Desktop>) -> Option<AgentState> {
    if let Ok(h) = desktop.handle() {
        h.refresh();
    }
    lock(&desktop.latest).clone()
}

/// Signs in to a team server. Nothing is saved when the server refuses.
#[tauri::command]
pub async fn sign_in<R: Runtime>(app: AppHandle<R>, server: String, email: String, password: String) -> Result<AccountView, AppError> {
    if server.trim().is_empty() || email.trim().is_empty() || password.is_empty() {
        return Err(AppError::Input("server, email and password are all needed".into()));
    }
    let done = blocking(&app, move |d| {
        let mut store = d.open_store()?;
        let done = delivery::sign_in(&mut store, &d.data_dir, &server, email.trim(), &password, false)?;
        d.handle()?.account_changed();
        Ok(done)
    })
    .await?;
    // Signed in to a team server: the built-in one is no longer needed.
    if let Some(mut local) = lock(&app.state::<Desktop>().local).take() {
        local.stop();
    }
    Ok(AccountView { server: done.server, email: done.user.email, name: done.user.name, local: false })
}

/// Local mode: the built-in server and its local account.
#[tauri::command]
pub async fn work_locally<R: Runtime>(app: AppHandle<R>) -> Result<(), AppError> {
    enter_local_mode(&app).await
}

#[tauri::command]
pub async fn sign_out<R: Runtime>(app: AppHandle<R>) -> Result<(), AppError> {
    blocking(&app, |d| {
        let mut store = d.open_store()?;
        delivery::sign_out(&mut store, &d.data_dir)?;
        d.handle()?.account_changed();
        Ok(())
    })
    .await
}

#[tauri::command]
pub fn start(desktop: State<'_, Desktop>, task_id: String) -> Result<(), AppError> {
    desktop.handle()?.start(&task_id);
    Ok(())
}

#[tauri::command]
pub fn stop(desktop: State<'_, Desktop>) -> Result<(), AppError> {
    desktop.handle()?.stop();
    Ok(())
}

/// Resends one undelivered interval (by id), or all of them (no id).
#[tauri::command]
pub fn resend(desktop: State<'_, Desktop>, id: Option<String>) -> Result<(), AppError> {
    let id = id.map(|s| uuid::Uuid::parse_str(&s).map_err(|_| AppError::Input(format!("{s} is not an interval id")))).transpose()?;
    desktop.handle()?.resend(id);
    Ok(())
}

#[tauri::command]
pub async fn create_task<R: Runtime>(app: AppHandle<R>, name: String, project: Option<String>) -> Result<Task, AppError> {
    if name.trim().is_empty() {
        return Err(AppError::Input("a task needs a name".into()));
    }
    blocking(&app, move |d| {
        let mut store = d.open_store()?;
        let task = delivery::create_task(&mut store, &d.data_dir, &name, project.as_deref().unwrap_or(""))?;
        d.handle()?.account_changed();
        Ok(task)
    })
    .await
}

#[tauri::command]
pub async fn refresh_tasks<R: Runtime>(app: AppHandle<R>) -> Result<Vec<Task>, AppError> {
    blocking(&app, |d| {
        let mut store = d.open_store()?;
        if account::account(&store)?.is_none() {
            return Ok(Vec::new());
        }
        let tasks = delivery::refresh_tasks(&mut store, &d.data_dir)?;
        d.handle()?.refresh();
        Ok(tasks)
    })
    .await
}

#[derive(Serialize)]
pub struct SettingsView {
    pub settings: Settings,
    /// Shown once: e.g. the settings file was damaged and set aside.
    pub notice: Option<String>,
    /// The OS locale, for "auto".
    pub locale: String,
}

#[tauri::command]
pub fn get_settings(desktop: State<'_, Desktop>) -> SettingsView {
    SettingsView { settings: lock(&desktop.settings).clone(), notice: lock(&desktop.startup_notice).take(), locale: crate::os_locale() }
}

#[tauri::command]
pub fn set_settings<R: Runtime>(app: AppHandle<R>, desktop: State<'_, Desktop>, settings: Settings) -> Result<(), AppError> {
    if !["auto", "en", "ru"].contains(&settings.language.as_str()) {
        return Err(AppError::Input(format!("unknown language {}", settings.language)));
    }
    settings::save(&desktop.settings_path, &settings)
        .map_err(|e| AppError::Local(format!("cannot save the settings to {}: {e}", desktop.settings_path.display())))?;
    desktop.handle()?.set_privacy(settings.privacy.clone());
    crate::apply_autostart(&app, settings.autostart);
    *lock(&desktop.settings) = settings;
    crate::tray::relabel(&app);
    Ok(())
}
