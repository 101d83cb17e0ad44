//! `metron-server`: serve the API, or manage users and tasks.

use anyhow::Context;
use clap::{Parser, Subcommand};
use metron_core::wire::{ClientVersionUpdate, NewTask};
use metron_server::config::{self, CommandLine, ServeArgs};
use metron_server::invitations::{self, cli_actor};
use metron_server::projects::{self, Actor, NewProject, ProjectChange, TaskChange};
use metron_server::routes::people::Role;
use metron_server::routes::{client_version, organization, rules, sheets, unusual};
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
    /// Manage projects
    Project {
        #[command(subcommand)]
        command: ProjectCommand,
    },
    /// Announce a release of the desktop app and agent to an organization's clients
    ClientVersion {
        #[command(subcommand)]
        command: ClientVersionCommand,
    },
    /// Read or change an organization's settings, timesheet policy and unusual-activity
    /// thresholds, as the settings page does (each change is an audit row by the command line)
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Manage an organization's productivity rules (each change is an audit row)
    Rule {
        #[command(subcommand)]
        command: RuleCommand,
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
enum OrgCommand {
    /// Print the settings, policy, thresholds, rules and release announcement as JSON
    Show {
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// Change the organization's settings: only the options given change
    Set {
        #[arg(long, default_value = "default")]
        org: String,
        /// A new name for the organization
        #[arg(long)]
        name: Option<String>,
        /// Who may create tasks: everyone or admins
        #[arg(long, value_parser = ["everyone", "admins"])]
        task_creation: Option<String>,
        /// Whether managers read titles, addresses, events and devices of their people
        #[arg(long)]
        managers_see_detail: Option<bool>,
        /// What is kept of page addresses: full (as sent), host_only or drop
        #[arg(long, value_parser = ["full", "host_only", "drop"])]
        url_policy: Option<String>,
        /// Days of detail kept (at most the server's retention_days), or "server"
        #[arg(long)]
        retention_days: Option<String>,
        /// Who must sign in with two-factor codes: off, admins or everyone
        #[arg(long, value_parser = ["off", "admins", "everyone"])]
        require_second_factor: Option<String>,
    },
    /// Replace the timesheet policy with a JSON object (as PUT /api/v1/timesheets/policy)
    Policy {
        #[arg(long, default_value = "default")]
        org: String,
        json: String,
    },
    /// Replace the unusual-activity thresholds with a JSON object (as PUT
    /// /api/v1/unusual/thresholds)
    Thresholds {
        #[arg(long, default_value = "default")]
        org: String,
        json: String,
    },
}

#[derive(Subcommand)]
enum RuleCommand {
    /// Add a rule after the others (the first match wins)
    Add {
        #[arg(long, default_value = "default")]
        org: String,
        /// What the pattern matches: app or host
        #[arg(long, value_parser = ["app", "host"])]
        target: String,
        /// glob or regex
        #[arg(long, default_value = "glob", value_parser = ["glob", "regex"])]
        kind: String,
        #[arg(long)]
        pattern: String,
        /// productive or unproductive
        #[arg(long, value_parser = ["productive", "unproductive"])]
        class: String,
    },
    /// Remove a rule by its id (see `org show`)
    Remove {
        #[arg(long, default_value = "default")]
        org: String,
        id: String,
    },
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
    /// Turn a person's two-factor codes off (a lost phone): they sign in with their password
    /// and, where the organization requires codes, set them up again
    ResetSecondFactor {
        #[arg(long)]
        email: String,
    },
    /// Revoke every token a person holds: their devices must sign in again
    RevokeTokens {
        #[arg(long)]
        email: String,
    },
    /// Remove a person and erase everything the server holds of them (intervals, events,
    /// devices, entries, corrections, timesheets, tokens); the audit trail keeps a tombstone
    /// with counts. Refused for the organization's last admin
    Remove {
        #[arg(long)]
        email: String,
        /// First write their export (a ZIP, as GET /api/v1/users/{id}/export) to this new
        /// file; nothing is removed unless it is written whole
        #[arg(long, value_name = "FILE.zip")]
        export: Option<PathBuf>,
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
    /// Add a task, in the project named (opened if there is none of that name)
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        project: String,
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// Rename a task
    Rename {
        #[command(flatten)]
        task: TaskArg,
        /// The new name
        #[arg(long)]
        to: String,
    },
    /// Move a task to another project ("" for none)
    Move {
        #[command(flatten)]
        task: TaskArg,
        /// The project's name
        #[arg(long)]
        to: String,
    },
    /// Archive a task: it leaves the app's and agent's lists; its time stays in every report
    Archive {
        #[command(flatten)]
        task: TaskArg,
    },
    /// Restore an archived task
    Restore {
        #[command(flatten)]
        task: TaskArg,
    },
}

/// Which task: by id, or by its exact name (in `--project` when several share it).
#[derive(clap::Args)]
struct TaskArg {
    /// The task's name or id
    #[arg(long)]
    name: String,
    /// The project it is in, where several tasks share the name
    #[arg(long)]
    project: Option<String>,
    #[arg(long, default_value = "default")]
    org: String,
}

#[derive(Subcommand)]
enum ProjectCommand {
    /// Add a project
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        client: String,
        /// #rrggbb [default: the next colour of the palette]
        #[arg(long)]
        colour: Option<String>,
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// List the projects with their tasks, one JSON object a line
    List {
        /// Archived projects and tasks too
        #[arg(long)]
        archived: bool,
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// Rename a project, or set its client or colour
    Rename {
        #[command(flatten)]
        project: ProjectArg,
        /// The new name
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        client: Option<String>,
        #[arg(long)]
        colour: Option<String>,
    },
    /// Archive a project: its tasks leave the app's and agent's lists; their time stays
    Archive {
        #[command(flatten)]
        project: ProjectArg,
    },
    /// Restore an archived project
    Restore {
        #[command(flatten)]
        project: ProjectArg,
    },
}

/// Which project: by its exact name or its id.
#[derive(clap::Args)]
struct ProjectArg {
    /// The project's name or id
    #[arg(long)]
    name: String,
    #[arg(long, default_value = "default")]
    org: String,
}

/// `metron-server org ...`: what the settings page reads and changes.
async fn org_command(state: &AppState, command: OrgCommand) -> anyhow::Result<()> {
    match command {
        OrgCommand::Show { org } => {
            let id = org_id(state, &org).await?;
            let shown = serde_json::json!({
                "settings": organization::read(state, &id).await?,
                "timesheet_policy": state.db.timesheet_policy(&id).await?,
                "unusual_thresholds": state.db.unusual_thresholds(&id).await?,
                "rules": state.db.rules(&id).await?,
                "client_version": state.db.client_version(&id).await?,
            });
            println!("{}", serde_json::to_string_pretty(&shown)?);
        }
        OrgCommand::Set {
            org,
            name,
            task_creation,
            managers_see_detail,
            url_policy,
            retention_days,
            require_second_factor,
        } => {
            let id = org_id(state, &org).await?;
            let mut change = serde_json::Map::new();
            let mut put = |key: &str, value: serde_json::Value| {
                change.insert(key.to_string(), value);
            };
            if let Some(v) = name {
                put("name", v.into());
            }
            if let Some(v) = task_creation {
                put("task_creation", v.into());
            }
            if let Some(v) = managers_see_detail {
                put("managers_see_detail", v.into());
            }
            if let Some(v) = url_policy {
                put("url_policy", v.into());
            }
            if let Some(v) = require_second_factor {
                put("require_second_factor", v.into());
            }
            match retention_days.as_deref() {
                None => {}
                Some("server") => put("retention_days", serde_json::Value::Null),
                Some(days) => put(
                    "retention_days",
                    days.parse::<u32>()
                        .map_err(|_| anyhow::anyhow!("--retention-days takes a number of days or \"server\", not {days:?}"))?
                        .into(),
                ),
            }
            let update = serde_json::from_value(serde_json::Value::Object(change))?;
            let done = organization::update(state, &id, None, update).await?;
            println!("{}", serde_json::to_string(&done)?);
        }
        OrgCommand::Policy { org, json } => {
            let id = org_id(state, &org).await?;
            let body = serde_json::from_str(&json).context("the policy is not JSON")?;
            let done = sheets::replace_policy(state, &id, None, body).await?;
            println!("{}", serde_json::to_string(&done)?);
        }
        OrgCommand::Thresholds { org, json } => {
            let id = org_id(state, &org).await?;
            let body = serde_json::from_str(&json).context("the thresholds are not JSON")?;
            let done = unusual::replace_thresholds(state, &id, None, body).await?;
            println!("{}", serde_json::to_string(&done)?);
        }
    }
    Ok(())
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
    // The ceiling an organization's own retention is checked against (`org set`).
    state.retention_days = settings.retention_days;
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
            if let Some(file) = &settings.sso {
                state.sso = std::sync::Arc::new(sso_from_file(&state, file).await?);
            }
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
            command: UserCommand::ResetSecondFactor { email },
        } => {
            let user = accounts::find(&state, &email).await?;
            if metron_server::routes::second_factor::reset(&state, None, &user).await? {
                println!("the two-factor codes of {email} are off");
            } else {
                println!("{email} had no two-factor codes");
            }
        }
        Command::User {
            command: UserCommand::RevokeTokens { email },
        } => {
            let n = accounts::revoke_tokens(&state, &accounts::find(&state, &email).await?).await?;
            println!("{n} tokens of {email} revoked");
        }
        Command::User {
            command: UserCommand::Remove { email, export },
        } => {
            let user = accounts::find(&state, &email).await?;
            if let Some(path) = export {
                let bytes = export_to_file(&state, &user, &path).await?;
                println!(
                    "the export of {email} is in {} ({bytes} bytes)",
                    path.display()
                );
            }
            let removed = metron_server::own_data::erase::remove(
                &state,
                metron_server::own_data::erase::Remover::Operator,
                &user,
            )
            .await?;
            let deleted: Vec<String> = removed
                .counts
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(t, n)| format!("{t} {n}"))
                .collect();
            println!(
                "{email} is removed: {}; {} audit rows erased (tombstone {})",
                deleted.join(", "),
                removed.erased_audit_rows,
                removed.tombstone
            );
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
        Command::Org { command } => org_command(&state, command).await?,
        Command::Rule { command } => match command {
            RuleCommand::Add {
                org,
                target,
                kind,
                pattern,
                class,
            } => {
                let org_id = org_id(&state, &org).await?;
                let rule = serde_json::from_value(serde_json::json!({
                    "target": target, "kind": kind, "pattern": pattern, "class": class
                }))?;
                let stored = rules::add(&state, &org_id, None, rule).await?;
                println!("{}", serde_json::to_string(&stored)?);
            }
            RuleCommand::Remove { org, id } => {
                let org_id = org_id(&state, &org).await?;
                rules::remove(&state, &org_id, None, &id).await?;
                println!("rule {id} removed");
            }
        },
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
                "the audit trail holds: {} rows in {} organizations ({} erased by removals, each named by its tombstone)",
                verified.rows, verified.organizations, verified.erased
            );
        }
        Command::Task { command } => task_command(&state, command).await?,
        Command::Project { command } => project_command(&state, command).await?,
    }
    Ok(())
}

