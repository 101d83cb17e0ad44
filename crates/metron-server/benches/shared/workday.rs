//! What the report benches (`reports`, `team_month`) load: an organization with a task and
//! three productivity rules, and one person's 8 hours of one-minute intervals as the desktop
//! makes them, judged as the API judges a request.

use chrono::{Datelike, Days, Duration, NaiveDate, TimeZone, Utc, Weekday};
use metron_core::report::{Class, PatternKind, Rule, RuleTarget};
use metron_server::db::Candidate;
use metron_server::ingest::{judge, Item, Judged};
use metron_server::{reports, AppState};
use serde_json::json;
use std::time::Instant;

/// The middle of some timings.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Reads `runs` people's day of `date` as the API does (the person `run * stride` of `users`,
/// round), checking each has the full day: each read's time in ms.
pub async fn person_day_reads(
    state: &AppState,
    users: &[metron_server::db::UserRow],
    date: NaiveDate,
    classifier: &metron_core::report::Classifier,
    stride: usize,
    runs: usize,
) -> Vec<f64> {
    let mut times = Vec::new();
    for run in 0..runs {
        let who = &users[(run * stride) % users.len()];
        let t = Instant::now();
        let (report, _) = reports::user_day(
            state,
            &who.org_id,
            &who.user.id,
            date,
            None,
            classifier,
            &Default::default(),
        )
        .await
        .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(report.tracked_secs, (INTERVALS * 60) as u64);
    }
    times
}

/// Reads the team's day of `date` `runs` times as the API does, checking that each of the
/// `people` has the full day: each read's time in ms. Of a settled date the first read
/// computes and keeps the lines, the next ones read them.
pub async fn team_day_reads(
    state: &AppState,
    org: &str,
    date: NaiveDate,
    people: usize,
    runs: usize,
) -> Vec<f64> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let report = reports::team_report(state, org, date).await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(report.users.len(), people);
        assert!(report
            .users
            .iter()
            .all(|u| u.tracked_secs == (INTERVALS * 60) as u64));
    }
    times
}

/// A new organization with the task "Build" and rules for the day's apps and hosts: (the
/// organization's id, the task's id).
pub async fn organization(state: &AppState) -> (String, String) {
    let org = state
        .db
        .organization(&format!("bench-{}", uuid::Uuid::now_v7().simple()))
        .await
        .unwrap();
    let task = metron_server::projects::create_task(
        state,
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
        metron_server::routes::rules::add(state, &org, None, rule)
            .await
            .unwrap();
    }
    (org, task.id)
}

/// Person number `u` of the organization, new. Their stored hash matches no password: the
/// benches never log in (argon2 would take a minute for 1,000 people).
pub async fn person(state: &AppState, org: &str, u: usize) -> metron_server::db::UserRow {
    state
        .db
        .create_user(
            org,
            &format!("u{u}-{}@bench.test", uuid::Uuid::now_v7().simple()),
            &format!("User {u:05}"),
            "x",
            false,
        )
        .await
        .unwrap()
}

/// The last `n` working days (Monday to Friday) that are settled (over in every offset, so
/// their lines are kept) and in the hourly settling's five weeks: from three days ago back,
/// oldest first.
pub fn settled_weekdays(n: usize) -> Vec<NaiveDate> {
    let mut date = Utc::now().date_naive() - Days::new(3);
    let mut dates = Vec::new();
    while dates.len() < n {
        if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            dates.push(date);
        }
        date = date - Days::new(1);
    }
    dates.reverse();
    dates
}

/// Intervals in a day: 8 hours of one a minute.
pub const INTERVALS: usize = 480;

/// One user's 8-hour day from 09:00 at UTC+3 on `date`: editor, browser pages, terminal.
pub fn day_of(user: usize, task: &str, date: NaiveDate) -> Vec<Candidate> {
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
