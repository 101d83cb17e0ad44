//! The commands the UI invokes. Each one is forwarded to the resident process (metron-tray)
//! over its socket and answers with what it answered: the logic lives there, where it keeps
//! running after this window closes.

use metron_tray::client::CoreClient;
use metron_tray::protocol::{Command, WireError};
use metron_tray::settings::Settings;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tauri::State;

/// The connection to the resident process, managed by the app.
pub struct Core(pub Arc<CoreClient>);

/// A sign-in may wait for a slow server (15 s request timeout); everything else is quick.
const TIMEOUT: Duration = Duration::from_secs(40);

/// Forwards on the blocking pool, so the window's thread never waits on the socket.
async fn forward(core: State<'_, Core>, command: Command) -> Result<Value, WireError> {
    let client = Arc::clone(&core.0);
    tauri::async_runtime::spawn_blocking(move || client.call(command, TIMEOUT))
        .await
        .map_err(|e| WireError::new("internal", format!("a background task failed: {e}")))?
}

/// The latest state (the window asks once at load; then it listens to `state` events).
#[tauri::command]
pub async fn get_state(core: State<'_, Core>) -> Result<Value, WireError> {
    forward(core, Command::GetState).await
}

/// Signs in to a team server. Nothing is saved when the server refuses. `insecure`: the person
/// confirmed plain http:// to another machine (asked after an `insecure_http` error).
#[tauri::command]
pub async fn sign_in(
    core: State<'_, Core>,
    server: String,
    email: String,
    password: String,
    insecure: Option<bool>,
) -> Result<Value, WireError> {
    forward(
        core,
        Command::SignIn {
            server,
            email,
            password,
            insecure: insecure.unwrap_or(false),
        },
    )
    .await
}

/// Local mode: the built-in server and its local account.
#[tauri::command]
pub async fn work_locally(core: State<'_, Core>) -> Result<Value, WireError> {
    forward(core, Command::WorkLocally).await
}

#[tauri::command]
pub async fn sign_out(core: State<'_, Core>) -> Result<Value, WireError> {
    forward(core, Command::SignOut).await
}

#[tauri::command]
pub async fn start(core: State<'_, Core>, task_id: String) -> Result<Value, WireError> {
    forward(core, Command::Start { task_id }).await
}

#[tauri::command]
pub async fn stop(core: State<'_, Core>) -> Result<Value, WireError> {
    forward(core, Command::Stop).await
}

/// Resends one undelivered interval (by id), or all of them (no id).
#[tauri::command]
pub async fn resend(core: State<'_, Core>, id: Option<String>) -> Result<Value, WireError> {
    forward(core, Command::Resend { id }).await
}

#[tauri::command]
pub async fn create_task(
    core: State<'_, Core>,
    name: String,
    project: Option<String>,
) -> Result<Value, WireError> {
    forward(core, Command::CreateTask { name, project }).await
}

#[tauri::command]
pub async fn refresh_tasks(core: State<'_, Core>) -> Result<Value, WireError> {
    forward(core, Command::RefreshTasks).await
}

/// Today's report from the server (local mode's built-in one included).
#[tauri::command]
pub async fn get_today(core: State<'_, Core>) -> Result<Value, WireError> {
    forward(core, Command::GetToday).await
}

#[tauri::command]
pub async fn get_settings(core: State<'_, Core>) -> Result<Value, WireError> {
    forward(core, Command::GetSettings).await
}

#[tauri::command]
pub async fn set_settings(core: State<'_, Core>, settings: Value) -> Result<Value, WireError> {
    // Read here rather than by Tauri, so a bad value (an unknown language) is an `input` error
    // the window can show, like every other refusal.
    let settings: Settings = serde_json::from_value(settings)
        .map_err(|e| WireError::new("input", format!("settings: {e}")))?;
    forward(core, Command::SetSettings { settings }).await
}
