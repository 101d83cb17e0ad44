//! Hostile and careless clients through `oneshot` (docs/SECURITY.md): login limits, token
//! lifetimes and offboarding, sizes of what a client sends, task creation, range caps.

use super::*;
use axum::extract::ConnectInfo;
use metron_server::limits::Limits;
use std::net::SocketAddr;
use std::time::Duration;

on_both!(
    login_failures_back_off_per_email_and_address_and_never_lock_out_the_owner,
    an_email_over_254_bytes_is_refused_before_any_state_is_kept,
    a_full_password_hashing_queue_answers_503_with_retry_after,
    forwarded_for_counts_only_from_a_trusted_proxy,
    a_disabled_user_is_refused_at_once_on_every_instance,
    signing_in_again_on_a_device_revokes_its_previous_token,
    admins_offboard_people_of_their_own_organization_only,
    a_password_change_revokes_every_token,
    a_4_mb_title_and_control_characters_are_refused_invalid,
    a_person_stores_at_most_the_daily_byte_cap,
    task_creation_is_an_organization_setting_rate_limited_and_capped,
    an_intervals_range_over_31_days_is_cut_and_says_so,
);

/// A login from `addr` (as the listener would record the peer).
async fn login_from(
    f: &Fixture,
    addr: &str,
    email: &str,
    password: &str,
    forwarded: Option<&str>,
) -> axum::response::Response {
    let mut req = Request::post("/api/v1/login").header("content-type", "application/json");
    if let Some(chain) = forwarded {
        req = req.header("x-forwarded-for", chain);
    }
    let mut req = req
        .body(Body::from(
            json!({"email": email, "password": password}).to_string(),
        ))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(addr.parse::<SocketAddr>().unwrap()));
    f.app.clone().oneshot(req).await.unwrap()
}

