//! The local store's write paths on a real SQLite file (WAL, synchronous=FULL).
//! Run: cargo bench -p metron-agent --bench store

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use metron_agent::store::Store;
use metron_core::{Counts, EndReason, Interval, WindowSegment};
use std::hint::black_box;

fn interval(k: i64) -> Interval {
    let t0 =
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap() + chrono::Duration::seconds(k * 60);
    Interval {
        id: uuid::Uuid::now_v7(),
        device_id: uuid::Uuid::nil(),
        task_id: "t1".into(),
        started_at: t0,
        ended_at: t0 + chrono::Duration::seconds(60),
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
                title: format!("Document {k}"),
                url: None,
                path: None,
            })
            .collect(),
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("agent.sqlite")).unwrap();
    let mut k = 0;
    c.bench_function("store: commit one interval (with retention)", |b| {
        b.iter(|| {
            k += 1;
            store.commit(black_box(&interval(k))).unwrap();
        })
    });
    let open = interval(0);
    c.bench_function("store: save the checkpoint", |b| {
        b.iter(|| store.save_checkpoint(black_box(&open), Utc::now()).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