/// The organization's id, or an error naming it.
async fn org_id(state: &AppState, org: &str) -> anyhow::Result<String> {
    state
        .db
        .find_organization(org)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("no organization {org:?}"))
}

/// The project named `name` (or of that id) in `org`, with the organization's id.
async fn find_project(state: &AppState, p: &ProjectArg) -> anyhow::Result<(String, String)> {
    let org = org_id(state, &p.org).await?;
    let id = match projects::find_project(state, &org, &p.name).await {
        Ok(found) => found.id,
        Err(_) => projects::project_named(state, &org, &p.name).await?.id,
    };
    Ok((org, id))
}

async fn project_command(state: &AppState, command: ProjectCommand) -> anyhow::Result<()> {
    let (project, change) = match command {
        ProjectCommand::Add {
            name,
            client,
            colour,
            org,
        } => {
            let org = state
                .db
                .organization(&org)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let new = NewProject {
                name,
                client,
                colour,
            };
            let view = projects::create_project(state, &Actor::operator(&org), new).await?;
            println!("{}", serde_json::to_string(&view)?);
            return Ok(());
        }
        ProjectCommand::List { archived, org } => {
            let list = projects::list(state, &org_id(state, &org).await?, archived).await?;
            for p in &list.projects {
                println!("{}", serde_json::to_string(p)?);
            }
            if !list.unassigned.is_empty() {
                let none = serde_json::json!({"project": null, "tasks": list.unassigned});
                println!("{none}");
            }
            return Ok(());
        }
        ProjectCommand::Rename {
            project,
            to,
            client,
            colour,
        } => (
            project,
            ProjectChange {
                name: to,
                client,
                colour,
                archived: None,
            },
        ),
        ProjectCommand::Archive { project } => (
            project,
            ProjectChange {
                archived: Some(true),
                ..ProjectChange::default()
            },
        ),
        ProjectCommand::Restore { project } => (
            project,
            ProjectChange {
                archived: Some(false),
                ..ProjectChange::default()
            },
        ),
    };
    let (org, id) = find_project(state, &project).await?;
    let view = projects::change_project(state, &Actor::operator(&org), &id, change).await?;
    println!("{}", serde_json::to_string(&view)?);
    Ok(())
}

