//! The window's commands over Tauri's mock runtime, forwarded over the real socket to a real
//! resident core (metron-tray's `Resident`, in this process without its GTK desktop): the real
//! tracker service with scripted sensors, the real built-in server (local mode) on 127.0.0.1,
//! real files. No display needed; the real window is driven by the end-to-end tests.
//!
//! Not on Windows: Tauri's test runtime still loads WebView2, which Wine lacks (the tests
//! hang there); the same commands reach the same `Resident` in metron-tray's tests, which do
//! run under Wine.
#![cfg(not(windows))]

#[allow(dead_code)]
#[path = "../../crates/metron-agent/tests/agent/server.rs"]
mod server;

use metron_agent::sensors::fake::{ScriptedActivity, ScriptedWindow};
use metron_agent::sensors::Sensors;
use metron_core::EngineConfig;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

/// The resident core without a desktop: no tray, notifications or window processes.
struct Headless;
impl metron_tray::resident::Desktop for Headless {}

struct App {
    _dir: tempfile::TempDir,
    data_dir: std::path::PathBuf,
    core: std::sync::Arc<metron_tray::resident::Resident>,
    _app: tauri::App<MockRuntime>,
    webview: WebviewWindow<MockRuntime>,
    input: ScriptedActivity,
}

impl App {
    fn start(prepare: impl FnOnce(&std::path::Path)) -> App {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let config_dir = dir.path().join("config");
        std::fs::create_dir_all(&config_dir).unwrap();
        prepare(&config_dir);
        let input = ScriptedActivity::default();
        let window = ScriptedWindow::default();
        *window.0.lock().unwrap() = Some(metron_core::WindowInfo {
            app: "editor".into(),
            title: "report.md".into(),
            url: None,
            path: None,
        });
        let sensors = Sensors {
            activity: Box::new(input.clone()),
            window: Box::new(window),
            presence: Box::new(metron_agent::sensors::presence::NoPresence),
            sources: metron_agent::sensors::fake::sources(),
        };
        let options = metron_tray::resident::Options {
            data_dir: data_dir.clone(),
            config_dir,
            sensors,
            engine: EngineConfig {
                interval_range: 2..=3,
                ..Default::default()
            },
        };
        let core = metron_tray::resident::Resident::start(options, Box::new(Headless)).unwrap();
        let socket = metron_tray::link::socket::listen(&core).unwrap();
        let app = metron_app::configure(mock_builder())
            .build(mock_context(noop_assets()))
            .unwrap();
        let handle = app.handle().clone();
        let client = metron_tray::link::client::ResidentLink::connect(&socket, move |p| {
            metron_app::on_pushed(&handle, p)
        })
        .unwrap();
        metron_app::attach(app.handle(), std::sync::Arc::new(client));
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        App {
            _dir: dir,
            data_dir,
            core,
            _app: app,
            webview,
            input,
        }
    }

    fn invoke(&self, cmd: &str, body: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                // Linux serves the app from tauri://localhost; other origins are remote and denied.
                url: "tauri://localhost".parse().unwrap(),
                body: tauri::ipc::InvokeBody::Json(body),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|r| r.deserialize::<Value>().unwrap())
    }

    /// Polls `get_state` until `pred` holds.
    fn wait_state(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let state = self.invoke("get_state", json!({})).unwrap();
            if !state.is_null() && pred(&state) {
                return state;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}; last state: {state}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.core.shutdown();
    }
}

