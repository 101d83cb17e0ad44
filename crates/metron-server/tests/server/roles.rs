//! Roles see what the docs say (issue 27, docs/SECURITY.md "Who sees what"): every route that
//! reads a person's time, asked by each role about Ann: an admin, her manager, a manager of
//! someone else, Ann herself, another member, and another organization's admin and member
//! (a member who reviews nobody is refused before any lookup; an admin elsewhere is told
//! "not found", so ids can't be probed). Managers
//! read figures and timesheets; titles, addresses, the event log and devices only once an
//! admin turns that on.

use super::*;

on_both!(each_role_reads_what_the_docs_say_of_a_persons_time);

const R200: u16 = 200;
const R403: u16 = 403;
const R404: u16 = 404;

async fn each_role_reads_what_the_docs_say_of_a_persons_time(f: Fixture) {
    for (email, name) in [
        ("max@acme.test", "Max"),
        ("mia@acme.test", "Mia"),
        ("flo@acme.test", "Flo"),
    ] {
        accounts::add_user(&f.state, "acme", email, name, "a-password-1", false)
            .await
            .unwrap();
    }
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let max = f.login("max@acme.test", "a-password-1").await;
    let mia = f.login("mia@acme.test", "a-password-1").await;
    let flo = f.login("flo@acme.test", "a-password-1").await;
    let eve = f.login("eve@other.test", "eve-password").await;
    accounts::add_user(
        &f.state,
        "other",
        "oscar@other.test",
        "Oscar",
        "a-password-1",
        true,
    )
    .await
    .unwrap();
    let oscar = f.login("oscar@other.test", "a-password-1").await;
    let (ann_id, max_id, mia_id, flo_id) = (
        f.user_id(&ann).await,
        f.user_id(&max).await,
        f.user_id(&mia).await,
        f.user_id(&flo).await,
    );
    for (manager, person) in [(&max_id, &ann_id), (&mia_id, &flo_id)] {
        let (status, body) = f
            .call(
                "PUT",
                &format!("/api/v1/users/{manager}/managed"),
                Some(&boss),
                Some(json!({"users": [person]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Ann's day: an interval with a window title and a web address.
    let task = f.task(&ann).await;
    let mut item = interval(&task, 0, 60);
    item["windows"] = json!([{"offset": 0, "seconds": 60, "app": "Firefox",
        "title": "Salary review — Intranet", "url": "https://hr.acme.test/salaries/ann", "path": null}]);
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({"intervals": [item]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (day, range) = (
        fixture_date(0),
        format!("from={}&to={}", day_start(0), day_start(1)),
    );
    let routes = [
        format!("/api/v1/reports/daily?date={day}&user_id={ann_id}"),
        format!("/api/v1/reports/daily.csv?date={day}&user_id={ann_id}"),
        format!("/api/v1/timesheets?period=week&date={day}&user_id={ann_id}"),
        format!("/api/v1/timesheets.csv?period=week&date={day}&user_id={ann_id}"),
        format!("/api/v1/manual-entries?{range}&user_id={ann_id}"),
        format!("/api/v1/corrections?{range}&user_id={ann_id}"),
        format!("/api/v1/audit?{range}&user_id={ann_id}"),
        format!("/api/v1/events?{range}&user_id={ann_id}"),
        format!("/api/v1/events?{range}&user_id={ann_id}&format=xes"),
        format!("/api/v1/devices?user_id={ann_id}"),
    ];
    // Expected status per route (in the order above) for each role, with the detail off.
    let detail_routes = 7..10;
    let expect = |role: &str, route: usize| -> u16 {
        match role {
            "admin" | "person" => R200,
            "manager" if detail_routes.contains(&route) => R403,
            "manager" => R200,
            "other manager" | "member" | "other org member" => R403,
            "other org admin" => R404,
            _ => unreachable!(),
        }
    };
    let roles = [
        ("admin", &boss),
        ("manager", &max),
        ("other manager", &mia),
        ("person", &ann),
        ("member", &flo),
        ("other org member", &eve),
        ("other org admin", &oscar),
    ];
    let read = |token: &str, path: &str| {
        let f = &f;
        let req = Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        async move {
            let response = f.app.clone().oneshot(req).await.unwrap();
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).to_string())
        }
    };
    for (role, token) in roles {
        for (n, path) in routes.iter().enumerate() {
            let (status, body) = read(token, path).await;
            assert_eq!(status, expect(role, n), "{role} reading {path}: {body}");
            let titled = body.contains("Salary review") || body.contains("hr.acme.test");
            let sees = status == R200 && role != "manager";
            assert!(
                !titled || sees,
                "{role} reading {path} sees a title or an address: {body}"
            );
        }
    }
    // The manager's day: figures, and no title or address (said so).
    let (_, day) = read(&max, &routes[0]).await;
    let day: Value = serde_json::from_str(&day).unwrap();
    assert_eq!(day["tracked_secs"], 60);
    assert_eq!(day["detail_withheld"], true);
    assert_eq!(
        (day["titles"].clone(), day["hosts"].clone()),
        (json!([]), json!([]))
    );

    // An admin turns the detail on: her manager reads it all; others still don't.
    let (status, body) = f
        .call(
            "PUT",
            "/api/v1/organization/settings",
            Some(&boss),
            Some(json!({"task_creation": "everyone", "managers_see_detail": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (n, path) in routes.iter().enumerate() {
        let (status, body) = read(&max, path).await;
        assert_eq!(status, R200, "the manager reading {path}: {body}");
        if n == 0 {
            assert!(
                body.contains("Salary review") && body.contains("hr.acme.test"),
                "{body}"
            );
        }
        let (status, _) = read(&mia, path).await;
        assert_eq!(status, R403, "the other manager reading {path}");
    }
    let (_, settings) = f
        .call("GET", "/api/v1/organization/settings", Some(&boss), None)
        .await;
    assert_eq!(settings["managers_see_detail"], true);
    // Only an admin changes it.
    let (status, _) = f
        .call(
            "PUT",
            "/api/v1/organization/settings",
            Some(&max),
            Some(json!({"task_creation": "everyone", "managers_see_detail": true})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
