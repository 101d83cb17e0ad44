//! `metron-server init`, the first run of a fresh install, through the real binary.

use super::processes::{login, serve};
use super::*;
use std::process::{Command, Output};

/// `metron-server --db DB init ...`, with METRON_PASSWORD as given (unset when `None`), and an
/// empty settings file beside the database: the defaults, whatever /etc/metron/server.toml
/// holds on this machine. (A real empty file: Windows' NUL device can't be read as a file.)
fn init(db: &str, password: Option<&str>, args: &[&str]) -> Output {
    let config = std::path::Path::new(db).with_file_name("empty-settings.toml");
    std::fs::write(&config, "").unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_metron-server"));
    command
        .arg("--config")
        .arg(&config)
        .args(["--db", db, "init"])
        .args(args)
        .env_remove("METRON_LISTEN")
        .env("RUST_LOG", "warn");
    match password {
        Some(p) => command.env("METRON_PASSWORD", p),
        None => command.env_remove("METRON_PASSWORD"),
    };
    command.output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The generated password: the line after the one that says it is shown once.
fn printed_password(text: &str) -> String {
    let mut lines = text.lines().skip_while(|l| !l.contains("shown this once"));
    lines
        .by_ref()
        .skip(1)
        .find(|l| !l.trim().is_empty())
        .unwrap_or_else(|| panic!("no password in {text}"))
        .trim()
        .to_string()
}

#[tokio::test]
async fn init_makes_the_first_admin_and_a_task_and_says_how_to_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.sqlite").display().to_string();
    let out = stdout(&init(
        &db,
        None,
        &[
            "--email",
            "Boss@Acme.test",
            "--name",
            "Boss",
            "--listen",
            "127.0.0.1:8799",
        ],
    ));
    let password = printed_password(&out);
    assert!(password.chars().count() >= 20, "{password:?}");
    assert!(out.contains("http://127.0.0.1:8799/"), "{out}");
    assert!(out.contains("https://"), "the TLS proxy hint: {out}");
    assert!(out.contains("Settings → Sign in to a team server"), "{out}");
    assert!(
        out.contains("metron-agent login --server http://127.0.0.1:8799 --email boss@acme.test"),
        "{out}"
    );

    let server = serve(&db);
    let client = reqwest::Client::new();
    let token = login(&client, &server.base, "boss@acme.test", &password).await;
    let get = |path: &str| {
        client
            .get(format!("{}{path}", server.base))
            .bearer_auth(&token)
            .send()
    };
    let me: Value = get("/api/v1/me").await.unwrap().json().await.unwrap();
    assert_eq!(me["admin"], true, "{me}");
    let tasks: Value = get("/api/v1/tasks").await.unwrap().json().await.unwrap();
    assert_eq!(tasks.as_array().unwrap().len(), 1, "{tasks}");
    assert_eq!(tasks[0]["name"], "General");
}

#[tokio::test]
async fn init_takes_the_password_from_the_environment_and_never_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.sqlite").display().to_string();
    let out = stdout(&init(
        &db,
        Some("chosen-password"),
        &["--email", "boss@acme.test", "--name", "Boss"],
    ));
    assert!(!out.contains("chosen-password"), "{out}");
    assert!(!out.contains("shown this once"), "{out}");
    assert!(out.contains("http://127.0.0.1:8750/"), "the default: {out}");
    let server = serve(&db);
    login(
        &reqwest::Client::new(),
        &server.base,
        "boss@acme.test",
        "chosen-password",
    )
    .await;
}

#[test]
fn init_refuses_an_organization_that_has_a_user_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("used.sqlite").display().to_string();
    stdout(&init(
        &db,
        Some("first-password"),
        &["--email", "boss@acme.test", "--name", "Boss"],
    ));
    let again = init(
        &db,
        Some("second-password"),
        &["--email", "other@acme.test", "--name", "Other"],
    );
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already has 1 user"), "{stderr}");
    assert!(again.stdout.is_empty(), "no sign-in instructions");
    // The same email in a new organization is refused too, before the organization is made.
    let elsewhere = init(
        &db,
        Some("second-password"),
        &[
            "--email",
            "boss@acme.test",
            "--name",
            "Boss",
            "--org",
            "second",
        ],
    );
    assert!(!elsewhere.status.success());
    assert!(String::from_utf8_lossy(&elsewhere.stderr).contains("already exists"));
    assert_eq!(
        counts(&db),
        (1, 1, 1),
        "(organizations, users, tasks) unchanged"
    );
}

/// (organizations, users, tasks) in the database.
fn counts(db: &str) -> (i64, i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let count = |table: &str| {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    (count("organizations"), count("users"), count("tasks"))
}
