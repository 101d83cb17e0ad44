//! S4's backlog drain: 720 unsent intervals (12 hours offline at one a minute) delivered by
//! the uploader to a real `metron-server` process on 127.0.0.1 (SQLite), in batches of 100.
//! Target: under 1 s. Run: cargo bench -p metron-agent --bench delivery

// The tests' server harness (build, start, CLI); the bench uses part of it.
#[allow(dead_code)]
#[path = "../tests/agent/server.rs"]
mod server;

use chrono::{Duration as Secs, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use metron_agent::delivery::{ServerClient, TokenStore, Uploader};
use metron_agent::store::Store;
use metron_core::{Counts, EndReason, Interval, WindowSegment};
use server::{server_cli, ServerProc};
use std::time::Duration;

const BACKLOG: usize = 720;

/// A store holding `BACKLOG` unsent one-minute intervals, in the `k`-th 13-hour window before
/// now (each iteration its own window, so nothing overlaps what earlier ones delivered).
fn seeded_store(dir: &std::path::Path, task: &str, token: &str, k: i64) -> Store {
    let mut store = Store::open(&dir.join("agent.sqlite")).unwrap();
    let device = store.device_id().unwrap();
    let now = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let first = now - Secs::minutes(10) - Secs::hours(13 * (k + 1));
    for n in 0..BACKLOG as i64 {
        let start = first + Secs::minutes(n);
        store
            .commit(&Interval {
                id: uuid::Uuid::now_v7(),
                device_id: device,
                task_id: task.into(),
                started_at: start,
                ended_at: start + Secs::seconds(60),
                utc_offset_minutes: 60,
                end_reason: EndReason::Boundary,
                active: "1101".repeat(15),
                counts: Counts {
                    keys: 80,
                    clicks: 4,
                    scrolls: 2,
                    moves: 300,
                },
                counts_measured: true,
                injected: None,
                injected_counts: None,
                passive: None,
                presence: Vec::new(),
                events: Vec::new(),
                windows: (0..4)
                    .map(|w| WindowSegment {
                        offset: w * 15,
                        seconds: 15,
                        app: format!("app{w}"),
                        title: format!("Document {n}"),
                        url: None,
                        path: None,
                    })
                    .collect(),
            })
            .unwrap();
    }
    // The token file, as where no Secret Service runs (the bench must not touch a real keyring).
    std::fs::write(dir.join("token"), token).unwrap();
    store
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite");
    server_cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "bench@example.com",
            "--name",
            "Bench",
            "--password",
            "bench password",
        ],
    );
    let task = server_cli(&db, &["task", "add", "--name", "Benchmark"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let server = ServerProc::start(&db, "127.0.0.1:0");
    let client = ServerClient::new(&server.base()).unwrap();
    let token = client
        .login("bench@example.com", "bench password", "bench-device")
        .unwrap()
        .token;
    let mut k = 0;
    let mut group = c.benchmark_group("delivery");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    group.bench_function(
        "drain a backlog of 720 unsent intervals to a local server",
        |b| {
            b.iter_batched(
                || {
                    k += 1;
                    let agent_dir = dir.path().join(format!("agent-{k}"));
                    std::fs::create_dir_all(&agent_dir).unwrap();
                    let mut store = seeded_store(&agent_dir, &task, &token, k);
                    let tokens = TokenStore::new(&agent_dir, store.device_id().unwrap());
                    Uploader::new(store, client.clone(), tokens).unwrap()
                },
                |mut uploader| {
                    let sent = uploader.drain().unwrap();
                    assert_eq!(sent, BACKLOG);
                    uploader
                },
                BatchSize::PerIteration,
            )
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
