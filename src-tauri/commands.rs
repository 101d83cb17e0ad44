//! The commands the UI invokes. Each one is forwarded to the resident process (metron-tray)
//! over its socket and answers with what it answered: the logic lives there, where it keeps
//! running after this window closes.

use metron_tray::link::client::ResidentLink;
use metron_tray::link::protocol::{Command, WireError};
use metron_tray::settings::Settings;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tauri::State;

/// The connection to the resident process, managed by the app.
pub struct Link(pub Arc<ResidentLink>);

/// A sign-in may wait for a slow server (15 s request timeout); everything else is quick.
const TIMEOUT: Duration = Duration::from_secs(40);

/// A sign-in through the identity provider waits for the person in the browser.
const SSO_TIMEOUT: Duration =
    Duration::from_secs(metron_agent::delivery::sso::WAIT_FOR_BROWSER.as_secs() + 60);

/// Forwards on the blocking pool, so the window's thread never waits on the socket.
async fn forward(link: State<'_, Link>, command: Command) -> Result<Value, WireError> {
    forward_within(link, command, TIMEOUT).await
}

async fn forward_within(
    link: State<'_, Link>,
    command: Command,
    timeout: Duration,
) -> Result<Value, WireError> {
    let client = Arc::clone(&link.0);
    tauri::async_runtime::spawn_blocking(move || client.call(command, timeout))
        .await
        .map_err(|e| WireError::new("internal", format!("a background task failed: {e}")))?
}

/// The latest state (the window asks once at load; then it listens to `state` events).
#[tauri::command]
pub async fn get_state(link: State<'_, Link>) -> Result<Value, WireError> {
    forward(link, Command::GetState).await
}

/// Signs in to a team server. Nothing is saved when the server refuses. `insecure`: the person
/// confirmed plain http:// to another machine (asked after an `insecure_http` error).
/// `second_factor`: the two-factor code, asked after a `second_factor_required` error.
#[tauri::command]
pub async fn sign_in(
    link: State<'_, Link>,
    server: String,
    email: String,
    password: String,
    insecure: Option<bool>,
    second_factor: Option<String>,
) -> Result<Value, WireError> {
    forward(
        link,
        Command::SignIn {
            server,
            email,
            password,
            insecure: insecure.unwrap_or(false),
            second_factor,
        },
    )
    .await
}

/// The identity providers the server offers, for its "Sign in with {name}" buttons (none
/// from a server without any).
#[tauri::command]
pub async fn sso_providers(link: State<'_, Link>, server: String) -> Result<Value, WireError> {
    forward(link, Command::SsoProviders { server }).await
}

/// Signs in through the identity provider in the system's browser; answers when the browser
/// came back (or after five minutes). A refusal is `sso_refused` with the reason as message.
#[tauri::command]
pub async fn sign_in_sso(
    link: State<'_, Link>,
    server: String,
    provider: String,
    insecure: Option<bool>,
) -> Result<Value, WireError> {
    let command = Command::SignInSso {
        server,
        provider,
        insecure: insecure.unwrap_or(false),
    };
    forward_within(link, command, SSO_TIMEOUT).await
}

/// Gives up the sign-in waiting for the browser.
#[tauri::command]
pub async fn cancel_sso(link: State<'_, Link>) -> Result<Value, WireError> {
    forward(link, Command::CancelSso).await
}

/// Local mode: the built-in server and its local account.
#[tauri::command]
pub async fn work_locally(link: State<'_, Link>) -> Result<Value, WireError> {
    forward(link, Command::WorkLocally).await
}

#[tauri::command]
pub async fn sign_out(link: State<'_, Link>) -> Result<Value, WireError> {
    forward(link, Command::SignOut).await
}

#[tauri::command]
pub async fn start(link: State<'_, Link>, task_id: String) -> Result<Value, WireError> {
    forward(link, Command::Start { task_id }).await
}

#[tauri::command]
pub async fn stop(link: State<'_, Link>) -> Result<Value, WireError> {
    forward(link, Command::Stop).await
}

/// Resends one undelivered interval (by id), or all of them (no id).
#[tauri::command]
pub async fn resend(link: State<'_, Link>, id: Option<String>) -> Result<Value, WireError> {
    forward(link, Command::Resend { id }).await
}

#[tauri::command]
pub async fn create_task(
    link: State<'_, Link>,
    name: String,
    project: Option<String>,
) -> Result<Value, WireError> {
    forward(link, Command::CreateTask { name, project }).await
}

#[tauri::command]
pub async fn refresh_tasks(link: State<'_, Link>) -> Result<Value, WireError> {
    forward(link, Command::RefreshTasks).await
}

/// Today's report from the server (local mode's built-in one included).
#[tauri::command]
pub async fn get_today(link: State<'_, Link>) -> Result<Value, WireError> {
    forward(link, Command::GetToday).await
}

/// The organization's transparency notice for the signed-in person (shown after a sign-in
/// while its version is not acknowledged).
#[tauri::command]
pub async fn get_transparency_notice(link: State<'_, Link>) -> Result<Value, WireError> {
    forward(link, Command::TransparencyNotice).await
}

/// "I understand": the person read this version of the notice; the server remembers it.
#[tauri::command]
pub async fn acknowledge_notice(
    link: State<'_, Link>,
    version: String,
) -> Result<Value, WireError> {
    forward(link, Command::AcknowledgeNotice { version }).await
}

#[tauri::command]
pub async fn get_settings(link: State<'_, Link>) -> Result<Value, WireError> {
    forward(link, Command::GetSettings).await
}

#[tauri::command]
pub async fn set_settings(link: State<'_, Link>, settings: Value) -> Result<Value, WireError> {
    // Read here rather than by Tauri, so a bad value (an unknown language) is an `input` error
    // the window can show, like every other refusal.
    let settings: Settings = serde_json::from_value(settings)
        .map_err(|e| WireError::new("input", format!("settings: {e}")))?;
    forward(link, Command::SetSettings { settings }).await
}

/// Opens the download page of the newer release the organization announces, in the browser.
/// The window names no address: the resident process opens the one it checked and kept.
#[tauri::command]
pub async fn open_download(link: State<'_, Link>) -> Result<Value, WireError> {
    forward(link, Command::OpenDownload).await
}

/// What to do with the time away after an idle or a sleep stop (`answer` as
/// `metron_agent::tracker_thread::AwayAnswer` reads it: `{"choice": "discard" | "stop"}` or
/// `{"choice": "keep", "task_id", "note"}`).
#[tauri::command]
pub async fn answer_away(link: State<'_, Link>, answer: Value) -> Result<Value, WireError> {
    let answer = serde_json::from_value(answer)
        .map_err(|e| WireError::new("input", format!("the answer: {e}")))?;
    forward(link, Command::AnswerAway { answer }).await
}

/// Time the person didn't track (task, start, end, note), for the server.
#[tauri::command]
pub async fn add_manual_entry(link: State<'_, Link>, entry: Value) -> Result<Value, WireError> {
    let entry = serde_json::from_value(entry)
        .map_err(|e| WireError::new("input", format!("the entry: {e}")))?;
    forward(link, Command::AddManualEntry { entry }).await
}
