//! `track`: the tracker on this thread, the uploader on its own.

use metron_agent::clock::SystemClock;
use metron_agent::data_dir::OwnedDataDir;
use metron_agent::delivery::{
    account, Connection, DeliveryEvent, TokenStore, Uploader, UploaderThread, REQUEST_TIMEOUT,
};
use metron_agent::error::AgentError;
use metron_agent::sensors::Sensors;
use metron_agent::tracker::Tracker;
use metron_core::{Engine, EngineConfig, Event, PrivacyPolicy, StopCause, UrlPolicy};
use rand::{rngs::StdRng, SeedableRng};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::show::{describe, local};

/// `track`'s privacy flags: each overrides the data dir's privacy settings (the app's) for this
/// run.
#[derive(clap::Args, Debug, Default)]
pub struct PrivacyFlags {
    /// Record no window titles
    #[arg(long)]
    no_titles: bool,
    /// What to keep of a browser's address (its credentials and query string never are)
    #[arg(long, value_enum, value_name = "KEEP")]
    url: Option<UrlFlag>,
    /// Never record this app's windows (its time still counts, as "excluded"); repeatable
    #[arg(long, value_name = "APP")]
    exclude: Vec<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum UrlFlag {
    None,
    Host,
    Full,
}

impl PrivacyFlags {
    /// The data dir's policy with these flags applied.
    fn apply(&self, mut policy: PrivacyPolicy) -> PrivacyPolicy {
        if self.no_titles {
            policy.record_titles = false;
        }
        if let Some(url) = self.url {
            policy.urls = match url {
                UrlFlag::None => UrlPolicy::Drop,
                UrlFlag::Host => UrlPolicy::HostOnly,
                UrlFlag::Full => UrlPolicy::Full,
            };
        }
        policy.excluded_apps.extend(self.exclude.iter().cloned());
        policy
    }
}

pub fn track(
    data_dir: &Path,
    mut config: EngineConfig,
    task: &str,
    privacy: &PrivacyFlags,
) -> Result<(), AgentError> {
    // A `status` or `intervals` run may hold the lock for a moment: wait for it, briefly.
    let owned = OwnedDataDir::open(data_dir, Duration::from_secs(3))?;
    if let Some(i) = &owned.recovered {
        eprintln!(
            "recovered {} s of task {} left open when Metron last stopped unexpectedly",
            i.duration_secs(),
            i.task_id
        );
    }
    // `_lock` lives to the end of this function, after the tracker and its store are dropped.
    let (mut store, _lock) = owned.into_parts();
    let device_id = store.device_id()?;
    let task_id = resolve_task(&store, task)?;
    let uploader = match account::account(&store)? {
        // This process holds the lock, so the app (local mode's server) is not running.
        Some(acct) if acct.local => return Err(AgentError::LocalModeWithoutApp),
        Some(acct) => {
            let tokens = TokenStore::new(data_dir, device_id);
            if tokens.load().is_none() {
                eprintln!(
                    "signed out of {}: intervals queue here until metron-agent login",
                    acct.server
                );
            }
            // S6: no network needed to start; the uploader connects when it can.
            let uploader = Uploader::new(
                metron_agent::store::Store::open(store.path())?,
                acct.client(REQUEST_TIMEOUT)?,
                tokens,
            )?
            .on_event(report);
            Some(UploaderThread::spawn(uploader))
        }
        None => {
            eprintln!("not signed in: intervals stay on this machine until metron-agent login");
            None
        }
    };
    let settings = metron_agent::privacy::load(data_dir);
    if let Some(problem) = &settings.problem {
        eprintln!("warning: {problem}; no window titles or addresses are recorded until the app saves its settings again");
    }
    config.privacy = privacy.apply(settings.policy);
    let engine = Engine::new(config, device_id, Box::new(StdRng::from_os_rng()))?;
    let mut tracker = Tracker::new(
        engine,
        store,
        Sensors::system(),
        Box::new(SystemClock::new()),
    )?;
    let stop = Arc::new(AtomicBool::new(false));
    // Ctrl-C and SIGTERM; on Windows also Ctrl-Break, the console event another program can
    // send to a process group of its own (GenerateConsoleCtrlEvent).
    #[cfg(windows)]
    let signals = [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGBREAK,
    ];
    #[cfg(not(windows))]
    let signals = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM];
    for signal in signals {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| AgentError::Config(format!("cannot handle signals: {e}")))?;
    }
    tracker.start(&task_id);
    eprintln!("tracking task {task_id}; Ctrl-C to stop");
    let wake = uploader.as_ref().map(|u| Arc::clone(&u.wake));
    tracker.run(&stop, |event| match event {
        Event::Closed(i) => {
            println!("{}", describe(i));
            // The tracker committed it before this event reached us (S1): send it now.
            if let Some(w) = &wake {
                w.interval_closed();
            }
        }
        Event::Stopped(StopCause::Idle) => eprintln!("tracking stopped: no input for 5 minutes"),
        Event::Stopped(StopCause::Sleep) => {
            eprintln!("tracking stopped: the computer slept or the process was frozen")
        }
        _ => {}
    });
    if let Some(uploader) = uploader {
        if let Some(u) = uploader.stop() {
            let counts = u.store().counts()?;
            if counts.unsent > 0 {
                eprintln!(
                    "{} interval(s) not delivered yet; they go the next time Metron runs (or: metron-agent resend --all)",
                    counts.unsent
                );
            }
        }
    }
    if !tracker.uncommitted().is_empty() {
        return Err(AgentError::Config(format!(
            "{} closed interval(s) could not be written to {}; see the error above",
            tracker.uncommitted().len(),
            tracker.store().path().display()
        )));
    }
    Ok(())
}

