//! The organization's people (issue 28, its first part): an admin lists everyone with their
//! role, status, managers and devices, filtered by name or email, role, status and manager;
//! a manager lists the people they manage; a member is refused; another organization's
//! people never show.

use super::*;

on_both!(admins_list_everyone_and_managers_their_people);

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

async fn admins_list_everyone_and_managers_their_people(f: Fixture) {
    for (email, name) in [("max@acme.test", "Max"), ("zoe@acme.test", "Zoe")] {
        accounts::add_user(&f.state, "acme", email, name, "a-password-1", false)
            .await
            .unwrap();
    }
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let max = f.login("max@acme.test", "a-password-1").await;
    let zoe = f.login("zoe@acme.test", "a-password-1").await;
    let (ann_id, max_id, zoe_id) = (
        f.user_id(&ann).await,
        f.user_id(&max).await,
        f.user_id(&zoe).await,
    );
    let (status, _) = f
        .call(
            "PUT",
            &format!("/api/v1/users/{max_id}/managed"),
            Some(&boss),
            Some(json!({"users": [ann_id]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f
        .call(
            "POST",
            &format!("/api/v1/users/{zoe_id}/disable"),
            Some(&boss),
            None,
        )
        .await;
    assert!(status.is_success(), "{status}");
    // Ann's laptop reports itself and tracks.
    let task = f.task(&ann).await;
    let (status, _) = f
        .call(
            "PUT",
            "/api/v1/devices/01930000-0000-7000-8000-00000000d001",
            Some(&ann),
            Some(
                json!({"host_name": "ann-laptop", "os_user": "ann", "domain": null,
                "os_name": "Debian GNU/Linux 12 (bookworm)", "os_version": "6.1.0-28-amd64",
                "time_zone": "Europe/Berlin", "utc_offset_minutes": 60, "app_version": "0.2.0"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({"intervals": [interval(&task, 0, 60)]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let list = |token: &str, query: &str| {
        let f = &f;
        let (token, query) = (token.to_string(), query.to_string());
        async move {
            f.call("GET", &format!("/api/v1/users{query}"), Some(&token), None)
                .await
        }
    };
    let (status, all) = list(&boss, "").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(
        names(&all),
        ["Ann", "Boss", "Max", "Zoe"],
        "by name, no one of other"
    );
    let ann_line = &all[0];
    assert_eq!(ann_line["role"], "member");
    assert_eq!(ann_line["managers"], json!([max_id]));
    assert_eq!(ann_line["devices"], 1);
    assert_eq!(ann_line["app_version"], "0.2.0");
    assert!(ann_line["last_seen"].is_string(), "{ann_line}");
    assert_eq!(
        (&all[1]["role"], &all[2]["role"]),
        (&json!("admin"), &json!("manager"))
    );
    assert_eq!(
        (&all[3]["disabled"], &all[3]["last_seen"]),
        (&json!(true), &Value::Null)
    );

    for (query, want) in [
        ("?q=ACME.test", vec!["Ann", "Boss", "Max", "Zoe"]),
        ("?q=zo", vec!["Zoe"]),
        ("?role=manager", vec!["Max"]),
        ("?role=member&status=active", vec!["Ann"]),
        ("?status=disabled", vec!["Zoe"]),
        (&format!("?manager_id={max_id}") as &str, vec!["Ann"]),
    ] {
        let (status, found) = list(&boss, query).await;
        assert_eq!(status, StatusCode::OK, "{query}: {found}");
        assert_eq!(names(&found), want, "{query}");
    }
    for bad in [
        "?role=owner",
        "?status=gone",
        &format!("?q={}", "x".repeat(201)) as &str,
    ] {
        let (status, _) = list(&boss, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // A manager: their people only. A member: refused. Another organization: its own only.
    let (status, mine) = list(&max, "").await;
    assert_eq!((status, names(&mine)), (StatusCode::OK, vec!["Ann"]));
    let (status, _) = list(&ann, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
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
    let (_, theirs) = list(&oscar, "").await;
    assert_eq!(names(&theirs), ["Eve", "Oscar"]);
}
