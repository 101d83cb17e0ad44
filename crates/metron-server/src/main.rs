//! `metron-server`: serve the API, or manage users and tasks.

use anyhow::Context;
use clap::{Parser, Subcommand};
use metron_core::wire::{ClientVersionUpdate, NewTask};
use metron_server::config::{self, CommandLine, ServeArgs};
use metron_server::invitations::{self, cli_actor};
use metron_server::routes::client_version;
use metron_server::routes::people::Role;
use metron_server::{accounts, backup, db, init, listener, mail, AppState};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "metron-server", version, about = "Metron's server")]
struct Cli {
    /// The settings file (TOML; flags and environment variables win over it)
    /// [default: /etc/metron/server.toml when it exists]
    #[arg(long, global = true, env = "METRON_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// A SQLite path, sqlite::memory:, or a postgres:// URL [default: metron.sqlite]
    #[arg(long, global = true, env = "METRON_DB")]
    db: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API until SIGTERM or Ctrl-C (Ctrl-Break on Windows; in-flight requests finish)
    Serve(ServeArgs),
    /// Set up a fresh install: the database, the organization's first admin and a task
    /// "General"; prints how to sign in. The password comes from METRON_PASSWORD, or is made up
    /// and printed once. Refuses an organization that already has a user
    Init {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "default")]
        org: String,
        #[command(flatten)]
        listen: config::ListenArg,
    },
    /// Copy the SQLite database into a new file (mode 0600), consistently even while a server
    /// is serving it, and check the copy. For PostgreSQL use pg_dump
    Backup {
        /// The new file (an existing one is never overwritten)
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Print the settings in effect (file, environment and flags merged) as JSON, and exit;
    /// fails, naming the file and the key, when the file is wrong
    ShowConfig(ServeArgs),
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
    /// Announce a release of the desktop app and agent to an organization's clients
    ClientVersion {
        #[command(subcommand)]
        command: ClientVersionCommand,
    },
    /// Check the audit trail
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk every organization's chain of audit rows and check each row's hash and place;
    /// prints each chain's last hash (keep it elsewhere: a later run must print the same for
    /// the same number). Exits non-zero at the first broken row, naming it
    Verify,
}

