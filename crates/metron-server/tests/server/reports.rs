//! Reports (SPEC §5) through `oneshot`, on both backends: the daily report under rules that
//! change, who may read what, bad input, CSV, the team's day, and retention.

use super::*;

on_both!(
    a_changed_rule_reclassifies_the_days_already_reported,
    people_read_their_own_day_and_admins_their_organizations,
    bad_report_and_rule_input_gets_a_clear_400,
    a_day_exports_as_csv_one_row_per_interval,
    retention_keeps_old_days_as_aggregates_that_report_the_same,
    retention_days_tile_across_runs_when_the_offset_changes,
    an_interval_older_than_retention_is_refused,
    counts_a_desktop_did_not_measure_are_reported_as_not_measured,
    fullwidth_formula_starts_are_defused_in_a_csv,
    intervals_stored_as_json_before_the_packed_body_read_and_report_the_same,
    the_team_day_of_a_settled_date_is_kept_and_follows_every_change,
    the_team_day_of_today_is_computed_from_the_intervals_as_they_arrive,
);

/// An interval with an editor window then a browser on a video site, like `interval` otherwise.
fn mixed(task: &str, start: i64) -> Value {
    let mut i = interval(task, start, 60);
    i["active"] = json!(format!("{}{}", "1".repeat(40), "0".repeat(20)));
    i["windows"] = json!([
        {"offset": 0, "seconds": 40, "app": "editor", "title": "report.md", "url": null, "path": null},
        {"offset": 40, "seconds": 20, "app": "Firefox", "title": "Cats", "url": "https://www.youtube.com/watch?v=1", "path": null}
    ]);
    i
}

/// Ann's day: three intervals of 60 s from 08:00 UTC (09:00 at her +60).
async fn ann_tracks(f: &Fixture) -> (String, String) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    let batch = json!({"intervals": [mixed(&task, 0), mixed(&task, 60), mixed(&task, 600)]});
    let (status, body) = f
        .call("POST", "/api/v1/intervals", Some(&ann), Some(batch))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "accepted"),
        "{body}"
    );
    (ann, task)
}

/// The fixture day's report.
fn day_report() -> String {
    format!("/api/v1/reports/daily?date={}", fixture_date(0))
}

/// The raw intervals stored around the fixture day.
fn raw_around_day() -> String {
    format!(
        "/api/v1/intervals?from={}&to={}",
        day_start(-1),
        day_start(2)
    )
}

