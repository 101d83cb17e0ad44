//! The team's day of a date not settled, from running days (issue 30): read after read, as
//! intervals arrive out of order and some twice, each person's line is what their own day
//! report computes whole; a correction, manual time and a late interval count at once; a
//! second server instance reading the date cold agrees with the first.

use super::*;
use std::collections::BTreeMap;

on_both!(
    the_team_day_not_settled_read_after_read_is_each_persons_day,
    corrections_manual_time_and_late_intervals_count_in_the_running_team_day,
);

/// A date not settled and where its 10:00 is now: the UTC offset that makes three hours ago
/// 10:00 local, and the start of that hour (UTC seconds). Every interval below is stamped with
/// the offset, so the day's local hours never cross a midnight, whenever the test runs.
fn local_morning() -> (String, i32, i64) {
    let start = (chrono::Utc::now().timestamp() - 3 * 3600).div_euclid(60) * 60;
    let minute_of_day = start.rem_euclid(86_400) / 60;
    let mut offset = (10 * 60 - minute_of_day).rem_euclid(1440) as i32;
    if offset > 720 {
        offset -= 1440;
    }
    let local = chrono::DateTime::from_timestamp(start + i64::from(offset) * 60, 0).unwrap();
    (local.date_naive().to_string(), offset, start)
}

fn time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// What a stretch of minutes looks like.
#[derive(Clone, Copy)]
enum Kind {
    /// Input every second from a program, the mouse only, one window: a jiggler.
    Jiggler,
    /// Typing with pauses, in an editor and on docs.rs.
    Typing,
    /// A call: no input, an idle inhibitor held by zoom.
    Call,
}

/// A 60 s interval starting at `start` (UTC seconds) in `offset`, on `device`.
fn minute(task: &str, start: i64, offset: i32, device: &str, kind: Kind) -> Value {
    let mut i = json!({
        "id": uuid::Uuid::now_v7().to_string(),
        "device_id": device,
        "task_id": task,
        "started_at": time(start),
        "ended_at": time(start + 60),
        "utc_offset_minutes": offset,
        "end_reason": "boundary",
    });
    match kind {
        Kind::Jiggler => {
            i["active"] = json!("1".repeat(60));
            i["counts"] = json!({"keys": 0, "clicks": 0, "scrolls": 0, "moves": 300});
            i["injected"] = json!("1".repeat(60));
            i["injected_counts"] = json!({"keys": 0, "clicks": 0, "scrolls": 0, "moves": 300});
            i["windows"] =
                json!([{"offset": 0, "seconds": 60, "app": "editor", "title": "notes.md"}]);
        }
        Kind::Typing => {
            i["active"] = json!("1110".repeat(15));
            i["counts"] = json!({"keys": 90, "clicks": 4, "scrolls": 2, "moves": 40});
            i["windows"] = json!([
                {"offset": 0, "seconds": 35, "app": "editor", "title": "report.md"},
                {"offset": 35, "seconds": 25, "app": "firefox", "title": "chrono",
                 "url": "https://docs.rs/chrono"},
            ]);
        }
        Kind::Call => {
            i["active"] = json!("0".repeat(60));
            i["counts"] = json!({"keys": 0, "clicks": 0, "scrolls": 0, "moves": 0});
            i["passive"] = json!("1".repeat(60));
            i["presence"] = json!([{"offset": 0, "seconds": 60, "held_by": "zoom"}]);
            i["windows"] = json!([{"offset": 0, "seconds": 60, "app": "zoom", "title": "Standup"}]);
        }
    }
    i
}

