//! `login`, `logout`, `tasks` and `resend`: the agent's account on a server.

use chrono::Utc;
use metron_agent::delivery::{account, Account, ServerClient, Token, TokenPlace, TokenStore, Uploader};
use metron_agent::error::AgentError;
use metron_agent::store::{DeliveryStatus, Store};
use std::path::Path;
use std::time::Duration;

use crate::show::{local, open_for_reading};

/// How long `logout` and `tasks` wait for the server before going on without it.
const QUICK: Duration = Duration::from_secs(5);

pub fn login(data_dir: &Path, server: &str, email: &str, password: Option<String>) -> Result<(), AgentError> {
    let password = match password {
        Some(p) => p,
        None => read_password()?,
    };
    let client = ServerClient::new(server)?;
    let (mut store, _) = open_for_reading(data_dir)?;
    let response = client.login(email, &password)?;
    // Undelivered intervals belong to the account that tracked them: never hand them to another.
    if let Some(old) = account::account(&store)? {
        let same = old.server == client.base() && old.user.id == response.user.id;
        let waiting = store.counts()?;
        if !same && waiting.unsent + waiting.rejected > 0 {
            return Err(AgentError::Config(format!(
                "{} intervals tracked as {} on {} are not delivered yet; sign in as that account to deliver them, \
                 or use another --data-dir for {}",
                waiting.unsent + waiting.rejected,
                old.user.email,
                old.server,
                response.user.email
            )));
        }
    }
    let token = Token(response.token);
    let tokens = TokenStore::new(data_dir, store.device_id()?);
    let place = tokens.save(&token)?;
    account::save_account(&mut store, &Account { server: client.base().to_string(), user: response.user.clone() })?;
    let tasks = match client.tasks(&token) {
        Ok(tasks) => {
            let n = tasks.len();
            account::save_tasks(&mut store, tasks, Utc::now())?;
            format!("{n} tasks")
        }
        Err(e) => format!("the task list could not be fetched ({e})"),
    };
    // A running tracker's uploader may be waiting for a token: let it try now.
    account::request_resend(&mut store)?;
    let kept = match place {
        TokenPlace::Keyring => "the token is in the keyring".to_string(),
        TokenPlace::File(path) => format!("no keyring service runs, so the token is in {} (readable only by you)", path.display()),
    };
    println!("signed in to {} as {} <{}>; {tasks}; {kept}", client.base(), response.user.name, response.user.email);
    Ok(())
}

fn read_password() -> Result<String, AgentError> {
    eprint!("password: ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| AgentError::Config(format!("cannot read the password: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(AgentError::Config("no password given (--password, METRON_PASSWORD or stdin)".into()));
    }
    Ok(password)
}

pub fn logout(data_dir: &Path) -> Result<(), AgentError> {
    let (mut store, _) = open_for_reading(data_dir)?;
    let Some(acct) = account::account(&store)? else {
        println!("not signed in");
        return Ok(());
    };
    let tokens = TokenStore::new(data_dir, store.device_id()?);
    let revoked = match (tokens.load(), ServerClient::with_timeout(&acct.server, QUICK)) {
        (Some(token), Ok(client)) => client.logout(&token).map_err(|e| e.to_string()),
        (None, _) => Err("no token was saved".into()),
        (_, Err(e)) => Err(e.to_string()),
    };
    tokens.delete();
    account::forget_account(&mut store)?;
    match revoked {
        Ok(()) => println!("signed out of {}", acct.server),
        Err(e) => println!("signed out here; the server was not told ({e}), so the token stays valid there until it expires"),
    }
    let counts = store.counts()?;
    if counts.unsent + counts.rejected > 0 {
        println!("{} undelivered intervals stay on this machine and go after the next login", counts.unsent + counts.rejected);
    }
    Ok(())
}

pub fn tasks(data_dir: &Path) -> Result<(), AgentError> {
    let (mut store, _) = open_for_reading(data_dir)?;
    let Some(acct) = account::account(&store)? else {
        return Err(AgentError::Config("not signed in: run metron-agent login to get the task list".into()));
    };
    let tokens = TokenStore::new(data_dir, store.device_id()?);
    let fresh = match (tokens.load(), ServerClient::with_timeout(&acct.server, QUICK)) {
        (Some(token), Ok(client)) => client.tasks(&token).map_err(|e| e.to_string()),
        (None, _) => Err("signed out: no token is saved".into()),
        (_, Err(e)) => Err(e.to_string()),
    };
    match fresh {
        Ok(tasks) => account::save_tasks(&mut store, tasks, Utc::now())?,
        Err(e) => {
            let cache = account::tasks(&store)?;
            let when = cache.refreshed_at.map(|t| local(&t)).unwrap_or_else(|| "never".into());
            eprintln!("offline ({e}); the task list as cached {when}:");
        }
    }
    for task in account::tasks(&store)?.tasks {
        if task.project.is_empty() {
            println!("{}  {}", task.id, task.name);
        } else {
            println!("{}  {}  ({})", task.id, task.name, task.project);
        }
    }
    Ok(())
}

pub fn resend(data_dir: &Path, id: Option<uuid::Uuid>, all: bool) -> Result<(), AgentError> {
    if id.is_none() && !all {
        return Err(AgentError::Config("say which: metron-agent resend ID, or metron-agent resend --all".into()));
    }
    let (mut store, running) = open_for_reading(data_dir)?;
    if let Some(id) = id {
        match store.status_of(id)? {
            None => return Err(AgentError::Config(format!("no interval {id} in the store (see metron-agent intervals --unsent)"))),
            Some(DeliveryStatus::Sent) => {
                println!("interval {id} is already delivered");
                return Ok(());
            }
            Some(_) => {}
        }
    }
    let requeued = store.mark_for_resend(id)?;
    account::request_resend(&mut store)?;
    let counts = store.counts()?;
    if requeued > 0 {
        println!("{requeued} rejected interval(s) queued again");
    }
    if running.is_some() {
        println!("the running tracker sends {} unsent interval(s) now", counts.unsent);
        return Ok(());
    }
    deliver_now(data_dir, store)
}

/// With no tracker running, `resend` delivers itself and says what happened.
fn deliver_now(data_dir: &Path, mut store: Store) -> Result<(), AgentError> {
    let Some(acct) = account::account(&store)? else {
        return Err(AgentError::Config("not signed in: run metron-agent login first; the intervals stay queued".into()));
    };
    let tokens = TokenStore::new(data_dir, store.device_id()?);
    let mut uploader = Uploader::new(store, ServerClient::new(&acct.server)?, tokens)?;
    let result = uploader.drain();
    let counts = uploader.store().counts()?;
    match result {
        Ok(sent) => println!("{sent} delivered; {} unsent, {} rejected remain", counts.unsent, counts.rejected),
        Err(e) => {
            return Err(AgentError::Config(format!("{e}; {} unsent, {} rejected stay queued", counts.unsent, counts.rejected)));
        }
    }
    Ok(())
}