async fn task_command(state: &AppState, command: TaskCommand) -> anyhow::Result<()> {
    let (which, change) = match command {
        TaskCommand::Add { name, project, org } => {
            let org = state
                .db
                .organization(&org)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let task = NewTask { name, project };
            let task = projects::create_task(state, &Actor::operator(&org), task).await?;
            println!("{}", serde_json::to_string(&task)?);
            return Ok(());
        }
        TaskCommand::Rename { task, to } => (
            task,
            TaskChange {
                name: Some(to),
                ..TaskChange::default()
            },
        ),
        TaskCommand::Move { task, to } => {
            // By name here; the API takes the project's id ("" for none).
            let project_id = if to.trim().is_empty() {
                String::new()
            } else {
                let org = org_id(state, &task.org).await?;
                projects::project_named(state, &org, &to).await?.id
            };
            (
                task,
                TaskChange {
                    project_id: Some(project_id),
                    ..TaskChange::default()
                },
            )
        }
        TaskCommand::Archive { task } => (
            task,
            TaskChange {
                archived: Some(true),
                ..TaskChange::default()
            },
        ),
        TaskCommand::Restore { task } => (
            task,
            TaskChange {
                archived: Some(false),
                ..TaskChange::default()
            },
        ),
    };
    let org = org_id(state, &which.org).await?;
    let task = projects::task_named(state, &org, &which.name, which.project.as_deref()).await?;
    let view = projects::change_task(state, &Actor::operator(&org), &task.id, change).await?;
    println!("{}", serde_json::to_string(&view)?);
    Ok(())
}

