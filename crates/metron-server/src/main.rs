//! `metron-server`: serve the API, or manage users and tasks.

use anyhow::Context;
use clap::{Parser, Subcommand};
use metron_core::wire::NewTask;
use metron_server::{api, db, AppState};

#[derive(Parser)]
#[command(name = "metron-server", version, about = "Metron's server")]
struct Cli {
    /// A SQLite path (default metron.sqlite), sqlite::memory:, or a postgres:// URL
    #[arg(long, global = true, env = "METRON_DB", default_value = "metron.sqlite")]
    db: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API until SIGTERM or Ctrl-C (in-flight requests finish)
    Serve {
        #[arg(long, default_value = "127.0.0.1:8750")]
        listen: String,
        /// Days of raw intervals kept; older days stay as daily aggregates (reports unchanged,
        /// window titles and the timeline included)
        #[arg(long, env = "METRON_RETENTION_DAYS", default_value_t = metron_server::retention::DEFAULT_DAYS, value_parser = clap::value_parser!(u32).range(1..))]
        retention_days: u32,
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
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let database = db::connect(&cli.db).await.with_context(|| format!("opening database {}", cli.db))?;
    let mut state = AppState::new(database);
    match cli.command {
        Command::Serve { listen, retention_days } => {
            state.retention_days = retention_days;
            let listener = tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("listening on {listen}"))?;
            // Printed so scripts and tests can find a port chosen with :0.
            println!("listening on {}", listener.local_addr()?);
            metron_server::serve(listener, state, shutdown()).await?;
            tracing::info!("stopped");
        }
        Command::User { command: UserCommand::Add { email, name, password, admin, org } } => {
            let user = api::add_user(&state, &org, &email, &name, &password, admin).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string(&user)?);
        }
        Command::Task { command: TaskCommand::Add { name, project, org } } => {
            let org_id = state.db.organization(&org).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let task = state.db.create_task(&org_id, &NewTask { name, project }).await.map_err(|e| anyhow::anyhow!("{e}"))?;
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
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}