/// The task to track: an id, or an exact name from the cached list when signed in.
fn resolve_task(store: &metron_agent::store::Store, task: &str) -> Result<String, AgentError> {
    let cache = account::tasks(store)?;
    if let Some(found) = cache.find(task) {
        return Ok(found.id.clone());
    }
    if account::account(store)?.is_some() && !cache.tasks.is_empty() {
        return Err(AgentError::UnknownTask(task.to_string()));
    }
    Ok(task.to_string())
}

/// What the uploader says, for the person at the terminal.
fn report(event: DeliveryEvent) {
    match event {
        DeliveryEvent::Connection {
            state: Connection::Online,
            ..
        } => eprintln!("server: online"),
        // The error says it (a session expired, or no token saved); the intervals stay.
        DeliveryEvent::Connection {
            state: Connection::SignedOut,
            error,
        } => eprintln!(
            "server: {}; intervals queue here and go after metron-agent login",
            error.unwrap_or_else(|| Connection::SignedOut.as_str().into())
        ),
        DeliveryEvent::Connection { state, error } => {
            eprintln!(
                "server: {}{}; intervals queue here",
                state.as_str(),
                error.map(|e| format!(" ({e})")).unwrap_or_default()
            )
        }
        DeliveryEvent::Delivered { sent } => tracing::debug!(sent, "delivered"),
        DeliveryEvent::Rejected(items) => {
            for (id, reason) in items {
                eprintln!("the server rejected interval {id}: {reason}; it stays here (metron-agent resend {id})");
            }
        }
        DeliveryEvent::OtherDevices(devices) => {
            for d in devices {
                eprintln!(
                    "warning: another device of this account is tracking now (device {}, last interval ended {})",
                    d.device_id,
                    local(&d.last_ended_at)
                );
            }
        }
        DeliveryEvent::TasksRefreshed(tasks) => {
            tracing::debug!(count = tasks.len(), "task list refreshed")
        }
        // Printed with the connection change that follows it.
        DeliveryEvent::SessionExpired => {}
        DeliveryEvent::ClientVersion(Some(offer)) => eprintln!(
            "update: Metron {} is available: {}",
            offer.version, offer.download_url
        ),
        DeliveryEvent::ClientVersion(None) => {}
        // The headless agent queues none; the desktop app's window shows them.
        DeliveryEvent::RequestsChanged => {}
    }
}