/// Writes `user`'s export (the API's ZIP, without its byte budget: the operator's disk) into
/// a new file; its size. Fails, leaving no file behind, unless it was written whole.
async fn export_to_file(
    state: &AppState,
    user: &db::UserRow,
    path: &std::path::Path,
) -> anyhow::Result<u64> {
    use futures_util::StreamExt as _;
    use std::io::Write as _;
    let mut file = std::fs::File::create_new(path).with_context(|| {
        format!(
            "creating {} (an existing file is never overwritten)",
            path.display()
        )
    })?;
    let (mut sink, mut chunks) = metron_server::export::ExportSink::new(u64::MAX);
    let (runtime, state, who) = (
        tokio::runtime::Handle::current(),
        state.clone(),
        user.clone(),
    );
    let producer = std::thread::spawn(move || {
        metron_server::own_data::export::write(&runtime, &state, &who, &mut sink)
            .and_then(|()| sink.finish())
    });
    let mut bytes = 0u64;
    let mut written = async {
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            file.write_all(&chunk)?;
            bytes += chunk.len() as u64;
        }
        file.sync_all()
    }
    .await;
    let produced = producer
        .join()
        .map_err(|_| anyhow::anyhow!("the export panicked"));
    if let Ok(Err(e)) = &produced {
        written = Err(std::io::Error::other(e.to_string()));
    }
    if let Err(e) = written.map_err(anyhow::Error::from).and(produced.map(drop)) {
        let _ = std::fs::remove_file(path);
        return Err(e.context(format!("writing the export to {}", path.display())));
    }
    Ok(bytes)
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

/// `[sso]` of server.toml applied to its organization (named, or the only one), audited as
/// the command line's when it changes anything.
async fn sso_from_file(
    state: &AppState,
    file: &metron_server::sso::SsoFile,
) -> anyhow::Result<metron_server::sso::Sso> {
    let org = match &file.organization {
        Some(name) => state
            .db
            .find_organization(name)
            .await?
            .ok_or_else(|| anyhow::anyhow!("[sso] organization {name:?} does not exist"))?,
        None => {
            let all = state.db.organization_ids().await?;
            match all.as_slice() {
                [one] => one.clone(),
                _ => anyhow::bail!(
                    "[sso]: the server has {} organizations; name one with organization = \"...\"",
                    all.len()
                ),
            }
        }
    };
    metron_server::routes::sso::put(state, &org, None, &file.settings)
        .await
        .map_err(|e| anyhow::anyhow!("[sso]: {e}"))?;
    Ok(metron_server::sso::Sso {
        file_org: Some(org),
        ..Default::default()
    })
}
