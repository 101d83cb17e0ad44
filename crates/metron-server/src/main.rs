//! `metron-server`: serve the API, or manage users and tasks.

use anyhow::Context;
use clap::{Parser, Subcommand};
use metron_core::wire::NewTask;
use metron_server::limits::Limits;
use metron_server::{accounts, db, listener, AppState};
use std::time::Duration;

#[derive(Parser)]
#[command(name = "metron-server", version, about = "Metron's server")]
struct Cli {
    /// A SQLite path (default metron.sqlite), sqlite::memory:, or a postgres:// URL
    #[arg(
        long,
        global = true,
        env = "METRON_DB",
        default_value = "metron.sqlite"
    )]
    db: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API until SIGTERM or Ctrl-C (Ctrl-Break on Windows; in-flight requests finish)
    Serve {
        #[arg(long, default_value = "127.0.0.1:8750")]
        listen: String,
        /// Days of raw intervals kept; older days stay as daily aggregates (reports unchanged,
        /// window titles and the timeline included)
        #[arg(long, env = "METRON_RETENTION_DAYS", default_value_t = metron_server::retention::DEFAULT_DAYS, value_parser = clap::value_parser!(u32).range(1..))]
        retention_days: u32,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Manage users
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage tasks
    Task {
        #[command(subcommand)]
        command: TaskCommand,
    },
}

/// The limits kept against hostile clients (docs/SECURITY.md).
#[derive(clap::Args)]
struct LimitArgs {
    /// Seconds a connection may take to send a request's headers (also ends idle keep-alive)
    #[arg(long, env = "METRON_HEADER_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout: u64,
    /// Seconds a request may take to send its body
    #[arg(long, env = "METRON_BODY_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout: u64,
    /// Seconds a connection may move no byte either way before it is closed
    #[arg(long, env = "METRON_IDLE_TIMEOUT", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Connections open at once
    #[arg(long, env = "METRON_MAX_CONNECTIONS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,
    /// Password checks at once (default: one per core)
    #[arg(long, env = "METRON_HASHING_PERMITS")]
    hashing_permits: Option<usize>,
    /// Days a token lives at most
    #[arg(long, env = "METRON_TOKEN_LIFETIME_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(1..))]
    token_lifetime_days: u64,
    /// Days a token lives unused
    #[arg(long, env = "METRON_TOKEN_IDLE_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    token_idle_days: u64,
    /// A reverse proxy (CIDR, repeatable) whose X-Forwarded-For names the client
    #[arg(
        long = "trusted-proxy",
        env = "METRON_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Interval bytes one person may store per day
    #[arg(long, env = "METRON_MAX_BYTES_PER_USER_DAY", default_value_t = 16 * 1024 * 1024)]
    max_bytes_per_user_day: u64,
    /// Tasks an organization may have
    #[arg(long, env = "METRON_MAX_TASKS_PER_ORG", default_value_t = 10_000)]
    max_tasks_per_org: u64,
}

impl LimitArgs {
    fn limits(self) -> Limits {
        let defaults = Limits::default();
        let days = |d: u64| Duration::from_secs(d.saturating_mul(86_400));
        Limits {
            header_timeout: Duration::from_secs(self.header_timeout),
            body_timeout: Duration::from_secs(self.body_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            hashing_permits: self
                .hashing_permits
                .unwrap_or(defaults.hashing_permits)
                .max(1),
            token_lifetime: days(self.token_lifetime_days),
            token_idle_lifetime: days(self.token_idle_days),
            trusted_proxies: self.trusted_proxies,
            max_bytes_per_user_day: self.max_bytes_per_user_day,
            max_tasks_per_org: self.max_tasks_per_org,
            ..defaults
        }
    }
}

#[derive(Subcommand)]
enum UserCommand {
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        admin: bool,
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// Disable a person: no sign-in, and every token they hold answers 401 at once
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled person again
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Set a new password (read from METRON_PASSWORD or the first line of standard input); their tokens are revoked
    Passwd {
        #[arg(long)]
        email: String,
    },
    /// Revoke every token a person holds: their devices must sign in again
    RevokeTokens {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum TaskCommand {
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        project: String,
        #[arg(long, default_value = "default")]
        org: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    #[cfg(unix)]
    // SAFETY: umask only swaps the process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let database = db::connect(&cli.db)
        .await
        .with_context(|| format!("opening database {}", cli.db))?;
    let mut state = AppState::new(database);
    match cli.command {
        Command::Serve {
            listen,
            retention_days,
            limits,
        } => {
            match listener::raise_open_file_limit() {
                Ok(n) => tracing::info!("open-file limit {n}"),
                Err(e) => tracing::warn!("could not raise the open-file limit: {e}"),
            }
            state = AppState::with_limits(state.db, limits.limits());
            state.retention_days = retention_days;
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            // Printed so scripts and tests can find a port chosen with :0.
            println!("listening on {}", listener.local_addr()?);
            metron_server::serve(listener, state, shutdown()).await?;
            tracing::info!("stopped");
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    name,
                    password,
                    admin,
                    org,
                },
        } => {
            let user = accounts::add_user(&state, &org, &email, &name, &password, admin).await?;
            println!("{}", serde_json::to_string(&user)?);
        }
        Command::User {
            command: UserCommand::Disable { email },
        } => {
            accounts::set_disabled(&state, &accounts::find(&state, &email).await?, true).await?;
            println!("{email} is disabled; their tokens are revoked");
        }
        Command::User {
            command: UserCommand::Enable { email },
        } => {
            accounts::set_disabled(&state, &accounts::find(&state, &email).await?, false).await?;
            println!("{email} is enabled");
        }
        Command::User {
            command: UserCommand::Passwd { email },
        } => {
            let user = accounts::find(&state, &email).await?;
            let password = match std::env::var("METRON_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("reading the new password from standard input")?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            accounts::set_password(&state, &user, &password).await?;
            println!("the password of {email} is changed; their tokens are revoked");
        }
        Command::User {
            command: UserCommand::RevokeTokens { email },
        } => {
            let n = accounts::revoke_tokens(&state, &accounts::find(&state, &email).await?).await?;
            println!("{n} tokens of {email} revoked");
        }
        Command::Task {
            command: TaskCommand::Add { name, project, org },
        } => {
            let org_id = state
                .db
                .organization(&org)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let task = state
                .db
                .create_task(&org_id, &NewTask { name, project })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string(&task)?);
        }
    }
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    // Windows: Ctrl-Break, the console event another program can send to a process group of
    // its own (GenerateConsoleCtrlEvent); a service manager's stop arrives the same way.
    #[cfg(windows)]
    let term = async {
        if let Ok(mut s) = tokio::signal::windows::ctrl_break() {
            s.recv().await;
        }
    };
    #[cfg(not(any(unix, windows)))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}
