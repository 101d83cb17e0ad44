//! SPEC §6: 8 simulated hours through the real engine in under 20 ms.
//! Run: cargo bench -p metron-core --bench engine

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use metron_core::{Counts, Engine, EngineConfig, Now, Sample, WindowInfo};
use rand::{rngs::StdRng, SeedableRng};
use std::hint::black_box;
use std::time::Duration;

/// A working day: input in most seconds, a window switch every 30 s among five apps.
fn eight_hours() -> usize {
    let mut engine = Engine::new(
        EngineConfig::default(),
        uuid::Uuid::nil(),
        Box::new(StdRng::seed_from_u64(1)),
    )
    .unwrap();
    let wall0 = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let apps: Vec<WindowInfo> = (0..5)
        .map(|k| WindowInfo {
            app: format!("app{k}"),
            title: format!("Document {k}"),
            url: None,
            path: Some(format!("/usr/bin/app{k}")),
        })
        .collect();
    let now = |s: u64| Now {
        mono: Duration::from_secs(s),
        wall: wall0 + chrono::Duration::seconds(s as i64),
        utc_offset_minutes: 60,
    };
    let mut closed = 0;
    closed += engine.start("t1", &now(0)).len();
    for s in 1..=8 * 3600u64 {
        let counts = if s % 7 == 0 {
            Counts::default()
        } else {
            Counts {
                keys: 2,
                clicks: 0,
                scrolls: 0,
                moves: 9,
            }
        };
        let sample = Sample {
            input: counts.into(),
            window: Some(apps[(s / 30 % 5) as usize].clone()),
            inhibitor: None,
        };
        closed += engine.tick(&now(s), sample).len();
    }
    closed += engine.quit(&now(8 * 3600)).len();
    closed
}

fn bench(c: &mut Criterion) {
    c.bench_function("engine: 8 h of ticks (28,800 samples)", |b| {
        b.iter(|| black_box(eight_hours()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
