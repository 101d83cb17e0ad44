//! `status` and `intervals`: what the tracker, the connection and the store look like now.

use metron_agent::data_dir::OwnedDataDir;
use metron_agent::delivery::{self, account, ClientError};
use metron_agent::error::AgentError;
use metron_agent::paths::store_path;
use metron_agent::store::{DeliveryStatus, Store, StoredInterval};
use metron_core::Interval;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// How long `status` waits for the server before calling it unreachable.
const LIVE_CHECK: Duration = Duration::from_secs(3);

pub fn status(data_dir: &Path) -> Result<(), AgentError> {
    let (mut store, running) = open_for_reading(data_dir)?;
    println!("data dir:   {}", data_dir.display());
    match &running {
        Some(pid) => println!(
            "tracker:    running{}",
            pid.map(|p| format!(" (process {p})")).unwrap_or_default()
        ),
        None => println!("tracker:    not running"),
    }
    if running.is_some() {
        if let Some(sensors) = store.meta(metron_agent::tracker::SENSORS_META)? {
            println!("sensors:    {sensors}");
        }
        if let Some(open) = store.checkpoint()? {
            println!(
                "open:       task {} since {} ({} s, {}% active)",
                open.task_id,
                local(&open.started_at),
                open.duration_secs(),
                activity_pct(&open)
            );
        }
    }
    let counts = store.counts()?;
    let delivery = account::delivery_state(&store)?;
    match account::account(&store)? {
        None => println!(
            "server:     not signed in: intervals stay on this machine (metron-agent login)"
        ),
        Some(acct) => {
            println!(
                "server:     {} as {} <{}>",
                acct.server, acct.user.name, acct.user.email
            );
            let device_id = store.device_id()?;
            // Who and where, exactly as the server was told (the uploader reports it).
            match delivery::device_report::sent(&store) {
                Some(d) => println!(
                    "device:     {} as {}{} on {} {}, {} (as reported to the server)",
                    d.host_name,
                    d.os_user,
                    d.domain.map(|x| format!(" in {x}")).unwrap_or_default(),
                    d.os_name,
                    d.os_version,
                    d.time_zone
                ),
                None => {
                    println!("device:     not reported yet (the tracker reports it once online)")
                }
            }
            // A live look: is the server there, and does another device of this account track?
            let live = delivery::signed_in(&mut store, data_dir, LIVE_CHECK)
                .and_then(|(client, token)| Ok(client.active_devices(&token)?));
            match &live {
                Ok(_) => println!("connection: online"),
                // The token expired or was revoked: nothing is lost, a login delivers it.
                Err(e @ AgentError::Server(ClientError::Unauthorized)) => println!(
                    "connection: {e}\n            {} unsent interval(s) are kept: metron-agent login --server {} --email {}{}",
                    counts.unsent,
                    acct.server,
                    acct.user.email,
                    acct.ca_cert.as_ref().map(|p| format!(" --ca-cert {}", p.display())).unwrap_or_default()
                ),
                Err(e) => println!("connection: offline: {e}"),
            }
            if let Some(state) = &delivery {
                if running.is_some() {
                    println!(
                        "uploader:   {} since {}",
                        state.connection.as_str(),
                        local(&state.since)
                    );
                }
                if let Some(at) = state.last_delivery_at {
                    println!("delivered:  last at {}", local(&at));
                }
            }
            if let Ok(devices) = &live {
                for other in devices
                    .iter()
                    .filter(|d| d.device_id != device_id.to_string())
                {
                    println!(
                        "warning:    another device of this account is tracking now (device {}, last interval ended {})",
                        other.device_id,
                        local(&other.last_ended_at)
                    );
                }
            }
        }
    }
    // What the organization's server announced when the uploader last asked (never fetched
    // here: `status` reads, the tracker's uploader asks every few hours).
    if let Some(offer) = delivery::client_version::offer(&store) {
        println!(
            "update:     Metron {} is available: {}",
            offer.version, offer.download_url
        );
        if let Some(notes) = &offer.notes {
            println!("            {}", metron_core::limits::clip(notes, 300));
        }
    }
    println!(
        "stored:     {} intervals ({} unsent, {} rejected, {} sent)",
        counts.total, counts.unsent, counts.rejected, counts.sent
    );
    if counts.total > metron_agent::store::DEFAULT_CAPACITY {
        println!(
            "warning:    the store holds more than {} intervals because undelivered ones are never dropped",
            metron_agent::store::DEFAULT_CAPACITY
        );
    }
    if counts.rejected > 0 {
        println!("            rejected intervals wait for you: metron-agent intervals --unsent, then metron-agent resend");
    }
    if let Some(state) = &delivery {
        if let (Some(e), Some(at)) = (&state.last_error, state.last_error_at) {
            println!("last error: {e} (at {})", local(&at));
        }
    }
    if let Some(last) = store.intervals(false)?.last() {
        println!("last:       {}", describe(&last.interval));
    }
    println!("integrity:  {}", store.integrity_check()?);
    Ok(())
}

pub fn intervals(data_dir: &Path, unsent: bool, json: bool) -> Result<(), AgentError> {
    let (store, _) = open_for_reading(data_dir)?;
    let mut out = std::io::stdout().lock();
    for stored in store.intervals(unsent)? {
        let line = if json {
            serde_json::to_string(&stored).expect("an interval serializes")
        } else {
            describe_stored(&stored)
        };
        let _ = writeln!(out, "{line}");
    }
    Ok(())
}

/// Opens the store without disturbing a running tracker: when no tracker holds the data dir,
/// this process takes it and recovers a crashed session first; otherwise it only reads.
/// Returns the store and, when a tracker runs, its pid (if known).
pub fn open_for_reading(data_dir: &Path) -> Result<(Store, Option<Option<u32>>), AgentError> {
    match OwnedDataDir::open(data_dir, Duration::ZERO) {
        Ok(owned) => Ok((owned.store, None)),
        Err(AgentError::AlreadyRunning { pid, .. }) => {
            Ok((Store::open(&store_path(data_dir))?, Some(pid)))
        }
        Err(e) => Err(e),
    }
}

pub fn local(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn activity_pct(i: &Interval) -> u32 {
    let secs = i.duration_secs().max(1) as u32;
    i.active_secs() * 100 / secs
}

pub fn describe(i: &Interval) -> String {
    format!(
        "{}  {:>4} s  {:>3}% active  task {}  ({})",
        local(&i.started_at),
        i.duration_secs(),
        activity_pct(i),
        i.task_id,
        i.end_reason.as_str()
    )
}

fn describe_stored(s: &StoredInterval) -> String {
    let status = match (&s.status, &s.reason) {
        (DeliveryStatus::Rejected, Some(reason)) => format!("rejected: {reason}"),
        (DeliveryStatus::Rejected, None) => "rejected".into(),
        (DeliveryStatus::Sent, _) => "sent".into(),
        (DeliveryStatus::Unsent, _) => "unsent".into(),
    };
    format!("{}  {}  {}", s.interval.id, describe(&s.interval), status)
}
