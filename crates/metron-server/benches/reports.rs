//! Report timings (docs/PERFORMANCE.md, "Reports"): one user's daily report over an 8-hour
//! day (480 intervals of 60 s) and the team's day of 1,000 such users, each read from the
//! database and computed as the API does: computed from the intervals (a date not settled,
//! such as today), and a settled date's first read and then its kept lines. Intervals go in
//! through the real ingest path; the day is the latest settled working day.
//!
//!     cargo bench -p metron-server --bench reports                  # SQLite (temp file)
//!     METRON_BENCH_DB=postgres://... cargo bench -p metron-server --bench reports
//!
//! `METRON_BENCH_USERS` sets the team's size (1,000; issue 30 measures 10,000).
//!
//! Not criterion: loading 480,000 intervals takes a minute, so each figure is the median of a
//! few timed runs over one loaded database.

use metron_core::report::{Classifier, Rule};
use metron_server::db;
use metron_server::{reports, AppState};
use std::time::Instant;

#[path = "shared/workday.rs"]
mod workday;
use workday::{day_of, median, INTERVALS};

/// The team's size unless `METRON_BENCH_USERS` says.
const USERS: usize = 1000;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("METRON_BENCH_DB")
        .unwrap_or_else(|_| dir.path().join("bench.sqlite").display().to_string());
    let kind = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let state = AppState::new(db::connect(&url).await.expect("open the database"));
    let (org, task) = workday::organization(&state).await;
    let date = workday::settled_weekdays(1)[0];
    let people: usize = std::env::var("METRON_BENCH_USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(USERS);
    let loading = Instant::now();
    let mut users = Vec::new();
    for u in 0..people {
        let row = workday::person(&state, &org, u).await;
        let results = state.db.ingest(&row, day_of(u, &task, date)).await.unwrap();
        assert!(
            results
                .iter()
                .all(|r| r.status == metron_core::wire::IngestStatus::Accepted),
            "{:?}",
            results.first()
        );
        users.push(row);
    }
    println!(
        "{kind}: loaded {people} users x {INTERVALS} intervals in {:.1} s",
        loading.elapsed().as_secs_f64()
    );

    let rules: Vec<Rule> = state
        .db
        .rules(&org)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.rule)
        .collect();
    let classifier = Classifier::new(&rules).unwrap();
    let daily = workday::person_day_reads(&state, &users, date, &classifier, 1, 21).await;
    println!(
        "{kind}: daily report of one user (480 intervals, read + computed): median {:.2} ms",
        median(daily)
    );
    // The team's day as a date that is not settled (today's) is computed: everyone's
    // intervals read and decoded.
    let classifier = std::sync::Arc::new(classifier);
    let mut computed = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let days = reports::org_days_with_usage(
            &state,
            &org,
            date,
            std::sync::Arc::clone(&classifier),
            &Default::default(),
            None,
        )
        .await
        .unwrap();
        computed.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(days.len(), people);
        assert!(days
            .values()
            .all(|(day, _)| day.tracked_secs == (INTERVALS * 60) as u64));
    }
    println!(
        "{kind}: team's day of {people} users computed from the intervals: median {:.0} ms",
        median(computed)
    );
    // A settled date: the first read computes and keeps everyone's line, the next read them.
    let team = workday::team_day_reads(&state, &org, date, people, 6).await;
    println!(
        "{kind}: team's day of {people} users, settled: first read (computed, kept) {:.0} ms, \
         then from kept lines: median {:.0} ms",
        team[0],
        median(team[1..].to_vec())
    );
}
