//! `metron-agent`: the tracker without a window (SPEC U4). See `metron-agent --help`.
//!
//! This file parses the command line; each group of commands has its own module:
//! `track` (the tracker and its uploader), `account` (login, logout, tasks, resend) and
//! `show` (status and intervals).

mod account;
mod show;
mod track;

use clap::{Parser, Subcommand};
use metron_agent::browser;
use metron_agent::error::AgentError;
use metron_agent::paths::default_data_dir;
use metron_agent::replay::{read_trace, replay};
use metron_core::planner::{parse_range, DEFAULT_RANGE};
use metron_core::EngineConfig;
use std::io::Write;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "metron-agent",
    version,
    about = "Metron's time tracker without a window"
)]
struct Cli {
    /// Where the store and lock live [default: $XDG_DATA_HOME/metron]
    #[arg(long, global = true, env = "METRON_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Planned interval lengths in seconds, MIN..MAX (default 40..80, mean 60)
    #[arg(long, global = true, value_parser = parse_range_arg)]
    interval_range: Option<RangeInclusive<u32>>,
    /// Seconds without input (and without an idle inhibitor) that stop tracking
    #[arg(long, global = true, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=86_400))]
    idle_limit: u32,
    /// Seconds without input that count as passive presence while an app holds an idle
    /// inhibitor (a call, a video) before the idle stop counts again; at most 7200
    #[arg(long, global = true, default_value_t = 7200, value_parser = clap::value_parser!(u32).range(0..=7200))]
    passive_limit: u32,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Track a task until Ctrl-C or SIGTERM (closes the interval as "quit"), idle or sleep;
    /// when signed in, intervals are delivered to the server as they close
    Track {
        /// The task to book the time on: its id, or its exact name from the cached task list
        #[arg(long)]
        task: String,
        #[command(flatten)]
        privacy: track::PrivacyFlags,
    },
    /// Sign in to a Metron server (with a password, or --sso through the organization's
    /// identity provider); the token goes to the OS keyring
    Login {
        /// The server's address, e.g. https://metron.example.com
        #[arg(long)]
        server: String,
        #[arg(long, required_unless_present = "sso", conflicts_with = "sso")]
        email: Option<String>,
        /// The password (or METRON_PASSWORD; read from stdin when neither is given)
        #[arg(long, env = "METRON_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Sign in with the organization's identity provider instead of a password: in this
        /// machine's browser when it has one (DISPLAY or WAYLAND_DISPLAY, Windows, macOS),
        /// else with a URL and a code to open on another device
        #[arg(long)]
        sso: bool,
        /// With --sso: the identity provider's id, needed when the server offers several
        #[arg(long, requires = "sso", value_name = "ID")]
        provider: Option<String>,
        /// With --sso: show a URL and a code to open on another device even where a browser
        /// could open here
        #[arg(long, requires = "sso")]
        no_browser: bool,
        /// Allow plain http:// to another machine (the password and the tracked time cross
        /// the network unencrypted); http:// to this machine needs no confirmation
        #[arg(long)]
        insecure: bool,
        /// Trust this CA certificate (PEM) for the server's TLS besides the system's roots:
        /// for a server whose certificate comes from a private CA. Remembered with the account
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
        /// The two-factor code your authenticator app shows (or a recovery code), for an account
        /// with two-factor codes on; asked for on a terminal when the server needs it
        #[arg(long, value_name = "CODE")]
        code: Option<String>,
    },
    /// Sign out: revoke the token on the server (when reachable) and forget it here
    Logout,
    /// List the tasks (refreshed from the server when it answers, else the cached list)
    Tasks,
    /// Send undelivered intervals again now: one by id, or --all (unsent and rejected)
    Resend {
        /// The interval's id (see `intervals --unsent`)
        id: Option<uuid::Uuid>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Show whether a tracker runs, the connection, the open interval and what the store holds
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
    /// Let the browser extension tell Metron the address of the tab in front (registers this
    /// program as its native-messaging host with your browsers, or removes it)
    Browser {
        #[command(subcommand)]
        action: BrowserAction,
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

#[derive(Subcommand)]
enum BrowserAction {
    /// Register the host with the browsers you use (Chromium always)
    Install,
    /// Remove the registrations
    Uninstall,
    /// Print the host's manifest for a browser family, naming EXE (for packages, which install
    /// it system-wide)
    Manifest {
        #[arg(value_enum)]
        family: BrowserFamily,
        exe: PathBuf,
    },
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum BrowserFamily {
    Chromium,
    Firefox,
}

fn main() -> ExitCode {
    metron_agent::process::init();
    // Started by a browser for Metron's extension: no command line of ours, just the host.
    let args: Vec<String> = std::env::args().collect();
    if browser::host::started_by_browser(&args) {
        return match browser::host::serve(std::io::stdin().lock(), &browser::tab_file()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("metron-agent (browser host): {e}");
                ExitCode::from(2)
            }
        };
    }
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Track { .. }) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_level.into()),
        )
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
    let config = EngineConfig {
        interval_range: cli.interval_range.unwrap_or(DEFAULT_RANGE),
        idle_limit_secs: cli.idle_limit,
        passive_limit_secs: cli.passive_limit,
        ..Default::default()
    };
    match cli.command {
        Command::Track { task, privacy } => track::track(&data_dir, config, &task, &privacy),
        Command::Login {
            server,
            email,
            password,
            sso,
            provider,
            no_browser,
            insecure,
            ca_cert,
            code,
        } => {
            let options = metron_agent::delivery::SignInOptions {
                local: false,
                insecure,
                ca_cert,
                second_factor: code,
            };
            match email {
                Some(email) if !sso => {
                    account::login(&data_dir, &server, &email, password, &options)
                }
                _ => account::login_sso(
                    &data_dir,
                    &server,
                    provider.as_deref(),
                    no_browser,
                    &options,
                ),
            }
        }
        Command::Logout => account::logout(&data_dir),
        Command::Tasks => account::tasks(&data_dir),
        Command::Resend { id, all } => account::resend(&data_dir, id, all),
        Command::Status => show::status(&data_dir),
        Command::Intervals { unsent, json } => show::intervals(&data_dir, unsent, json),
        Command::Browser { action } => {
            let done = match action {
                BrowserAction::Install => {
                    let exe = std::env::current_exe().map_err(AgentError::BrowserInstall)?;
                    browser::install::install(&exe)
                }
                BrowserAction::Uninstall => browser::install::uninstall(),
                BrowserAction::Manifest { family, exe } => {
                    let family = match family {
                        BrowserFamily::Chromium => browser::install::Family::Chromium,
                        BrowserFamily::Firefox => browser::install::Family::Firefox,
                    };
                    let manifest = browser::install::manifest(&exe, family);
                    Ok(vec![serde_json::to_string_pretty(&manifest).expect("json")])
                }
            }
            .map_err(AgentError::BrowserInstall)?;
            let mut out = std::io::stdout().lock();
            for line in done {
                let _ = writeln!(out, "{line}");
            }
            Ok(())
        }
        Command::Replay { trace, seed } => {
            let lines = read_trace(&trace)?;
            let mut out = std::io::stdout().lock();
            for interval in replay(&lines, config, seed)? {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string(&interval).expect("an interval serializes")
                );
            }
            Ok(())
        }
    }
}