async fn login_failures_back_off_per_email_and_address_and_never_lock_out_the_owner(f: Fixture) {
    for _ in 0..10 {
        assert_eq!(
            login_from(&f, "203.0.113.66:4000", "ann@acme.test", "guess", None)
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let blocked = login_from(
        &f,
        "203.0.113.66:4000",
        "ann@acme.test",
        "ann-password",
        None,
    )
    .await;
    assert_eq!(
        blocked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the guessing address backs off"
    );
    assert!(blocked.headers().contains_key("retry-after"));
    let owner = login_from(
        &f,
        "198.51.100.7:5000",
        "ann@acme.test",
        "ann-password",
        None,
    )
    .await;
    assert_eq!(
        owner.status(),
        StatusCode::OK,
        "Ann signs in from her own address"
    );
    // Successes never count.
    for _ in 0..15 {
        assert_eq!(
            login_from(
                &f,
                "198.51.100.7:5000",
                "boss@acme.test",
                "boss-password",
                None
            )
            .await
            .status(),
            StatusCode::OK
        );
    }
}

async fn an_email_over_254_bytes_is_refused_before_any_state_is_kept(f: Fixture) {
    let long = format!("{}@acme.test", "a".repeat(1_000_000));
    let response = login_from(&f, "203.0.113.1:1", &long, "whatever", None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        f.state.login_limiter.keys(),
        0,
        "nothing is kept for a refused email"
    );
    let at_limit = format!("{}@acme.test", "a".repeat(254 - 10));
    assert_eq!(at_limit.len(), 254);
    assert_eq!(
        login_from(&f, "203.0.113.1:1", &at_limit, "whatever", None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        f.state.login_limiter.keys(),
        2,
        "a failure keeps one pair and one address"
    );
}

async fn a_full_password_hashing_queue_answers_503_with_retry_after(f: Fixture) {
    let permits = f.state.limits.hashing_permits as u32;
    let _all = f
        .state
        .hashing
        .clone()
        .acquire_many_owned(permits)
        .await
        .unwrap();
    let response = login_from(&f, "203.0.113.2:1", "ann@acme.test", "ann-password", None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    drop(_all);
    assert_eq!(
        login_from(&f, "203.0.113.2:1", "ann@acme.test", "ann-password", None)
            .await
            .status(),
        StatusCode::OK
    );
}

async fn forwarded_for_counts_only_from_a_trusted_proxy(f: Fixture) {
    // The fixture trusts no proxy: a forged header from a guesser changes nothing.
    for k in 0..10 {
        let forged = format!("10.0.0.{k}");
        login_from(&f, "203.0.113.9:1", "ann@acme.test", "guess", Some(&forged)).await;
    }
    let still = login_from(
        &f,
        "203.0.113.9:1",
        "ann@acme.test",
        "guess",
        Some("10.0.0.99"),
    )
    .await;
    assert_eq!(
        still.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the header from an untrusted peer is ignored"
    );
    // Behind a trusted proxy, each client is its own address.
    let proxied = Fixture::with_limits(
        backend_of(&f),
        Limits {
            trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
            ..Limits::default()
        },
    )
    .await;
    for _ in 0..10 {
        login_from(
            &proxied,
            "127.0.0.1:80",
            "ann@acme.test",
            "guess",
            Some("203.0.113.66"),
        )
        .await;
    }
    let guesser = login_from(
        &proxied,
        "127.0.0.1:80",
        "ann@acme.test",
        "ann-password",
        Some("203.0.113.66"),
    )
    .await;
    assert_eq!(guesser.status(), StatusCode::TOO_MANY_REQUESTS);
    let owner = login_from(
        &proxied,
        "127.0.0.1:80",
        "ann@acme.test",
        "ann-password",
        Some("198.51.100.7"),
    )
    .await;
    assert_eq!(
        owner.status(),
        StatusCode::OK,
        "the proxy's other client is not locked out"
    );
}

/// Which backend a fixture runs on.
pub(crate) fn backend_of(f: &Fixture) -> Backend {
    if f.url().starts_with("postgres") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

async fn a_disabled_user_is_refused_at_once_on_every_instance(f: Fixture) {
    // A second server instance on the same database.
    let other = server_api::app(AppState::new(db::connect(&f.url()).await.unwrap()));
    let ann = f.login("ann@acme.test", "ann-password").await;
    let me = || {
        Request::get("/api/v1/me")
            .header("authorization", format!("Bearer {ann}"))
            .body(Body::empty())
            .unwrap()
    };
    // Both instances have the token cached.
    assert_eq!(
        other.clone().oneshot(me()).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        f.call("GET", "/api/v1/me", Some(&ann), None).await.0,
        StatusCode::OK
    );
    // The admin disables Ann through the first; the second refuses her token at once.
    let boss = f.login("boss@acme.test", "boss-password").await;
    let (_, me_body) = f.call("GET", "/api/v1/me", Some(&ann), None).await;
    let ann_id = me_body["id"].as_str().unwrap().to_string();
    let (status, body) = f
        .call(
            "POST",
            &format!("/api/v1/users/{ann_id}/disable"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        other.clone().oneshot(me()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        f.call("GET", "/api/v1/me", Some(&ann), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = f.try_login("ann@acme.test", "ann-password").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a disabled user can't sign in"
    );
    // Enabled again, she signs in anew; the old token stays dead.
    assert_eq!(
        f.call(
            "POST",
            &format!("/api/v1/users/{ann_id}/enable"),
            Some(&boss),
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let fresh = f.login("ann@acme.test", "ann-password").await;
    assert_eq!(
        f.call("GET", "/api/v1/me", Some(&fresh), None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        other.clone().oneshot(me()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn signing_in_again_on_a_device_revokes_its_previous_token(f: Fixture) {
    let login = |device: &str| json!({"email": "ann@acme.test", "password": "ann-password", "device_id": device});
    let (_, first) = f
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(login("01930000-0000-7000-8000-00000000d001")),
        )
        .await;
    let (_, laptop) = f
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(login("01930000-0000-7000-8000-00000000d002")),
        )
        .await;
    let first = first["token"].as_str().unwrap().to_string();
    let laptop = laptop["token"].as_str().unwrap().to_string();
    assert_eq!(
        f.call("GET", "/api/v1/me", Some(&first), None).await.0,
        StatusCode::OK
    );
    let (_, again) = f
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(login("01930000-0000-7000-8000-00000000d001")),
        )
        .await;
    let again = again["token"].as_str().unwrap().to_string();
    assert_eq!(
        f.call("GET", "/api/v1/me", Some(&first), None).await.0,
        StatusCode::UNAUTHORIZED,
        "the replaced token is revoked"
    );
    assert_eq!(
        f.call("GET", "/api/v1/me", Some(&again), None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        f.call("GET", "/api/v1/me", Some(&laptop), None).await.0,
        StatusCode::OK,
        "another device keeps its token"
    );
}

async fn admins_offboard_people_of_their_own_organization_only(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let eve = f.login("eve@other.test", "eve-password").await;
    let (ann_id, boss_id, eve_id) = (
        f.user_id(&ann).await,
        f.user_id(&boss).await,
        f.user_id(&eve).await,
    );
    let (status, _) = f
        .call(
            "POST",
            &format!("/api/v1/users/{boss_id}/disable"),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an employee can't");
    let (status, _) = f
        .call(
            "POST",
            &format!("/api/v1/users/{eve_id}/disable"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another organization's people are not found"
    );
    let (status, body) = f
        .call(
            "POST",
            &format!("/api/v1/users/{boss_id}/disable"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = f
        .call(
            "POST",
            &format!("/api/v1/users/{ann_id}/revoke-tokens"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(
        (status, body["revoked"].clone()),
        (StatusCode::OK, json!(1))
    );
    assert_eq!(
        f.call("GET", "/api/v1/me", Some(&ann), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        f.call("GET", "/api/v1/me", Some(&eve), None).await.0,
        StatusCode::OK
    );
    let (status, _) = f.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let doc = f.call("GET", "/openapi.json", None, None).await.1;
    for path in [
        "/api/v1/users/{id}/disable",
        "/api/v1/users/{id}/enable",
        "/api/v1/users/{id}/revoke-tokens",
        "/api/v1/users/{id}/password",
        "/api/v1/organization/settings",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }
}

async fn a_password_change_revokes_every_token(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann_id = f.call("GET", "/api/v1/me", Some(&ann), None).await.1["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = f
        .call(
            "PUT",
            &format!("/api/v1/users/{ann_id}/password"),
            Some(&boss),
            Some(json!({"password": "short"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = f
        .call(
            "PUT",
            &format!("/api/v1/users/{ann_id}/password"),
            Some(&boss),
            Some(json!({"password": "a new long one"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        f.call("GET", "/api/v1/me", Some(&ann), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = f.try_login("ann@acme.test", "ann-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    f.login("ann@acme.test", "a new long one").await;
}

async fn a_4_mb_title_and_control_characters_are_refused_invalid(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    let mut huge = interval(&task, 0, 60);
    huge["windows"][0]["title"] = json!("t".repeat(4_000_000));
    let mut nul = interval(&task, 60, 60);
    nul["windows"][0]["app"] = json!("edit\u{0}or");
    let mut long_app = interval(&task, 120, 60);
    long_app["windows"][0]["app"] = json!("a".repeat(257));
    let mut long_task = interval(&task, 180, 60);
    long_task["task_id"] = json!("t".repeat(201));
    let mut long_url = interval(&task, 240, 60);
    long_url["windows"][0]["url"] = json!(format!("https://x.test/{}", "u".repeat(2048)));
    let fine = interval(&task, 300, 60);
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({"intervals": [huge, nul, long_app, long_task, long_url, fine]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reasons: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap_or("accepted"))
        .collect();
    assert!(
        reasons[0].starts_with("invalid: title has 4000000 bytes"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("invalid: app holds the control character"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].starts_with("invalid: app has 257 bytes"),
        "{reasons:?}"
    );
    assert!(
        reasons[3].starts_with("invalid: task_id has 201 bytes"),
        "{reasons:?}"
    );
    assert!(reasons[4].starts_with("invalid: url has"), "{reasons:?}");
    assert_eq!(reasons[5], "accepted");
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/tasks",
            Some(&ann),
            Some(json!({"name": "a\u{7}b", "project": ""})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a task name with a control character"
    );
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/tasks",
            Some(&ann),
            Some(json!({"name": "n".repeat(201), "project": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn a_person_stores_at_most_the_daily_byte_cap(f: Fixture) {
    let f = Fixture::with_limits(
        backend_of(&f),
        Limits {
            max_bytes_per_user_day: 3_000,
            ..Limits::default()
        },
    )
    .await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    let one = serde_json::to_string(&interval(&task, 0, 60))
        .unwrap()
        .len();
    assert!(one < 1_000, "an interval of {one} bytes");
    let batch: Vec<Value> = (0..10).map(|k| interval(&task, k * 60, 60)).collect();
    let (_, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({ "intervals": batch })),
        )
        .await;
    let results = body["results"].as_array().unwrap();
    let accepted = results.iter().filter(|r| r["status"] == "accepted").count();
    assert!((2..10).contains(&accepted), "{accepted} accepted: {body}");
    assert!(
        results[accepted..].iter().all(|r| r["reason"]
            .as_str()
            .unwrap()
            .contains("bytes one person may store a day")),
        "{body}"
    );
    // Another person's day is theirs.
    let boss = f.login("boss@acme.test", "boss-password").await;
    let (_, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&boss),
            Some(json!({"intervals": [interval(&task, 0, 60)]})),
        )
        .await;
    assert_eq!(body["results"][0]["status"], "accepted");
}

async fn task_creation_is_an_organization_setting_rate_limited_and_capped(f: Fixture) {
    let f = Fixture::with_limits(
        backend_of(&f),
        Limits {
            max_tasks_per_org: 40,
            task_creations_per_minute: 30,
            ..Limits::default()
        },
    )
    .await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let new = |k: usize| json!({"name": format!("Task {k}"), "project": ""});
    let (status, settings) = f
        .call("GET", "/api/v1/organization/settings", Some(&boss), None)
        .await;
    assert_eq!(
        (status, &settings["task_creation"]),
        (StatusCode::OK, &json!("everyone"))
    );
    assert_eq!(
        f.call("GET", "/api/v1/organization/settings", Some(&ann), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, _) = f
        .call(
            "PUT",
            "/api/v1/organization/settings",
            Some(&boss),
            Some(json!({"task_creation": "admins"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        f.call("POST", "/api/v1/tasks", Some(&ann), Some(new(0)))
            .await
            .0,
        StatusCode::FORBIDDEN,
        "admins only now"
    );
    let (status, _) = f
        .call(
            "PUT",
            "/api/v1/organization/settings",
            Some(&boss),
            Some(json!({"task_creation": "nobody"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    f.call(
        "PUT",
        "/api/v1/organization/settings",
        Some(&boss),
        Some(json!({"task_creation": "everyone"})),
    )
    .await;
    for k in 0..30 {
        assert_eq!(
            f.call("POST", "/api/v1/tasks", Some(&ann), Some(new(k)))
                .await
                .0,
            StatusCode::CREATED
        );
    }
    let (status, _) = f
        .call("POST", "/api/v1/tasks", Some(&ann), Some(new(30)))
        .await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "31 tasks in a minute"
    );
    for k in 30..40 {
        assert_eq!(
            f.call("POST", "/api/v1/tasks", Some(&boss), Some(new(k)))
                .await
                .0,
            StatusCode::CREATED
        );
    }
    let (status, body) = f
        .call("POST", "/api/v1/tasks", Some(&boss), Some(new(40)))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"].as_str().unwrap().contains("40 tasks"));
}

async fn an_intervals_range_over_31_days_is_cut_and_says_so(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let get = |path: &str| {
        Request::get(path)
            .header("authorization", format!("Bearer {ann}"))
            .body(Body::empty())
            .unwrap()
    };
    let short = f
        .app
        .clone()
        .oneshot(get(
            "/api/v1/intervals?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
        ))
        .await
        .unwrap();
    assert_eq!(short.status(), StatusCode::OK);
    assert!(!short.headers().contains_key(server_api::RANGE_CUT_HEADER));
    let long = f
        .app
        .clone()
        .oneshot(get(
            "/api/v1/intervals?from=2020-01-01T00:00:00Z&to=2026-12-01T00:00:00Z",
        ))
        .await
        .unwrap();
    assert_eq!(long.status(), StatusCode::OK);
    assert_eq!(
        long.headers()[server_api::RANGE_CUT_HEADER],
        "2020-02-01T00:00:00Z"
    );
}

#[tokio::test]
async fn tokens_expire_after_their_absolute_and_idle_lifetimes() {
    let idle = Fixture::with_limits(
        Backend::Sqlite,
        Limits {
            token_idle_lifetime: Duration::from_secs(2),
            ..Limits::default()
        },
    )
    .await;
    let token = idle.login("ann@acme.test", "ann-password").await;
    assert_eq!(
        idle.call("GET", "/api/v1/me", Some(&token), None).await.0,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let (status, body) = idle.call("GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "unused for longer than its idle lifetime"
    );
    assert!(
        body["error"].as_str().unwrap().contains("expired"),
        "{body}"
    );

    // Used often but older than its lifetime. The uses are timed from the login, not counted,
    // so a slow machine (CI builds beside the tests) can't push a use past the lifetime.
    let lifetime = Duration::from_secs(4);
    let old = Fixture::with_limits(
        Backend::Sqlite,
        Limits {
            token_lifetime: lifetime,
            ..Limits::default()
        },
    )
    .await;
    let token = old.login("ann@acme.test", "ann-password").await;
    let issued = std::time::Instant::now();
    let mut uses = 0;
    while issued.elapsed() < lifetime / 2 {
        assert_eq!(
            old.call("GET", "/api/v1/me", Some(&token), None).await.0,
            StatusCode::OK
        );
        uses += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(uses >= 2, "the token was used within its lifetime");
    tokio::time::sleep((lifetime + Duration::from_millis(500)).saturating_sub(issued.elapsed()))
        .await;
    assert_eq!(
        old.call("GET", "/api/v1/me", Some(&token), None).await.0,
        StatusCode::UNAUTHORIZED,
        "older than its lifetime, used or not"
    );
}

/// Unix modes; on Windows the server's files take the ACL of the folder they are in.
#[cfg(unix)]
#[tokio::test]
async fn the_servers_sqlite_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    let _db = db::connect(&path.display().to_string()).await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "server.sqlite has mode {mode:o}");
    for side in ["server.sqlite-wal", "server.sqlite-shm"] {
        if let Ok(m) = std::fs::metadata(dir.path().join(side)) {
            assert_eq!(
                m.permissions().mode() & 0o077,
                0,
                "{side} has mode {:o}",
                m.permissions().mode()
            );
        }
    }
    // An existing world-readable file is narrowed.
    let loose = dir.path().join("loose.sqlite");
    std::fs::write(&loose, b"").unwrap();
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _db = db::connect(&loose.display().to_string()).await.unwrap();
    assert_eq!(
        std::fs::metadata(&loose).unwrap().permissions().mode() & 0o777,
        0o600
    );
}
