//! The team's day of a date not settled at team scale on PostgreSQL (issue 30, item 4;
//! docs/PERFORMANCE.md, "The team's day of today"): an organization of `METRON_BENCH_USERS`
//! people (10,000 unless set) whose day (8 hours of one interval a minute, as in `team_month`)
//! is under way, read by a manager as its last minutes arrive.
//!
//!     METRON_BENCH_DB=postgres://postgres@127.0.0.1:PORT/bench \
//!         cargo bench -p metron-server --bench team_today
//!
//! The date is today (UTC) once its eight hours (06:00-14:00 UTC) are over, else yesterday:
//! either is not settled, so the team's day comes from running days (`running_days`). Loading:
//! the first person's day but its last `LIVE` minutes goes in through the real ingest path,
//! then everyone else's as a copy in SQL (`load/team_month.sql`, each interval received as it
//! ended), whose ranges of the BRIN index on `received_at` are then summarized as autovacuum
//! keeps those of intervals arriving one by one. Then, minute by minute, everyone's next interval goes in through the real ingest
//! path and the team's day is read. Printed: the day computed whole from the intervals (how
//! the team's day of a date not settled was read before), the first read (running days added
//! up), the reads after each minute, a read with nothing new, and the peak memory.

use chrono::{Days, Timelike, Utc};
use metron_server::{db, reports, AppState};
use std::sync::Arc;
use std::time::Instant;

#[path = "shared/bulk.rs"]
mod bulk;
// The settled days' reads of the other benches are not this one's.
#[allow(dead_code)]
#[path = "shared/workday.rs"]
mod workday;
use workday::{day_of, median, INTERVALS};

const USERS: usize = 10_000;
/// The minutes of the day that arrive while it is read.
const LIVE: usize = 10;

/// Reads the team's day, checking that everyone has `minutes` minutes: the read's time in ms.
async fn read(
    state: &AppState,
    org: &str,
    date: chrono::NaiveDate,
    people: usize,
    minutes: usize,
) -> f64 {
    let t = Instant::now();
    let report = reports::team_report(state, org, date).await.unwrap();
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(report.users.len(), people);
    assert!(
        report
            .users
            .iter()
            .all(|u| u.tracked_secs == (minutes * 60) as u64),
        "everyone's {minutes} minutes"
    );
    ms
}

#[tokio::main]
async fn main() {
    let (url, people) = bulk::database_and_people("the team's day", USERS);
    let now = Utc::now();
    let date = if now.hour() >= 15 {
        now.date_naive()
    } else {
        now.date_naive() - Days::new(1)
    };
    let state = AppState::new(db::connect(&url).await.expect("open the database"));
    let (org, task) = workday::organization(&state).await;
    let loading = Instant::now();
    let mut users = Vec::new();
    for u in 0..people {
        users.push(workday::person(&state, &org, u).await);
    }
    let mut day = day_of(0, &task, date);
    let live: Vec<_> = day.split_off(INTERVALS - LIVE);
    let accepted = |results: Vec<metron_core::wire::IngestResult>| {
        results
            .iter()
            .all(|r| r.status == metron_core::wire::IngestStatus::Accepted)
    };
    assert!(accepted(state.db.ingest(&users[0], day).await.unwrap()));
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    bulk::copy_to_everyone(&pool, &users[0], &org, &[date]).await;
    // The copy's page ranges summarized, as autovacuum keeps those of rows that arrive one
    // by one (migration 0024's `autosummarize`).
    let summarized: i32 =
        sqlx::query_scalar("SELECT brin_summarize_new_values('intervals_by_received')")
            .fetch_one(&pool)
            .await
            .unwrap();
    println!("page ranges summarized: {summarized}");
    let stored = bulk::stored(&pool, &org).await;
    assert_eq!(stored, people * (INTERVALS - LIVE), "every interval stored");
    println!(
        "loaded {people} people x {} intervals of {date} = {stored} stored in {:.0} s",
        INTERVALS - LIVE,
        loading.elapsed().as_secs_f64()
    );

    let classifier = Arc::new(reports::classifier(&state, &org).await.unwrap());
    let thresholds = state.db.unusual_thresholds(&org).await.unwrap();
    let t = Instant::now();
    let whole = reports::org_days_with_usage(&state, &org, date, classifier, &thresholds, None)
        .await
        .unwrap();
    assert_eq!(whole.len(), people);
    println!(
        "the team's day computed whole from its intervals (before running days): {:.0} ms; \
         memory peak {} MB",
        t.elapsed().as_secs_f64() * 1000.0,
        bulk::memory_mb().0
    );
    drop(whole);

    let before = bulk::memory_mb().1;
    let first = read(&state, &org, date, people, INTERVALS - LIVE).await;
    let (peak, held) = bulk::memory_mb();
    println!(
        "first read (everyone's running day added up): {first:.0} ms; memory peak {peak} MB, \
         held {held} MB ({} MB more than before it)",
        held.saturating_sub(before)
    );

    let mut reads = Vec::new();
    let mut arrivals = Vec::new();
    for (m, template) in live.iter().enumerate() {
        let minute = INTERVALS - LIVE + m;
        let t = Instant::now();
        for (u, user) in users.iter().enumerate() {
            let mut candidate = template.clone();
            candidate.interval.id = uuid::Uuid::now_v7();
            candidate.interval.device_id =
                uuid::Uuid::parse_str(&format!("01930000-0000-7000-8000-{u:012x}")).unwrap();
            assert!(accepted(
                state.db.ingest(user, vec![candidate]).await.unwrap()
            ));
        }
        arrivals.push(t.elapsed().as_secs_f64());
        reads.push(read(&state, &org, date, people, minute + 1).await);
    }
    println!(
        "reads after each minute's {people} intervals arrived ({:.0} s to store them): {:?} ms, \
         median {:.0} ms",
        median(arrivals),
        reads.iter().map(|r| r.round()).collect::<Vec<_>>(),
        median(reads.clone())
    );
    // More reads to profile by (`perf record -p`): METRON_BENCH_READS.
    let runs: usize = std::env::var("METRON_BENCH_READS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let idle: Vec<f64> = {
        let mut v = Vec::new();
        for _ in 0..runs {
            v.push(read(&state, &org, date, people, INTERVALS).await);
        }
        v
    };
    let (peak, held) = bulk::memory_mb();
    println!(
        "a read with nothing new: median {:.0} ms; memory peak {peak} MB, held {held} MB",
        median(idle)
    );
}
