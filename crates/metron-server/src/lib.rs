//! metron-server: receives intervals from Metron agents and serves reports (SPEC §4-§5).
//!
//! It owns the HTTP API v1 (`app(state) -> Router`), accounts and bearer tokens, the ingest
//! rules (duplicate, id_conflict, overlap, invalid) and their storage on SQLite or PostgreSQL
//! behind one `Database` trait. It depends on metron-core for the wire types and interval
//! validation, never on metron-agent or Tauri.

pub mod api;
pub mod auth;
pub mod body;
pub mod db;
pub mod error;
pub mod ingest;
pub mod openapi;

use std::sync::Arc;

pub use api::app;

/// Shared by every request: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Arc<dyn db::Database>,
    pub auth: Arc<auth::AuthCache>,
    pub login_limiter: Arc<auth::RateLimiter>,
}

impl AppState {
    pub fn new(db: Arc<dyn db::Database>) -> Self {
        AppState { db, auth: Arc::new(auth::AuthCache::default()), login_limiter: Arc::new(auth::RateLimiter::per_minute(10)) }
    }
}