#[test]
fn the_first_run_works_locally_and_tracks_into_the_built_in_server() {
    let app = App::start(|_| {});
    // No set-up: local mode with a local account and a first task.
    let state = app.wait_state("local mode", |s| {
        s["account"]["local"] == true && !s["tasks"].as_array().unwrap().is_empty()
    });
    // The first task is named in the OS language.
    assert!(
        ["General", "Общее"].contains(&state["tasks"][0]["name"].as_str().unwrap()),
        "{state}"
    );
    assert!(state["account"]["server"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));

    let task = app
        .invoke(
            "create_task",
            json!({"name": "  Write the report ", "project": null}),
        )
        .unwrap();
    assert_eq!(task["name"], "Write the report");
    let empty = app
        .invoke("create_task", json!({"name": "   ", "project": null}))
        .unwrap_err();
    assert_eq!(empty["code"], "input");
    app.wait_state("the new task in the list", |s| {
        s["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == task["id"])
    });

    app.invoke("start", json!({"taskId": task["id"]})).unwrap();
    let typing = std::thread::spawn({
        let input = app.input.clone();
        move || {
            for _ in 0..60 {
                input.0.lock().unwrap().keys += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    });
    let tracking = app.wait_state("two closed intervals, delivered", |s| {
        s["tracking"]["session_secs"].as_u64().unwrap_or(0) >= 5
            && s["recent"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|b| b["open"] == false)
                .count()
                >= 2
            && s["delivery"]["connection"] == "online"
    });
    typing.join().unwrap();
    assert_eq!(tracking["tracking"]["task_name"], "Write the report");
    assert!(
        tracking["recent"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["active_pct"].as_u64().unwrap() > 0),
        "{tracking}"
    );
    app.invoke("stop", json!({})).unwrap();
    let stopped = app.wait_state("stopped, all delivered", |s| {
        s["tracking"].is_null() && s["delivery"]["unsent"] == 0
    });
    assert!(stopped["today"]["tracked_secs"].as_u64().unwrap() >= 5);

    // The Today view: the built-in server's daily report has what was delivered.
    let today = app.invoke("get_today", json!({})).unwrap();
    assert_eq!(
        today["tracked_secs"], stopped["today"]["tracked_secs"],
        "{today}"
    );
    assert_eq!(today["apps"][0]["app"], "editor");
    assert!(today["activity_pct"].as_u64().unwrap() > 0);
    assert_eq!(today["timeline"].as_array().unwrap().len() as i64, {
        rusqlite::Connection::open(app.data_dir.join("agent.sqlite"))
            .unwrap()
            .query_row("SELECT count(*) FROM intervals", [], |r| r.get::<_, i64>(0))
            .unwrap()
    });

    // The built-in server has them: same HTTP path as a team server.
    let db = rusqlite::Connection::open(app.data_dir.join("local-server.sqlite")).unwrap();
    let stored: i64 = db
        .query_row("SELECT count(*) FROM intervals", [], |r| r.get(0))
        .unwrap();
    let local: i64 = rusqlite::Connection::open(app.data_dir.join("agent.sqlite"))
        .unwrap()
        .query_row(
            "SELECT count(*) FROM intervals WHERE status = 'sent'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        stored >= 2 && stored == local,
        "server {stored}, agent {local}"
    );
}

/// A one-shot HTTP server that answers every request with an HTML page.
fn not_metron() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let body = "<html><body>Welcome to nginx!</body></html>";
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn sign_in_errors_are_clear_and_change_nothing() {
    let app = App::start(|_| {});
    let state = app.wait_state("local mode", |s| s["account"]["local"] == true);
    let local_server = state["account"]["server"].as_str().unwrap().to_string();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cases = [
        (
            json!({"server": local_server, "email": "me@localhost", "password": "not the password"}),
            "bad_credentials",
            "refused",
        ),
        (
            json!({"server": format!("http://{closed}"), "email": "a@b.c", "password": "x"}),
            "unreachable",
            "cannot connect",
        ),
        (
            json!({"server": not_metron(), "email": "a@b.c", "password": "x"}),
            "not_metron",
            "is it a Metron server?",
        ),
        (
            json!({"server": "metron.example.com", "email": "a@b.c", "password": "x"}),
            "bad_url",
            "not a server address",
        ),
        (
            json!({"server": "", "email": "", "password": ""}),
            "input",
            "needed",
        ),
    ];
    for (body, code, words) in cases {
        let err = app.invoke("sign_in", body.clone()).unwrap_err();
        assert_eq!(err["code"], code, "{body}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains(words),
            "{body}: {err}"
        );
    }
    let after = app.invoke("get_state", json!({})).unwrap();
    assert_eq!(after["account"], state["account"], "nothing saved");
    assert!(!app.data_dir.join("token").exists() || after["account"]["local"] == true);
}

#[test]
fn the_identity_provider_commands_answer_without_opening_a_browser_when_there_is_nothing_to_sign_in_to(
) {
    let app = App::start(|_| {});
    let state = app.wait_state("local mode", |s| s["account"]["local"] == true);
    let local_server = state["account"]["server"].as_str().unwrap().to_string();
    // The built-in server offers no identity provider: the form shows no button.
    assert_eq!(
        app.invoke("sso_providers", json!({ "server": local_server }))
            .unwrap(),
        json!([])
    );
    assert_eq!(
        app.invoke("sso_providers", json!({ "server": "" }))
            .unwrap(),
        json!([])
    );
    for (body, code) in [
        (json!({"server": "", "provider": "corp"}), "input"),
        (json!({"server": local_server, "provider": " "}), "input"),
        (
            json!({"server": "metron.example.com", "provider": "corp"}),
            "bad_url",
        ),
        (
            json!({"server": "http://10.0.0.5:8750", "provider": "corp"}),
            "insecure_http",
        ),
    ] {
        let err = app.invoke("sign_in_sso", body.clone()).unwrap_err();
        assert_eq!(err["code"], code, "{body}: {err}");
    }
    // Nothing waits: Cancel is a no-op.
    assert_eq!(app.invoke("cancel_sso", json!({})).unwrap(), Value::Null);
    let after = app.invoke("get_state", json!({})).unwrap();
    assert_eq!(after["account"], state["account"], "nothing saved");
}

#[test]
fn a_damaged_settings_file_is_set_aside_with_a_notice_and_settings_save() {
    let app = App::start(|config| {
        std::fs::write(config.join("settings.json"), "{ this is not json").unwrap()
    });
    let view = app.invoke("get_settings", json!({})).unwrap();
    assert!(
        view["notice"].as_str().unwrap().contains("set aside"),
        "{view}"
    );
    assert_eq!(view["settings"]["language"], "auto");
    assert!(
        app.invoke("get_settings", json!({})).unwrap()["notice"].is_null(),
        "the notice shows once"
    );
    let mut settings = view["settings"].clone();
    settings["language"] = json!("ru");
    settings["privacy"]["record_titles"] = json!(false);
    app.invoke("set_settings", json!({ "settings": settings }))
        .unwrap();
    assert_eq!(
        app.invoke("get_settings", json!({})).unwrap()["settings"]["privacy"]["record_titles"],
        false
    );
    settings["language"] = json!("klingon");
    assert_eq!(
        app.invoke("set_settings", json!({ "settings": settings }))
            .unwrap_err()["code"],
        "input"
    );
}

#[test]
fn the_download_page_of_a_release_opens_only_when_one_is_announced() {
    let app = App::start(|_| {});
    let state = app.wait_state("local mode", |s| s["account"]["local"] == true);
    assert!(state["release"].is_null(), "{state}");
    let err = app.invoke("open_download", json!({})).unwrap_err();
    assert_eq!(err["code"], "no_release", "{err}");
}

/// The organization's transparency notice through the window's commands (local mode's
/// built-in server words one too): not acknowledged at first; a version that is no version is
/// refused before the server is asked; a stale one is the server's refusal and changes
/// nothing; the version shown is acknowledged, and the server then says so.
#[test]
fn the_transparency_notice_is_read_and_acknowledged_through_the_commands() {
    let app = App::start(|_| {});
    app.wait_state("local mode", |s| s["account"]["local"] == true);
    let notice = app.invoke("get_transparency_notice", json!({})).unwrap();
    assert!(notice["acknowledged_at"].is_null(), "{notice}");
    let (en, ru) = (
        notice["text"]["en"].as_array().unwrap(),
        notice["text"]["ru"].as_array().unwrap(),
    );
    assert!(!en.is_empty() && en.len() == ru.len(), "{notice}");

    let bad = app
        .invoke("acknowledge_notice", json!({"version": "not a version"}))
        .unwrap_err();
    assert_eq!(bad["code"], "input", "{bad}");
    let stale = app
        .invoke("acknowledge_notice", json!({"version": "0123456789abcdef"}))
        .unwrap_err();
    assert_eq!(stale["code"], "server", "{stale}");
    assert!(
        stale["message"].as_str().unwrap().contains("changed"),
        "{stale}"
    );
    let still = app.invoke("get_transparency_notice", json!({})).unwrap();
    assert!(still["acknowledged_at"].is_null(), "{still}");

    let acked = app
        .invoke("acknowledge_notice", json!({"version": notice["version"]}))
        .unwrap();
    assert!(acked["acknowledged_at"].is_string(), "{acked}");
    let again = app.invoke("get_transparency_notice", json!({})).unwrap();
    assert_eq!(again["acknowledged_at"], acked["acknowledged_at"]);
    assert_eq!(again["version"], notice["version"]);
}

/// The code an authenticator app shows for `secret` (base32) during time step `step`.
fn totp_code(secret: &str, step: i64) -> String {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate(u64::try_from(step * 30).unwrap())
        .to_string()
}

/// An account with two-factor codes (issue 29): the window's sign-in is answered
/// `second_factor_required` (the window then shows its code field), a wrong code
/// `second_factor_invalid`, and the app's current code signs in; nothing is saved before.
#[test]
fn a_sign_in_with_two_factor_codes_asks_for_the_code_then_takes_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite");
    server::server_cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "ann@example.com",
            "--name",
            "Ann",
            "--password",
            "correct horse battery",
        ],
    );
    let server = server::ServerProc::start(&db, "127.0.0.1:0");
    let base = server.base();
    let http = reqwest::blocking::Client::new();
    let post = |path: &str, token: Option<&str>, body: Value| -> Value {
        let mut request = http.post(format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().unwrap()
    };
    let token = post(
        "/api/v1/login",
        None,
        json!({"email": "ann@example.com", "password": "correct horse battery"}),
    )["token"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = post("/api/v1/me/second-factor/begin", Some(&token), Value::Null)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    while 30
        - std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            % 30
        < 12
    {
        std::thread::sleep(Duration::from_millis(500));
    }
    let step = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 30,
    )
    .unwrap();
    post(
        "/api/v1/me/second-factor/confirm",
        Some(&token),
        json!({"code": totp_code(&secret, step)}),
    );

    let app = App::start(|_| {});
    let local = app.wait_state("local mode", |s| s["account"]["local"] == true);
    let body =
        json!({"server": base, "email": "ann@example.com", "password": "correct horse battery"});
    let err = app.invoke("sign_in", body.clone()).unwrap_err();
    assert_eq!(err["code"], "second_factor_required", "{err}");
    let wrong = if totp_code(&secret, step + 1) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let mut with_code = body.clone();
    with_code["secondFactor"] = json!(wrong);
    let err = app.invoke("sign_in", with_code.clone()).unwrap_err();
    assert_eq!(err["code"], "second_factor_invalid", "{err}");
    assert_eq!(
        app.invoke("get_state", json!({})).unwrap()["account"],
        local["account"],
        "nothing saved"
    );
    with_code["secondFactor"] = json!(totp_code(&secret, step + 1));
    let signed = app.invoke("sign_in", with_code).unwrap();
    assert_eq!(signed["email"], "ann@example.com", "{signed}");
    app.wait_state("signed in to the team server", |s| {
        s["account"]["local"] == false && s["account"]["email"] == "ann@example.com"
    });
}
