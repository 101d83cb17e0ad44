//! The real `metron-tray` program on Windows (run under Wine by `.ci/windows.sh`, on Xvfb):
//! started in local mode, a task tracked for 30 s with the real sensors, and every interval
//! delivered to the server inside it. On Linux the same program is driven end to end through
//! its window (tests/e2e), which WebView2's absence under Wine rules out here.
#![cfg(windows)]

use metron_tray::link::client::ResidentLink;
use metron_tray::link::protocol::{socket_path, Command};
use serde_json::Value;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(30);

fn call(link: &ResidentLink, command: Command) -> Value {
    link.call(command, T).expect("the resident process answers")
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_resident_process_tracks_30_s_in_local_mode_and_delivers_every_interval() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = Process::new(env!("CARGO_BIN_EXE_metron-tray"))
        .arg("--hidden")
        .env("METRON_DATA_DIR", &data)
        .env("METRON_CONFIG_DIR", dir.path().join("config"))
        .env("METRON_LOG_DIR", dir.path().join("logs"))
        .env("METRON_INTERVAL_RANGE", "5..10")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut link = None;
    wait_for("the resident process's pipe", T, || {
        link = ResidentLink::connect(&socket_path(&data), |_| {}).ok();
        link.is_some() || matches!(child.try_wait(), Ok(Some(_)))
    });
    let link = link.unwrap_or_else(|| panic!("metron-tray ended: {:?}", child.try_wait()));

    call(&link, Command::WorkLocally);
    let task = call(
        &link,
        Command::CreateTask {
            name: "Windows port".into(),
            project: None,
        },
    );
    let task_id = task["id"].as_str().unwrap().to_string();
    call(&link, Command::Start { task_id });
    std::thread::sleep(Duration::from_secs(30));
    call(&link, Command::Stop);

    let mut state = Value::Null;
    wait_for("every interval delivered", T, || {
        state = call(&link, Command::GetState);
        state["tracking"].is_null()
            && state["delivery"]["unsent"] == 0
            && state["undelivered"]
                .as_array()
                .is_some_and(|u| u.is_empty())
    });
    let bars = state["recent"].as_array().unwrap();
    assert!(bars.len() >= 3, "5..10 s intervals over 30 s: {bars:?}");
    let tracked = state["today"]["tracked_secs"].as_u64().unwrap();
    assert!((29..=33).contains(&tracked), "tracked {tracked} s of 30");
    let server = call(&link, Command::GetToday);
    assert_eq!(
        server["tracked_secs"].as_u64(),
        Some(tracked),
        "the built-in server has every tracked second: {server}"
    );

    call(&link, Command::Quit);
    wait_for("metron-tray to end", T, || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    assert!(child.wait().unwrap().success());
}
