//! A person's words (issue 27): notes, reasons and names refuse control characters (NUL
//! among them, which PostgreSQL can't store: it answered 500) and lose bidi and other format
//! characters, which would make a reviewer read something else than what is stored.

use super::*;

on_both!(notes_reasons_and_names_refuse_control_characters_and_lose_bidi_ones,);

/// RIGHT-TO-LEFT OVERRIDE ... POP DIRECTIONAL FORMATTING around a word, a zero-width space.
const HIDDEN: &str = "\u{202E}devorppa\u{202C}\u{200B}";

fn at(secs_ago: i64) -> String {
    chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp() - secs_ago, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn notes_reasons_and_names_refuse_control_characters_and_lose_bidi_ones(f: Fixture) {
    let admin = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;

    // Names: a task's, a person's.
    let (status, task) = f
        .call(
            "POST",
            "/api/v1/tasks",
            Some(&admin),
            Some(json!({"name": format!("Report {HIDDEN}"), "project": "Q4\u{2066}"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    assert_eq!(
        (task["name"].as_str(), task["project"].as_str()),
        (Some("Report devorppa"), Some("Q4"))
    );
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/tasks",
            Some(&admin),
            Some(json!({"name": "a\u{0}b", "project": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let zed = accounts::add_user(
        &f.state,
        "acme",
        "zed@acme.test",
        &format!("Zed {HIDDEN}"),
        "zed-password",
        false,
    )
    .await
    .unwrap();
    assert_eq!(zed.name, "Zed devorppa");
    assert!(accounts::add_user(
        &f.state,
        "acme",
        "nul@acme.test",
        "N\u{0}L",
        "nul-password",
        false
    )
    .await
    .is_err());

    // A manual entry's note: NUL is refused (it was a 500 on PostgreSQL), bidi dropped.
    let task_id = task["id"].as_str().unwrap();
    let entry = |note: &str| {
        json!({"task_id": task_id, "started_at": at(3 * 3600), "ended_at": at(2 * 3600),
               "note": note})
    };
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/manual-entries",
            Some(&ann),
            Some(entry("lunch\u{0}")),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains("U+0000"), "{body}");
    let (status, created) = f
        .call(
            "POST",
            "/api/v1/manual-entries",
            Some(&ann),
            Some(entry(&format!("client call {HIDDEN}"))),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["note"], "client call devorppa");

    // A reason: the same.
    let withdraw = format!(
        "/api/v1/manual-entries/{}/withdraw",
        created["id"].as_str().unwrap()
    );
    let (status, _) = f
        .call(
            "POST",
            &withdraw,
            Some(&ann),
            Some(json!({"reason": "oops\u{1b}[2J"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = f
        .call(
            "POST",
            &withdraw,
            Some(&ann),
            Some(json!({"reason": format!("wrong day {HIDDEN}")})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, trail) = f
        .call(
            "GET",
            &format!("/api/v1/audit?from={}&to={}", at(86_400), at(-60)),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    let reasons: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"wrong day devorppa"), "{reasons:?}");
    assert!(
        !trail.to_string().contains('\u{202E}'),
        "no bidi control anywhere in the trail: {trail}"
    );
}
