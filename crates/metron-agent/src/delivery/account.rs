//! What the agent remembers about its server between runs, kept in the store's `meta` table:
//! the account (server address and user), the cached task list (S6: tracking starts offline
//! with it), and the uploader's last known state, which `status` in another process reads.

use chrono::{DateTime, Utc};
use metron_core::wire::{ActiveDevice, Task, User};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::client::{ClientError, ServerClient};
use crate::store::{Store, StoreError};

const ACCOUNT: &str = "account";
/// The account signed out of last: undelivered intervals still belong to it.
const PREVIOUS_ACCOUNT: &str = "previous_account";
const TASKS: &str = "tasks";
const DELIVERY: &str = "delivery_state";
/// Bumped by `resend` in another process; the running uploader watches it.
pub const RESEND_REQUEST: &str = "resend_requested";

/// The server this data dir delivers to, and who signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub server: String,
    pub user: User,
    /// The desktop app's built-in server (local mode): its port changes with every start.
    #[serde(default)]
    pub local: bool,
    /// A private CA (PEM file, absolute path) trusted for this server besides the system's
    /// roots, as given at sign-in with `--ca-cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<std::path::PathBuf>,
}

impl Account {
    /// A client of this account's server (trusting its CA, if any) with this request timeout.
    pub fn client(&self, timeout: std::time::Duration) -> Result<ServerClient, ClientError> {
        ServerClient::build(&self.server, self.ca_cert.as_deref(), timeout)
    }
}

/// The task list as last fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCache {
    pub tasks: Vec<Task>,
    pub refreshed_at: Option<DateTime<Utc>>,
    /// The server's ETag of `tasks`, sent back with the next refresh (a 304 keeps the list);
    /// none when the list was changed here or came from a server without ETags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

impl TaskCache {
    /// A task by id, or else by its exact name (case-insensitive) when that is unambiguous.
    pub fn find(&self, id_or_name: &str) -> Option<&Task> {
        if let Some(t) = self.tasks.iter().find(|t| t.id == id_or_name) {
            return Some(t);
        }
        let mut named = self
            .tasks
            .iter()
            .filter(|t| t.name.eq_ignore_ascii_case(id_or_name.trim()));
        match (named.next(), named.next()) {
            (Some(t), None) => Some(t),
            _ => None,
        }
    }
}

/// The uploader's view of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// The last request got a proper answer.
    Online,
    /// The server could not be reached or answered badly; intervals queue.
    Offline,
    /// The server refused the token: intervals queue until `login`.
    SignedOut,
}

impl Connection {
    pub fn as_str(&self) -> &'static str {
        match self {
            Connection::Online => "online",
            Connection::Offline => "offline",
            Connection::SignedOut => "signed out",
        }
    }
}

/// What the uploader last knew, for `status` and the desktop UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryState {
    pub connection: Connection,
    pub since: DateTime<Utc>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_delivery_at: Option<DateTime<Utc>>,
    /// Other devices of this account with an interval ending in the last 3 minutes.
    #[serde(default)]
    pub other_devices: Vec<ActiveDevice>,
}

fn read<T: DeserializeOwned>(store: &Store, key: &str) -> Result<Option<T>, StoreError> {
    Ok(store.meta(key)?.and_then(|text| {
        serde_json::from_str(&text)
            .map_err(|e| tracing::warn!(key, error = %e, "ignoring an unreadable setting"))
            .ok()
    }))
}

fn write<T: Serialize>(store: &mut Store, key: &str, value: &T) -> Result<(), StoreError> {
    store.set_meta(
        key,
        &serde_json::to_string(value).expect("settings serialize"),
    )
}

pub fn account(store: &Store) -> Result<Option<Account>, StoreError> {
    read(store, ACCOUNT)
}

pub fn save_account(store: &mut Store, account: &Account) -> Result<(), StoreError> {
    write(store, ACCOUNT, account)
}

/// The account this data dir's undelivered intervals belong to: the signed-in one, else the
/// one signed out of last.
pub fn owner_of_backlog(store: &Store) -> Result<Option<Account>, StoreError> {
    Ok(account(store)?.or(read(store, PREVIOUS_ACCOUNT)?))
}

/// Forgets the account, its task list, the uploader state, the release its server announced
/// and the device report it was sent (on logout); remembers who it
/// was, since undelivered intervals stay and belong to that account.
pub fn forget_account(store: &mut Store) -> Result<(), StoreError> {
    if let Some(acct) = account(store)? {
        write(store, PREVIOUS_ACCOUNT, &acct)?;
    }
    for key in [ACCOUNT, TASKS, DELIVERY] {
        store.delete_meta(key)?;
    }
    super::device_report::forget(store)?;
    super::org_policy::forget(store)?;
    super::client_version::forget(store)
}

pub fn tasks(store: &Store) -> Result<TaskCache, StoreError> {
    Ok(read(store, TASKS)?.unwrap_or_default())
}

/// Keeps `tasks` as the list at `at`, without an ETag (a list changed here).
pub fn save_tasks(
    store: &mut Store,
    tasks: Vec<Task>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    save_task_list(store, tasks, None, at)
}

/// Keeps `tasks` as the server's list at `at`, with its ETag.
pub fn save_task_list(
    store: &mut Store,
    tasks: Vec<Task>,
    etag: Option<String>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    write(
        store,
        TASKS,
        &TaskCache {
            tasks,
            refreshed_at: Some(at),
            etag,
        },
    )
}

/// Asks the server for its task list with the ETag of the cached one and keeps the answer:
/// the cached list on 304 (only its time moves), else the new list and its ETag; returns the
/// list now held and whether it changed. Nothing is kept when the cache changed while the
/// request was out (a task created here meanwhile is newer than the answer).
pub fn refresh_task_list(
    store: &mut Store,
    client: &ServerClient,
    token: &super::client::Token,
) -> Result<(Vec<Task>, bool), ClientError> {
    let cached = tasks(store).unwrap_or_default();
    let asked = Utc::now();
    let answer = client.tasks_if_changed(token, cached.etag.as_deref())?;
    let now = tasks(store).unwrap_or_default();
    if now.refreshed_at.is_some_and(|at| at > asked) {
        return Ok((now.tasks, false));
    }
    let (list, etag, changed) = match answer {
        super::client::TaskList::Unchanged => (cached.tasks, cached.etag, false),
        super::client::TaskList::Changed { tasks, etag } => (tasks, etag, true),
    };
    if let Err(e) = save_task_list(store, list.clone(), etag, Utc::now()) {
        tracing::warn!("cannot cache the task list: {e}");
    }
    Ok((list, changed))
}

pub fn delivery_state(store: &Store) -> Result<Option<DeliveryState>, StoreError> {
    read(store, DELIVERY)
}

pub fn save_delivery_state(store: &mut Store, state: &DeliveryState) -> Result<(), StoreError> {
    write(store, DELIVERY, state)
}

/// Asks a running uploader (in this or another process) to send now and start its backoff over.
pub fn request_resend(store: &mut Store) -> Result<(), StoreError> {
    let n: u64 = store
        .meta(RESEND_REQUEST)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    store.set_meta(RESEND_REQUEST, &(n + 1).to_string())
}
