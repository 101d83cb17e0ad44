//! The release an organization announces, as the agent hears it: set on a real server with
//! `PUT /api/v1/client-version`, asked by the uploader of `track`, shown by `status`.

use super::delivery::{agent, spawn_track, stop, text, wait_until, Net, PASSWORD};
use super::server::server_cli;
use metron_agent::delivery::client_version;
use metron_agent::paths::store_path;
use metron_agent::store::Store;
use std::path::Path;
use std::time::Duration;

const ADMIN: &str = "boss@example.com";

/// An admin of the test organization announces `latest` (PUT, as a person or a script would).
fn announce(base: &str, latest: &str, download_url: &str) {
    let http = reqwest::blocking::Client::new();
    let login: serde_json::Value = serde_json::from_str(
        &http
            .post(format!("{base}/api/v1/login"))
            .header("content-type", "application/json")
            .body(serde_json::json!({"email": ADMIN, "password": PASSWORD}).to_string())
            .send()
            .unwrap()
            .text()
            .unwrap(),
    )
    .unwrap();
    let token = login["token"].as_str().expect("the admin's token");
    let body = serde_json::json!({"latest": latest, "download_url": download_url, "notes": "Faster\nand smaller"});
    let answer = http
        .put(format!("{base}/api/v1/client-version"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().unwrap());
}

fn status(data_dir: &Path) -> String {
    let out = agent(data_dir, &["status"]);
    assert!(out.status.success(), "status: {}", text(&out.stderr));
    text(&out.stdout)
}

/// When the agent's uploader last asked the server, read from its store.
fn asked(data_dir: &Path) -> Option<chrono::DateTime<chrono::Utc>> {
    client_version::asked_at(&Store::open(&store_path(data_dir)).unwrap())
}

#[cfg_attr(
    windows,
    ignore = "needs Ctrl-Break, which Wine cannot send without a console"
)]
#[test]
fn a_newer_announced_release_reaches_status_and_an_equal_one_does_not() {
    let net = Net::new();
    server_cli(
        &net.db,
        &[
            "user",
            "add",
            "--email",
            ADMIN,
            "--name",
            "Boss",
            "--password",
            PASSWORD,
            "--admin",
        ],
    );
    let dir = net.agent_dir("agent");
    net.login(&dir);
    let url = "https://example.com/metron/99.0.0";
    announce(&net.server.base(), "99.0.0", url);
    assert!(
        !status(&dir).contains("update:"),
        "nothing is asked before track runs"
    );

    let track = spawn_track(&dir, &net.task);
    let line = format!("update:     Metron 99.0.0 is available: {url}");
    wait_until(Duration::from_secs(20), "status to tell of 99.0.0", || {
        status(&dir).contains(&line)
    });
    assert!(
        status(&dir).contains("            Faster and smaller"),
        "the notes, on one line"
    );
    let log = stop(track);
    assert!(
        log.contains(&format!("update: Metron 99.0.0 is available: {url}")),
        "{log}"
    );

    // The same version as this agent's: nothing to tell. A sign-in forgets the last answer
    // and asks again at once.
    announce(&net.server.base(), env!("CARGO_PKG_VERSION"), url);
    net.login(&dir);
    assert_eq!(asked(&dir), None, "forgotten at sign-in");
    assert!(!status(&dir).contains("update:"));
    let track = spawn_track(&dir, &net.task);
    wait_until(Duration::from_secs(20), "the uploader to ask", || {
        asked(&dir).is_some()
    });
    assert!(!status(&dir).contains("update:"), "{}", status(&dir));
    stop(track);
}
