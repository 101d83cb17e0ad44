//! Unusual activity (issue 15): synthetic days that trip each flag and a working day that
//! trips none, read through the day report and the team's day; the thresholds admins change,
//! and hostile threshold updates.

use super::*;

on_both!(
    a_jiggler_afternoon_is_flagged_with_its_evidence_and_a_working_morning_is_not,
    admins_change_the_thresholds_and_past_days_are_reassessed,
    bad_thresholds_are_refused_and_change_nothing,
);

/// The fixture day's report.
fn day_report() -> String {
    format!("/api/v1/reports/daily?date={}", fixture_date(0))
}
const THRESHOLDS: &str = "/api/v1/unusual/thresholds";

/// One minute-long interval `minute` minutes after 08:00 UTC: `active` seconds of input (the
/// first ones), `injected` of them from a program, in `window`.
fn minute(
    task: &str,
    minute: i64,
    active: usize,
    keys: u64,
    injected: usize,
    window: &str,
) -> Value {
    let flags = |n: usize| format!("{}{}", "1".repeat(n), "0".repeat(60 - n));
    let mut i = interval(task, minute * 60, 60);
    i["active"] = json!(flags(active));
    i["counts"] = json!({"keys": keys, "clicks": 0, "scrolls": 0, "moves": 40});
    i["injected"] = json!(flags(injected));
    i["injected_counts"] =
        json!({"keys": 0, "clicks": 0, "scrolls": 0, "moves": if injected > 0 { 2 } else { 0 }});
    i["windows"][0]["title"] = json!(window);
    i
}

/// A working morning (08:00-10:00 UTC: activity between 20 and 85 %, typing, a new window every
/// 7 minutes) and, for `jiggler`, an afternoon of XTEST moves every 30 s in one window
/// (13:00-14:30).
async fn post_day(f: &Fixture, token: &str, jiggler: bool) {
    let task = f.task(token).await;
    let mut items: Vec<Value> = (0..120)
        .map(|m| {
            let i = m as usize;
            let window = ["report.md", "notes.md", "plan.md"][(i / 7) % 3];
            minute(
                &task,
                m,
                [12, 51, 30, 44, 25, 38, 49][i % 7],
                [0, 80, 35, 5, 60, 20][i % 6],
                0,
                window,
            )
        })
        .collect();
    if jiggler {
        items.extend((300..390).map(|m| minute(&task, m, 2, 0, 2, "news")));
    }
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(token),
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
}

