//! Local mode (SPEC: "with no server configured the app runs the server inside itself"):
//! metron-server on 127.0.0.1, on a free port, with SQLite in the data dir, and a local
//! account whose password only this app knows. Delivery takes the same HTTP path as with a
//! team server, so local and remote behave alike and the local server has the reports.

use metron_core::wire::NewTask;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::error::AppError;

/// The local account's address (the name is the OS user's).
pub const LOCAL_EMAIL: &str = "me@localhost";

/// The running built-in server.
pub struct LocalServer {
    pub base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl LocalServer {
    /// Stops accepting requests; in-flight ones finish.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The local account's credentials, kept beside the store (mode 0600).
#[derive(Serialize, Deserialize)]
pub struct LocalAccount {
    pub email: String,
    pub password: String,
}

fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("local-server.sqlite")
}

fn account_path(data_dir: &Path) -> PathBuf {
    data_dir.join("local-account.json")
}

/// The saved local account.
pub fn read_account(data_dir: &Path) -> Result<LocalAccount, AppError> {
    let path = account_path(data_dir);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| AppError::Local(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| AppError::Local(format!("{} is damaged: {e}", path.display())))
}

/// Starts the built-in server and makes sure the local account (and a first task) exist.
pub async fn start(data_dir: &Path) -> Result<(LocalServer, LocalAccount), AppError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| AppError::Local(format!("cannot create {}: {e}", data_dir.display())))?;
    let db_url = db_path(data_dir).display().to_string();
    let db = metron_server::db::connect_sized(&db_url, metron_server::db::Sizing::DESKTOP)
        .await
        .map_err(|e| AppError::Local(format!("the local database {db_url}: {e}")))?;
    let state = metron_server::AppState::new(db);
    let account = ensure_account(&state, data_dir).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| AppError::Local(format!("cannot listen on 127.0.0.1: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| AppError::Local(e.to_string()))?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        if let Err(e) = metron_server::serve(listener, state, async {
            let _ = rx.await;
        })
        .await
        {
            tracing::error!("the local server stopped: {e}");
        }
    });
    tracing::info!(%addr, "local server started");
    Ok((
        LocalServer {
            base: format!("http://{addr}"),
            shutdown: Some(tx),
        },
        account,
    ))
}

async fn ensure_account(
    state: &metron_server::AppState,
    data_dir: &Path,
) -> Result<LocalAccount, AppError> {
    let path = account_path(data_dir);
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(account) = serde_json::from_str::<LocalAccount>(&text) {
            return Ok(account);
        }
        tracing::warn!(
            "{} is unreadable; a new local account is made",
            path.display()
        );
    }
    use rand::distr::{Alphanumeric, SampleString};
    let password = Alphanumeric.sample_string(&mut rand::rng(), 32);
    // The login name: USER on Unix, USERNAME on Windows; "Me" where it is none the server
    // takes as a person's name (blank, or with control characters).
    let name = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .and_then(|n| metron_server::accounts::plain_name(&n).ok())
        .unwrap_or_else(|| "Me".into());
    let org = "local";
    // A previous account file may have been lost while the database survived: start over
    // with a fresh address rather than fail.
    let email =
        match metron_server::accounts::add_user(state, org, LOCAL_EMAIL, &name, &password, true)
            .await
        {
            Ok(_) => LOCAL_EMAIL.to_string(),
            Err(_) => {
                let email = format!("me-{}@localhost", uuid::Uuid::now_v7().simple());
                metron_server::accounts::add_user(state, org, &email, &name, &password, true)
                    .await
                    .map_err(|e| AppError::Local(e.to_string()))?;
                email
            }
        };
    let org_id = state
        .db
        .organization(org)
        .await
        .map_err(|e| AppError::Local(e.to_string()))?;
    if state
        .db
        .tasks(&org_id)
        .await
        .map(|t| t.is_empty())
        .unwrap_or(false)
    {
        let name = if crate::os_locale() == "ru" {
            "Общее"
        } else {
            "General"
        };
        let actor = metron_server::projects::Actor::operator(&org_id);
        let first = NewTask {
            name: name.into(),
            project: String::new(),
        };
        let _ = metron_server::projects::create_task(state, &actor, first).await;
    }
    let account = LocalAccount { email, password };
    metron_agent::private::write_private(&path, &serde_json::to_vec(&account).expect("serializes"))
        .map_err(|e| AppError::Local(format!("cannot write {}: {e}", path.display())))?;
    Ok(account)
}
