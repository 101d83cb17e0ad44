//! metron-server's tests: the API through `oneshot` on a real SQLite file, and real server
//! processes on 127.0.0.1 for races and shutdown. One binary, several modules.

mod api;
mod audit_chain;
mod backup;
mod bounded;
mod client_version;
mod config;
mod connections;
mod devices;
mod events;
mod exact;
mod exports;
mod hardening;
mod init;
mod invitations;
mod late_intervals;
mod mydata;
mod people;
mod plain_text;
mod presence;
mod processes;
mod projects;
mod reports;
mod roles;
mod running_days;
mod schema;
mod second_factor;
mod settings;
// Node.js's OpenID provider, Chromium and the agent's browser script: on Linux, where the test
// command installs them (the Windows build's tests under Wine run the rest).
/// The test OpenID provider (shared with the desktop app's resident test).
#[cfg(target_os = "linux")]
#[path = "oidc/provider.rs"]
mod oidc;
#[cfg(target_os = "linux")]
mod sso;
#[cfg(target_os = "linux")]
mod team;
mod timesheets;
mod unusual;
#[cfg(target_os = "linux")]
mod web;

/// The package's folder in the checkout under test: `CARGO_MANIFEST_DIR` as cargo and
/// cargo-nextest set it when they run the test, else as it was when the test was compiled. A
/// compiled test can outlive its checkout: the test command's build cache reuses it for a
/// fresh clone elsewhere (the compile-time path names the clone that built it, which may be
/// gone, or hold other files).
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use metron_server::{accounts, db, routes as server_api, AppState};
use serde_json::{json, Value};
use tower::ServiceExt;

/// A `metron-server` command that [`terminate`] can stop: on Windows in a process group of
/// its own, the unit a console control event addresses.
pub fn server_command() -> std::process::Command {
    #[allow(unused_mut)]
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_metron-server"));
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        command.creation_flags(CREATE_NEW_PROCESS_GROUP);
    }
    command
}

/// Asks a server started by [`server_command`] to stop as an operator would: SIGTERM on
/// Unix, Ctrl-Break on Windows.
pub fn terminate(child: &std::process::Child) {
    #[cfg(unix)]
    // SAFETY: a signal to a child this test started and has not reaped.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    #[cfg(windows)]
    // SAFETY: a console control event to the child's own process group.
    unsafe {
        use windows_sys::Win32::System::Console::{GenerateConsoleCtrlEvent, CTRL_BREAK_EVENT};
        GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, child.id());
    }
}

