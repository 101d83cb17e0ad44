//! Team scale on PostgreSQL (issue 30, item 4; docs/PERFORMANCE.md, "A 10,000-person month"):
//! an organization of `METRON_BENCH_USERS` people (10,000 unless set) with 22 working days
//! each of 8 hours, one interval a minute (105.6 million intervals at 10,000 people), then the
//! figures a manager reads: a person's day, the team's day of a settled date (first read, then
//! kept lines), the hourly settling's first computation of the last five weeks, and the team's
//! month timesheet from kept lines.
//!
//!     METRON_BENCH_DB=postgres://postgres@127.0.0.1:PORT/bench \
//!         cargo bench -p metron-server --bench team_month
//!
//! Loading: the first person's month goes in through the real ingest path; everyone else's
//! is that month copied in SQL (`load/team_month.sql`): the same rows (times, task, packed
//! bodies, window names) under each person's number, with ids and a device of their own,
//! inserted a day at a time in the order they would arrive (by start, then person). The
//! copy runs without the table's triggers and indexes, which are built afterwards; the
//! rows are what ingest would have stored had every person sent that month. Needs about 30 GB
//! of disk at 10,000 people. Each figure is the median of a few timed runs, or one run where
//! the first is the figure (a first computation).

use chrono::{Datelike, Days};
use metron_core::timesheet::{Period, PeriodKind};
use metron_server::{db, kept_days, reports, timesheets, AppState};
use std::time::Instant;

#[path = "shared/bulk.rs"]
mod bulk;
#[path = "shared/workday.rs"]
mod workday;
use workday::{day_of, median, INTERVALS};

const USERS: usize = 10_000;
const DAYS: usize = 22;

#[tokio::main]
async fn main() {
    let (url, people) = bulk::database_and_people("the team's month", USERS);
    let state = AppState::new(db::connect(&url).await.expect("open the database"));
    let (org, task) = workday::organization(&state).await;
    let dates = workday::settled_weekdays(DAYS);
    let loading = Instant::now();
    let mut users = Vec::new();
    for u in 0..people {
        users.push(workday::person(&state, &org, u).await);
    }
    for &date in &dates {
        let results = state
            .db
            .ingest(&users[0], day_of(0, &task, date))
            .await
            .unwrap();
        assert!(results
            .iter()
            .all(|r| r.status == metron_core::wire::IngestStatus::Accepted));
    }
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    bulk::copy_to_everyone(&pool, &users[0], &org, &dates).await;
    let stored = bulk::stored(&pool, &org).await;
    assert_eq!(stored, people * DAYS * INTERVALS, "every interval stored");
    let bytes: i64 = sqlx::query_scalar("SELECT pg_total_relation_size('intervals')")
        .fetch_one(&pool)
        .await
        .unwrap();
    println!(
        "loaded {people} people x {DAYS} days x {INTERVALS} intervals = {stored} stored in {:.0} s; \
         intervals with indexes {} MB ({} B an interval)",
        loading.elapsed().as_secs_f64(),
        bytes / 1_000_000,
        bytes / stored.max(1) as i64
    );

    let classifier = reports::classifier(&state, &org).await.unwrap();
    let date = dates[DAYS / 2];
    // Spread over the organization: each read is of a day no read before touched.
    let daily = workday::person_day_reads(&state, &users, date, &classifier, 7919, 21).await;
    println!(
        "a person's day (480 intervals of a month's): median {:.2} ms",
        median(daily)
    );

    let team = workday::team_day_reads(&state, &org, date, people, 6).await;
    println!(
        "the team's day of {date} ({people} people): first read (computed, kept) {:.0} ms, \
         then from kept lines: median {:.0} ms; peak memory so far {} MB",
        team[0],
        median(team[1..].to_vec()),
        bulk::memory_mb().0
    );

    let t = Instant::now();
    let lines = kept_days::settle(&state, chrono::Utc::now()).await.unwrap();
    println!(
        "the hourly settling's first run (35 days, {lines} lines): {:.0} s; peak memory so far {} MB",
        t.elapsed().as_secs_f64(),
        bulk::memory_mb().0
    );

    let ids: Vec<String> = users.iter().map(|u| u.user.id.clone()).collect();
    let month = Period::containing(PeriodKind::Month, date);
    let first_day = month.start;
    let mut sheets = Vec::new();
    for _ in 0..6 {
        let t = Instant::now();
        let all = timesheets::team_timesheets(&state, &org, &ids, month)
            .await
            .unwrap();
        sheets.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(all.len(), people);
    }
    let worked = dates
        .iter()
        .filter(|d| d.month() == first_day.month() && d.year() == first_day.year())
        .count();
    let kept_from = chrono::Utc::now().date_naive() - Days::new(36);
    println!(
        "the team's month timesheet of {first_day} ({people} people, {worked} working days loaded; \
         days before {kept_from} are not settled by the hourly run): first read {:.0} ms, then \
         from kept lines: median {:.0} ms",
        sheets[0],
        median(sheets[1..].to_vec())
    );
}
