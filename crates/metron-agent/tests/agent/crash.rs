//! S2 under real crashes: `metron-agent track` killed with SIGKILL at random moments.

use super::*;
use rand::{Rng, SeedableRng};
use std::process::{Command, Stdio};
use std::time::Duration;

const TRIALS: usize = 24;

#[test]
fn sigkill_at_random_moments_loses_no_closed_interval_and_at_most_five_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let store = dir.path().join("agent.sqlite");
    let seed = rand::random::<u64>();
    println!("crash test seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    // (when the process said it started tracking, when it was killed)
    let mut trials: Vec<(f64, f64)> = Vec::new();
    let mut closed_before_kill: Vec<Uuid> = Vec::new();
    for trial in 0..TRIALS {
        let mut child = Command::new(agent_bin())
            .args([
                "--data-dir",
                &d,
                "--interval-range",
                "2..4",
                "track",
                "--task",
                &format!("task-{trial}"),
            ])
            .env_remove("DISPLAY")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The kill is timed from the moment the process says it tracks, not from its spawn:
        // a process can take seconds to start under load or under Wine, and time before
        // tracking starts is not time the crash can lose.
        let started_at = wait_until_tracking(&mut child);
        std::thread::sleep(Duration::from_millis(rng.random_range(1200..5500)));
        if store.exists() {
            closed_before_kill.extend(read_intervals(&store).iter().map(|i| i.id));
        }
        let killed_at = unix_now();
        // SIGKILL on Unix, TerminateProcess on Windows: no chance to clean up.
        child.kill().unwrap();
        child.wait().unwrap();
        trials.push((started_at, killed_at));
    }
    // Opening the data dir again recovers what the last process left open.
    let out = Command::new(agent_bin())
        .args(["--data-dir", &d, "status"])
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity:  ok"));

    let all = read_intervals(&store);
    let ids: std::collections::HashSet<Uuid> = all.iter().map(|i| i.id).collect();
    for id in &closed_before_kill {
        assert!(ids.contains(id), "closed interval {id} was lost");
    }
    assert_no_overlap(&all);
    for i in &all {
        i.validate().unwrap();
    }
    for (trial, &(started_at, killed_at)) in trials.iter().enumerate() {
        let task = format!("task-{trial}");
        let mine: Vec<&Interval> = all.iter().filter(|i| i.task_id == task).collect();
        // A trial killed in its first seconds may have nothing stored yet: what it lost is then
        // counted from when it started tracking.
        let end = mine
            .iter()
            .map(|i| i.ended_at.timestamp() as f64)
            .fold(started_at, f64::max);
        assert!(
            end >= killed_at - 5.0,
            "trial {trial}: tracked time ends {:.1} s before the kill ({} intervals stored)",
            killed_at - end,
            mine.len()
        );
        assert!(
            end <= killed_at + 1.0,
            "trial {trial}: tracked time runs past the kill"
        );
        assert!(
            mine.iter()
                .filter(|i| i.end_reason == EndReason::Recovered)
                .count()
                <= 1
        );
        assert!(
            mine.iter().all(|i| i.end_reason != EndReason::Quit),
            "nobody quit: every end is a boundary or recovered"
        );
    }
    let recovered = all
        .iter()
        .filter(|i| i.end_reason == EndReason::Recovered)
        .count();
    // A kill in the second right after a boundary finds an empty open interval (nothing to
    // recover, nothing lost), so not every trial recovers one; most must.
    assert!(
        recovered >= TRIALS / 2,
        "only {recovered} of {TRIALS} crashes recovered an open interval"
    );
    let conn = rusqlite::Connection::open(&store).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

/// Reads the child's stderr until it says it is tracking; returns when that was. The rest of
/// its stderr is drained by a thread, so the child never blocks on a full pipe.
fn wait_until_tracking(child: &mut std::process::Child) -> f64 {
    use std::io::BufRead;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut said = false;
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if !said && line.starts_with("tracking task") {
                said = true;
                let _ = tx.send(unix_now());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("metron-agent track said it was tracking within 60 s")
}