async fn a_changed_rule_reclassifies_the_days_already_reported(f: Fixture) {
    let (ann, task) = ann_tracks(&f).await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let (status, r) = f.call("GET", &day_report(), Some(&ann), None).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (
            r["tracked_secs"].as_u64(),
            r["active_secs"].as_u64(),
            r["activity_pct"].as_u64()
        ),
        (Some(180), Some(120), Some(67))
    );
    assert_eq!(
        r["utc_offset_minutes"], 60,
        "her day is taken in her own offset"
    );
    assert_eq!(r["first_activity"], at(0));
    assert_eq!(r["away_secs"], 480);
    assert_eq!(r["neutral_secs"], 180, "no rules yet");
    assert_eq!(r["task_names"][&task], "Write report");
    assert_eq!(r["source"], "intervals");
    assert_eq!(r["hosts"][0]["host"], "www.youtube.com");

    let rule = |target: &str, kind: &str, pattern: &str, class: &str| json!({"target": target, "kind": kind, "pattern": pattern, "class": class});
    let (status, editor) = f
        .call(
            "POST",
            "/api/v1/rules",
            Some(&boss),
            Some(rule("app", "glob", "edit*", "productive")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{editor}");
    let (_, video) = f
        .call(
            "POST",
            "/api/v1/rules",
            Some(&boss),
            Some(rule(
                "host",
                "regex",
                r"(www\.)?youtube\.com",
                "unproductive",
            )),
        )
        .await;
    let (_, r) = f.call("GET", &day_report(), Some(&ann), None).await;
    assert_eq!(
        (
            r["productive_secs"].as_u64(),
            r["unproductive_secs"].as_u64(),
            r["neutral_secs"].as_u64()
        ),
        (Some(120), Some(60), Some(0))
    );
    assert_eq!(
        r["apps"][0],
        json!({"app": "editor", "class": "productive", "tracked_secs": 120, "active_secs": 120})
    );

    // Changed: the same stored day now reads otherwise.
    let id = video["id"].as_str().unwrap();
    let (status, changed) = f
        .call(
            "PUT",
            &format!("/api/v1/rules/{id}"),
            Some(&boss),
            Some(rule("host", "glob", "*youtube.com", "productive")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let (_, listed) = f.call("GET", "/api/v1/rules", Some(&boss), None).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(
        listed[1]["pattern"], "*youtube.com",
        "a changed rule keeps its place"
    );
    let (_, r) = f.call("GET", &day_report(), Some(&ann), None).await;
    assert_eq!(r["productive_secs"], 180);
    let (status, _) = f
        .call("DELETE", &format!("/api/v1/rules/{id}"), Some(&boss), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = f
        .call("DELETE", &format!("/api/v1/rules/{id}"), Some(&boss), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, r) = f.call("GET", &day_report(), Some(&ann), None).await;
    assert_eq!(
        (r["productive_secs"].as_u64(), r["neutral_secs"].as_u64()),
        (Some(120), Some(60))
    );
    // The day before and after hold nothing of it.
    let (_, before) = f
        .call(
            "GET",
            &format!("/api/v1/reports/daily?date={}", fixture_date(-1)),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(before["tracked_secs"], 0);
}

async fn people_read_their_own_day_and_admins_their_organizations(f: Fixture) {
    let (ann, _) = ann_tracks(&f).await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let eve = f.login("eve@other.test", "eve-password").await;
    let (_, me) = f.call("GET", "/api/v1/me", Some(&ann), None).await;
    let (_, boss_me) = f.call("GET", "/api/v1/me", Some(&boss), None).await;
    let (_, eve_me) = f.call("GET", "/api/v1/me", Some(&eve), None).await;
    let of = |u: &Value| format!("{}&user_id={}", day_report(), u["id"].as_str().unwrap());

    let (status, body) = f.call("GET", &of(&boss_me), Some(&ann), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"].as_str().unwrap().contains("only an admin"),
        "{body}"
    );
    let (status, r) = f.call("GET", &of(&me), Some(&boss), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (r["user"]["email"].as_str(), r["tracked_secs"].as_u64()),
        (Some("ann@acme.test"), Some(180))
    );
    let (status, _) = f.call("GET", &of(&eve_me), Some(&boss), None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another organization's user is not found"
    );
    let (status, _) = f
        .call(
            "GET",
            &format!("{}&user_id=nobody", day_report()),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = f
        .call(
            "GET",
            &format!("/api/v1/reports/team?date={}", fixture_date(0)),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, team) = f
        .call(
            "GET",
            &format!("/api/v1/reports/team?date={}", fixture_date(0)),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{team}");
    let users = team["users"].as_array().unwrap();
    assert_eq!(
        users
            .iter()
            .map(|u| u["user"]["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Ann", "Boss"]
    );
    assert_eq!(
        (
            users[0]["tracked_secs"].as_u64(),
            users[0]["activity_pct"].as_u64()
        ),
        (Some(180), Some(67))
    );
    assert_eq!(
        users[0]["first_activity"], r["first_activity"],
        "the team line agrees with her day"
    );
    assert_eq!(users[1]["tracked_secs"], 0);
    let (status, _) = f.call("GET", "/api/v1/rules", Some(&ann), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn bad_report_and_rule_input_gets_a_clear_400(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    for (path, words) in [
        ("/api/v1/reports/daily?date=2026-13-01", "a day such as"),
        ("/api/v1/reports/daily", "date is required"),
        (
            "/api/v1/reports/daily?date=2026-11-23&utc_offset_minutes=9999",
            "from -840 to 840",
        ),
        ("/api/v1/reports/team?date=yesterday", "a day such as"),
    ] {
        let (status, body) = f.call("GET", path, Some(&boss), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(words),
            "{path}: {body}"
        );
    }
    for (rule, words) in [
        (
            json!({"target": "app", "kind": "regex", "pattern": "(", "class": "productive"}),
            "invalid regex",
        ),
        (
            json!({"target": "app", "kind": "glob", "pattern": "  ", "class": "productive"}),
            "empty",
        ),
        (
            json!({"target": "app", "kind": "glob", "pattern": "x", "class": "neutral"}),
            "productive or unproductive",
        ),
        (
            json!({"target": "window", "kind": "glob", "pattern": "x", "class": "productive"}),
            "expected `app` or `host`",
        ),
        (json!({"pattern": "x"}), "missing field"),
    ] {
        let (status, body) = f
            .call("POST", "/api/v1/rules", Some(&boss), Some(rule.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{rule}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(words),
            "{rule}: {body}"
        );
    }
    let good = json!({"target": "app", "kind": "glob", "pattern": "x", "class": "productive"});
    let (status, _) = f
        .call("PUT", "/api/v1/rules/no-such-rule", Some(&boss), Some(good))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, rules) = f.call("GET", "/api/v1/rules", Some(&boss), None).await;
    assert_eq!(rules, json!([]), "nothing was saved");
}

async fn a_day_exports_as_csv_one_row_per_interval(f: Fixture) {
    let (ann, _) = ann_tracks(&f).await;
    let req = Request::get(format!(
        "/api/v1/reports/daily.csv?date={}",
        fixture_date(0)
    ))
    .header("authorization", format!("Bearer {ann}"))
    .body(Body::empty())
    .unwrap();
    let response = f.app.clone().oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("metron-ann@acme.test-{}.csv", fixture_date(0))));
    let text = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(
        lines[0],
        "date,user,start,end,task,tracked_secs,active_secs,activity_pct"
    );
    let day = fixture_date(0);
    assert_eq!(
        lines[1],
        format!("{day},\"ann@acme.test\",{day}T09:00:00+01:00,{day}T09:01:00+01:00,\"Write report\",60,40,67")
    );
}

async fn retention_keeps_old_days_as_aggregates_that_report_the_same(f: Fixture) {
    let (ann, _) = ann_tracks(&f).await;
    let (_, before) = f.call("GET", &day_report(), Some(&ann), None).await;
    // 399 days on, the day is still kept raw (at noon UTC, `days` after the fixture day).
    let noon = |days: i64| {
        chrono::DateTime::from_timestamp(t0() + 4 * 3600, 0).unwrap() + chrono::Duration::days(days)
    };
    let nothing = metron_server::retention::run_once(&f.state, 400, noon(399))
        .await
        .unwrap();
    assert_eq!(nothing, Default::default());
    let ann_id = before["user"]["id"].as_str().unwrap();
    // The day's two windows are named once (db/packed.rs), not in each of its intervals.
    assert_eq!(f.count("window_names", "user_id", ann_id).await, 2);
    let done = metron_server::retention::run_once(&f.state, 400, noon(402))
        .await
        .unwrap();
    assert_eq!(
        (done.days_kept_as_aggregates, done.intervals_deleted),
        (1, 3)
    );
    assert_eq!(
        f.count("window_names", "user_id", ann_id).await,
        0,
        "the names go with the day's intervals"
    );
    let (_, raw) = f.call("GET", &raw_around_day(), Some(&ann), None).await;
    assert_eq!(raw, json!([]), "the raw intervals are gone");
    let (status, after) = f.call("GET", &day_report(), Some(&ann), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["source"], "aggregates");
    // Window titles expire with the raw data: the kept day has none, stored or shown.
    assert!(!before["titles"].as_array().unwrap().is_empty());
    assert_eq!(after["titles"], json!([]), "{after}");
    let kept = f
        .state
        .db
        .day_aggregate(ann_id, &fixture_date(0))
        .await
        .unwrap()
        .unwrap();
    let title = before["titles"][0]["title"].as_str().unwrap();
    assert!(
        !title.is_empty() && !kept.contains(title),
        "the stored aggregate holds the title {title:?}: {kept}"
    );
    // The timeline is kept as runs of a task: the same seconds, fewer entries.
    let mut day: metron_core::report::DailyReport =
        serde_json::from_value(before.clone()).expect("a day report");
    day.merge_timeline_runs();
    assert!(day.timeline.len() < before["timeline"].as_array().unwrap().len());
    assert_eq!(
        after["timeline"],
        serde_json::to_value(&day.timeline).unwrap()
    );
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("source");
        v.as_object_mut().unwrap().remove("titles");
        v.as_object_mut().unwrap().remove("timeline");
        v
    };
    assert_eq!(
        strip(after),
        strip(before),
        "the kept day reports as it did, titles and timeline aside"
    );
    // Rules still apply to a kept day.
    let boss = f.login("boss@acme.test", "boss-password").await;
    f.call(
        "POST",
        "/api/v1/rules",
        Some(&boss),
        Some(json!({"target": "app", "kind": "glob", "pattern": "editor", "class": "productive"})),
    )
    .await;
    let (_, ruled) = f.call("GET", &day_report(), Some(&ann), None).await;
    assert_eq!(ruled["productive_secs"], 120);
    assert_eq!(ruled["apps"][0]["class"], "productive");
    let again = metron_server::retention::run_once(&f.state, 400, noon(403))
        .await
        .unwrap();
    assert_eq!(
        again,
        Default::default(),
        "a second run finds nothing to do"
    );
    // The team's day takes the kept day too.
    let (_, team) = f
        .call(
            "GET",
            &format!("/api/v1/reports/team?date={}", fixture_date(0)),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(team["users"][0]["tracked_secs"], 180, "{team}");
}

/// A database upgraded from before migration 0020 holds intervals as JSON in `body`: they
/// are not rewritten, and read, report and answer a second delivery as packed ones do.
async fn intervals_stored_as_json_before_the_packed_body_read_and_report_the_same(f: Fixture) {
    let (ann, _) = ann_tracks(&f).await;
    let (_, day) = f.call("GET", &day_report(), Some(&ann), None).await;
    let (_, raw) = f.call("GET", &raw_around_day(), Some(&ann), None).await;
    let ann_id = f.user_id(&ann).await;
    // Each row back to what the old server stored: its JSON, no packed body, no names.
    for i in raw.as_array().unwrap() {
        let json = serde_json::to_string(i).unwrap().replace('\'', "''");
        // Ids are UUIDs on PostgreSQL and their 16 bytes on SQLite.
        let id = i["id"].as_str().unwrap();
        let id = if db::is_postgres(&f.url()) {
            format!("'{id}'")
        } else {
            format!("unhex('{id}', '-')")
        };
        let sql = format!("UPDATE intervals SET body = '{json}', packed = NULL WHERE id = {id}");
        assert_eq!(audit_chain::raw(&f.url(), &sql).await, Ok(1));
    }
    let sql = format!("DELETE FROM window_names WHERE user_id = '{ann_id}'");
    assert_eq!(audit_chain::raw(&f.url(), &sql).await, Ok(2));
    assert_eq!(
        f.call("GET", &raw_around_day(), Some(&ann), None).await.1,
        raw
    );
    assert_eq!(f.call("GET", &day_report(), Some(&ann), None).await.1, day);
    let (status, again) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({"intervals": [raw[1].clone()]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["results"][0]["status"], "duplicate", "{again}");
    let mut changed = raw[1].clone();
    changed["windows"][0]["title"] = json!("another.md");
    let (_, conflict) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({"intervals": [changed]})),
        )
        .await;
    assert_eq!(
        conflict["results"][0]["reason"], "id_conflict",
        "{conflict}"
    );
}

/// `i` moved by `secs` seconds and given the UTC offset `offset` (minutes).
fn moved(mut i: Value, secs: i64, offset: i64) -> Value {
    for key in ["started_at", "ended_at"] {
        let t = chrono::DateTime::parse_from_rfc3339(i[key].as_str().unwrap())
            .unwrap()
            .to_utc()
            + chrono::Duration::seconds(secs);
        i[key] = json!(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    i["utc_offset_minutes"] = json!(offset);
    i["id"] = json!(uuid::Uuid::now_v7().to_string());
    i
}

async fn retention_days_tile_across_runs_when_the_offset_changes(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    let day = 86_400;
    // Two days before the fixture day at +60 (09:00 and 23:30 local), then the day before it
    // at +120 (she travelled).
    let batch = json!({"intervals": [
        moved(mixed(&task, 0), -2 * day, 60),
        moved(mixed(&task, 0), -2 * day + 14 * 3600 + 1800, 60),
        moved(mixed(&task, 0), -day + 12 * 3600, 120),
    ]});
    let (_, body) = f
        .call("POST", "/api/v1/intervals", Some(&ann), Some(batch))
        .await;
    assert!(
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "accepted"),
        "{body}"
    );
    // `days` and `hours` after 00:00 UTC of the fixture day.
    let after = |days: i64, hours: i64| {
        chrono::DateTime::from_timestamp(t0() - 8 * 3600, 0).unwrap()
            + chrono::Duration::days(days)
            + chrono::Duration::hours(hours)
    };
    // First run: only the first of those days is past the limit (the cutoff falls on the
    // second). Its 23:30 interval ends after the second began at UTC+14:00, so it stays raw
    // until the next run (the first day is read from its aggregate meanwhile).
    let first = metron_server::retention::run_once(&f.state, 400, after(399, 3))
        .await
        .unwrap();
    assert_eq!(
        (first.days_kept_as_aggregates, first.intervals_deleted),
        (1, 1)
    );
    // A later run: the next days, each interval in its own offset.
    let second = metron_server::retention::run_once(&f.state, 400, after(402, 0))
        .await
        .unwrap();
    assert_eq!(
        (second.days_kept_as_aggregates, second.intervals_deleted),
        (1, 2),
        "{second:?}"
    );
    let mut kept = 0;
    for date in (-3..=1).map(fixture_date) {
        let (_, r) = f
            .call(
                "GET",
                &format!("/api/v1/reports/daily?date={date}"),
                Some(&ann),
                None,
            )
            .await;
        kept += r["tracked_secs"].as_u64().unwrap();
    }
    assert_eq!(kept, 180, "every second is in exactly one kept day");
    let (_, raw) = f
        .call(
            "GET",
            &format!(
                "/api/v1/intervals?from={}&to={}",
                day_start(-3),
                day_start(7)
            ),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(raw, json!([]));
}

async fn an_interval_older_than_retention_is_refused(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    let now = chrono::Utc::now().timestamp();
    let old = moved(interval(&task, 0, 60), now - t0() - 401 * 86_400, 60);
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({"intervals": [old]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["results"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("older than the 400 days"),
        "{body}"
    );
}

async fn counts_a_desktop_did_not_measure_are_reported_as_not_measured(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    // An X11 minute with counts, then a Wayland minute: activity known, counts not.
    let counted = mixed(&task, 0);
    let mut wayland = mixed(&task, 60);
    wayland["counts"] = json!({"keys": 0, "clicks": 0, "scrolls": 0, "moves": 0});
    wayland["counts_measured"] = json!(false);
    let batch = json!({"intervals": [counted.clone(), wayland]});
    let (status, body) = f
        .call("POST", "/api/v1/intervals", Some(&ann), Some(batch))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, r) = f.call("GET", &day_report(), Some(&ann), None).await;
    assert_eq!(r["tracked_secs"], 120);
    assert_eq!(r["active_secs"], 80, "activity is measured either way");
    assert_eq!(r["counts_measured_secs"], 60);
    assert_eq!(
        r["counts"], counted["counts"],
        "only the counted minute's counts"
    );
    let (_, raw) = f.call("GET", &raw_around_day(), Some(&ann), None).await;
    let flags: Vec<Value> = raw
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.get("counts_measured").cloned().unwrap_or(json!(true)))
        .collect();
    assert_eq!(flags, [json!(true), json!(false)], "{raw}");
}

/// Item 7 of issue 27: spreadsheets read the fullwidth ＝ ＋ － ＠ as formula starts too.
async fn fullwidth_formula_starts_are_defused_in_a_csv(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let mut names = Vec::new();
    for name in ["＝HYPERLINK(\"x\")", "＋1", "－1", "＠SUM(1)", "a;＝cmd"] {
        let (status, task) = f
            .call(
                "POST",
                "/api/v1/tasks",
                Some(&ann),
                Some(json!({"name": name, "project": ""})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        names.push(task["id"].as_str().unwrap().to_string());
    }
    let intervals: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(n, task)| interval(task, n as i64 * 60, 60))
        .collect();
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({ "intervals": intervals })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, csv) = f
        .get_text(
            &format!("/api/v1/reports/daily.csv?date={}", fixture_date(0)),
            &ann,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for field in [
        "\"'＝HYPERLINK(\"\"x\"\")\"",
        "\"'＋1\"",
        "\"'－1\"",
        "\"'＠SUM(1)\"",
        "\"a;'＝cmd\"",
    ] {
        assert!(csv.contains(field), "{field} in\n{csv}");
    }
}

/// Ann's line in the team's day of `date`, as Boss reads it.
async fn ann_in_team(f: &Fixture, boss: &str, date: &str) -> Value {
    let (status, team) = f
        .call(
            "GET",
            &format!("/api/v1/reports/team?date={date}"),
            Some(boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{team}");
    team["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"]["email"] == "ann@acme.test")
        .unwrap()
        .clone()
}

/// Ann's kept fixture day (migrations 0008 and 0022).
fn anns_kept_day() -> String {
    format!(
        "FROM timesheet_days WHERE day = '{}'
         AND user_id = (SELECT id FROM users WHERE email = 'ann@acme.test')",
        fixture_date(0)
    )
}

/// Changes the tracked seconds of Ann's kept team line by hand, 180 to 179: a read that shows
/// 179 read the kept line.
async fn touch_anns_kept_team_line(f: &Fixture) {
    let changed = f
        .scalar(&format!(
            "UPDATE timesheet_days SET team = replace(team, '\"tracked_secs\":180',
             '\"tracked_secs\":179') {} RETURNING CAST(1 AS BIGINT)",
            anns_kept_day().trim_start_matches("FROM timesheet_days")
        ))
        .await;
    assert_eq!(changed, 1);
}

async fn the_team_day_of_a_settled_date_is_kept_and_follows_every_change(f: Fixture) {
    let (ann, task) = ann_tracks(&f).await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let first = ann_in_team(&f, &boss, &fixture_date(0)).await;
    assert_eq!(
        (
            first["tracked_secs"].as_u64(),
            first["neutral_secs"].as_u64()
        ),
        (Some(180), Some(180)),
        "{first}"
    );
    assert_eq!(
        f.scalar(&format!(
            "SELECT count(*) {} AND team IS NOT NULL",
            anns_kept_day()
        ))
        .await,
        1,
        "the date is settled: the first read kept her line"
    );
    touch_anns_kept_team_line(&f).await;
    assert_eq!(
        ann_in_team(&f, &boss, &fixture_date(0)).await["tracked_secs"],
        179,
        "the next read is the kept line"
    );

    // A rule splits the kept line anew (its time per app is kept with it).
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/rules",
            Some(&boss),
            Some(
                json!({"target": "app", "kind": "glob", "pattern": "edit*", "class": "productive"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let split = ann_in_team(&f, &boss, &fixture_date(0)).await;
    assert_eq!(
        (
            split["tracked_secs"].as_u64(),
            split["productive_secs"].as_u64()
        ),
        (Some(179), Some(120)),
        "{split}"
    );

    // Other thresholds: the kept line was assessed under the old ones, so it is computed again.
    let (status, body) = f
        .call(
            "PUT",
            "/api/v1/unusual/thresholds",
            Some(&boss),
            Some(json!({"same_window_minutes": 120})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let assessed = ann_in_team(&f, &boss, &fixture_date(0)).await;
    assert_eq!(assessed["tracked_secs"], 180, "{assessed}");
    assert_eq!(assessed["productive_secs"], 120);

    // Her laptop reports another zone: the line is computed again and flags the offsets.
    touch_anns_kept_team_line(&f).await;
    assert_eq!(
        ann_in_team(&f, &boss, &fixture_date(0)).await["tracked_secs"],
        179
    );
    let (status, body) = f
        .call(
            "PUT",
            "/api/v1/devices/01930000-0000-7000-8000-00000000d001",
            Some(&ann),
            Some(json!({
                "host_name": "ann-laptop", "os_user": "ann", "domain": null,
                "os_name": "Debian GNU/Linux 12 (bookworm)", "os_version": "6.1.0-28-amd64",
                "time_zone": "Asia/Tokyo", "utc_offset_minutes": 540, "app_version": "0.2.0"
            })),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let flagged = ann_in_team(&f, &boss, &fixture_date(0)).await;
    assert_eq!(flagged["tracked_secs"], 180, "{flagged}");
    assert!(
        flagged["unusual"]
            .as_array()
            .unwrap()
            .contains(&json!("zone_mismatch")),
        "{flagged}"
    );

    // A late interval of that day forgets the kept line: counted at once, and the line is the
    // one her day report gives.
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({"intervals": [mixed(&task, 1200)]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let later = ann_in_team(&f, &boss, &fixture_date(0)).await;
    let (_, day) = f.call("GET", &day_report(), Some(&ann), None).await;
    for figure in [
        "tracked_secs",
        "active_secs",
        "activity_pct",
        "productive_secs",
        "unproductive_secs",
        "neutral_secs",
        "first_activity",
        "last_activity",
        "devices",
    ] {
        assert_eq!(
            later[figure], day[figure],
            "{figure}: {later} against {day}"
        );
    }
    assert_eq!(later["tracked_secs"], 240);
    assert_eq!(
        f.scalar(&format!(
            "SELECT count(*) {} AND team IS NOT NULL",
            anns_kept_day()
        ))
        .await,
        1,
        "kept again"
    );
}

async fn the_team_day_of_today_is_computed_from_the_intervals_as_they_arrive(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let task = f.task(&ann).await;
    // Two minutes of ten minutes ago in UTC, both on one UTC day.
    let mut start = chrono::Utc::now().timestamp() - 600;
    if (start + 120).div_euclid(86_400) != start.div_euclid(86_400) {
        start -= 300;
    }
    let date = chrono::DateTime::from_timestamp(start, 0)
        .unwrap()
        .date_naive()
        .to_string();
    let recent = |from: i64| {
        let at = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        let mut i = interval(&task, 0, 60);
        i["started_at"] = json!(at(from));
        i["ended_at"] = json!(at(from + 60));
        i["utc_offset_minutes"] = json!(0);
        json!({ "intervals": [i] })
    };
    for (minute, tracked) in [(0, 60), (1, 120)] {
        let (status, body) = f
            .call(
                "POST",
                "/api/v1/intervals",
                Some(&ann),
                Some(recent(start + 60 * minute)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["results"][0]["status"], "accepted", "{body}");
        let line = ann_in_team(&f, &boss, &date).await;
        assert_eq!(line["tracked_secs"], tracked, "{line}");
    }
    assert_eq!(
        f.scalar(&format!(
            "SELECT count(*) FROM timesheet_days WHERE day = '{date}'"
        ))
        .await,
        0,
        "a day not settled is not kept"
    );
}
