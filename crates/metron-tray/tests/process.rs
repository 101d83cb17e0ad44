//! The real `metron-tray` program on Windows (run under Wine by `.ci/windows.sh`, on Xvfb):
//! started in local mode, a task tracked for 30 s with the real sensors, and every interval
//! delivered to the server inside it. On Linux the same program is driven end to end through
//! its window (tests/e2e), which WebView2's absence under Wine rules out here.
#![cfg(windows)]

use metron_tray::link::client::ResidentLink;
use metron_tray::link::protocol::{socket_path, Command};
use serde_json::Value;
use std::process::{Child, Command as Process, Stdio};
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

/// `metron-tray` on a fresh data dir in `dir`, and the link to it once it answers.
fn start_resident(dir: &std::path::Path, interval_range: &str) -> (Child, ResidentLink) {
    let data = dir.join("data");
    let mut child = Process::new(env!("CARGO_BIN_EXE_metron-tray"))
        .arg("--hidden")
        .env("METRON_DATA_DIR", &data)
        .env("METRON_CONFIG_DIR", dir.join("config"))
        .env("METRON_LOG_DIR", dir.join("logs"))
        .env("METRON_INTERVAL_RANGE", interval_range)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut link = None;
    wait_for("the resident process's pipe", T, || {
        link = ResidentLink::connect(&socket_path(&data), |_| {}).ok();
        link.is_some() || matches!(child.try_wait(), Ok(Some(_)))
    });
    let link = link.unwrap_or_else(|| panic!("metron-tray ended: {:?}", child.try_wait()));
    (child, link)
}

/// Local mode, a new task, and Start.
fn start_tracking(link: &ResidentLink) {
    call(link, Command::WorkLocally);
    let task = call(
        link,
        Command::CreateTask {
            name: "Windows port".into(),
            project: None,
        },
    );
    let task_id = task["id"].as_str().unwrap().to_string();
    call(link, Command::Start { task_id });
}

#[test]
fn the_resident_process_tracks_30_s_in_local_mode_and_delivers_every_interval() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, link) = start_resident(dir.path(), "5..10");
    start_tracking(&link);
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

/// Not a check: `scripts/wine-perf.sh` runs it (`--ignored`) and measures the process from
/// outside while it tracks for METRON_PERF_SECS (default 70) with the default intervals.
#[test]
#[ignore = "a workload for scripts/wine-perf.sh, which measures it"]
fn tracking_for_the_performance_script() {
    let secs = std::env::var("METRON_PERF_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(70);
    let dir = tempfile::tempdir().unwrap();
    let (mut child, link) = start_resident(dir.path(), "40..80");
    start_tracking(&link);
    println!("tracking");
    std::thread::sleep(Duration::from_secs(secs));
    call(&link, Command::Quit);
    assert!(child.wait().unwrap().success());
}
