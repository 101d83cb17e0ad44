//! `metron-agent`: the tracker without a window (SPEC U4). See `metron-agent --help`.

use clap::{Parser, Subcommand};
use metron_agent::clock::SystemClock;
use metron_agent::data_dir::OwnedDataDir;
use metron_agent::error::AgentError;
use metron_agent::paths::{default_data_dir, store_path};
use metron_agent::replay::{read_trace, replay};
use metron_agent::sensors::Sensors;
use metron_agent::store::{DeliveryStatus, Store, StoredInterval};
use metron_agent::tracker::Tracker;
use metron_core::planner::{parse_range, DEFAULT_RANGE};
use metron_core::{Engine, EngineConfig, Event, Interval, StopCause};
use rand::{rngs::StdRng, SeedableRng};
use std::io::Write;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "metron-agent", version, about = "Metron's time tracker without a window")]
struct Cli {
    /// Where the store and lock live [default: $XDG_DATA_HOME/metron]
    #[arg(long, global = true, env = "METRON_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Planned interval lengths in seconds, MIN..MAX (default 40..80, mean 60)
    #[arg(long, global = true, value_parser = parse_range_arg)]
    interval_range: Option<RangeInclusive<u32>>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Track a task until Ctrl-C or SIGTERM (closes the interval as "quit"), idle or sleep
    Track {
        /// The task to book the time on
        #[arg(long)]
        task: String,
    },
    /// Show whether a tracker runs, the open interval and what the store holds
    Status,
    /// List the stored intervals
    Intervals {
        /// Only intervals not yet delivered (unsent and rejected)
        #[arg(long)]
        unsent: bool,
        /// One JSON object per line (the E4 wire format plus status and reason)
        #[arg(long)]
        json: bool,
    },
    /// Run the engine over a recorded JSON-lines trace and print each closed interval as JSON
    Replay {
        /// The trace file, one JSON object per second
        trace: PathBuf,
        /// Seed of the boundary RNG
        #[arg(long)]
        seed: u64,
    },
}

fn parse_range_arg(text: &str) -> Result<RangeInclusive<u32>, String> {
    parse_range(text).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Track { .. }) { "info" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_level.into()))
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("metron-agent: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<(), AgentError> {
    let data_dir = cli.data_dir.unwrap_or_else(default_data_dir);
    let config = EngineConfig { interval_range: cli.interval_range.unwrap_or(DEFAULT_RANGE), ..Default::default() };
    match cli.command {
        Command::Track { task } => track(&data_dir, config, &task),
        Command::Status => status(&data_dir),
        Command::Intervals { unsent, json } => intervals(&data_dir, unsent, json),
        Command::Replay { trace, seed } => {
            let lines = read_trace(&trace)?;
            let mut out = std::io::stdout().lock();
            for interval in replay(&lines, config, seed)? {
                let _ = writeln!(out, "{}", serde_json::to_string(&interval).expect("an interval serializes"));
            }
            Ok(())
        }
    }
}

fn track(data_dir: &std::path::Path, config: EngineConfig, task: &str) -> Result<(), AgentError> {
    // A `status` or `intervals` run may hold the lock for a moment: wait for it, briefly.
    let owned = OwnedDataDir::open(data_dir, Duration::from_secs(3))?;
    if let Some(i) = &owned.recovered {
        eprintln!("recovered {} s of task {} left open when Metron last stopped unexpectedly", i.duration_secs(), i.task_id);
    }
    // `_lock` lives to the end of this function, after the tracker and its store are dropped.
    let (mut store, _lock) = owned.into_parts();
    let device_id = store.device_id()?;
    let engine = Engine::new(config, device_id, Box::new(StdRng::from_os_rng())).map_err(|e| AgentError::Config(e.to_string()))?;
    let mut tracker = Tracker::new(engine, store, Sensors::system(), Box::new(SystemClock::new()))?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(|e| AgentError::Config(format!("cannot handle signals: {e}")))?;
    }
    tracker.start(task);
    eprintln!("tracking task {task}; Ctrl-C to stop");
    tracker.run(&stop, |event| match event {
        Event::Closed(i) => println!("{}", describe(i)),
        Event::Stopped(StopCause::Idle) => eprintln!("tracking stopped: no input for 5 minutes"),
        Event::Stopped(StopCause::Sleep) => {
            eprintln!("tracking stopped: the computer slept or the process was frozen")
        }
        _ => {}
    });
    if !tracker.uncommitted().is_empty() {
        return Err(AgentError::Config(format!(
            "{} closed interval(s) could not be written to {}; see the error above",
            tracker.uncommitted().len(),
            tracker.store().path().display()
        )));
    }
    Ok(())
}

fn status(data_dir: &std::path::Path) -> Result<(), AgentError> {
    let (store, running) = open_for_reading(data_dir)?;
    println!("data dir:  {}", data_dir.display());
    match &running {
        Some(pid) => println!("tracker:   running{}", pid.map(|p| format!(" (process {p})")).unwrap_or_default()),
        None => println!("tracker:   not running"),
    }
    if running.is_some() {
        if let Some(open) = store.checkpoint()? {
            println!(
                "open:      task {} since {} ({} s, {}% active)",
                open.task_id,
                local(&open.started_at),
                open.duration_secs(),
                activity_pct(&open)
            );
        }
    }
    let counts = store.counts()?;
    println!("stored:    {} intervals ({} unsent, {} rejected, {} sent)", counts.total, counts.unsent, counts.rejected, counts.sent);
    if let Some(last) = store.intervals(false)?.last() {
        println!("last:      {}", describe(&last.interval));
    }
    println!("integrity: {}", store.integrity_check()?);
    Ok(())
}

fn intervals(data_dir: &std::path::Path, unsent: bool, json: bool) -> Result<(), AgentError> {
    let (store, _) = open_for_reading(data_dir)?;
    let mut out = std::io::stdout().lock();
    for stored in store.intervals(unsent)? {
        let line = if json { serde_json::to_string(&stored).expect("an interval serializes") } else { describe_stored(&stored) };
        let _ = writeln!(out, "{line}");
    }
    Ok(())
}

/// Opens the store without disturbing a running tracker: when no tracker holds the data dir,
/// this process takes it and recovers a crashed session first; otherwise it only reads.
/// Returns the store and, when a tracker runs, its pid (if known).
fn open_for_reading(data_dir: &std::path::Path) -> Result<(Store, Option<Option<u32>>), AgentError> {
    match OwnedDataDir::open(data_dir, Duration::ZERO) {
        Ok(owned) => Ok((owned.store, None)),
        Err(AgentError::AlreadyRunning { pid, .. }) => Ok((Store::open(&store_path(data_dir))?, Some(pid))),
        Err(e) => Err(e),
    }
}

fn local(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S").to_string()
}

fn activity_pct(i: &Interval) -> u32 {
    let secs = i.duration_secs().max(1) as u32;
    i.active_secs() * 100 / secs
}

fn describe(i: &Interval) -> String {
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
    format!("{}  {}", describe(&s.interval), status)
}
