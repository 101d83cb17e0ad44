//! Intervals delivered too late (issue 27): one that started before the organization's edit
//! window and the 90 days a device has after it is refused with a reason that says so (it
//! was accepted up to the 400 days of retention), whatever the window is set to.

use super::*;
use metron_core::wire::REASON_TOO_OLD;

on_both!(an_interval_older_than_the_edit_window_and_the_delivery_days_is_refused,);

/// A 60 s interval that started `days_ago` days ago.
fn days_ago(task: &str, days_ago: i64) -> Value {
    let start = chrono::Utc::now().timestamp() - days_ago * 86_400;
    let at = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let mut i = interval(task, 0, 60);
    i["started_at"] = json!(at(start));
    i["ended_at"] = json!(at(start + 60));
    i
}

async fn results(f: &Fixture, token: &str, items: Vec<Value>) -> Vec<Value> {
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(token),
            Some(json!({ "intervals": items })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["results"].as_array().unwrap().clone()
}

async fn an_interval_older_than_the_edit_window_and_the_delivery_days_is_refused(f: Fixture) {
    let admin = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&admin).await;
    // The default window is 7 days: 97 days back at most.
    let answer = results(
        &f,
        &ann,
        vec![
            days_ago(&task, 300),
            days_ago(&task, 98),
            days_ago(&task, 96),
            days_ago(&task, 1),
        ],
    )
    .await;
    let statuses: Vec<&str> = answer
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["rejected", "rejected", "accepted", "accepted"],
        "{answer:?}"
    );
    let reason = answer[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(REASON_TOO_OLD) && reason.contains("97 days ago"),
        "{reason}"
    );
    assert!(reason.contains("7-day edit window"), "{reason}");

    // A window of 0 days leaves the 90 days of delivery; 366 days reach further back.
    for (window, old, accepted) in [(0, 91, false), (0, 89, true), (366, 390, true)] {
        let (status, body) = f
            .call(
                "PUT",
                "/api/v1/timesheets/policy",
                Some(&admin),
                Some(json!({"edit_window_days": window})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let answer = results(&f, &ann, vec![days_ago(&task, old)]).await;
        assert_eq!(
            answer[0]["status"] == "accepted",
            accepted,
            "window {window}, {old} days ago: {answer:?}"
        );
    }
}
