//! Bounded everything (issue 27): what a person's time gains besides intervals has a daily
//! budget and a rate; an interval holds a few corrections; a person a bounded number of
//! devices; dates outside 2000-2100 are refused; reading empty years keeps nothing.

use super::hardening::backend_of;
use super::*;
use metron_server::limits::Limits;

on_both!(
    an_interval_holds_a_few_corrections_and_repeated_edits_collapse,
    a_persons_changes_have_a_daily_budget_and_a_rate,
    a_person_has_a_bounded_number_of_devices,
    dates_outside_the_century_are_refused_and_empty_years_keep_no_lines,
    a_flood_of_requests_hides_nobody_elses_and_lists_page_to_the_end,
);

async fn allow_everything(f: &Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let (status, body) = f
        .call(
            "PUT",
            "/api/v1/timesheets/policy",
            Some(&boss),
            Some(json!({"manual": "allowed", "moves": "allowed", "max_manual_secs": 28800, "edit_window_days": 366})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn an_interval_holds_a_few_corrections_and_repeated_edits_collapse(f: Fixture) {
    allow_everything(&f).await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let first = f.task(&ann).await;
    let other = f.task(&ann).await;
    let third = f.task(&ann).await;
    let item = interval(&first, 0, 60);
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({"intervals": [item.clone()]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let correct = |change: Value| {
        let body = json!({"interval_id": item["id"], "change": change, "reason": "fixing"});
        let ann = ann.clone();
        let f = &f;
        async move {
            f.call("POST", "/api/v1/corrections", Some(&ann), Some(body))
                .await
        }
    };
    let (status, first_move) = correct(json!({"action": "move", "task_id": other})).await;
    assert_eq!(status, StatusCode::CREATED, "{first_move}");
    let (status, second_move) = correct(json!({"action": "move", "task_id": third})).await;
    assert_eq!(status, StatusCode::CREATED, "{second_move}");
    let (status, removed) = correct(json!({"action": "remove"})).await;
    assert_eq!(status, StatusCode::CREATED, "{removed}");
    let (status, again) = correct(json!({"action": "remove"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert!(
        again["error"].as_str().unwrap().contains("already removed"),
        "{again}"
    );
    // The first move was replaced by the second: on record as withdrawn, not in force.
    let (_, list) = f
        .call(
            "GET",
            &format!(
                "/api/v1/corrections?from={}&to={}",
                day_start(-1),
                day_start(2)
            ),
            Some(&ann),
            None,
        )
        .await;
    let status_of = |id: &Value| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == *id)
            .map(|c| c["status"].clone())
            .unwrap()
    };
    assert_eq!(status_of(&first_move["id"]), "withdrawn", "{list}");
    assert_eq!(status_of(&second_move["id"]), "approved");
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
}

async fn a_persons_changes_have_a_daily_budget_and_a_rate(f: Fixture) {
    let f = Fixture::with_limits(
        backend_of(&f),
        Limits {
            max_writes_per_user_day: 3,
            writes_per_minute: 1_000,
            ..Limits::default()
        },
    )
    .await;
    allow_everything(&f).await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    let tuesday = fixture_date(1);
    let entry = |hour: i64| {
        json!({"task_id": task, "note": "call",
               "started_at": format!("{tuesday}T{hour:02}:00:00Z"),
               "ended_at": format!("{tuesday}T{hour:02}:30:00Z")})
    };
    for hour in 1..=3 {
        let (status, body) = f
            .call(
                "POST",
                "/api/v1/manual-entries",
                Some(&ann),
                Some(entry(hour)),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/manual-entries")
        .header("authorization", format!("Bearer {ann}"))
        .header("content-type", "application/json")
        .body(Body::from(entry(4).to_string()))
        .unwrap();
    let response = f.app.clone().oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=86_400).contains(&retry),
        "until the UTC day ends: {retry}"
    );
    // Nothing was stored by the refused one.
    let (_, entries) = f
        .call(
            "GET",
            &format!(
                "/api/v1/manual-entries?from={}&to={}",
                day_start(1),
                day_start(2)
            ),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(entries.as_array().unwrap().len(), 3, "{entries}");
    // Another person's budget is their own.
    let boss = f.login("boss@acme.test", "boss-password").await;
    let boss_task = f.task(&boss).await;
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/manual-entries",
            Some(&boss),
            Some(json!({"task_id": boss_task, "started_at": format!("{tuesday}T01:00:00Z"), "ended_at": format!("{tuesday}T02:00:00Z")})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The rate: a burst of device reports past the minute's allowance is refused.
    let f = Fixture::with_limits(
        backend_of(&f),
        Limits {
            writes_per_minute: 2,
            ..Limits::default()
        },
    )
    .await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (status, _) = f
            .call(
                "PUT",
                "/api/v1/devices/01930000-0000-7000-8000-00000000d001",
                Some(&ann),
                Some(device_report()),
            )
            .await;
        statuses.push(status);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

fn device_report() -> Value {
    json!({"host_name": "ann-laptop", "os_user": "ann", "domain": null,
           "os_name": "Debian GNU/Linux 12 (bookworm)", "os_version": "6.1.0-28-amd64",
           "time_zone": "Europe/Berlin", "utc_offset_minutes": 60, "app_version": "0.2.0"})
}

async fn a_person_has_a_bounded_number_of_devices(f: Fixture) {
    let f = Fixture::with_limits(
        backend_of(&f),
        Limits {
            max_devices_per_user: 2,
            ..Limits::default()
        },
    )
    .await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let put = |n: u32| {
        let ann = ann.clone();
        let f = &f;
        async move {
            f.call(
                "PUT",
                &format!("/api/v1/devices/01930000-0000-7000-8000-00000000d00{n}"),
                Some(&ann),
                Some(device_report()),
            )
            .await
            .0
        }
    };
    assert_eq!(put(1).await, StatusCode::OK);
    assert_eq!(put(2).await, StatusCode::OK);
    assert_eq!(put(3).await, StatusCode::CONFLICT, "a third device");
    assert_eq!(put(1).await, StatusCode::OK, "a known device reports again");
}

async fn dates_outside_the_century_are_refused_and_empty_years_keep_no_lines(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    for date in ["1500-01-01", "0000-01-01", "1999-12-31", "2101-01-01"] {
        let (status, body) = f
            .call(
                "GET",
                &format!("/api/v1/timesheets?period=month&date={date}"),
                Some(&ann),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{date}: {body}");
        let (status, _) = f
            .call(
                "POST",
                "/api/v1/timesheets/submit",
                Some(&ann),
                Some(json!({"period": "week", "date": date})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "submitting {date}");
    }
    let (status, _) = f
        .call(
            "GET",
            "/api/v1/manual-entries?from=1999-01-01T00:00:00Z&to=1999-02-01T00:00:00Z",
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A year with nothing in it, read month by month: computed, and nothing kept.
    for month in 1..=12 {
        let (status, body) = f
            .call(
                "GET",
                &format!("/api/v1/timesheets?period=month&date=2001-{month:02}-01"),
                Some(&ann),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, me) = f.call("GET", "/api/v1/me", Some(&ann), None).await;
    let kept = f
        .state
        .db
        .timesheet_days(me["id"].as_str().unwrap(), "2000-01-01", "2002-01-01")
        .await
        .unwrap();
    assert!(
        kept.is_empty(),
        "{} lines kept for an empty year",
        kept.len()
    );
}

/// Runs `statements` in one transaction on the fixture's database (a bulk load a test can't
/// wait for through the API one request at a time).
async fn bulk(f: &Fixture, statements: &[String]) {
    let url = f.url();
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        for s in statements {
            sqlx::query(sqlx::AssertSqlSafe(s.as_str()))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    } else {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        for s in statements {
            sqlx::query(sqlx::AssertSqlSafe(s.as_str()))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
}

async fn a_flood_of_requests_hides_nobody_elses_and_lists_page_to_the_end(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    accounts::add_user(
        &f.state,
        "acme",
        "max@acme.test",
        "Max",
        "max-password",
        false,
    )
    .await
    .unwrap();
    accounts::add_user(
        &f.state,
        "acme",
        "flo@acme.test",
        "Flo",
        "flo-password",
        false,
    )
    .await
    .unwrap();
    let ann = f.login("ann@acme.test", "ann-password").await;
    let max = f.login("max@acme.test", "max-password").await;
    let flo = f.login("flo@acme.test", "flo-password").await;
    let (ann_id, max_id, flo_id) = (
        f.user_id(&ann).await,
        f.user_id(&max).await,
        f.user_id(&flo).await,
    );
    let (status, body) = f
        .call(
            "PUT",
            &format!("/api/v1/users/{max_id}/managed"),
            Some(&boss),
            Some(json!({"users": [ann_id]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    set_approval(&f, &boss).await;
    let task = f.task(&boss).await;
    // Flo floods the organization with 10,001 pending entries, all older than Ann's one, two
    // minutes apart from five days before the fixture day.
    let statements: Vec<String> = (0..10_001)
        .map(|k| {
            let start = t0() - 5 * 86_400 + k * 120;
            format!(
                "INSERT INTO manual_entries (id, user_id, task_id, started_at, ended_at, note, status,
                 created_at, created_by, utc_offset_minutes)
                 VALUES ('{}', '{flo_id}', '{task}', {start}, {}, 'flood', 'pending', {}, '{flo_id}', 0)",
                uuid::Uuid::now_v7(),
                start + 60,
                1_700_000_000 + k
            )
        })
        .collect();
    bulk(&f, &statements).await;
    let (status, entry) = f
        .call("POST", "/api/v1/manual-entries", Some(&ann),
              Some(json!({"task_id": task, "started_at": at(86_400 + 3600), "ended_at": at(86_400 + 7200), "note": "mine"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    assert_eq!(entry["status"], "pending");
    // Max reviews Ann only: her entry is there, none of Flo's.
    let (_, waiting) = f.call("GET", "/api/v1/approvals", Some(&max), None).await;
    let listed = waiting["manual_entries"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{}", listed.len());
    assert_eq!(listed[0]["id"], entry["id"]);
    assert_eq!(waiting["more"], false);
    // The admin reviews everyone: a page of the oldest, and `more` says the rest wait.
    let (_, all) = f.call("GET", "/api/v1/approvals", Some(&boss), None).await;
    assert_eq!(all["manual_entries"].as_array().unwrap().len(), 500);
    assert_eq!(all["more"], true);

    // Flo's own list pages to the end, each entry once, through the Link headers.
    let mut next = Some(format!(
        "/api/v1/manual-entries?from={}&to={}&limit=1000",
        day_start(-22),
        day_start(38)
    ));
    let (mut seen, mut pages) = (std::collections::HashSet::new(), 0);
    while let Some(path) = next.take() {
        let req = Request::builder()
            .uri(&path)
            .header("authorization", format!("Bearer {flo}"))
            .body(Body::empty())
            .unwrap();
        let response = f.app.clone().oneshot(req).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        next = response.headers().get("link").map(|l| {
            let l = l.to_str().unwrap();
            assert!(l.ends_with("; rel=\"next\""), "{l}");
            l[1..l.find('>').unwrap()].to_string()
        });
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let rows: Vec<Value> = serde_json::from_slice(&body).unwrap();
        assert!(rows.len() <= 1000);
        for row in rows {
            assert!(
                seen.insert(row["id"].as_str().unwrap().to_string()),
                "twice: {row}"
            );
        }
        pages += 1;
    }
    assert_eq!((seen.len(), pages), (10_001, 11));
}

async fn set_approval(f: &Fixture, boss: &str) {
    let (status, body) = f
        .call(
            "PUT",
            "/api/v1/timesheets/policy",
            Some(boss),
            Some(json!({"manual": "approval", "moves": "allowed", "max_manual_secs": 28800, "edit_window_days": 366})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
