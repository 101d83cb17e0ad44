//! `login`, `logout`, `tasks` and `resend`: the agent's account on a server.

use metron_agent::delivery::{
    self, account, sso, ClientError, SignInOptions, SignedIn, TokenPlace, TokenStore, Uploader,
    REQUEST_TIMEOUT,
};
use metron_agent::error::AgentError;
use metron_agent::store::{DeliveryStatus, Store};
use std::io::IsTerminal as _;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::show::{local, open_for_reading};

pub fn login(
    data_dir: &Path,
    server: &str,
    email: &str,
    password: Option<String>,
    options: &SignInOptions,
) -> Result<(), AgentError> {
    let password = match password {
        Some(p) => p,
        None => read_password()?,
    };
    let (mut store, _) = open_for_reading(data_dir)?;
    let done = match delivery::sign_in(&mut store, data_dir, server, email, &password, options) {
        // Two-factor codes on and no --code: ask on a terminal (a script gives --code).
        Err(AgentError::Server(ClientError::SecondFactorRequired))
            if options.second_factor.is_none() && std::io::stdin().is_terminal() =>
        {
            let options = SignInOptions {
                second_factor: Some(read_code()?),
                ..options.clone()
            };
            delivery::sign_in(&mut store, data_dir, server, email, &password, &options)?
        }
        Err(AgentError::Server(ClientError::SecondFactorRequired)) => {
            return Err(AgentError::Config(
                "this account has two-factor codes: give the code your authenticator app shows \
                 (or a recovery code) with --code"
                    .into(),
            ))
        }
        other => other?,
    };
    print_signed_in(&done);
    Ok(())
}

/// `login --sso`: through the organization's identity provider, in this machine's browser
/// (RFC 8252) when one can open, else with a URL and a code for another device (RFC 8628).
pub fn login_sso(
    data_dir: &Path,
    server: &str,
    provider: Option<&str>,
    no_browser: bool,
    options: &SignInOptions,
) -> Result<(), AgentError> {
    let (mut store, _) = open_for_reading(data_dir)?;
    let device_id = store.device_id()?.to_string();
    let server = delivery::connect(server, options)?;
    let provider = sso::choose_provider(&sso::providers(&server)?, provider)?;
    let name = &provider.name;
    let response = if !no_browser && sso::browser_available() {
        let cancel = AtomicBool::new(false);
        let options = sso::LoopbackOptions {
            device_id: &device_id,
            language: sso::PageLanguage::English,
            timeout: sso::WAIT_FOR_BROWSER,
            cancel: &cancel,
        };
        sso::sign_in_loopback(&server, &provider.id, &options, &mut |url| {
            say(&format!(
                "signing in with {name} in your browser; if no browser opens, open this address:\n  {url}"
            ));
            if let Err(e) = sso::open_browser(url) {
                eprintln!(
                    "cannot open a browser ({e}); open the address above, or use --no-browser"
                );
            }
            Ok(())
        })?
    } else {
        sso::sign_in_device(
            &server,
            &provider.id,
            &device_id,
            &mut |a| {
                say(&format!(
                    "to sign in with {name}, open {} on any device and enter the code {}\n  (or open {})\nwaiting...",
                    a.verification_uri, a.user_code, a.verification_uri_complete
                ))
            },
            &mut std::thread::sleep,
        )?
    };
    let done = delivery::complete(&mut store, data_dir, &server, response)?;
    print_signed_in(&done);
    Ok(())
}

/// A line the person must see before the command ends (a test reading the pipe too).
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

fn print_signed_in(done: &SignedIn) {
    let tasks = match &done.tasks {
        Ok(tasks) => format!("{} tasks", tasks.len()),
        Err(e) => format!("the task list could not be fetched ({e})"),
    };
    let kept = match &done.token_place {
        TokenPlace::Keyring => "the token is in the keyring".to_string(),
        TokenPlace::File(path) => format!(
            "no keyring service runs, so the token is in {} (readable only by you)",
            path.display()
        ),
    };
    println!(
        "signed in to {} as {} <{}>; {tasks}; {kept}",
        done.server, done.user.name, done.user.email
    );
}

