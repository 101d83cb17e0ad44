//! Who and where (issue 15): the uploader of `track` reports the device to a real server once,
//! `status` shows what was reported, and the server lists it with when it was seen.

use super::delivery::{agent, spawn_track, stop, text, wait_until, Net, EMAIL, PASSWORD};
use metron_agent::delivery::device_report;
use metron_agent::paths::store_path;
use metron_agent::store::Store;
use std::time::Duration;

#[cfg_attr(
    windows,
    ignore = "needs Ctrl-Break, which Wine cannot send without a console"
)]
#[test]
fn the_tracker_reports_who_and_where_once_and_the_server_lists_it() {
    let net = Net::new();
    let dir = net.agent_dir("agent");
    net.login(&dir);
    let status = || {
        let out = agent(&dir, &["status"]);
        assert!(out.status.success(), "status: {}", text(&out.stderr));
        text(&out.stdout)
    };
    assert!(
        status().contains("device:     not reported yet"),
        "{}",
        status()
    );

    let track = spawn_track(&dir, &net.task);
    wait_until(Duration::from_secs(20), "the device report", || {
        status().contains("(as reported to the server)")
    });
    stop(track);
    let mut store = Store::open(&store_path(&dir)).unwrap();
    let sent = device_report::sent(&store).expect("the report is kept");
    let here = metron_agent::whereabouts::current(sent.utc_offset_minutes);
    assert_eq!(sent, here, "what the OS says now");
    assert!(!sent.host_name.is_empty() && sent.host_name != "unknown");
    assert!(status().contains(&format!(
        "device:     {} as {}",
        sent.host_name, sent.os_user
    )));

    // The server has the same report, and the device's first and last seen span the report.
    let http = reqwest::blocking::Client::new();
    let login: serde_json::Value = http
        .post(format!("{}/api/v1/login", net.server.base()))
        .json(&serde_json::json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let devices: serde_json::Value = http
        .get(format!("{}/api/v1/devices", net.server.base()))
        .bearer_auth(login["token"].as_str().unwrap())
        .send()
        .unwrap()
        .json()
        .unwrap();
    let device_id = store.device_id().unwrap().to_string();
    assert_eq!(devices.as_array().unwrap().len(), 1, "{devices}");
    assert_eq!(devices[0]["device_id"], device_id.as_str());
    assert_eq!(devices[0]["info"], serde_json::to_value(&sent).unwrap());
    let reported: chrono::DateTime<chrono::Utc> =
        devices[0]["reported_at"].as_str().unwrap().parse().unwrap();
    let last: chrono::DateTime<chrono::Utc> =
        devices[0]["last_seen"].as_str().unwrap().parse().unwrap();
    assert!(last >= reported, "{devices}");
}
