//! metron-server: receives intervals from Metron agents and serves reports (SPEC §4-§5).
//!
//! This is the skeleton the foundation needs: the router with the health endpoint. API v1,
//! accounts, storage on SQLite and PostgreSQL and reports come with their own issues.
//! It depends on metron-core for the wire types, never on metron-agent or Tauri.

use axum::{routing::get, Json, Router};
use serde_json::{json, Value};

/// The HTTP application.
pub fn app() -> Router {
    Router::new().route("/api/v1/health", get(health))
}

async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn health_answers_ok() {
        let response = app()
            .oneshot(Request::get("/api/v1/health").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            json!({"status": "ok"})
        );
    }
}
