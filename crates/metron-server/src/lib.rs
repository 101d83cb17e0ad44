//! metron-server: receives intervals from Metron agents and serves reports (SPEC §4-§5).
//!
//! It owns the HTTP API v1 (`app(state) -> Router`), accounts and bearer tokens, the ingest
//! rules (duplicate, id_conflict, overlap, invalid) and their storage on SQLite or PostgreSQL
//! behind one `Database` trait, the reports (daily, team, CSV; productivity rules) and their
//! retention, timesheets (manual time, corrections, approvals, an audit trail), and people's
//! invitations and reset links with the mail that carries them. It depends on metron-core for
//! the wire types and interval validation, never on metron-agent or Tauri.

pub mod access;
pub mod accounts;
pub mod audit_chain;
pub mod auth;
pub mod backup;
pub mod budget;
pub mod config;
pub mod daily_bytes;
pub mod db;
pub mod error;
pub mod event_log;
pub mod export;
pub mod extract;
pub mod ingest;
pub mod init;
pub mod invitations;
pub mod kept_days;
pub mod limits;
pub mod listener;
pub mod mail;
pub mod openapi;
pub mod org_cache;
pub mod own_data;
pub mod projects;
pub mod reports;
pub mod retention;
pub mod routes;
pub mod running_days;
pub mod second_factor;
pub mod sso;
pub mod timesheets;
pub mod web;
pub mod zones;

use std::sync::Arc;

pub use routes::app;

/// Serves the API on `listener` until `shutdown` completes (in-flight requests finish). The
/// `metron-server` binary and the desktop app's built-in server (local mode) both use it.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The cleanup lives as long as this server (local mode starts and stops servers in one
    // process).
    let cleanup = retention::spawn(state.clone(), state.retention_days);
    let running = running_days::spawn(state.clone());
    let limits = std::sync::Arc::clone(&state.limits);
    let served = listener::serve_router(listener, app(state), &limits, shutdown).await;
    cleanup.abort();
    running.abort();
    served
}

/// Shared by every request: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Arc<dyn db::Database>,
    pub auth: Arc<auth::AuthCache>,
    pub login_limiter: Arc<auth::LoginLimiter>,
    /// Password checks running at once (argon2 is CPU and memory heavy).
    pub hashing: Arc<tokio::sync::Semaphore>,
    /// Event-log exports running at once (`Limits::export_permits`).
    pub exports: Arc<tokio::sync::Semaphore>,
    /// Task creations per user.
    pub task_limiter: Arc<auth::RateLimiter>,
    /// Writes per caller a minute beyond intervals (`budget.rs`).
    pub write_limiter: Arc<auth::RateLimiter>,
    /// Days of raw intervals kept (older days stay as daily aggregates).
    pub retention_days: u32,
    pub limits: Arc<limits::Limits>,
    /// Bytes stored per person and day, for the daily cap.
    pub daily_bytes: Arc<daily_bytes::DailyBytes>,
    /// The page's address that invitation and reset links start with (`public_url`).
    pub public_url: Option<Arc<str>>,
    /// The `[smtp]` server those links are mailed through.
    pub mailer: Option<Arc<mail::Mailer>>,
    /// The organizations' settings that ingest reads.
    pub org_settings: Arc<org_cache::OrgSettingsCache>,
    /// Signing in with the organizations' identity providers.
    pub sso: Arc<sso::Sso>,
    /// The team's days of dates not settled, added up as intervals arrive.
    pub running: Arc<running_days::RunningDays>,
}

impl AppState {
    pub fn new(db: Arc<dyn db::Database>) -> Self {
        Self::with_limits(db, limits::Limits::default())
    }

    pub fn with_limits(db: Arc<dyn db::Database>, limits: limits::Limits) -> Self {
        AppState {
            db,
            auth: Arc::new(auth::AuthCache::default()),
            login_limiter: Arc::new(auth::LoginLimiter::default()),
            daily_bytes: Arc::default(),
            org_settings: Arc::default(),
            sso: Arc::default(),
            running: Arc::default(),
            hashing: Arc::new(tokio::sync::Semaphore::new(limits.hashing_permits.max(1))),
            exports: Arc::new(tokio::sync::Semaphore::new(limits.export_permits.max(1))),
            task_limiter: Arc::new(auth::RateLimiter::new(
                limits.task_creations_per_minute,
                std::time::Duration::from_secs(60),
                100_000,
            )),
            write_limiter: Arc::new(auth::RateLimiter::new(
                limits.writes_per_minute,
                std::time::Duration::from_secs(60),
                100_000,
            )),
            retention_days: retention::DEFAULT_DAYS,
            limits: Arc::new(limits),
            public_url: None,
            mailer: None,
        }
    }
}
