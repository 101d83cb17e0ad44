//! Signing in and out, and the task list: shared by the `metron-agent` CLI and the desktop app.

use chrono::Utc;
use metron_core::wire::{LoginResponse, NewTask, Task, User};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::account::{self, Account};
use super::client::{ClientError, ServerClient, Token, REQUEST_TIMEOUT};
use super::secret::{TokenPlace, TokenStore};
use crate::error::AgentError;
use crate::store::Store;

/// How long sign-out and task refreshes wait for the server before going on without it.
pub const QUICK: Duration = Duration::from_secs(5);

/// The outcome of a sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub server: String,
    pub user: User,
    /// The task list, or why it could not be fetched.
    pub tasks: Result<Vec<Task>, String>,
    pub token_place: TokenPlace,
}

/// How to reach the server, beyond its address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInOptions {
    /// The desktop app's built-in server (its address changes with every start; its account not).
    pub local: bool,
    /// The person confirmed plain `http://` to another machine.
    pub insecure: bool,
    /// A PEM file of a private CA to trust besides the system's roots; kept with the account,
    /// so every later request of this data dir trusts it too.
    pub ca_cert: Option<PathBuf>,
    /// The account's second factor (the authenticator's code or a recovery code), for an
    /// account with two-factor codes on; asked for after [`ClientError::SecondFactorRequired`].
    pub second_factor: Option<String>,
}

/// Signs in to `server` and remembers the account, the token and the task list. Nothing is
/// saved when the server refuses, and nothing is sent over plain `http://` to another machine
/// unless `options.insecure`.
pub fn sign_in(
    store: &mut Store,
    data_dir: &Path,
    server: &str,
    email: &str,
    password: &str,
    options: &SignInOptions,
) -> Result<SignedIn, AgentError> {
    let server = connect(server, options)?;
    let response = server.client.login_with_code(
        email,
        password,
        &store.device_id()?.to_string(),
        options.second_factor.as_deref(),
    )?;
    complete(store, data_dir, &server, response)
}

/// A server checked for a sign-in (its address, transport and CA), not yet signed in to:
/// every way of signing in (password, identity provider) starts here and ends in [`complete`].
#[derive(Debug, Clone)]
pub struct Connected {
    pub client: ServerClient,
    /// The private CA's file as an absolute path, kept with the account.
    ca_cert: Option<PathBuf>,
    local: bool,
}

/// Checks `server` for a sign-in: a usable address, the CA file, and plain `http://` only to
/// this machine unless `options.insecure`.
pub fn connect(server: &str, options: &SignInOptions) -> Result<Connected, AgentError> {
    // Kept as an absolute path: later runs may start in another directory.
    let ca_cert = match &options.ca_cert {
        Some(path) => Some(
            std::fs::canonicalize(path).map_err(|e| ClientError::CaCert {
                path: path.clone(),
                why: e.to_string(),
            })?,
        ),
        None => None,
    };
    let client = ServerClient::build(server, ca_cert.as_deref(), REQUEST_TIMEOUT)?;
    client.check_transport(options.insecure)?;
    Ok(Connected {
        client,
        ca_cert,
        local: options.local,
    })
}