#[derive(Subcommand)]
enum ClientVersionCommand {
    /// Announce a release: the clients older than it tell their person where to download it
    /// (they never download anything themselves)
    Set {
        /// The version, semver (e.g. 0.2.0)
        #[arg(long)]
        latest: String,
        /// Where to download it (http or https)
        #[arg(long)]
        url: String,
        /// What is new (at most 2,000 characters)
        #[arg(long)]
        notes: Option<String>,
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// Withdraw the announcement
    Clear {
        #[arg(long, default_value = "default")]
        org: String,
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
    /// Invite someone by email: prints the one-time link (valid 7 days), and mails it when
    /// [smtp] is set
    Invite {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
        /// admin, manager or member
        #[arg(long, default_value = "member")]
        role: String,
        /// The email of the person who will manage them
        #[arg(long)]
        manager: Option<String>,
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// List the organization's pending invitations (expired ones included), as JSON lines
    Invitations {
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// Revoke the pending invitation of an email: its link stops working
    RevokeInvitation {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// Print a one-time password-reset link (valid an hour), mailed when [smtp] is set
    ResetLink {
        #[arg(long)]
        email: String,
    },
    /// Set a person's role: admin, manager or member (the last admin can't be demoted)
    Role {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Invite everyone of a CSV (header row email,name,role,manager): all rows or, when any
    /// is bad, none (each bad row is named)
    Import {
        /// The CSV file
        csv: PathBuf,
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
    let serve_args = match &cli.command {
        Command::Serve(args) | Command::ShowConfig(args) => args.clone(),
        Command::Init { listen, .. } => ServeArgs {
            listen: listen.clone(),
            ..ServeArgs::default()
        },
        _ => ServeArgs::default(),
    };
    let settings = config::load(
        config::file_to_read(cli.config.as_deref()).as_deref(),
        &CommandLine {
            database: cli.db.clone(),
            serve: serve_args,
        },
    )?;
    match &cli.command {
        Command::ShowConfig(_) => {
            println!("{}", serde_json::to_string_pretty(&settings.redacted())?);
            return Ok(());
        }
        // Before the database is opened the usual way, which would create and migrate it.
        Command::Backup { to } => {
            let done = backup::backup(&settings.database, to)?;
            println!(
                "backed up {} to {}: {} ({} bytes), integrity ok",
                done.from.display(),
                to.display(),
                backup::human_size(done.bytes),
                done.bytes
            );
            return Ok(());
        }
        _ => {}
    }
    let database = db::connect(&settings.database)
        .await
        .with_context(|| format!("opening database {}", settings.redacted().database))?;
    let mut state = AppState::new(database);
    // Links and their mail, for `serve` and for the commands that make links alike.
    let public_url: Option<std::sync::Arc<str>> = settings.public_url.as_deref().map(Into::into);
    let mailer = match &settings.smtp {
        Some(smtp) => Some(std::sync::Arc::new(
            mail::Mailer::new(smtp).map_err(|e| anyhow::anyhow!("[smtp]: {e}"))?,
        )),
        None => None,
    };
    state.public_url.clone_from(&public_url);
    state.mailer.clone_from(&mailer);
    match cli.command {
        Command::ShowConfig(_) | Command::Backup { .. } => {}
        Command::Serve(_) => {
            match listener::raise_open_file_limit() {
                Ok(n) => tracing::info!("open-file limit {n}"),
                Err(e) => tracing::warn!("could not raise the open-file limit: {e}"),
            }
            state = AppState::with_limits(state.db, settings.limits());
            state.retention_days = settings.retention_days;
            state.public_url = public_url;
            state.mailer = mailer;
            let listen = &settings.listen;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            // Printed so scripts and tests can find a port chosen with :0.
            println!("listening on {}", listener.local_addr()?);
            metron_server::serve(listener, state, shutdown()).await?;
            tracing::info!("stopped");
        }
        Command::Init {
            email, name, org, ..
        } => {
            let (password, generated) = match std::env::var("METRON_PASSWORD") {
                Ok(p) => (p, false),
                Err(_) => (init::generate_password(&mut rand::rng()), true),
            };
            let done = init::init(&state, &org, &email, &name, &password).await?;
            let shown = generated.then_some(password.as_str());
            print!("{}", init::summary(&org, &done, shown, &settings.listen));
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
        Command::User {
            command:
                UserCommand::Invite {
                    email,
                    name,
                    role,
                    manager,
                    org,
                },
        } => {
            let actor = cli_actor(&org_id(&state, &org).await?);
            let roster =
                invitations::Roster::read(&state, &actor.org_id, chrono::Utc::now().timestamp())
                    .await
                    .map_err(api)?;
            let checked = roster
                .check(&state, &email, &name, &role, manager.as_deref(), true)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))??;
            for issued in invitations::issue(&state, &actor, vec![checked])
                .await
                .map_err(api)?
            {
                println!("{}", serde_json::to_string(&issued)?);
            }
        }
        Command::User {
            command: UserCommand::Invitations { org },
        } => {
            let now = chrono::Utc::now().timestamp();
            for row in state
                .db
                .pending_invitations(&org_id(&state, &org).await?)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                println!(
                    "{}",
                    serde_json::to_string(&invitations::Invitation::of(&row, now))?
                );
            }
        }
        Command::User {
            command: UserCommand::RevokeInvitation { email, org },
        } => {
            let actor = cli_actor(&org_id(&state, &org).await?);
            let email = accounts::normalize_email(&email)?;
            let pending = state
                .db
                .pending_invitations(&actor.org_id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let row = pending
                .iter()
                .find(|r| r.email == email)
                .ok_or_else(|| anyhow::anyhow!("no pending invitation for {email} in {org:?}"))?;
            invitations::revoke(&state, &actor, &row.id)
                .await
                .map_err(api)?;
            println!("the invitation of {email} is revoked");
        }
        Command::User {
            command: UserCommand::ResetLink { email },
        } => {
            let person = accounts::find(&state, &email).await?;
            let issued = invitations::issue_reset(&state, &cli_actor(&person.org_id), &person)
                .await
                .map_err(api)?;
            println!("{}", serde_json::to_string(&issued)?);
        }
        Command::User {
            command: UserCommand::Role { email, role },
        } => {
            let person = accounts::find(&state, &email).await?;
            let role = Role::parse(&role).ok_or_else(|| {
                anyhow::anyhow!("--role is admin, manager or member, not {role:?}")
            })?;
            accounts::set_role(&state, &cli_actor(&person.org_id), &person, role).await?;
            println!("{email} is {}", role.as_str());
        }
        Command::User {
            command: UserCommand::Import { csv, org },
        } => {
            let actor = cli_actor(&org_id(&state, &org).await?);
            let text = std::fs::read_to_string(&csv)
                .with_context(|| format!("reading {}", csv.display()))?;
            match invitations::check_import(&state, &actor, &text)
                .await
                .map_err(api)?
            {
                Err(problems) => {
                    for p in &problems {
                        eprintln!("{}:{}: {} ({})", csv.display(), p.line, p.reason, p.email);
                    }
                    anyhow::bail!("{} bad rows: nothing was imported", problems.len());
                }
                Ok(checked) => {
                    for issued in invitations::issue(&state, &actor, checked)
                        .await
                        .map_err(api)?
                    {
                        println!("{}", serde_json::to_string(&issued)?);
                    }
                }
            }
        }
        Command::ClientVersion { command } => {
            let (org, update) = match command {
                ClientVersionCommand::Set {
                    latest,
                    url,
                    notes,
                    org,
                } => (
                    org,
                    ClientVersionUpdate {
                        latest: Some(latest),
                        download_url: Some(url),
                        notes,
                    },
                ),
                ClientVersionCommand::Clear { org } => (org, ClientVersionUpdate::default()),
            };
            let org_id = state
                .db
                .find_organization(&org)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .ok_or_else(|| anyhow::anyhow!("no organization {org:?}"))?;
            let stored = client_version::announce(&state, &org_id, None, update).await?;
            println!("{}", serde_json::to_string(&stored)?);
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let verified = metron_server::audit_chain::verify(state.db.as_ref())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .map_err(|broken| anyhow::anyhow!("the audit trail is broken: {broken}"))?;
            for (org, seq, hash) in &verified.heads {
                println!("organization {org}: #{seq} {hash}");
            }
            println!(
                "the audit trail holds: {} rows in {} organizations",
                verified.rows, verified.organizations
            );
        }
        Command::Task {
            command: TaskCommand::Add { name, project, org },
        } => {
            let org_id = state
                .db
                .organization(&org)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let task = metron_server::routes::tasks::checked_task(NewTask { name, project })?;
            let task = state
                .db
                .create_task(&org_id, &task)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string(&task)?);
        }
    }
    Ok(())
}

/// The id of the organization named `org`.
async fn org_id(state: &AppState, org: &str) -> anyhow::Result<String> {
    state
        .db
        .find_organization(org)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("no organization {org:?}"))
}

/// An API error as the command line says it.
fn api(e: metron_server::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
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