fn kinds(unusual: &Value) -> Vec<String> {
    unusual["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn a_jiggler_afternoon_is_flagged_with_its_evidence_and_a_working_morning_is_not(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    post_day(&f, &ann, true).await;
    post_day(&f, &boss, false).await;

    let (status, day) = f.call("GET", &day_report(), Some(&ann), None).await;
    assert_eq!(status, StatusCode::OK, "{day}");
    let unusual = &day["unusual"];
    assert_eq!(
        kinds(unusual),
        [
            "steady_activity",
            "mouse_only",
            "same_window",
            "injected_input"
        ],
        "{unusual}"
    );
    // 180 injected of the day's active seconds: the morning's plus the afternoon's 180.
    let active = day["active_secs"].as_u64().unwrap();
    assert_eq!(
        unusual["injected_pct"].as_u64(),
        Some((200 * 180 + active) / (2 * active))
    );
    for flag in unusual["flags"].as_array().unwrap() {
        let span = &flag["spans"][0];
        assert_eq!(span["started_at"], at(5 * 3600), "{flag}");
        assert_eq!(span["ended_at"], at(6 * 3600 + 1800), "{flag}");
        assert_eq!(span["tracked_secs"], 5400);
        assert_eq!(span["activity_pct"], 3);
        assert_eq!(
            (
                span["min_minute_pct"].as_u64(),
                span["max_minute_pct"].as_u64()
            ),
            (Some(3), Some(3))
        );
        assert_eq!(
            (span["keys"].as_u64(), span["moves"].as_u64()),
            (Some(0), Some(40 * 90))
        );
        assert_eq!(span["injected_secs"], 180);
    }
    assert_eq!(unusual["flags"][2]["spans"][0]["app"], "editor");
    assert_eq!(unusual["flags"][2]["spans"][0]["title"], "news");
    assert_eq!(
        unusual["flags"][2]["rule"],
        "no window change, with input every minute, for 30 min"
    );
    assert_eq!(unusual["thresholds"]["high_activity_pct"], 95);

    // The working morning alone: nothing, and no injected input.
    let (_, own) = f.call("GET", &day_report(), Some(&boss), None).await;
    assert_eq!(
        kinds(&own["unusual"]),
        Vec::<String>::new(),
        "{}",
        own["unusual"]
    );
    assert_eq!(own["unusual"]["injected_pct"], 0);

    // The team's day: the flags per person and the injected share; admins only.
    let (status, team) = f
        .call(
            "GET",
            &format!("/api/v1/reports/team?date={}", fixture_date(0)),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{team}");
    let row = |email: &str| {
        team["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["user"]["email"] == email)
            .unwrap()
            .clone()
    };
    assert_eq!(
        row("ann@acme.test")["unusual"],
        json!([
            "steady_activity",
            "mouse_only",
            "same_window",
            "injected_input"
        ])
    );
    assert_eq!(
        row("ann@acme.test")["injected_pct"],
        unusual["injected_pct"]
    );
    assert_eq!(row("boss@acme.test")["unusual"], json!([]));
}

async fn admins_change_the_thresholds_and_past_days_are_reassessed(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    post_day(&f, &ann, true).await;
    // Everyone reads the rules they are judged by; the defaults until an admin sets them.
    let (status, defaults) = f.call("GET", THRESHOLDS, Some(&ann), None).await;
    assert_eq!(status, StatusCode::OK, "{defaults}");
    assert_eq!(
        defaults,
        json!({
            "high_activity_pct": 95, "high_activity_minutes": 45,
            "steady_spread_pct": 4, "steady_minutes": 60,
            "mouse_only_max_keys_per_minute": 2, "mouse_only_minutes": 30,
            "same_window_minutes": 30, "injected_min_secs": 1,
            "long_passive_minutes": 90
        })
    );
    let (status, body) = f
        .call(
            "PUT",
            THRESHOLDS,
            Some(&ann),
            Some(json!({"same_window_minutes": 120})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Longer stretches for two rules, fewer injected seconds tolerated: the same stored day
    // now trips only the other two.
    let (status, set) = f
        .call(
            "PUT",
            THRESHOLDS,
            Some(&boss),
            Some(
                json!({"same_window_minutes": 120, "steady_minutes": 91, "injected_min_secs": 181}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["same_window_minutes"], 120);
    assert_eq!(
        set["high_activity_pct"], 95,
        "fields left out take their defaults"
    );
    let (_, read) = f.call("GET", THRESHOLDS, Some(&ann), None).await;
    assert_eq!(read, set);
    let (_, day) = f.call("GET", &day_report(), Some(&ann), None).await;
    assert_eq!(kinds(&day["unusual"]), ["mouse_only"], "{}", day["unusual"]);
    assert_eq!(day["unusual"]["thresholds"], set);
    // At 180 injected seconds, 180 trips the rule again.
    f.call(
        "PUT",
        THRESHOLDS,
        Some(&boss),
        Some(json!({"injected_min_secs": 180})),
    )
    .await;
    let (_, day) = f.call("GET", &day_report(), Some(&ann), None).await;
    assert_eq!(
        kinds(&day["unusual"]),
        [
            "steady_activity",
            "mouse_only",
            "same_window",
            "injected_input"
        ]
    );

    // Another organization keeps its own (the defaults).
    let eve = f.login("eve@other.test", "eve-password").await;
    let (_, theirs) = f.call("GET", THRESHOLDS, Some(&eve), None).await;
    assert_eq!(theirs, defaults);
}

async fn bad_thresholds_are_refused_and_change_nothing(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    for (body, says) in [
        (json!({"high_activity_pct": 101}), "high_activity_pct"),
        (json!({"steady_minutes": 0}), "steady_minutes"),
        (
            json!({"same_window_minutes": 100000}),
            "same_window_minutes",
        ),
        (json!({"injected_min_secs": 0}), "injected_min_secs"),
        (json!({"same_window": 60}), "same_window"),
        (json!({"steady_minutes": -5}), "expected u32"),
        (json!({"steady_minutes": "60"}), "expected u32"),
        (json!([1, 2]), "JSON object"),
    ] {
        let (status, answer) = f
            .call("PUT", THRESHOLDS, Some(&boss), Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(says),
            "{body}: {answer}"
        );
    }
    let big = json!({"note": "x".repeat(5 * 1024 * 1024)});
    let (status, _) = f.call("PUT", THRESHOLDS, Some(&boss), Some(big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (_, read) = f.call("GET", THRESHOLDS, Some(&boss), None).await;
    assert_eq!(read["steady_minutes"], 60, "nothing was stored");
    let (status, _) = f.call("GET", THRESHOLDS, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
