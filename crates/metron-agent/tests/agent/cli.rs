//! The `metron-agent` binary as a user runs it.

use super::*;
use std::process::{Command, Stdio};

fn agent(args: &[&str]) -> std::process::Output {
    Command::new(agent_bin())
        .args(args)
        .env_remove("DISPLAY")
        .output()
        .unwrap()
}

#[test]
fn replay_prints_identical_wire_intervals_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.jsonl");
    let lines: String = (0..500)
        .map(|t| {
            format!(
                "{{\"t\":{},\"keys\":{},\"app\":\"term\"}}\n",
                1_800_000_000 + t,
                t % 3
            )
        })
        .collect();
    std::fs::write(&path, lines).unwrap();
    let a = agent(&["replay", path.to_str().unwrap(), "--seed", "7"]);
    let b = agent(&["replay", path.to_str().unwrap(), "--seed", "7"]);
    let c = agent(&["replay", path.to_str().unwrap(), "--seed", "8"]);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
    let intervals: Vec<Interval> = String::from_utf8(a.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        intervals.iter().map(Interval::duration_secs).sum::<i64>(),
        500
    );
    assert_eq!(intervals.last().unwrap().end_reason, EndReason::Quit);
}

#[test]
fn replay_honours_the_interval_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.jsonl");
    let lines: String = (0..100)
        .map(|t| format!("{{\"t\":{t},\"moves\":1}}\n"))
        .collect();
    std::fs::write(&path, lines).unwrap();
    let out = agent(&[
        "--interval-range",
        "5..6",
        "replay",
        path.to_str().unwrap(),
        "--seed",
        "1",
    ]);
    let intervals: Vec<Interval> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(intervals[..intervals.len() - 1]
        .iter()
        .all(|i| (5..=6).contains(&i.duration_secs())));
}

#[test]
fn a_bad_trace_line_fails_with_the_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.jsonl");
    std::fs::write(&path, "{\"t\":1}\n{\"t\":2}\nnot json\n").unwrap();
    let out = agent(&["replay", path.to_str().unwrap(), "--seed", "1"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("trace.jsonl:3:"), "{err}");
}

#[test]
fn unknown_subcommands_and_flags_print_usage() {
    for args in [
        &["frobnicate"][..],
        &["status", "--colour"][..],
        &["--interval-range", "9..3", "status"][..],
    ] {
        let out = agent(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("Usage") || err.contains("empty"),
            "{args:?}: {err}"
        );
    }
}

#[cfg_attr(
    windows,
    ignore = "needs Ctrl-Break, which Wine cannot send without a console"
)]
#[test]
fn a_second_tracker_on_the_same_data_dir_is_refused_clearly() {
    // On a loaded machine the first tracker can stall for over 5 s, which the engine rightly
    // takes for a sleep: it stops and lets the data dir go. That run proves nothing about the
    // lock, so it is tried again (the lock itself must never let a second tracker in).
    for attempt in 1..=3 {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let log = std::fs::File::create(dir.path().join("first.log")).unwrap();
        let mut first = agent_command()
            .args(["--data-dir", d, "track", "--task", "t1"])
            .env_remove("DISPLAY")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        // Wait until the first holds the lock (its store exists and it answers status as running).
        let mut running = false;
        for _ in 0..100 {
            let out = agent(&["--data-dir", d, "status"]);
            if String::from_utf8_lossy(&out.stdout).contains("tracker:    running") {
                running = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(running, "the first tracker never showed as running");
        // The second must be refused at once; if it runs instead, stop it rather than let it
        // track until its idle stop.
        let mut second_child = Command::new(agent_bin())
            .args(["--data-dir", d, "track", "--task", "t2"])
            .env_remove("DISPLAY")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while second_child.try_wait().unwrap().is_none()
            && started.elapsed() < std::time::Duration::from_secs(15)
        {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = second_child.kill();
        let second = second_child.wait_with_output().unwrap();
        if first.try_wait().unwrap().is_some() {
            let why = std::fs::read_to_string(dir.path().join("first.log")).unwrap_or_default();
            eprintln!("attempt {attempt}: the first tracker stopped on its own; trying again. Its log:\n{why}");
            continue;
        }
        let err = String::from_utf8_lossy(&second.stderr);
        assert_eq!(second.status.code(), Some(2), "{err}");
        assert!(
            err.contains("already using the data dir")
                && err.contains(&format!("process {}", first.id())),
            "{err}"
        );
        // SIGTERM (Ctrl-Break on Windows) closes the open interval as quit.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        terminate(&first);
        assert!(first.wait().unwrap().success());
        let out = agent(&["--data-dir", d, "intervals", "--json"]);
        let last: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap())
                .unwrap();
        assert_eq!(last["end_reason"], "quit");
        assert_eq!(last["status"], "unsent");
        return;
    }
    panic!(
        "the first tracker stalled in every attempt; the machine is too loaded to test the lock"
    );
}

#[test]
fn a_corrupt_store_is_reported_by_name_and_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("agent.sqlite");
    std::fs::write(&store, vec![7u8; 8192]).unwrap();
    let out = agent(&["--data-dir", dir.path().to_str().unwrap(), "status"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&store.display().to_string()) && err.contains("moved aside"),
        "{err}"
    );
    let moved = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().contains(".corrupt-"));
    assert!(moved);
}

#[test]
fn a_local_mode_data_dir_is_refused_while_the_app_is_not_running() {
    use metron_agent::delivery::{account, Account, Token, TokenStore};
    let dir = tempfile::tempdir().unwrap();
    // What the desktop app leaves behind in local mode: its account, a task list, a token.
    let spy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    spy.set_nonblocking(true).unwrap();
    let mut store =
        metron_agent::store::Store::open(&metron_agent::paths::store_path(dir.path())).unwrap();
    let user = metron_core::wire::User {
        id: "u1".into(),
        email: "me@localhost".into(),
        name: "Me".into(),
        admin: true,
    };
    let server = format!("http://{}", spy.local_addr().unwrap());
    account::save_account(
        &mut store,
        &Account {
            server,
            user,
            local: true,
            ca_cert: None,
        },
    )
    .unwrap();
    account::save_tasks(
        &mut store,
        vec![metron_core::wire::Task {
            id: "t1".into(),
            name: "General".into(),
            project: String::new(),
        }],
        chrono::Utc::now(),
    )
    .unwrap();
    TokenStore::new(dir.path(), store.device_id().unwrap())
        .save(&Token("a-local-token".into()))
        .unwrap();
    drop(store);
    let d = dir.path().to_str().unwrap();
    for args in [
        &["tasks"][..],
        &["track", "--task", "t1"],
        &["resend", "--all"],
    ] {
        let out = agent(&[&["--data-dir", d][..], args].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("local mode") && err.contains("Start Metron"),
            "{args:?}: {err}"
        );
    }
    match spy.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the stored local address got a connection: {other:?}"),
    }
}