fn read_code() -> Result<String, AgentError> {
    eprint!("two-factor code (or a recovery code): ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| AgentError::Config(format!("cannot read the code: {e}")))?;
    Ok(line.trim().to_string())
}

fn read_password() -> Result<String, AgentError> {
    eprint!("password: ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| AgentError::Config(format!("cannot read the password: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(AgentError::Config(
            "no password given (--password, METRON_PASSWORD or stdin)".into(),
        ));
    }
    Ok(password)
}

pub fn logout(data_dir: &Path) -> Result<(), AgentError> {
    let (mut store, _) = open_for_reading(data_dir)?;
    match delivery::sign_out(&mut store, data_dir)? {
        None => println!("not signed in"),
        Some((acct, None)) => println!("signed out of {}", acct.server),
        Some((_, Some(e))) => {
            println!("signed out here; the server was not told ({e}), so the token stays valid there until it expires")
        }
    }
    let counts = store.counts()?;
    if counts.unsent + counts.rejected > 0 {
        println!(
            "{} undelivered intervals stay on this machine and go after the next login",
            counts.unsent + counts.rejected
        );
    }
    Ok(())
}

pub fn tasks(data_dir: &Path) -> Result<(), AgentError> {
    let (mut store, _) = open_for_reading(data_dir)?;
    if account::account(&store)?.is_none() {
        return Err(AgentError::Config(
            "not signed in: run metron-agent login to get the task list".into(),
        ));
    }
    match delivery::refresh_tasks(&mut store, data_dir) {
        Ok(_) => {}
        Err(e @ AgentError::LocalModeWithoutApp) => return Err(e),
        Err(e) => {
            let cache = account::tasks(&store)?;
            let when = cache
                .refreshed_at
                .map(|t| local(&t))
                .unwrap_or_else(|| "never".into());
            match e {
                AgentError::Server(ClientError::Unauthorized) => {
                    eprintln!("{e}; the task list as cached {when}:")
                }
                e => eprintln!("offline ({e}); the task list as cached {when}:"),
            }
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
        return Err(AgentError::Config(
            "say which: metron-agent resend ID, or metron-agent resend --all".into(),
        ));
    }
    let (mut store, running) = open_for_reading(data_dir)?;
    if let Some(id) = id {
        match store.status_of(id)? {
            None => {
                return Err(AgentError::Config(format!(
                    "no interval {id} in the store (see metron-agent intervals --unsent)"
                )))
            }
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
        println!(
            "the running tracker sends {} unsent interval(s) now",
            counts.unsent
        );
        return Ok(());
    }
    deliver_now(data_dir, store)
}

/// With no tracker running, `resend` delivers itself and says what happened.
fn deliver_now(data_dir: &Path, mut store: Store) -> Result<(), AgentError> {
    let Some(acct) = account::account(&store)? else {
        return Err(AgentError::Config(
            "not signed in: run metron-agent login first; the intervals stay queued".into(),
        ));
    };
    if acct.local {
        // No tracker runs, so neither does the app whose server local mode's address was.
        return Err(AgentError::LocalModeWithoutApp);
    }
    let tokens = TokenStore::new(data_dir, store.device_id()?);
    let mut uploader = Uploader::new(store, acct.client(REQUEST_TIMEOUT)?, tokens)?;
    let result = uploader.drain();
    let counts = uploader.store().counts()?;
    match result {
        Ok(sent) => println!(
            "{sent} delivered; {} unsent, {} rejected remain",
            counts.unsent, counts.rejected
        ),
        Err(e) => {
            return Err(AgentError::Config(format!(
                "{e}; {} unsent, {} rejected stay queued",
                counts.unsent, counts.rejected
            )));
        }
    }
    Ok(())
}