async fn deliver(f: &Fixture, token: &str, intervals: &[Value]) -> Vec<String> {
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(token),
            Some(json!({ "intervals": intervals })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}

/// The team's day of `date` as Boss reads it, by email.
async fn team_day(f: &Fixture, boss: &str, date: &str) -> BTreeMap<String, Value> {
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
        .map(|u| (u["user"]["email"].as_str().unwrap().to_string(), u.clone()))
        .collect()
}

/// Each person's line of `team` is what their day report says (computed whole).
async fn lines_are_the_days(f: &Fixture, boss: &str, date: &str, team: &BTreeMap<String, Value>) {
    for line in team.values() {
        let id = line["user"]["id"].as_str().unwrap();
        let (status, day) = f
            .call(
                "GET",
                &format!("/api/v1/reports/daily?date={date}&user_id={id}"),
                Some(boss),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{day}");
        for key in [
            "utc_offset_minutes",
            "tracked_secs",
            "active_secs",
            "idle_secs",
            "passive_secs",
            "manual_secs",
            "activity_pct",
            "productive_secs",
            "unproductive_secs",
            "neutral_secs",
            "first_activity",
            "last_activity",
            "devices",
        ] {
            assert_eq!(line[key], day[key], "{key} of {id}: line {line}, day {day}");
        }
        let kinds: Vec<&Value> = day["unusual"]["flags"]
            .as_array()
            .map_or_else(Vec::new, |f| f.iter().map(|f| &f["kind"]).collect());
        let line_kinds: Vec<&Value> = line["unusual"].as_array().unwrap().iter().collect();
        assert_eq!(line_kinds, kinds, "flags of {id}");
        assert_eq!(
            line["injected_pct"], day["unusual"]["injected_pct"],
            "injected % of {id}"
        );
    }
}

const LAPTOP: &str = "01930000-0000-7000-8000-00000000d001";
const DESKTOP: &str = "01930000-0000-7000-8000-00000000d002";

async fn the_team_day_not_settled_read_after_read_is_each_persons_day(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&boss).await;
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/rules",
            Some(&boss),
            Some(json!({"target": "host", "kind": "glob", "pattern": "docs.rs", "class": "productive"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Short calls count as long: the random stretches below trip every rule of the day.
    let (status, body) = f
        .call(
            "PUT",
            "/api/v1/unusual/thresholds",
            Some(&boss),
            Some(json!({"long_passive_minutes": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (date, offset, start) = local_morning();
    // Ann: 50 minutes of a jiggler on her laptop, 20 of typing on her desktop, 10 of a call.
    let mut anns: Vec<Value> = Vec::new();
    for m in 0..80 {
        let (kind, device) = match m {
            0..50 => (Kind::Jiggler, LAPTOP),
            50..70 => (Kind::Typing, DESKTOP),
            _ => (Kind::Call, LAPTOP),
        };
        anns.push(minute(&task, start + m * 60, offset, device, kind));
    }
    let bosses: Vec<Value> = (0..30)
        .map(|m| minute(&task, start + 600 + m * 60, offset, LAPTOP, Kind::Typing))
        .collect();
    assert_eq!(
        team_day(&f, &boss, &date).await["ann@acme.test"]["tracked_secs"],
        0
    );

    // Delivered out of order, a read after each delivery, and one delivery made again.
    for from in [60, 0, 40, 20] {
        let statuses = deliver(&f, &ann, &anns[from..from + 20]).await;
        assert!(statuses.iter().all(|s| s == "accepted"), "{statuses:?}");
        if from == 0 {
            deliver(&f, &boss, &bosses).await;
            // The minute's pass between reads adds what came; the read then adds it once.
            metron_server::running_days::keep_current(&f.state).await;
        }
        let team = team_day(&f, &boss, &date).await;
        lines_are_the_days(&f, &boss, &date, &team).await;
    }
    let statuses = deliver(&f, &ann, &anns[20..40]).await;
    assert!(statuses.iter().all(|s| s == "duplicate"), "{statuses:?}");
    let team = team_day(&f, &boss, &date).await;
    lines_are_the_days(&f, &boss, &date, &team).await;
    let anns_line = &team["ann@acme.test"];
    assert_eq!(anns_line["tracked_secs"], 80 * 60);
    assert_eq!(anns_line["passive_secs"], 10 * 60);
    assert_eq!(anns_line["devices"].as_array().unwrap().len(), 2);
    assert!(anns_line["productive_secs"].as_u64().unwrap() > 0);
    let kinds: Vec<&str> = anns_line["unusual"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    for kind in [
        "high_activity",
        "mouse_only",
        "same_window",
        "injected_input",
        "long_passive",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert_eq!(team["boss@acme.test"]["tracked_secs"], 30 * 60);
    assert_eq!(f.state.running.len(), 1, "one organization's date held");

    // A second instance on the same database reads the date cold: the same lines.
    let other = AppState::new(db::connect(&f.url()).await.unwrap());
    let cold = Fixture {
        app: server_api::app(other.clone()),
        state: other,
        _dir: tempfile::tempdir().unwrap(),
    };
    assert_eq!(team_day(&cold, &boss, &date).await, team);
}

async fn corrections_manual_time_and_late_intervals_count_in_the_running_team_day(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&boss).await;
    let (date, offset, start) = local_morning();
    let anns: Vec<Value> = (0..20)
        .map(|m| minute(&task, start + m * 60, offset, LAPTOP, Kind::Typing))
        .collect();
    deliver(&f, &ann, &anns).await;
    let team = team_day(&f, &boss, &date).await;
    assert_eq!(team["ann@acme.test"]["tracked_secs"], 20 * 60);

    // A late interval of five days ago moves her version: her day is added up again, the same.
    let mut late = minute(&task, start - 5 * 86_400, offset, LAPTOP, Kind::Typing);
    late["utc_offset_minutes"] = json!(0);
    assert_eq!(deliver(&f, &ann, &[late]).await, ["accepted"]);
    let more: Vec<Value> = (60..65)
        .map(|m| minute(&task, start + m * 60, offset, LAPTOP, Kind::Typing))
        .collect();
    deliver(&f, &ann, &more).await;
    let team = team_day(&f, &boss, &date).await;
    assert_eq!(team["ann@acme.test"]["tracked_secs"], 25 * 60);
    lines_are_the_days(&f, &boss, &date, &team).await;

    // Manual time in a gap, approved: counted at the next read.
    let (status, entry) = f
        .call(
            "POST",
            "/api/v1/manual-entries",
            Some(&ann),
            Some(json!({"task_id": task, "started_at": time(start + 30 * 60),
                        "ended_at": time(start + 45 * 60), "note": "whiteboard session"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    let decide = |what: &'static str, id: Value| {
        let (f, boss) = (&f, boss.clone());
        async move {
            let (status, body) = f
                .call(
                    "POST",
                    &format!("/api/v1/{what}/{}/decision", id.as_str().unwrap()),
                    Some(&boss),
                    Some(json!({"decision": "approve", "note": "ok"})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    };
    decide("manual-entries", entry["id"].clone()).await;
    let team = team_day(&f, &boss, &date).await;
    assert_eq!(team["ann@acme.test"]["manual_secs"], 15 * 60);
    lines_are_the_days(&f, &boss, &date, &team).await;

    // One of her intervals removed by an approved correction: 24 minutes tracked.
    let (status, correction) = f
        .call(
            "POST",
            "/api/v1/corrections",
            Some(&ann),
            Some(
                json!({"interval_id": anns[5]["id"], "change": {"action": "remove"},
                        "reason": "personal errand"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{correction}");
    // Inside the organization's edit window a person's own correction stands at once.
    if correction["status"] != "approved" {
        decide("corrections", correction["id"].clone()).await;
    }
    let team = team_day(&f, &boss, &date).await;
    assert_eq!(team["ann@acme.test"]["tracked_secs"], 24 * 60);
    lines_are_the_days(&f, &boss, &date, &team).await;
}
