//! Team timesheet timings (docs/PERFORMANCE.md, "Timesheets"): the month of a 1,000-person
//! organization, computed once and then read from the kept lines of its settled days, as
//! `GET /api/v1/timesheets/team` does.
//!
//!     cargo bench -p metron-server --bench timesheets                  # SQLite (temp file)
//!     METRON_BENCH_DB=postgres://... cargo bench -p metron-server --bench timesheets
//!
//! The month is October 2026, 22 working days; each person tracks 8 one-minute intervals a
//! working day through the real ingest path (176,000 in all) and has an hour of approved
//! manual time. The kept read costs the same whatever the intervals per day (it reads one
//! line per person and day); the first computation grows with them (a full day of 480
//! intervals each: see the team report in "Reports"). Not criterion: loading takes minutes, so
//! each figure is the median of a few timed runs over one loaded database.

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use metron_core::timesheet::{Period, PeriodKind};
use metron_server::db::timesheets::EntryRow;
use metron_server::db::{self, Candidate};
use metron_server::ingest::{judge, Item, Judged};
use metron_server::{timesheets, AppState};
use serde_json::json;
use std::time::Instant;

/// The organization's size unless `METRON_BENCH_USERS` says (issue 30 reads 10,000 people's
/// month).
const USERS: usize = 1000;
const PER_DAY: usize = 8;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn working_days(period: Period) -> Vec<NaiveDate> {
    period
        .days()
        .into_iter()
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .collect()
}

/// One person's month: on each working day, a minute at the top of each hour from 09:00
/// at UTC+3, 45 s of it with input.
fn month_of(user: usize, task: &str, days: &[NaiveDate], late: bool) -> Vec<Candidate> {
    let device = format!("01930000-0000-7000-8000-{:012x}", user);
    let mut out = Vec::new();
    for date in days {
        for hour in 0..PER_DAY {
            let start = Utc.from_utc_datetime(&date.and_hms_opt(6 + hour as u32, 0, 0).unwrap())
                + Duration::seconds(if late { 120 } else { 0 });
            let item = json!({
                "id": uuid::Uuid::now_v7().to_string(),
                "device_id": device,
                "task_id": task,
                "started_at": start.to_rfc3339(),
                "ended_at": (start + Duration::seconds(60)).to_rfc3339(),
                "utc_offset_minutes": 180,
                "end_reason": "boundary",
                "active": "1".repeat(45) + &"0".repeat(15),
                "counts": {"keys": 120, "clicks": 9, "scrolls": 4, "moves": 300},
                "windows": [{"offset": 0, "seconds": 60, "app": "Code", "title": "main.rs", "url": null, "path": "/usr/bin/code"}]
            });
            match judge(
                Item::Raw(item),
                Utc::now().timestamp(),
                metron_core::UrlPolicy::Full,
            ) {
                Judged::Candidate(c) => out.push(c),
                Judged::Decided(r) => panic!("a bench interval was refused: {r:?}"),
            }
            if late {
                return out;
            }
        }
    }
    out
}

#[tokio::main]
async fn main() {
    let people: usize = std::env::var("METRON_BENCH_USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(USERS);
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("METRON_BENCH_DB")
        .unwrap_or_else(|_| dir.path().join("bench.sqlite").display().to_string());
    let kind = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let state = AppState::new(db::connect(&url).await.expect("open the database"));
    let org = state
        .db
        .organization(&format!("bench-{}", uuid::Uuid::now_v7().simple()))
        .await
        .unwrap();
    let task = metron_server::projects::create_task(
        &state,
        &metron_server::projects::Actor::operator(&org),
        metron_core::wire::NewTask {
            name: "Build".into(),
            project: "Metron".into(),
        },
    )
    .await
    .unwrap();
    let month = Period::containing(
        PeriodKind::Month,
        NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
    );
    let days = working_days(month);
    let loading = Instant::now();
    let mut users = Vec::new();
    for u in 0..people {
        // A stored hash that no password matches: the bench never logs in.
        let row = state
            .db
            .create_user(
                &org,
                &format!("u{u}-{}@bench.test", uuid::Uuid::now_v7().simple()),
                &format!("User {u:04}"),
                "x",
                false,
            )
            .await
            .unwrap();
        let results = state
            .db
            .ingest(&row, month_of(u, &task.id, &days, false))
            .await
            .unwrap();
        assert!(results
            .iter()
            .all(|r| r.status == metron_core::wire::IngestStatus::Accepted));
        // An hour of approved manual time on the first working day's evening.
        let evening = Utc.from_utc_datetime(&days[0].and_hms_opt(15, 0, 0).unwrap());
        let entry = EntryRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: row.user.id.clone(),
            task_id: task.id.clone(),
            started_at: evening.timestamp(),
            ended_at: evening.timestamp() + 3600,
            note: "workshop".into(),
            status: "approved".into(),
            created_at: evening.timestamp(),
            created_by: row.user.id.clone(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
            utc_offset_minutes: 180,
        };
        let record =
            timesheets::audit(&row, &row, "manual_entry.create", &entry.id, None, None, "");
        state.db.insert_manual_entry(&entry, &record).await.unwrap();
        users.push(row);
    }
    println!(
        "{kind}: loaded {people} people x {} working days x {PER_DAY} intervals and an hour of manual time in {:.1} s",
        days.len(),
        loading.elapsed().as_secs_f64()
    );
    let ids: Vec<String> = users.iter().map(|u| u.user.id.clone()).collect();
    let expected = (days.len() * PER_DAY * 60 + 3600) as u64;
    let check = |sheets: &std::collections::HashMap<String, metron_core::timesheet::Timesheet>| {
        assert_eq!(sheets.len(), people);
        assert!(sheets.values().all(|s| s.figures.total_secs == expected));
    };

    let t = Instant::now();
    let sheets = timesheets::team_timesheets(&state, &org, &ids, month)
        .await
        .unwrap();
    let cold = t.elapsed().as_secs_f64() * 1000.0;
    check(&sheets);
    println!("{kind}: team month of {people} people, computed and kept (first read): {cold:.0} ms");

    // More reads for a profile of the kept path (`perf record` while they run).
    let reads: usize = std::env::var("METRON_BENCH_READS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    println!("{kind}: reading the kept month {reads} times");
    let mut warm = Vec::new();
    for _ in 0..reads {
        let t = Instant::now();
        let sheets = timesheets::team_timesheets(&state, &org, &ids, month)
            .await
            .unwrap();
        warm.push(t.elapsed().as_secs_f64() * 1000.0);
        check(&sheets);
    }
    println!(
        "{kind}: team month of {people} people, from kept lines: median {:.0} ms (of {reads})",
        median(warm)
    );

    // A late interval for one person on the 1st forgets their month from then on: the next
    // read computes their days again, one by one.
    state
        .db
        .ingest(&users[7], month_of(7, &task.id, &days, true))
        .await
        .unwrap();
    let t = Instant::now();
    let sheets = timesheets::team_timesheets(&state, &org, &ids, month)
        .await
        .unwrap();
    let one_changed = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(sheets.len(), people);
    assert_eq!(sheets[&ids[7]].figures.total_secs, expected + 60);
    println!("{kind}: the same after one person's late interval on the 1st: {one_changed:.0} ms");
}
