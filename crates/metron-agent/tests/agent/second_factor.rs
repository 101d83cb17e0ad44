//! `metron-agent login` for an account with two-factor codes (issue 29), against a real
//! `metron-server`: without `--code` (no terminal to ask on) it says to give one, a wrong code
//! is refused, the app's current code signs in; and where the organization requires codes of
//! someone who has none yet, the agent is told to set them up on the web page first.

use super::delivery::{agent, text};
use super::server::{server_cli, ServerProc};
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";

fn code(secret: &str, step: i64) -> String {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate(u64::try_from(step * 30).unwrap())
        .to_string()
}

fn post(http: &reqwest::blocking::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut request = http.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().unwrap()
}

fn login(
    data_dir: &std::path::Path,
    server: &str,
    email: &str,
    code: Option<&str>,
) -> std::process::Output {
    let mut args = vec![
        "login",
        "--server",
        server,
        "--email",
        email,
        "--password",
        PASSWORD,
    ];
    if let Some(code) = code {
        args.extend(["--code", code]);
    }
    agent(data_dir, &args)
}

#[test]
fn login_takes_the_two_factor_code_and_a_required_set_up_sends_the_person_to_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite");
    for email in ["ann@example.com", "bo@example.com"] {
        server_cli(
            &db,
            &[
                "user",
                "add",
                "--email",
                email,
                "--name",
                "N",
                "--password",
                PASSWORD,
            ],
        );
    }
    let server = ServerProc::start(&db, "127.0.0.1:0");
    let base = server.base();
    let http = reqwest::blocking::Client::new();

    // Ann turns codes on (as on the page), at a step with time left in it.
    let token = post(
        &http,
        format!("{base}/api/v1/login"),
        None,
        json!({"email": "ann@example.com", "password": PASSWORD}),
    )["token"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = post(
        &http,
        format!("{base}/api/v1/me/second-factor/begin"),
        Some(&token),
        Value::Null,
    )["secret"]
        .as_str()
        .unwrap()
        .to_string();
    while 30 - chrono::Utc::now().timestamp() % 30 < 12 {
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let step = chrono::Utc::now().timestamp() / 30;
    post(
        &http,
        format!("{base}/api/v1/me/second-factor/confirm"),
        Some(&token),
        json!({"code": code(&secret, step)}),
    );

    let agent_dir = dir.path().join("agent");
    let out = login(&agent_dir, &base, "ann@example.com", None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--code"),
        "{}",
        text(&out.stderr)
    );
    let wrong = if code(&secret, step + 1) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let out = login(&agent_dir, &base, "ann@example.com", Some(wrong));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("refused the two-factor code"),
        "{}",
        text(&out.stderr)
    );
    let out = login(
        &agent_dir,
        &base,
        "ann@example.com",
        Some(&code(&secret, step + 1)),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("signed in to"),
        "{}",
        text(&out.stdout)
    );
    let out = agent(&agent_dir, &["tasks"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Required of everyone: Bo has no codes, and a device can't set them up.
    let set = server_cli(&db, &["org", "set", "--require-second-factor", "everyone"]);
    assert_eq!(set["require_second_factor"], "everyone");
    let out = login(&dir.path().join("bo"), &base, "bo@example.com", None);
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(said.contains("set them up on the web page first"), "{said}");
}
