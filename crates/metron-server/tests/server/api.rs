//! API v1 exactly as SPEC §4 says, through `oneshot`.

use super::*;

on_both!(
    devices_that_delivered_in_the_last_three_minutes_are_active,
    health_and_openapi_answer_without_a_token,
    login_gives_a_token_and_wrong_passwords_get_401,
    tokens_are_checked_and_logout_revokes_them,
    the_eleventh_login_in_a_minute_is_refused_with_retry_after,
    tasks_are_listed_per_organization_and_validated,
    ingest_judges_each_item_in_request_order,
    a_resent_batch_is_all_duplicates_and_stores_nothing_twice,
    malformed_bodies_get_400_json_and_huge_ones_413,
    intervals_post_requires_a_valid_token,
    no_user_reads_or_overwrites_another_users_intervals
);

async fn health_and_openapi_answer_without_a_token(f: Fixture) {
    assert_eq!(
        f.call("GET", "/api/v1/health", None, None).await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    let (status, doc) = f.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/login",
        "/api/v1/me",
        "/api/v1/tasks",
        "/api/v1/intervals",
        "/api/v1/logout",
        "/api/v1/health",
        "/api/v1/devices/active",
        "/api/v1/devices",
        "/api/v1/devices/{device_id}",
        "/api/v1/unusual/thresholds",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }
    // The document and the router are one table: every documented method of every documented
    // path reaches a handler (which may refuse a missing token or body, but is never the
    // fallback's "no such endpoint" or "method not allowed"), and query parameters are
    // documented as such.
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 72, "{:?}", paths.keys().collect::<Vec<_>>());
    for (path, methods) in paths {
        for (method, operation) in methods.as_object().unwrap() {
            let concrete = path
                .replace("{id}", "00000000-0000-0000-0000-000000000000")
                .replace("{device_id}", "00000000-0000-0000-0000-000000000000");
            let response = f
                .app
                .clone()
                .oneshot(
                    Request::builder()
                        .method(method.to_uppercase().as_str())
                        .uri(&concrete)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            // The sign-in steps a browser shows answer a page, the rest JSON.
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                body["error"] != "no such endpoint",
                "{method} {path} is documented but not routed"
            );
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let placed = parameter["in"].as_str().unwrap();
                let name = parameter["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                if placed == "header" {
                    // A request header the route reads (If-None-Match), never a query's.
                    assert!(!in_path && name.contains('-'), "{method} {path} {name}");
                    continue;
                }
                assert_eq!(
                    placed,
                    if in_path { "path" } else { "query" },
                    "{method} {path} {name}"
                );
            }
        }
    }
}

