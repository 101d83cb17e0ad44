//! Presence is evidence (issue 27, item 6): passive time names who held the idle inhibitor in
//! the day report, stands in a column of its own in the timesheet CSVs, can be limited or
//! turned off by the organization's policy, and a long stretch of it is unusual activity.

use super::*;

on_both!(
    the_day_names_who_held_presence_and_a_long_stretch_is_flagged,
    passive_time_is_a_column_of_the_timesheet_csvs,
    the_organization_sets_the_passive_limit_within_bounds,
    a_presence_stretch_over_seconds_with_input_is_refused,
);

/// The fixture day's report.
fn day_report() -> String {
    format!("/api/v1/reports/daily?date={}", fixture_date(0))
}

/// A minute-long interval `minute` minutes after 08:00 UTC without input, every second
/// passive under `held_by`.
fn passive_minute(task: &str, minute: i64, held_by: &str) -> Value {
    let mut i = interval(task, minute * 60, 60);
    i["active"] = json!("0".repeat(60));
    i["counts"] = json!({"keys": 0, "clicks": 0, "scrolls": 0, "moves": 0});
    i["passive"] = json!("1".repeat(60));
    i["presence"] = json!([{"offset": 0, "seconds": 60, "held_by": held_by}]);
    i
}

async fn post(f: &Fixture, token: &str, items: Vec<Value>) -> Value {
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(token),
            Some(json!({ "intervals": items })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn all_accepted(body: &Value) {
    assert!(
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "accepted"),
        "{body}"
    );
}

/// Ann's day: 10 minutes of work, then a 100-minute "call" without input, the first 70
/// minutes held by a meeting app and the rest by a program keeping the inhibitor.
async fn post_call(f: &Fixture, ann: &str) -> String {
    let task = f.task(ann).await;
    let mut items: Vec<Value> = (0..10).map(|m| interval(&task, m * 60, 60)).collect();
    items.extend((10..80).map(|m| passive_minute(&task, m, "org.example.Meeting (zoom)")));
    items.extend((80..110).map(|m| passive_minute(&task, m, "keepawake (python3)")));
    all_accepted(&post(f, ann, items).await);
    task
}

async fn the_day_names_who_held_presence_and_a_long_stretch_is_flagged(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    post_call(&f, &ann).await;
    let (status, day) = f.call("GET", &day_report(), Some(&ann), None).await;
    assert_eq!(status, StatusCode::OK, "{day}");
    assert_eq!(day["passive_secs"], 100 * 60);
    assert_eq!(
        day["presence"],
        json!([
            {"held_by": "org.example.Meeting (zoom)", "passive_secs": 70 * 60},
            {"held_by": "keepawake (python3)", "passive_secs": 30 * 60},
        ])
    );
    let flags = day["unusual"]["flags"].as_array().unwrap();
    let long = flags
        .iter()
        .find(|f| f["kind"] == "long_passive")
        .unwrap_or_else(|| panic!("no long_passive flag: {day}"));
    let span = &long["spans"][0];
    assert_eq!(span["started_at"], at(10 * 60));
    assert_eq!(span["ended_at"], at(110 * 60));
    assert_eq!(
        span["held_by"],
        json!(["org.example.Meeting (zoom)", "keepawake (python3)"])
    );

    // A stricter threshold of the organization's flags less; a looser one none.
    let boss = f.login("boss@acme.test", "boss-password").await;
    let (status, body) = f
        .call(
            "PUT",
            "/api/v1/unusual/thresholds",
            Some(&boss),
            Some(json!({"long_passive_minutes": 120})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, day) = f.call("GET", &day_report(), Some(&ann), None).await;
    assert!(
        !day["unusual"]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "long_passive"),
        "{day}"
    );
}

async fn passive_time_is_a_column_of_the_timesheet_csvs(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    post_call(&f, &ann).await;
    let (status, _, csv) = f
        .get_text(
            &format!(
                "/api/v1/timesheets.csv?period=week&date={}",
                fixture_date(0)
            ),
            &ann,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "user,date,task,tracked_secs,active_secs,passive_secs,manual_secs,total_secs,activity_pct,total_hours,state,locked_total_secs,changed_since_lock"
    );
    // The task's line leaves presence to the day's total (it is counted per day).
    let monday = fixture_date(0);
    for want in [
        format!("\"ann@acme.test\",{monday},\"Write report\",6600,600,,0,6600,9,1.83,open,,"),
        format!("\"ann@acme.test\",{monday},\"(day total)\",6600,600,6000,0,6600,9,1.83,open,,"),
        format!(
            "\"ann@acme.test\",week {monday},\"(total)\",6600,600,6000,0,6600,9,1.83,open,,false"
        ),
    ] {
        assert!(lines.contains(&want.as_str()), "no line {want} in\n{csv}");
    }
    let boss = f.login("boss@acme.test", "boss-password").await;
    let (status, _, csv) = f
        .get_text(
            &format!("/api/v1/timesheets/team.csv?period=week&date={monday}"),
            &boss,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "user,name,date,tracked_secs,active_secs,passive_secs,manual_secs,total_secs,activity_pct,total_hours,state,locked_total_secs,changed_since_lock"
    );
    assert!(
        lines.contains(
            &format!("\"ann@acme.test\",\"Ann\",{monday},6600,600,6000,0,6600,9,1.83,open,,")
                .as_str()
        ),
        "{csv}"
    );
}

async fn the_organization_sets_the_passive_limit_within_bounds(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    const POLICY: &str = "/api/v1/timesheets/policy";
    // Everyone reads it (the agent asks as its person); the default is the engine's 2 hours.
    let (status, policy) = f.call("GET", POLICY, Some(&ann), None).await;
    assert_eq!(status, StatusCode::OK, "{policy}");
    assert_eq!(policy["passive_limit_secs"], 7200);
    for bad in [json!(7201), json!(-1), json!("600")] {
        let (status, body) = f
            .call(
                "PUT",
                POLICY,
                Some(&boss),
                Some(json!({"passive_limit_secs": bad})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (status, _) = f
        .call(
            "PUT",
            POLICY,
            Some(&ann),
            Some(json!({"passive_limit_secs": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only admins set it");
    let mut lowered = policy.clone();
    lowered["passive_limit_secs"] = json!(0);
    let (status, body) = f.call("PUT", POLICY, Some(&boss), Some(lowered)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, policy) = f.call("GET", POLICY, Some(&ann), None).await;
    assert_eq!(policy["passive_limit_secs"], 0, "off: no passive presence");
}

async fn a_presence_stretch_over_seconds_with_input_is_refused(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    let mut forged = passive_minute(&task, 0, "zoom");
    forged["presence"] = json!([{"offset": 50, "seconds": 20, "held_by": "zoom"}]);
    let mut control = passive_minute(&task, 2, "zoom");
    control["presence"][0]["held_by"] = json!("zoom\u{1b}[31m");
    let body = post(&f, &ann, vec![forged, control]).await;
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "rejected", "{body}");
    assert!(
        results[0]["reason"].as_str().unwrap().contains("runs past"),
        "{body}"
    );
    assert_eq!(results[1]["status"], "rejected", "{body}");
    assert!(
        results[1]["reason"].as_str().unwrap().contains("held_by"),
        "{body}"
    );
}