/// Each test of the shared suite runs once per backend.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $( #[tokio::test] async fn $name() { super::$name(crate::Fixture::new(crate::Backend::Sqlite).await).await } )*
        }
        mod on_postgres {
            $( #[tokio::test] async fn $name() { super::$name(crate::Fixture::new(crate::Backend::Postgres).await).await } )*
        }
    };
}
pub(crate) use on_both;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh PostgreSQL database on the test cluster that `.ci/test.sh` starts.
pub async fn fresh_postgres() -> String {
    let admin = std::env::var("METRON_TEST_PG")
        .expect("METRON_TEST_PG is not set: run the tests with `bash .ci/test.sh`, which installs and starts PostgreSQL");
    let name = format!("metron_{}", uuid::Uuid::now_v7().simple());
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .expect("connecting to the test PostgreSQL");
    sqlx::Executor::execute(
        &mut conn,
        sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")),
    )
    .await
    .unwrap();
    let base = admin.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

/// A server app on a fresh database, with two users in one organization and one elsewhere.
pub struct Fixture {
    /// Holds the SQLite file (and, in `url`, the database's address either way).
    pub _dir: tempfile::TempDir,
    pub app: Router,
    pub state: AppState,
}

impl Fixture {
    pub async fn new(backend: Backend) -> Fixture {
        Self::with_limits(backend, metron_server::limits::Limits::default()).await
    }

    pub async fn with_limits(backend: Backend, limits: metron_server::limits::Limits) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let url = match backend {
            Backend::Sqlite => dir.path().join("server.sqlite").display().to_string(),
            Backend::Postgres => fresh_postgres().await,
        };
        let state = AppState::with_limits(db::connect(&url).await.unwrap(), limits);
        let _ = std::fs::write(dir.path().join("url"), &url);
        accounts::add_user(
            &state,
            "acme",
            "ann@acme.test",
            "Ann",
            "ann-password",
            false,
        )
        .await
        .unwrap();
        accounts::add_user(
            &state,
            "acme",
            "boss@acme.test",
            "Boss",
            "boss-password",
            true,
        )
        .await
        .unwrap();
        accounts::add_user(
            &state,
            "other",
            "eve@other.test",
            "Eve",
            "eve-password",
            false,
        )
        .await
        .unwrap();
        Fixture {
            app: server_api::app(state.clone()),
            state,
            _dir: dir,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string()))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("not JSON: {bytes:?}"))
        };
        (status, value)
    }

    /// A GET that answers text (CSV, XES) as the caller: its status, content type and body.
    pub async fn get_text(&self, path: &str, token: &str) -> (StatusCode, String, String) {
        let req = Request::get(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let kind = response
            .headers()
            .get("content-type")
            .map_or_else(String::new, |v| v.to_str().unwrap_or_default().to_string());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, kind, String::from_utf8(bytes.to_vec()).unwrap())
    }

    /// The database's address (to open a second server instance on it).
    pub fn url(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("url")).unwrap()
    }

    /// `SELECT count(*)` of `table` where `column` is `value`.
    pub async fn count(&self, table: &str, column: &str, value: &str) -> i64 {
        let value = value.replace('\'', "''");
        self.scalar(&format!(
            "SELECT count(*) FROM {table} WHERE {column} = '{value}'"
        ))
        .await
    }

    /// The integer a query answers, read straight from the database.
    pub async fn scalar(&self, sql: &str) -> i64 {
        let (url, sql) = (self.url(), sqlx::AssertSqlSafe(sql.to_string()));
        if url.starts_with("postgres://") {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
        } else {
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
        }
    }

    /// `POST /api/v1/login` with this email and password, whatever the answer.
    pub async fn try_login(&self, email: &str, password: &str) -> (StatusCode, Value) {
        self.call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    /// The id of the person `token` signs in (`GET /api/v1/me`).
    pub async fn user_id(&self, token: &str) -> String {
        let (_, me) = self.call("GET", "/api/v1/me", Some(token), None).await;
        me["id"].as_str().unwrap().to_string()
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self.try_login(email, password).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    /// The cast of the role-by-role tests: Boss (admin) and Ann of acme, Max of acme made Ann's
    /// manager, and Oscar, an admin of another organization, each signed in.
    pub async fn cast(&self) -> Cast {
        for (org, email, name, admin) in [
            ("acme", "max@acme.test", "Max", false),
            ("other", "oscar@other.test", "Oscar", true),
        ] {
            accounts::add_user(&self.state, org, email, name, "a-password-1", admin)
                .await
                .unwrap();
        }
        let boss = self.login("boss@acme.test", "boss-password").await;
        let ann = self.login("ann@acme.test", "ann-password").await;
        let max = self.login("max@acme.test", "a-password-1").await;
        let oscar = self.login("oscar@other.test", "a-password-1").await;
        let (ann_id, max_id) = (self.user_id(&ann).await, self.user_id(&max).await);
        let (status, body) = self
            .call(
                "PUT",
                &format!("/api/v1/users/{max_id}/managed"),
                Some(&boss),
                Some(json!({"users": [ann_id]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        Cast {
            boss,
            ann,
            max,
            oscar,
            ann_id,
            max_id,
        }
    }

    pub async fn task(&self, token: &str) -> String {
        let (status, body) = self
            .call(
                "POST",
                "/api/v1/tasks",
                Some(token),
                Some(json!({"name": "Write report", "project": "Q4"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_string()
    }
}

/// Who the role-by-role tests ask, signed in ([`Fixture::cast`]).
pub struct Cast {
    pub boss: String,
    pub ann: String,
    pub max: String,
    pub oscar: String,
    pub ann_id: String,
    pub max_id: String,
}

/// The day the tests' time is on: the Monday 14 to 20 days before today (UTC), the same for
/// the whole run (on 2026-12-07 it is 2026-11-23). The server under test keeps the real clock:
/// it refuses a person's change to time older than the organization's edit window (30 days in
/// most tests) and an interval that started more than 90 days before that window, so a fixed
/// date would leave the window a few weeks after it was written. This day is far enough back
/// that its whole week, Monday to Sunday, is settled (a date is settled two days after it:
/// `kept_days::settled`), and near enough that a 30-day window covers the week. Being a
/// Monday, `fixture_date(0)` to `fixture_date(6)` are its week, Monday to Sunday.
pub fn fixture_day() -> chrono::NaiveDate {
    use chrono::Datelike;
    static DAY: std::sync::OnceLock<chrono::NaiveDate> = std::sync::OnceLock::new();
    *DAY.get_or_init(|| {
        let back = chrono::Utc::now().date_naive() - chrono::Days::new(14);
        back - chrono::Days::new(u64::from(back.weekday().num_days_from_monday()))
    })
}

/// The day `days` after the fixture day (before it when negative), as `YYYY-MM-DD`.
pub fn fixture_date(days: i64) -> String {
    (fixture_day() + chrono::Duration::days(days)).to_string()
}

/// 00:00 UTC of [`fixture_date`]`(days)`, as RFC 3339: a bound of a range of days.
pub fn day_start(days: i64) -> String {
    format!("{}T00:00:00Z", fixture_date(days))
}

/// 08:00 UTC of the fixture day (09:00 at the `interval` helper's +60) as unix seconds: the
/// zero of [`interval`] and [`at`].
pub fn t0() -> i64 {
    fixture_day()
        .and_hms_opt(8, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
}

/// `secs` seconds after [`t0`], as RFC 3339 in UTC (`2026-11-23T08:00:00Z`).
pub fn at(secs: i64) -> String {
    chrono::DateTime::from_timestamp(t0() + secs, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A valid interval JSON of `secs` seconds starting `start` seconds after [`t0`] (08:00 UTC of
/// the fixture day), at +60.
pub fn interval(task: &str, start: i64, secs: i64) -> Value {
    json!({
        "id": uuid::Uuid::now_v7().to_string(),
        "device_id": "01930000-0000-7000-8000-00000000d001",
        "task_id": task,
        "started_at": at(start),
        "ended_at": at(start + secs),
        "utc_offset_minutes": 60,
        "end_reason": "boundary",
        "active": "1".repeat(secs as usize),
        "counts": {"keys": 5, "clicks": 1, "scrolls": 0, "moves": 20},
        "windows": [{"offset": 0, "seconds": secs, "app": "editor", "title": "report.md", "url": null, "path": null}]
    })
}