async fn login_gives_a_token_and_wrong_passwords_get_401(f: Fixture) {
    let (status, body) = f.try_login("ann@acme.test", "ann-password").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["email"], "ann@acme.test");
    assert_eq!(body["user"]["name"], "Ann");
    assert!(body["user"]["id"].is_string());
    let (status, body) = f.try_login("ann@acme.test", "nope").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].is_string());
    let (status, _) = f.try_login("nobody@acme.test", "nope").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn tokens_are_checked_and_logout_revokes_them(f: Fixture) {
    let token = f.login("ann@acme.test", "ann-password").await;
    let (status, me) = f.call("GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(
        (status, me["email"].clone()),
        (StatusCode::OK, json!("ann@acme.test"))
    );
    assert_eq!(
        f.call("GET", "/api/v1/me", None, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        f.call("GET", "/api/v1/me", Some("forged"), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        f.call("POST", "/api/v1/logout", Some(&token), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        f.call("GET", "/api/v1/me", Some(&token), None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn the_eleventh_login_in_a_minute_is_refused_with_retry_after(f: Fixture) {
    for _ in 0..10 {
        f.try_login("ann@acme.test", "bad").await;
    }
    let req = Request::post("/api/v1/login")
        .body(Body::from(
            json!({"email": "ann@acme.test", "password": "ann-password"}).to_string(),
        ))
        .unwrap();
    let response = f.app.clone().oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get("retry-after").is_some());
}

async fn tasks_are_listed_per_organization_and_validated(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let eve = f.login("eve@other.test", "eve-password").await;
    let id = f.task(&ann).await;
    let (_, tasks) = f.call("GET", "/api/v1/tasks", Some(&boss), None).await;
    assert_eq!(
        tasks,
        json!([{"id": id, "name": "Write report", "project": "Q4"}])
    );
    let (_, tasks) = f.call("GET", "/api/v1/tasks", Some(&eve), None).await;
    assert_eq!(tasks, json!([]));
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/tasks",
            Some(&ann),
            Some(json!({"name": "  "})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/tasks",
            Some(&ann),
            Some(json!({"nom": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn ingest_judges_each_item_in_request_order(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    let a = interval(&task, 0, 60);
    let b = interval(&task, 60, 45);
    let mut a_changed = a.clone();
    a_changed["counts"]["keys"] = json!(999);
    let overlapping = interval(&task, 30, 60);
    let mut too_long = interval(&task, 1000, 60);
    too_long["active"] = json!("1".repeat(59));
    let unknown_task = interval("no-such-task", 2000, 60);
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({"intervals": [a, b, a.clone(), a_changed, overlapping, too_long, unknown_task, {"id": 7}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let r = body["results"].as_array().unwrap();
    assert_eq!(r.len(), 8);
    assert_eq!(r[0], json!({"id": a["id"], "status": "accepted"}));
    assert_eq!(r[1]["status"], "accepted");
    assert_eq!(r[2], json!({"id": a["id"], "status": "duplicate"}));
    assert_eq!(r[3]["reason"], "id_conflict");
    assert_eq!(r[4]["reason"], "overlap");
    assert_eq!(r[4]["conflicts_with"], a["id"]);
    assert!(r[5]["reason"]
        .as_str()
        .unwrap()
        .starts_with("invalid: active has 59"));
    assert!(r[6]["reason"]
        .as_str()
        .unwrap()
        .starts_with("invalid: unknown task"));
    assert!(r[7]["reason"].as_str().unwrap().starts_with("invalid: "));
    assert!(r[7]["id"].is_null());
    // What was accepted stays accepted: exactly a and b are stored.
    let (_, stored) = f
        .call(
            "GET",
            &format!(
                "/api/v1/intervals?from={}&to={}",
                day_start(0),
                day_start(1)
            ),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(stored.as_array().unwrap().len(), 2);
    assert_eq!(stored[0], a);
}

async fn a_resent_batch_is_all_duplicates_and_stores_nothing_twice(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    let batch: Vec<Value> = (0..100).map(|k| interval(&task, k * 60, 60)).collect();
    let (_, first) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({ "intervals": batch })),
        )
        .await;
    let (_, again) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({ "intervals": batch })),
        )
        .await;
    assert!(first["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "accepted"));
    assert!(again["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "duplicate"));
    let (_, stored) = f
        .call(
            "GET",
            &format!(
                "/api/v1/intervals?from={}&to={}",
                day_start(0),
                day_start(1)
            ),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(stored.as_array().unwrap().len(), 100);
}

async fn malformed_bodies_get_400_json_and_huge_ones_413(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    for body in [
        "not json",
        "[]",
        "{}",
        "{\"intervals\": 5}",
        "{\"intervals\": []}",
    ] {
        let req = Request::post("/api/v1/intervals")
            .header("authorization", format!("Bearer {ann}"))
            .body(Body::from(body))
            .unwrap();
        let (status, answer) = f.send(req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(answer["error"].is_string(), "{body}: {answer}");
    }
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({"intervals": vec![json!({}); 501]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let huge = format!("{{\"intervals\": [\"{}\"]}}", "x".repeat(5 * 1024 * 1024));
    let req = Request::post("/api/v1/intervals")
        .header("authorization", format!("Bearer {ann}"))
        .body(Body::from(huge))
        .unwrap();
    let (status, answer) = f.send(req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer["error"].is_string());
    let (status, answer) = f.call("GET", "/api/v1/nowhere", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(answer["error"].is_string());
    let (status, _) = f
        .call(
            "GET",
            "/api/v1/intervals?from=yesterday&to=2026-11-24T00:00:00Z",
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = f.call("GET", "/api/v1/intervals", Some(&ann), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn intervals_post_requires_a_valid_token(f: Fixture) {
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            None,
            Some(json!({"intervals": [interval("t", 0, 60)]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].is_string());
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some("wrong"),
            Some(json!({"intervals": [interval("t", 0, 60)]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn no_user_reads_or_overwrites_another_users_intervals(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let eve = f.login("eve@other.test", "eve-password").await;
    let task = f.task(&ann).await;
    let a = interval(&task, 0, 60);
    f.call(
        "POST",
        "/api/v1/intervals",
        Some(&ann),
        Some(json!({"intervals": [a.clone()]})),
    )
    .await;
    let range = format!(
        "/api/v1/intervals?from={}&to={}",
        day_start(0),
        day_start(1)
    );
    // Boss (same organization) and Eve (another) see none of Ann's intervals in their own lists.
    assert_eq!(f.call("GET", &range, Some(&boss), None).await.1, json!([]));
    assert_eq!(f.call("GET", &range, Some(&eve), None).await.1, json!([]));
    // Resending Ann's interval as Boss is an id_conflict, not a duplicate: it is not Boss's.
    let (_, r) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&boss),
            Some(json!({"intervals": [a.clone()]})),
        )
        .await;
    assert_eq!(r["results"][0]["reason"], "id_conflict");
    // Eve can't book on Ann's organization's task.
    let (_, r) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&eve),
            Some(json!({"intervals": [interval(&task, 0, 60)]})),
        )
        .await;
    assert!(r["results"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("unknown task"));
    // Boss's own interval at the same time as Ann's is fine: overlap is per user.
    let (_, r) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&boss),
            Some(json!({"intervals": [interval(&task, 0, 60)]})),
        )
        .await;
    assert_eq!(r["results"][0]["status"], "accepted");
    assert_eq!(f.call("GET", &range, Some(&ann), None).await.1, json!([a]));
}

async fn devices_that_delivered_in_the_last_three_minutes_are_active(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let task = f.task(&ann).await;
    let now = chrono::Utc::now().timestamp();
    let at = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let recent = |device: &str, start: i64| {
        let mut i = interval(&task, 0, 60);
        i["device_id"] = json!(device);
        i["started_at"] = json!(at(start));
        i["ended_at"] = json!(at(start + 60));
        i
    };
    let laptop = "01930000-0000-7000-8000-0000000000a1";
    let desktop = "01930000-0000-7000-8000-0000000000a2";
    let old = "01930000-0000-7000-8000-0000000000a3";
    let batch = json!({"intervals": [recent(old, now - 3600), recent(laptop, now - 150), recent(desktop, now - 70)]});
    let (_, r) = f
        .call("POST", "/api/v1/intervals", Some(&ann), Some(batch))
        .await;
    assert!(
        r["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "accepted"),
        "{r}"
    );
    let (status, active) = f
        .call("GET", "/api/v1/devices/active", Some(&ann), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = active
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["device_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![laptop, desktop]);
    assert_eq!(active[1]["last_ended_at"], json!(at(now - 10)));
    assert_eq!(
        f.call("GET", "/api/v1/devices/active", Some(&boss), None)
            .await
            .1,
        json!([])
    );
    assert_eq!(
        f.call("GET", "/api/v1/devices/active", None, None).await.0,
        StatusCode::UNAUTHORIZED
    );
}
