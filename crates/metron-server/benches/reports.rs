//! Report timings (docs/PERFORMANCE.md, "Reports"): one user's daily report over an 8-hour
//! day (480 intervals of 60 s) and the team's day of 1,000 such users, each read from the
//! database and computed as the API does. Intervals go in through the real ingest path.
//!
//!     cargo bench -p metron-server --bench reports                  # SQLite (temp file)
//!     METRON_BENCH_DB=postgres://... cargo bench -p metron-server --bench reports
//!
//! `METRON_BENCH_USERS` sets the team's size (1,000; issue 30 measures 10,000).
//!
//! Not criterion: loading 480,000 intervals takes a minute, so each figure is the median of a
//! few timed runs over one loaded database.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use metron_core::report::{Class, Classifier, PatternKind, Rule, RuleTarget};
use metron_server::db::{self, Candidate};
use metron_server::ingest::{judge, Item, Judged};
use metron_server::{reports, AppState};
use serde_json::json;
use std::time::Instant;

/// The team's size unless `METRON_BENCH_USERS` says.
const USERS: usize = 1000;
const INTERVALS: usize = 480;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One user's 8-hour day from 09:00 at UTC+3 on `date`: editor, browser pages, terminal.
fn day_of(user: usize, task: &str, date: NaiveDate) -> Vec<Candidate> {
    let start = Utc.from_utc_datetime(&date.and_hms_opt(6, 0, 0).unwrap());
    let device = format!("01930000-0000-7000-8000-{:012x}", user);
    let hosts = [
        "https://github.com/metron/metron/pull/7",
        "https://www.youtube.com/watch?v=1",
        "https://docs.rs/axum",
    ];
    (0..INTERVALS)
        .map(|i| {
            let at = start + Duration::seconds(60 * i as i64);
            let active: String = (0..60).map(|s| if (s * 7 + i * 13 + user) % 10 < 7 { '1' } else { '0' }).collect();
            let item = json!({
                "id": uuid::Uuid::now_v7().to_string(),
                "device_id": device,
                "task_id": task,
                "started_at": at.to_rfc3339(),
                "ended_at": (at + Duration::seconds(60)).to_rfc3339(),
                "utc_offset_minutes": 180,
                "end_reason": "boundary",
                "active": active,
                "counts": {"keys": 120, "clicks": 9, "scrolls": 4, "moves": 300},
                "windows": [
                    {"offset": 0, "seconds": 30, "app": "Code", "title": format!("src/module_{}.rs - metron", i % 17), "url": null, "path": "/usr/bin/code"},
                    {"offset": 30, "seconds": 20, "app": "Firefox", "title": "Page", "url": hosts[i % 3], "path": "/usr/bin/firefox"},
                    {"offset": 50, "seconds": 10, "app": "Terminal", "title": "cargo test", "url": null, "path": null}
                ]
            });
            match judge(Item::Raw(item), Utc::now().timestamp(), metron_core::UrlPolicy::Full) {
                Judged::Candidate(c) => c,
                Judged::Decided(r) => panic!("a bench interval was refused: {r:?}"),
            }
        })
        .collect()
}

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
    for (target, pattern, class) in [
        (RuleTarget::App, "code*", Class::Productive),
        (RuleTarget::Host, "*youtube.com", Class::Unproductive),
        (RuleTarget::Host, "*.rs", Class::Productive),
    ] {
        let rule = Rule {
            target,
            kind: PatternKind::Glob,
            pattern: pattern.into(),
            class,
        };
        metron_server::routes::rules::add(&state, &org, None, rule)
            .await
            .unwrap();
    }
    let date = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let people: usize = std::env::var("METRON_BENCH_USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(USERS);
    let loading = Instant::now();
    let mut users = Vec::new();
    for u in 0..people {
        // A stored hash that no password matches: the bench never logs in (argon2 would take
        // a minute for 1,000 users).
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
            .ingest(&row, day_of(u, &task.id, date))
            .await
            .unwrap();
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
    let mut daily = Vec::new();
    for run in 0..21 {
        let t = Instant::now();
        let (report, _) = reports::user_day(
            &state,
            &users[run % people].org_id,
            &users[run % people].user.id,
            date,
            None,
            &classifier,
            &Default::default(),
        )
        .await
        .unwrap();
        daily.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(report.tracked_secs, (INTERVALS * 60) as u64);
    }
    println!(
        "{kind}: daily report of one user (480 intervals, read + computed): median {:.2} ms",
        median(daily)
    );
    let mut team = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let report = reports::team_report(&state, &org, date).await.unwrap();
        team.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(report.users.len(), people);
        assert!(report
            .users
            .iter()
            .all(|u| u.tracked_secs == (INTERVALS * 60) as u64));
    }
    println!(
        "{kind}: team report of {people} users: median {:.0} ms",
        median(team)
    );
}