/// Remembers the server's answer to a sign-in (`response`, however it was obtained): the
/// token, the account, the organization's passive limit and the task list. Refused, saving
/// nothing, when this data dir holds another account's undelivered intervals.
pub fn complete(
    store: &mut Store,
    data_dir: &Path,
    server: &Connected,
    response: LoginResponse,
) -> Result<SignedIn, AgentError> {
    let client = &server.client;
    let local = server.local;
    // Undelivered intervals belong to the account that tracked them: never hand them to another.
    if let Some(old) = account::owner_of_backlog(store)? {
        let same = old.user.id == response.user.id
            && (old.server == client.base() || (old.local && local));
        let waiting = store.counts()?;
        if !same && waiting.unsent + waiting.rejected > 0 {
            return Err(AgentError::BacklogOfAnotherAccount {
                count: waiting.unsent + waiting.rejected,
                owner: old.user.email,
                server: old.server,
                new: response.user.email,
            });
        }
    }
    let token = Token(response.token);
    let tokens = TokenStore::new(data_dir, store.device_id()?);
    let token_place = tokens.save(&token)?;
    account::save_account(
        store,
        &Account {
            server: client.base().to_string(),
            user: response.user.clone(),
            local,
            ca_cert: server.ca_cert.clone(),
        },
    )?;
    // This account's server announces its own release: ask it at once.
    super::client_version::forget(store)?;
    // So is its passive limit, asked now so that tracking begins under it.
    if let Err(e) = super::org_policy::refresh(store, client, &token) {
        super::org_policy::forget(store)?;
        tracing::debug!("the organization's passive limit: {e}");
    }
    // Asked afresh (the list cached before may be another account's), its ETag kept.
    let tasks = match client.tasks_if_changed(&token, None) {
        Ok(super::client::TaskList::Changed { tasks, etag }) => {
            account::save_task_list(store, tasks.clone(), etag, Utc::now())?;
            Ok(tasks)
        }
        Ok(super::client::TaskList::Unchanged) => Err("the server answered 304 unasked".into()),
        Err(e) => Err(e.to_string()),
    };
    // A running uploader may be waiting for a token: let it try now.
    account::request_resend(store)?;
    Ok(SignedIn {
        server: client.base().to_string(),
        user: response.user,
        tasks,
        token_place,
    })
}

/// Signs out: revokes the token on the server when it answers within [`QUICK`], forgets it
/// here either way. Returns the account signed out of and, if the server was not told, why.
pub fn sign_out(
    store: &mut Store,
    data_dir: &Path,
) -> Result<Option<(Account, Option<String>)>, AgentError> {
    let Some(acct) = account::account(store)? else {
        return Ok(None);
    };
    let revoked =
        signed_in(store, data_dir, QUICK).and_then(|(client, token)| Ok(client.logout(&token)?));
    TokenStore::new(data_dir, store.device_id()?).delete();
    account::forget_account(store)?;
    Ok(Some((acct, revoked.err().map(|e| e.to_string()))))
}

/// The signed-in account's client (with this request timeout) and token, or a clear error
/// (also when the account is local mode's and the app is not running).
pub fn signed_in(
    store: &mut Store,
    data_dir: &Path,
    timeout: Duration,
) -> Result<(ServerClient, Token), AgentError> {
    let Some(acct) = account::account(store)? else {
        return Err(AgentError::NotSignedIn);
    };
    // Local mode's address is good only while the app that serves it runs (it holds the lock):
    // otherwise another user of this machine may listen on that port now, and gets no token.
    if acct.local && !crate::lock::InstanceLock::is_held(data_dir) {
        return Err(AgentError::LocalModeWithoutApp);
    }
    let token = TokenStore::new(data_dir, store.device_id()?)
        .load()
        .ok_or(AgentError::NoToken)?;
    Ok((acct.client(timeout)?, token))
}

/// Fetches the task list and caches it; on failure the cache stays and the error says why.
pub fn refresh_tasks(store: &mut Store, data_dir: &Path) -> Result<Vec<Task>, AgentError> {
    let (client, token) = signed_in(store, data_dir, QUICK)?;
    Ok(account::refresh_task_list(store, &client, &token)?.0)
}

/// Today's report (R1) from the server, in this computer's current UTC offset: what the
/// desktop's Today view shows (local mode has it too: the built-in server computes it).
pub fn today_report(store: &mut Store, data_dir: &Path) -> Result<serde_json::Value, AgentError> {
    let (client, token) = signed_in(store, data_dir, QUICK)?;
    let now = chrono::Local::now();
    Ok(client.daily_report(
        &token,
        now.date_naive(),
        now.offset().local_minus_utc() / 60,
    )?)
}

/// Creates a task on the server and adds it to the cached list.
pub fn create_task(
    store: &mut Store,
    data_dir: &Path,
    name: &str,
    project: &str,
) -> Result<Task, AgentError> {
    let (client, token) = signed_in(store, data_dir, QUICK)?;
    let task = client.create_task(
        &token,
        &NewTask {
            name: name.trim().to_string(),
            project: project.trim().to_string(),
        },
    )?;
    let mut cache = account::tasks(store)?;
    cache.tasks.push(task.clone());
    account::save_tasks(store, cache.tasks, Utc::now())?;
    Ok(task)
}
