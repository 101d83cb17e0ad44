//! A record you can pay people from (issue 27): every tracked second falls on exactly one
//! local day of its person, whatever offsets their intervals carry, in the day report, the
//! team's day, the timesheet, the team's timesheet and the CSVs; offset changes are shown.

use super::*;

on_both!(
    a_week_in_many_offsets_counts_each_second_once_and_shows_the_zone_changes,
    an_offset_the_devices_zone_did_not_have_is_unusual,
    a_locked_week_keeps_its_approved_figures_and_says_when_they_changed,
);

const HOUR: i64 = 3600;

/// An interval `start` seconds after 08:00 UTC of the fixture day (a Monday: [`t0`]), `secs`
/// long, at `offset` minutes.
fn at_offset(task: &str, start: i64, secs: i64, offset: i32) -> Value {
    let mut i = interval(task, start, secs);
    i["utc_offset_minutes"] = json!(offset);
    i
}

async fn a_week_in_many_offsets_counts_each_second_once_and_shows_the_zone_changes(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let (_, me) = f.call("GET", "/api/v1/me", Some(&ann), None).await;
    let ann_id = me["id"].as_str().unwrap().to_string();
    let (status, task) = f
        .call(
            "POST",
            "/api/v1/tasks",
            Some(&boss),
            Some(json!({"name": "Travel", "project": "Q4"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let t = task["id"].as_str().unwrap();
    let items = vec![
        // The Sunday before, 20:00Z, at +14:00: Monday 10:00 local, this week.
        at_offset(t, -12 * HOUR, 600, 840),
        // Mon 20:00Z at -14:00: Monday 06:00 local.
        at_offset(t, 12 * HOUR, 900, -840),
        // Tue 20:00Z at +14:00: Wednesday 10:00 local.
        at_offset(t, 36 * HOUR, 60, 840),
        // Fri 22:30Z at +01:00: Friday 23:30 local.
        at_offset(t, 4 * 24 * HOUR + 14 * HOUR + 1800, 900, 60),
        // Sat 20:00Z at +02:00: Saturday 22:00 local.
        at_offset(t, 5 * 24 * HOUR + 12 * HOUR, 60, 120),
        // Sunday 20:00Z at +14:00: the next Monday local, the next week.
        at_offset(t, 6 * 24 * HOUR + 12 * HOUR, 300, 840),
    ];
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({ "intervals": items })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "accepted"),
        "{body}"
    );

    // The week: the stored seconds whose local date is in it, each once.
    let week = |days: i64| format!("/api/v1/timesheets?period=week&date={}", fixture_date(days));
    let (status, sheet) = f.call("GET", &week(2), Some(&ann), None).await;
    assert_eq!(status, StatusCode::OK, "{sheet}");
    let week_sheet = &sheet["timesheet"];
    assert_eq!(
        week_sheet["tracked_secs"],
        600 + 900 + 60 + 900 + 60,
        "{week_sheet}"
    );
    let by_day: Vec<u64> = week_sheet["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["tracked_secs"].as_u64().unwrap())
        .collect();
    assert_eq!(by_day, [1500, 0, 60, 0, 900, 60, 0]);
    let (_, before) = f.call("GET", &week(-5), Some(&ann), None).await;
    assert_eq!(before["timesheet"]["tracked_secs"], 0, "{before}");
    let (_, after) = f.call("GET", &week(8), Some(&ann), None).await;
    assert_eq!(after["timesheet"]["tracked_secs"], 300, "{after}");

    // Every change of offset in the week, within a day or from one day to the next.
    let changes: Vec<(i64, i64)> = week_sheet["zone_changes"]
        .as_array()
        .unwrap_or_else(|| panic!("zone_changes in {week_sheet}"))
        .iter()
        .map(|c| {
            (
                c["from_minutes"].as_i64().unwrap(),
                c["to_minutes"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(changes, [(840, -840), (-840, 840), (840, 60), (60, 120)]);

    // Monday's report counts both of its intervals and says the zone changed within it.
    let (status, monday) = f
        .call(
            "GET",
            &format!("/api/v1/reports/daily?date={}", fixture_date(0)),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{monday}");
    assert_eq!(monday["tracked_secs"], 1500, "{monday}");
    assert_eq!(monday["zone_changes"][0]["to_minutes"], -840, "{monday}");
    // Asking for the day in another offset changes nothing: each interval has its own.
    let (_, shifted) = f
        .call(
            "GET",
            &format!(
                "/api/v1/reports/daily?date={}&utc_offset_minutes=0",
                fixture_date(0)
            ),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(shifted["tracked_secs"], 1500, "{shifted}");

    // The team's views agree, day by day.
    let (status, team) = f
        .call(
            "GET",
            &format!(
                "/api/v1/timesheets/team?period=week&date={}",
                fixture_date(2)
            ),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{team}");
    let line = team["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user"]["id"] == ann_id.as_str())
        .unwrap();
    assert_eq!(line["tracked_secs"], 2520, "{line}");
    for (date, tracked) in [
        (fixture_date(0), 1500),
        (fixture_date(2), 60),
        (fixture_date(6), 0),
    ] {
        let (_, day) = f
            .call(
                "GET",
                &format!("/api/v1/reports/team?date={date}"),
                Some(&boss),
                None,
            )
            .await;
        let mine = day["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["user"]["id"] == ann_id.as_str())
            .unwrap();
        assert_eq!(mine["tracked_secs"], tracked, "{date}: {mine}");
    }
}

async fn an_offset_the_devices_zone_did_not_have_is_unusual(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    // The laptop (the `interval` helper's device) reports Lagos: +01:00 all year, whatever
    // the season of the fixture day.
    let (status, body) = f
        .call(
            "PUT",
            "/api/v1/devices/01930000-0000-7000-8000-00000000d001",
            Some(&ann),
            Some(json!({
                "host_name": "ann-laptop", "os_user": "ann", "domain": null,
                "os_name": "Debian GNU/Linux 12 (bookworm)", "os_version": "6.1.0-28-amd64",
                "time_zone": "Africa/Lagos", "utc_offset_minutes": 60, "app_version": "0.2.0"
            })),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    // 09:00 local honestly, then two minutes stamped +14:00 (23:00 UTC the day before).
    let items = vec![
        at_offset(&task, 0, 60, 60),
        at_offset(&task, -9 * HOUR, 60, 840),
        at_offset(&task, -9 * HOUR + 60, 60, 840),
    ];
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({ "intervals": items })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, day) = f
        .call(
            "GET",
            &format!("/api/v1/reports/daily?date={}", fixture_date(0)),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(day["tracked_secs"], 180, "{day}");
    let flags = day["unusual"]["flags"].as_array().unwrap();
    let flag = flags
        .iter()
        .find(|f| f["kind"] == "zone_mismatch")
        .unwrap_or_else(|| panic!("no zone_mismatch in {day}"));
    assert_eq!(flag["spans"].as_array().unwrap().len(), 1, "{flag}");
    let span = &flag["spans"][0];
    assert_eq!(
        (
            &span["tracked_secs"],
            &span["utc_offset_minutes"],
            &span["expected_offset_minutes"]
        ),
        (&json!(120), &json!(840), &json!(60)),
        "{span}"
    );
    // The honest interval alone trips nothing.
    let (_, team) = f
        .call(
            "GET",
            &format!("/api/v1/reports/team?date={}", fixture_date(0)),
            Some(&f.login("boss@acme.test", "boss-password").await),
            None,
        )
        .await;
    let ann_line = team["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"]["email"] == "ann@acme.test")
        .unwrap();
    assert!(
        ann_line["unusual"]
            .as_array()
            .unwrap()
            .contains(&json!("zone_mismatch")),
        "{ann_line}"
    );
}

async fn call_ok(f: &Fixture, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let (status, answer) = f.call(method, path, Some(token), body).await;
    assert!(status.is_success(), "{method} {path}: {status} {answer}");
    answer
}

async fn a_locked_week_keeps_its_approved_figures_and_says_when_they_changed(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let task = f.task(&ann).await;
    let (_, me) = f.call("GET", "/api/v1/me", Some(&ann), None).await;
    let ann_id = me["id"].as_str().unwrap().to_string();
    call_ok(
        &f,
        "PUT",
        "/api/v1/timesheets/policy",
        &boss,
        Some(json!({"manual": "approval", "moves": "allowed", "max_manual_secs": 28800, "edit_window_days": 60})),
    )
    .await;
    let minutes = |from: i64, n: i64| -> Vec<Value> {
        (0..n).map(|k| interval(&task, from + 60 * k, 60)).collect()
    };
    call_ok(
        &f,
        "POST",
        "/api/v1/intervals",
        &ann,
        Some(json!({"intervals": minutes(0, 30)})),
    )
    .await;
    // Manual time from before the lock, waiting for a decision.
    let entry = call_ok(
        &f,
        "POST",
        "/api/v1/manual-entries",
        &ann,
        Some(
            json!({"task_id": task, "started_at": at(24 * HOUR + 4 * HOUR),
                    "ended_at": at(24 * HOUR + 5 * HOUR), "note": "workshop"}),
        ),
    )
    .await;
    assert_eq!(entry["status"], "pending");
    let week = json!({"period": "week", "date": fixture_date(2)});
    call_ok(
        &f,
        "POST",
        "/api/v1/timesheets/submit",
        &ann,
        Some(week.clone()),
    )
    .await;
    let mut action = week.clone();
    action["user_id"] = json!(ann_id);
    let approved = call_ok(
        &f,
        "POST",
        "/api/v1/timesheets/approve",
        &boss,
        Some(action.clone()),
    )
    .await;
    assert_eq!(approved["locked_figures"]["total_secs"], 1800, "{approved}");
    assert_eq!(approved["changed_since_lock"], false);

    // A late interval: stored (time is never refused), and the week says it changed.
    let late = vec![interval(&task, 24 * 3600, 600)];
    let answer = call_ok(
        &f,
        "POST",
        "/api/v1/intervals",
        &ann,
        Some(json!({"intervals": late})),
    )
    .await;
    assert_eq!(answer["results"][0]["status"], "accepted", "{answer}");
    let sheet_path = format!(
        "/api/v1/timesheets?period=week&date={}&user_id={ann_id}",
        fixture_date(2)
    );
    let sheet = call_ok(&f, "GET", &sheet_path, &boss, None).await;
    assert_eq!(sheet["state"], "approved");
    assert_eq!(sheet["timesheet"]["tracked_secs"], 2400, "{sheet}");
    assert_eq!(sheet["locked_figures"]["total_secs"], 1800);
    assert_eq!(sheet["changed_since_lock"], true);
    let team = call_ok(
        &f,
        "GET",
        &format!(
            "/api/v1/timesheets/team?period=week&date={}",
            fixture_date(2)
        ),
        &boss,
        None,
    )
    .await;
    let line = team["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user"]["id"] == ann_id.as_str())
        .unwrap();
    assert_eq!(
        (
            &line["total_secs"],
            &line["locked_total_secs"],
            &line["changed_since_lock"]
        ),
        (&json!(2400), &json!(1800), &json!(true)),
        "{line}"
    );

    // The CSVs say it too, on the period's total line: the total approved, and changed.
    let (status, _, csv) = f
        .get_text(
            &sheet_path.replace("/timesheets?", "/timesheets.csv?"),
            &boss,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.contains(",\"(total)\",2400,") && csv.contains(",approved,1800,true\r\n"),
        "{csv}"
    );
    let (_, _, team_csv) = f
        .get_text(
            &format!(
                "/api/v1/timesheets/team.csv?period=week&date={}",
                fixture_date(2)
            ),
            &boss,
        )
        .await;
    assert!(team_csv.contains(",approved,1800,true\r\n"), "{team_csv}");

    // The pending entry from before the lock waits for an unlock.
    let (status, refused) = f
        .call(
            "POST",
            &format!(
                "/api/v1/manual-entries/{}/decision",
                entry["id"].as_str().unwrap()
            ),
            Some(&boss),
            Some(json!({"decision": "approve", "note": "ok"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("unlock"),
        "{refused}"
    );

    // Approved again with its new figures; once more is nothing to approve.
    let again = call_ok(
        &f,
        "POST",
        "/api/v1/timesheets/approve",
        &boss,
        Some(action.clone()),
    )
    .await;
    assert_eq!(again["locked_figures"]["total_secs"], 2400, "{again}");
    assert_eq!(again["changed_since_lock"], false);
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/timesheets/approve",
            Some(&boss),
            Some(action),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let audit = call_ok(
        &f,
        "GET",
        &format!(
            "/api/v1/audit?from={}&to={}&user_id={ann_id}",
            day_start(-22),
            day_start(312)
        ),
        &boss,
        None,
    )
    .await;
    let reapproval = audit
        .as_array()
        .unwrap_or_else(|| panic!("{audit}"))
        .iter()
        .find(|row| {
            row["action"] == "timesheet.approve" && row["before"]["figures"]["total_secs"] == 1800
        })
        .unwrap_or_else(|| panic!("no re-approval with the old figures in {audit}"));
    assert_eq!(reapproval["after"]["figures"]["total_secs"], 2400);
}
