//! People and invitations (issue 28, items 1 and 6): an admin invites by email and the
//! invitee accepts once with the link's token and is signed in with the invited role and
//! manager; expired, used, revoked, re-sent, forged links and emails that are people already
//! are refused and create nothing; invitations are capped per organization and hour; a CSV
//! is imported whole or not at all, naming each bad row; reset links set a password once and
//! revoke the person's tokens; roles are set by admins and the last admin stays. And one
//! invitation and one reset link mailed through a real SMTP server on loopback (aiosmtpd),
//! the test following the mailed link.

use super::*;
use crate::audit_chain::raw;
use axum::http::HeaderMap;

on_both!(
    an_invitee_accepts_once_and_is_signed_in_with_the_invited_role_and_manager,
    expired_revoked_resent_forged_and_taken_links_create_nothing,
    each_role_is_answered_what_it_may_do_with_invitations_and_links,
    invitations_are_capped_per_organization_and_hour,
    a_300_row_csv_with_one_bad_row_changes_nothing_and_names_the_row,
    every_kind_of_bad_row_is_named_with_its_line,
    a_reset_link_sets_the_password_once_and_revokes_the_persons_tokens,
    roles_are_set_by_admins_and_the_last_admin_stays,
    the_command_line_invites_lists_revokes_resets_sets_roles_and_imports,
);

/// The token of a link (what follows `#invite=` or `#reset=`).
fn token_of(link: &str) -> String {
    let token = link.rsplit_once('=').unwrap().1.to_string();
    assert_eq!(token.len(), 64, "{link}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{link}");
    token
}

async fn invite(f: &Fixture, admin: &str, body: Value) -> Value {
    let (status, answer) = f
        .call("POST", "/api/v1/invitations", Some(admin), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

async fn accept(f: &Fixture, token: &str, name: &str, password: &str) -> (StatusCode, Value) {
    f.call(
        "POST",
        "/api/v1/invitations/accept",
        None,
        Some(json!({"token": token, "name": name, "password": password})),
    )
    .await
}

/// The organization's people as the people list shows them, by email.
async fn people(f: &Fixture, admin: &str) -> Vec<Value> {
    let (status, list) = f.call("GET", "/api/v1/users", Some(admin), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().unwrap().clone()
}

fn person<'a>(list: &'a [Value], email: &str) -> Option<&'a Value> {
    list.iter().find(|p| p["email"] == email)
}

/// How many people the database holds, over every organization.
async fn count_users(f: &Fixture) -> usize {
    let mut n = 0;
    for org in ["acme", "other"] {
        let id = f.state.db.find_organization(org).await.unwrap().unwrap();
        n += f.state.db.org_user_rows(&id).await.unwrap().len();
    }
    n
}

async fn send_raw(f: &Fixture, req: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let response = f.app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, value)
}

async fn import_csv(f: &Fixture, admin: &str, csv: &str) -> (StatusCode, Value) {
    let req = Request::post("/api/v1/invitations/import")
        .header("authorization", format!("Bearer {admin}"))
        .header("content-type", "text/csv")
        .body(Body::from(csv.to_string()))
        .unwrap();
    let (status, _, body) = send_raw(f, req).await;
    (status, body)
}

/// The organization's audit trail of today (admins).
async fn audit_today(f: &Fixture, admin: &str) -> Vec<Value> {
    let now = chrono::Utc::now();
    let at = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let path = format!(
        "/api/v1/audit?scope=all&from={}&to={}",
        at(now - chrono::Duration::days(1)),
        at(now + chrono::Duration::days(1))
    );
    let (status, trail) = f.call("GET", &path, Some(admin), None).await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    trail.as_array().unwrap().clone()
}

async fn reset_link(f: &Fixture, admin: &str, id: &str) -> Value {
    let (status, body) = f
        .call(
            "POST",
            &format!("/api/v1/users/{id}/reset-link"),
            Some(admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn reset(f: &Fixture, token: &str, password: &str) -> (StatusCode, Value) {
    f.call(
        "POST",
        "/api/v1/password-reset",
        None,
        Some(json!({"token": token, "password": password})),
    )
    .await
}

async fn pending(f: &Fixture, admin: &str) -> Vec<Value> {
    let (status, list) = f
        .call("GET", "/api/v1/invitations", Some(admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().unwrap().clone()
}

async fn an_invitee_accepts_once_and_is_signed_in_with_the_invited_role_and_manager(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let ann_id = f.user_id(&ann).await;
    let issued = invite(
        &f,
        &boss,
        json!({"email": " Bea@Acme.test ", "name": "Bea", "role": "manager", "manager_id": ann_id}),
    )
    .await;
    assert_eq!(issued["email"], "bea@acme.test");
    assert_eq!(issued["role"], "manager");
    assert_eq!(issued["manager_id"], ann_id.as_str());
    assert_eq!(issued["expired"], false);
    assert_eq!(issued["mail"]["status"], "not_configured");
    let link = issued["link"].as_str().unwrap();
    assert!(
        link.starts_with("/#invite="),
        "no public URL: a path: {link}"
    );
    let token = token_of(link);
    // Seven days.
    let created =
        chrono::DateTime::parse_from_rfc3339(issued["created_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(issued["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_seconds(), 7 * 86_400);
    let list = pending(&f, &boss).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], issued["id"]);
    assert!(
        list[0].get("link").is_none(),
        "a listed invitation shows no token"
    );
    // Only the hash is stored.
    let stored: String = {
        let hash_hit = raw(
            &f.url(),
            &format!("UPDATE invitations SET name = name WHERE token_hash = '{token}'"),
        )
        .await
        .unwrap();
        assert_eq!(hash_hit, 0, "the token itself is not in the database");
        metron_server::auth::token_hash(&token)
    };
    assert_eq!(
        raw(
            &f.url(),
            &format!("UPDATE invitations SET name = name WHERE token_hash = '{stored}'")
        )
        .await
        .unwrap(),
        1
    );

    let (status, signed_in) = accept(&f, &token, "Bea Lind", "bea-password").await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    assert_eq!(signed_in["user"]["email"], "bea@acme.test");
    assert_eq!(signed_in["user"]["name"], "Bea Lind");
    let bea = signed_in["token"].as_str().unwrap();
    let bea_id = f.user_id(bea).await;
    assert_eq!(bea_id, signed_in["user"]["id"].as_str().unwrap());
    f.login("bea@acme.test", "bea-password").await;
    let list = people(&f, &boss).await;
    let bea_row = person(&list, "bea@acme.test").unwrap();
    assert_eq!(bea_row["role"], "manager", "the invited role");
    assert_eq!(bea_row["managers"], json!([ann_id]), "the invited manager");
    // In the inviting organization, and Ann now manages her.
    let (_, managed) = f
        .call(
            "GET",
            &format!("/api/v1/users/{ann_id}/managed"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(managed["users"], json!([bea_id]));

    // Once.
    let users = count_users(&f).await;
    let (status, body) = accept(&f, &token, "Bea Again", "another-password").await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert!(body["error"].as_str().unwrap().contains("used"), "{body}");
    assert_eq!(count_users(&f).await, users);
    assert!(
        pending(&f, &boss).await.is_empty(),
        "accepted: no longer pending"
    );
    // The audit trail has the invitation and its acceptance, without the email.
    let trail = audit_today(&f, &boss).await;
    let actions: Vec<&str> = trail.iter().filter_map(|r| r["action"].as_str()).collect();
    assert!(actions.contains(&"invitation.create"), "{trail:?}");
    assert!(actions.contains(&"invitation.accept"), "{trail:?}");
    assert!(!format!("{trail:?}").contains("bea@acme.test"), "{trail:?}");
}

async fn expired_revoked_resent_forged_and_taken_links_create_nothing(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let users = count_users(&f).await;
    let refused = |status: StatusCode, body: &Value, want: StatusCode, word: &str| {
        assert_eq!(status, want, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains(word),
            "{word}: {body}"
        );
    };

    // Forged: well formed or not.
    let (status, body) = accept(&f, &"ab".repeat(32), "Zed", "zed-password").await;
    refused(status, &body, StatusCode::NOT_FOUND, "not valid");
    let (status, body) = accept(&f, "../../etc/passwd", "Zed", "zed-password").await;
    refused(status, &body, StatusCode::NOT_FOUND, "not valid");

    // Expired: its expiry written into the past.
    let issued = invite(&f, &boss, json!({"email": "old@acme.test"})).await;
    let token = token_of(issued["link"].as_str().unwrap());
    let id = issued["id"].as_str().unwrap();
    raw(
        &f.url(),
        &format!("UPDATE invitations SET expires_at = 1000 WHERE id = '{id}'"),
    )
    .await
    .unwrap();
    let (status, body) = accept(&f, &token, "Old", "old-password").await;
    refused(status, &body, StatusCode::GONE, "expired");
    let list = pending(&f, &boss).await;
    assert_eq!(list[0]["expired"], true, "listed as expired");
    // An expired invitation may be issued again (the old one is revoked with it).
    let again = invite(&f, &boss, json!({"email": "old@acme.test"})).await;
    let (status, body) = accept(&f, &token, "Old", "old-password").await;
    refused(status, &body, StatusCode::GONE, "revoked");
    assert_eq!(pending(&f, &boss).await.len(), 1);

    // Revoked.
    let (status, body) = f
        .call(
            "DELETE",
            &format!("/api/v1/invitations/{}", again["id"].as_str().unwrap()),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = accept(
        &f,
        &token_of(again["link"].as_str().unwrap()),
        "Old",
        "old-password",
    )
    .await;
    refused(status, &body, StatusCode::GONE, "revoked");
    let (status, _) = f
        .call(
            "DELETE",
            &format!("/api/v1/invitations/{}", again["id"].as_str().unwrap()),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "revoked once");

    // Re-sent: a new link, the old one dead.
    let first = invite(&f, &boss, json!({"email": "cy@acme.test", "role": "admin"})).await;
    let (status, second) = f
        .call(
            "POST",
            &format!(
                "/api/v1/invitations/{}/resend",
                first["id"].as_str().unwrap()
            ),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_ne!(second["link"], first["link"]);
    assert_ne!(second["id"], first["id"]);
    assert_eq!(second["role"], "admin", "the same invitation again");
    let (status, body) = accept(
        &f,
        &token_of(first["link"].as_str().unwrap()),
        "Cy",
        "cy-password",
    )
    .await;
    refused(status, &body, StatusCode::GONE, "revoked");

    // Taken: the email became a person's meanwhile.
    accounts::add_user(
        &f.state,
        "acme",
        "cy@acme.test",
        "Cy",
        "cy-password-0",
        false,
    )
    .await
    .unwrap();
    let users_now = count_users(&f).await;
    assert_eq!(users_now, users + 1);
    let (status, body) = accept(
        &f,
        &token_of(second["link"].as_str().unwrap()),
        "Cy",
        "cy-password",
    )
    .await;
    refused(status, &body, StatusCode::CONFLICT, "already a person");
    assert_eq!(
        count_users(&f).await,
        users_now,
        "nothing created by any refused link"
    );
    // Cy's own account is untouched: not made an admin by the invitation.
    let cy = f.login("cy@acme.test", "cy-password-0").await;
    let (_, me) = f.call("GET", "/api/v1/me", Some(&cy), None).await;
    assert_eq!(me["admin"], false);

    // Bad input to the invitation itself.
    for (body, want) in [
        (json!({"email": "no-at-sign"}), StatusCode::BAD_REQUEST),
        (json!({"email": "ann@acme.test"}), StatusCode::CONFLICT),
        (json!({"email": "eve@other.test"}), StatusCode::CONFLICT),
        (
            json!({"email": "new@acme.test", "manager_id": "nobody"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"email": "new@acme.test", "name": "Bad\u{0}Name"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"email": "new@acme.test", "name": "x".repeat(201)}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"email": "new@acme.test", "role": "owner"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"email": "new@acme.test", "extra": 1}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"email": format!("{}@acme.test", "x".repeat(300))}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, answer) = f
            .call(
                "POST",
                "/api/v1/invitations",
                Some(&boss),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, want, "{body} -> {answer}");
    }
    // A manager from another organization is unknown here.
    let eve = f.login("eve@other.test", "eve-password").await;
    let eve_id = f.user_id(&eve).await;
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/invitations",
            Some(&boss),
            Some(json!({"email": "new@acme.test", "manager_id": eve_id})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Pending twice.
    invite(&f, &boss, json!({"email": "dup@acme.test"})).await;
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/invitations",
            Some(&boss),
            Some(json!({"email": "dup@acme.test"})),
        )
        .await;
    refused(status, &body, StatusCode::CONFLICT, "already invited");
    // Two invitations of one email at once: one is issued, the other refused.
    let body = || Some(json!({"email": "race@acme.test"}));
    let (a, b) = tokio::join!(
        f.call("POST", "/api/v1/invitations", Some(&boss), body()),
        f.call("POST", "/api/v1/invitations", Some(&boss), body()),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::CONFLICT],
        "{a:?} {b:?}"
    );
    assert_eq!(
        pending(&f, &boss)
            .await
            .iter()
            .filter(|i| i["email"] == "race@acme.test")
            .count(),
        1
    );
    // The accept route's own bounds.
    let live = invite(&f, &boss, json!({"email": "dee@acme.test"})).await;
    let live = token_of(live["link"].as_str().unwrap());
    let (status, _) = accept(&f, &live, "Dee", "short").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "password rules as for accounts"
    );
    let (status, _) = accept(&f, &live, "", "dee-password").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a name is needed");
    assert_eq!(count_users(&f).await, users_now);
    let (status, _) = accept(&f, &live, "Dee", "dee-password").await;
    assert_eq!(status, StatusCode::OK, "still good after refused attempts");
}

async fn each_role_is_answered_what_it_may_do_with_invitations_and_links(f: Fixture) {
    let Cast {
        boss,
        ann,
        max,
        oscar,
        ann_id,
        ..
    } = f.cast().await;
    let issued = invite(&f, &boss, json!({"email": "zoe@acme.test"})).await;
    let inv = issued["id"].as_str().unwrap().to_string();
    // (method, path, body) and the status for: admin, manager (Max, Ann's), member (Ann),
    // another organization's admin (Oscar).
    let routes: Vec<(&str, String, Option<Value>, [u16; 4])> = vec![
        (
            "GET",
            "/api/v1/invitations".into(),
            None,
            [200, 403, 403, 200],
        ),
        (
            "POST",
            "/api/v1/invitations".into(),
            Some(json!({"email": "new@acme.test"})),
            [201, 403, 403, 201],
        ),
        (
            "POST",
            format!("/api/v1/invitations/{inv}/resend"),
            None,
            [201, 403, 403, 404],
        ),
        (
            "DELETE",
            format!("/api/v1/invitations/{inv}"),
            None,
            [409, 403, 403, 404],
        ),
        (
            "POST",
            format!("/api/v1/users/{ann_id}/reset-link"),
            None,
            [201, 403, 403, 404],
        ),
        (
            "PUT",
            format!("/api/v1/users/{ann_id}/role"),
            Some(json!({"role": "member"})),
            [200, 403, 403, 404],
        ),
    ];
    for (method, path, body, want) in routes {
        for (k, (who, token)) in [
            ("admin", &boss),
            ("manager", &max),
            ("member", &ann),
            ("other org", &oscar),
        ]
        .into_iter()
        .enumerate()
        {
            let body = body.clone().map(|mut b| {
                // Each caller invites a fresh email, so only the role decides.
                if b.get("email").is_some() {
                    b["email"] = json!(format!("new-{k}@acme.test"));
                }
                b
            });
            let (status, answer) = f.call(method, &path, Some(token), body).await;
            assert_eq!(status.as_u16(), want[k], "{who} {method} {path}: {answer}");
        }
    }
    // Oscar's invitation is his organization's: not in Boss's list, and Boss can't revoke it.
    let boss_list = pending(&f, &boss).await;
    assert!(
        boss_list.iter().all(|i| i["email"] != "new-3@acme.test"),
        "{boss_list:?}"
    );
    let oscar_list = pending(&f, &oscar).await;
    assert_eq!(oscar_list.len(), 1);
    let (status, _) = f
        .call(
            "DELETE",
            &format!(
                "/api/v1/invitations/{}",
                oscar_list[0]["id"].as_str().unwrap()
            ),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The public routes need no sign-in; the admins' routes do.
    for path in ["/api/v1/invitations", "/api/v1/invitations/import"] {
        let (status, _) = f.call("POST", path, None, Some(json!({}))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
}

async fn invitations_are_capped_per_organization_and_hour(_f: Fixture) {
    let backend = if db::is_postgres(&_f.url()) {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let f = Fixture::with_limits(
        backend,
        metron_server::limits::Limits {
            invitations_per_org_hour: 3,
            ..Default::default()
        },
    )
    .await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let first = invite(&f, &boss, json!({"email": "a1@acme.test"})).await;
    invite(&f, &boss, json!({"email": "a2@acme.test"})).await;
    // A re-send counts too.
    let (status, _) = f
        .call(
            "POST",
            &format!(
                "/api/v1/invitations/{}/resend",
                first["id"].as_str().unwrap()
            ),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let req = Request::post("/api/v1/invitations")
        .header("authorization", format!("Bearer {boss}"))
        .header("content-type", "application/json")
        .body(Body::from(json!({"email": "a4@acme.test"}).to_string()))
        .unwrap();
    let (status, headers, body) = send_raw(&f, req).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("3 invitations an hour"),
        "{body}"
    );
    assert_eq!(
        pending(&f, &boss).await.len(),
        2,
        "nothing issued past the cap"
    );
    // A CSV that would pass the cap is refused whole.
    let (status, _) = import_csv(&f, &boss, "email\nb1@acme.test\n").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Another organization has its own hour.
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
    invite(&f, &oscar, json!({"email": "o1@other.test"})).await;
    // An hour later (the rows' times written back) the organization invites again.
    raw(
        &f.url(),
        "UPDATE invitations SET created_at = created_at - 3601",
    )
    .await
    .unwrap();
    invite(&f, &boss, json!({"email": "a4@acme.test"})).await;
}

async fn a_300_row_csv_with_one_bad_row_changes_nothing_and_names_the_row(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let users = count_users(&f).await;
    let mut csv = String::from("email,name,role,manager\n");
    for k in 1..=300 {
        // Line 151 (the 150th row): a bad email.
        let email = if k == 150 {
            "person150-at-acme.test".to_string()
        } else {
            format!("person{k}@acme.test")
        };
        let role = ["member", "manager", ""][k % 3];
        csv.push_str(&format!("{email},Person {k},{role},boss@acme.test\n"));
    }
    let (status, report) = import_csv(&f, &boss, &csv).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    assert_eq!(report["imported"], 0);
    assert_eq!(report["invitations"], json!([]));
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(problems[0]["line"], 151);
    assert_eq!(problems[0]["email"], "person150-at-acme.test");
    assert!(
        problems[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("bad email"),
        "{report}"
    );
    assert!(pending(&f, &boss).await.is_empty(), "nothing was imported");
    assert_eq!(count_users(&f).await, users);
    assert_eq!(
        raw(&f.url(), "UPDATE invitations SET name = name")
            .await
            .unwrap(),
        0,
        "no invitation row at all"
    );

    // Fixed, the same file imports whole: 300 invitations, not accounts.
    let fixed = csv.replace("person150-at-acme.test", "person150@acme.test");
    let (status, report) = import_csv(&f, &boss, &fixed).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(report["imported"], 300);
    let issued = report["invitations"].as_array().unwrap();
    assert_eq!(issued.len(), 300);
    assert_eq!(issued[0]["email"], "person1@acme.test");
    assert_eq!(issued[0]["role"], "manager");
    assert_eq!(issued[1]["role"], "member", "an empty role is member");
    let boss_id = f.user_id(&boss).await;
    assert!(issued.iter().all(|i| i["manager_id"] == boss_id.as_str()));
    assert!(issued
        .iter()
        .all(|i| i["link"].as_str().unwrap().starts_with("/#invite=")));
    assert_eq!(pending(&f, &boss).await.len(), 300);
    assert_eq!(count_users(&f).await, users, "invitations, not accounts");
    // Each link works: the 42nd person accepts.
    let (status, _) = accept(
        &f,
        &token_of(issued[41]["link"].as_str().unwrap()),
        "P42",
        "p42-password",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

async fn every_kind_of_bad_row_is_named_with_its_line(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    invite(&f, &boss, json!({"email": "pending@acme.test"})).await;
    let csv = "Email,Name,Role,Manager\n\
               good@acme.test,Good,member,\n\
               not-an-email,X,member,\n\
               good@acme.test,Twice,member,\n\
               ann@acme.test,Ann,member,\n\
               m@acme.test,M,member,nobody@acme.test\n\
               r@acme.test,R,owner,\n\
               \"t@acme.test\",\"Bad\u{7}Name\",member,\n\
               pending@acme.test,P,member,\n\
               eve@other.test,Eve,member,\n\
               q@acme.test,Q,member,eve@other.test\n\
               \"quoted, name\"@acme.test,\"Lee, Q\",admin,boss@acme.test\n";
    let (status, report) = import_csv(&f, &boss, csv).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    let named: Vec<(u64, String)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["reason"]
                    .as_str()
                    .unwrap()
                    .split(':')
                    .next()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let want: Vec<(u64, String)> = [
        (3, "bad email"),
        (4, "duplicate in file"),
        (5, "already a person"),
        (6, "unknown manager"),
        (7, "bad role"),
        (8, "bad text"),
        (9, "already invited"),
        (10, "already a person"),
        (11, "unknown manager"),
        (12, "bad email"),
    ]
    .into_iter()
    .map(|(l, r)| (l, r.to_string()))
    .collect();
    assert_eq!(named, want, "{report}");
    assert_eq!(pending(&f, &boss).await.len(), 1, "nothing imported");

    // Malformed files are refused as a whole (400), and bounded.
    for (csv, want) in [
        ("name,role\nX,member\n", StatusCode::BAD_REQUEST),
        (
            "email,name,role,manager,salary\na@acme.test,,,,1\n",
            StatusCode::BAD_REQUEST,
        ),
        ("email,name,role,manager\n", StatusCode::BAD_REQUEST),
    ] {
        let (status, body) = import_csv(&f, &boss, csv).await;
        assert_eq!(status, want, "{csv}: {body}");
    }
    let mut big = String::from("email\n");
    for k in 0..1001 {
        big.push_str(&format!("b{k}@acme.test\n"));
    }
    let (status, body) = import_csv(&f, &boss, &big).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("1000 rows"),
        "{body}"
    );
    let huge = format!("email,name\na@acme.test,{}\n", "x".repeat(600 * 1024));
    let (status, _) = import_csv(&f, &boss, &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let req = Request::post("/api/v1/invitations/import")
        .header("authorization", format!("Bearer {boss}"))
        .body(Body::from(vec![0xff, 0xfe, b'\n']))
        .unwrap();
    let (status, _, _) = send_raw(&f, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not UTF-8");
    // A row with the wrong number of fields is named too.
    let (status, report) = import_csv(&f, &boss, "email,name,role,manager\nw@acme.test,W\n").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    assert_eq!(report["problems"][0]["line"], 2);
    assert!(report["problems"][0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("bad text"));
}

async fn a_reset_link_sets_the_password_once_and_revokes_the_persons_tokens(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let ann_id = f.user_id(&ann).await;
    let first = reset_link(&f, &boss, &ann_id).await;
    assert!(first["link"].as_str().unwrap().starts_with("/#reset="));
    assert_eq!(first["mail"]["status"], "not_configured");
    // A newer link replaces it.
    let second = reset_link(&f, &boss, &ann_id).await;
    let (status, body) = reset(
        &f,
        &token_of(first["link"].as_str().unwrap()),
        "new-password-1",
    )
    .await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    let (status, _) = f.call("GET", "/api/v1/me", Some(&ann), None).await;
    assert_eq!(status, StatusCode::OK, "a refused link changes nothing");
    f.login("ann@acme.test", "ann-password").await;

    let token = token_of(second["link"].as_str().unwrap());
    let (status, _) = reset(&f, &token, "short").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the password rules");
    let (status, signed_in) = reset(&f, &token, "new-password-2").await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    assert_eq!(signed_in["user"]["id"], ann_id.as_str());
    let (status, _) = f.call("GET", "/api/v1/me", Some(&ann), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old token is revoked");
    let fresh = signed_in["token"].as_str().unwrap();
    let (status, _) = f.call("GET", "/api/v1/me", Some(fresh), None).await;
    assert_eq!(status, StatusCode::OK, "signed in by the reset");
    let (status, _) = f.try_login("ann@acme.test", "ann-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    f.login("ann@acme.test", "new-password-2").await;
    // Once.
    let (status, body) = reset(&f, &token, "new-password-3").await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert!(body["error"].as_str().unwrap().contains("used"));
    // Expired after the hour.
    let third = reset_link(&f, &boss, &ann_id).await;
    assert_eq!(
        raw(&f.url(), "UPDATE password_resets SET expires_at = 1000 WHERE used_at IS NULL AND revoked_at IS NULL")
            .await
            .unwrap(),
        1
    );
    let (status, body) = reset(
        &f,
        &token_of(third["link"].as_str().unwrap()),
        "new-password-4",
    )
    .await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert!(body["error"].as_str().unwrap().contains("expired"));
    // Forged.
    let (status, _) = reset(&f, &"cd".repeat(32), "new-password-5").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A disabled person's link is refused, and none is made for them.
    let fourth = reset_link(&f, &boss, &ann_id).await;
    let (status, _) = f
        .call(
            "POST",
            &format!("/api/v1/users/{ann_id}/disable"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = reset(
        &f,
        &token_of(fourth["link"].as_str().unwrap()),
        "new-password-6",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = f
        .call(
            "POST",
            &format!("/api/v1/users/{ann_id}/reset-link"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    f.call(
        "POST",
        &format!("/api/v1/users/{ann_id}/enable"),
        Some(&boss),
        None,
    )
    .await;
    f.login("ann@acme.test", "new-password-2").await;
}

async fn roles_are_set_by_admins_and_the_last_admin_stays(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let (boss_id, ann_id) = (f.user_id(&boss).await, f.user_id(&ann).await);
    let role_of = |list: &[Value], email: &str| person(list, email).unwrap()["role"].clone();
    let set = |id: String, role: &'static str, token: String| {
        let f = &f;
        async move {
            f.call(
                "PUT",
                &format!("/api/v1/users/{id}/role"),
                Some(&token),
                Some(json!({"role": role})),
            )
            .await
        }
    };
    // The last admin can't demote themselves, nor be disabled (the CLI's way: by nobody else).
    let (status, body) = set(boss_id.clone(), "member", boss.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("last admin"),
        "{body}"
    );
    let boss_row = accounts::find(&f.state, "boss@acme.test").await.unwrap();
    assert!(matches!(
        accounts::set_disabled(&f.state, &boss_row, true).await,
        Err(accounts::AccountError::LastAdmin(_))
    ));
    assert!(matches!(
        accounts::ensure_not_last_admin(&f.state, &boss_row).await,
        Err(accounts::AccountError::LastAdmin(_))
    ));
    let (status, _) = f.call("GET", "/api/v1/me", Some(&boss), None).await;
    assert_eq!(status, StatusCode::OK, "still enabled");

    // A manager before they have people.
    let (status, body) = set(ann_id.clone(), "manager", boss.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        role_of(&people(&f, &boss).await, "ann@acme.test"),
        "manager"
    );
    let (status, list) = f.call("GET", "/api/v1/users", Some(&ann), None).await;
    assert_eq!(
        (status, list),
        (StatusCode::OK, json!([])),
        "a manager of nobody yet"
    );
    let (status, _) = f
        .call(
            "PUT",
            &format!("/api/v1/users/{ann_id}/managed"),
            Some(&boss),
            Some(json!({"users": [boss_id]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Member takes the people away.
    let (status, _) = set(ann_id.clone(), "member", boss.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(role_of(&people(&f, &boss).await, "ann@acme.test"), "member");
    let (_, managed) = f
        .call(
            "GET",
            &format!("/api/v1/users/{ann_id}/managed"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(managed["users"], json!([]));
    // Admin: at once (the cached sign-in is read again).
    let (status, _) = f.call("GET", "/api/v1/invitations", Some(&ann), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = set(ann_id.clone(), "admin", boss.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f.call("GET", "/api/v1/invitations", Some(&ann), None).await;
    assert_eq!(status, StatusCode::OK, "an admin at once");
    // Now Boss is not the last: he steps down; then Ann is, and stays.
    let (status, _) = set(boss_id.clone(), "member", boss.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f
        .call("GET", "/api/v1/invitations", Some(&boss), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no longer an admin, at once");
    let (status, _) = set(ann_id.clone(), "manager", ann.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(role_of(&people(&f, &ann).await, "ann@acme.test"), "admin");
    let (status, _) = set(ann_id.clone(), "owner", ann.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Every change is in the audit trail with the role before and after.
    let trail = audit_today(&f, &ann).await;
    let changes: Vec<(String, Value, Value)> = trail
        .iter()
        .filter(|r| r["action"] == "role.set")
        .map(|r| {
            (
                r["user_id"].as_str().unwrap().to_string(),
                r["before"]["role"].clone(),
                r["after"]["role"].clone(),
            )
        })
        .collect();
    assert!(
        changes.contains(&(ann_id.clone(), json!("member"), json!("admin"))),
        "{changes:?}"
    );
    assert!(
        changes.contains(&(boss_id.clone(), json!("admin"), json!("member"))),
        "{changes:?}"
    );
    assert_eq!(
        changes.len(),
        4,
        "refused changes are not recorded: {changes:?}"
    );
}

/// The mail test: an invitation and a reset link mailed through aiosmtpd (PyPI) on loopback,
/// configured as the server's `[smtp]`; the test reads the mails the server received and
/// follows their links. SQLite serves it (the mail path is the same for both backends).
#[tokio::test]
#[cfg_attr(
    windows,
    ignore = "aiosmtpd is a Linux Python here: Wine has none to run it"
)]
async fn invitation_and_reset_mails_arrive_at_a_real_smtp_server_and_their_links_work() {
    use std::io::{BufRead, BufReader};
    let python = crate::events::pm4py_python();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut sink = std::process::Command::new(python)
        .arg("-u")
        .arg(crate::manifest_dir().join("tests/server/smtp_sink.py"))
        .arg(port.to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("starts aiosmtpd");
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let stdout = sink.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let next_line = || {
        lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("aiosmtpd printed a line within 30 s")
    };
    assert_eq!(next_line(), "ready");

    let mut f = Fixture::new(Backend::Sqlite).await;
    let smtp = metron_server::config::SmtpSettings {
        host: "127.0.0.1".into(),
        port: Some(port),
        from: "Metron <metron@acme.test>".into(),
        username: None,
        password: None,
        security: metron_server::config::SmtpSecurity::None,
        timeout: Some(20),
    };
    f.state.public_url = Some("https://metron.acme.test/".into());
    f.state.mailer = Some(std::sync::Arc::new(
        metron_server::mail::Mailer::new(&smtp).unwrap(),
    ));
    f.app = server_api::app(f.state.clone());
    let boss = f.login("boss@acme.test", "boss-password").await;

    let issued = invite(&f, &boss, json!({"email": "bea@acme.test", "name": "Bea"})).await;
    assert_eq!(issued["mail"], json!({"status": "sent"}), "{issued}");
    let link = issued["link"].as_str().unwrap();
    assert!(
        link.starts_with("https://metron.acme.test/#invite="),
        "{link}"
    );
    let mail: Value = serde_json::from_str(&next_line()).unwrap();
    assert_eq!(mail["rcpt_tos"], json!(["bea@acme.test"]));
    assert_eq!(mail["mail_from"], "metron@acme.test");
    assert!(
        mail["subject"]
            .as_str()
            .unwrap()
            .contains("Boss invites you"),
        "{mail}"
    );
    // The link as the mail carries it, followed.
    let body = mail["body"].as_str().unwrap();
    let mailed = body
        .split_whitespace()
        .find(|w| w.contains("#invite="))
        .unwrap_or_else(|| panic!("no link in {body:?}"));
    assert_eq!(mailed, link, "the mail carries the answer's link");
    let (status, signed_in) = accept(&f, &token_of(mailed), "Bea", "bea-password").await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    let bea_id = signed_in["user"]["id"].as_str().unwrap().to_string();

    let (status, reset) = f
        .call(
            "POST",
            &format!("/api/v1/users/{bea_id}/reset-link"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reset}");
    assert_eq!(reset["mail"]["status"], "sent");
    let mail: Value = serde_json::from_str(&next_line()).unwrap();
    assert_eq!(mail["rcpt_tos"], json!(["bea@acme.test"]));
    let body = mail["body"].as_str().unwrap();
    let mailed = body
        .split_whitespace()
        .find(|w| w.contains("#reset="))
        .unwrap_or_else(|| panic!("no link in {body:?}"));
    assert!(
        mailed.starts_with("https://metron.acme.test/#reset="),
        "{mailed}"
    );
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/password-reset",
            None,
            Some(json!({"token": token_of(mailed), "password": "bea-password-2"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    f.login("bea@acme.test", "bea-password-2").await;

    // The mail server gone: the invitation is kept and its link answered, the failure said.
    drop(sink.stdin.take());
    sink.wait().unwrap();
    let issued = invite(&f, &boss, json!({"email": "cy@acme.test"})).await;
    assert_eq!(issued["mail"]["status"], "failed", "{issued}");
    assert!(issued["mail"]["error"]
        .as_str()
        .is_some_and(|e| !e.is_empty()));
    let (status, _) = accept(
        &f,
        &token_of(issued["link"].as_str().unwrap()),
        "Cy",
        "cy-password",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a failed mail loses nothing");
}

/// `metron-server user ...` on the fixture's database: (success, stdout, stderr).
fn cli(f: &Fixture, args: &[&str]) -> (bool, String, String) {
    let out = server_command()
        .args(["--db", &f.url(), "user"])
        .args(args)
        // No settings file of the machine's: links are paths, nothing is mailed.
        .env("METRON_CONFIG", f._dir.path().join("none.toml"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn the_command_line_invites_lists_revokes_resets_sets_roles_and_imports(f: Fixture) {
    std::fs::write(f._dir.path().join("none.toml"), "").unwrap();
    let (ok, out, err) = cli(
        &f,
        &[
            "invite",
            "--email",
            "bea@acme.test",
            "--name",
            "Bea",
            "--role",
            "manager",
            "--manager",
            "ann@acme.test",
            "--org",
            "acme",
        ],
    );
    assert!(ok, "{err}");
    let issued: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(issued["role"], "manager");
    assert_eq!(issued["invited_by"], "cli");
    let (ok, _, err) = cli(&f, &["invite", "--email", "ann@acme.test", "--org", "acme"]);
    assert!(!ok && err.contains("already a person"), "{err}");
    let (ok, out, _) = cli(&f, &["invitations", "--org", "acme"]);
    assert!(ok);
    assert_eq!(out.lines().count(), 1, "{out}");
    // The link works.
    let (status, signed_in) = accept(
        &f,
        &token_of(issued["link"].as_str().unwrap()),
        "Bea",
        "bea-password",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    let (ok, out, _) = cli(&f, &["invitations", "--org", "acme"]);
    assert!(ok && out.trim().is_empty(), "{out}");
    // Revoke.
    assert!(cli(&f, &["invite", "--email", "cy@acme.test", "--org", "acme"]).0);
    let (ok, _, err) = cli(
        &f,
        &[
            "revoke-invitation",
            "--email",
            "cy@acme.test",
            "--org",
            "acme",
        ],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = cli(
        &f,
        &[
            "revoke-invitation",
            "--email",
            "cy@acme.test",
            "--org",
            "acme",
        ],
    );
    assert!(!ok && err.contains("no pending invitation"), "{err}");
    // A reset link.
    let (ok, out, err) = cli(&f, &["reset-link", "--email", "ann@acme.test"]);
    assert!(ok, "{err}");
    let reset_issued: Value = serde_json::from_str(out.trim()).unwrap();
    let (status, _) = reset(
        &f,
        &token_of(reset_issued["link"].as_str().unwrap()),
        "ann-password-2",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    f.login("ann@acme.test", "ann-password-2").await;
    // Roles, and the last admin.
    let (ok, _, err) = cli(
        &f,
        &["role", "--email", "boss@acme.test", "--role", "member"],
    );
    assert!(!ok && err.contains("last admin"), "{err}");
    let (ok, _, err) = cli(&f, &["disable", "--email", "boss@acme.test"]);
    assert!(!ok && err.contains("last admin"), "{err}");
    let (ok, out, err) = cli(&f, &["role", "--email", "ann@acme.test", "--role", "admin"]);
    assert!(ok && out.contains("admin"), "{err}");
    let (ok, _, err) = cli(
        &f,
        &["role", "--email", "boss@acme.test", "--role", "member"],
    );
    assert!(ok, "{err}");
    let boss = f.login("boss@acme.test", "boss-password").await;
    let (status, _) = f
        .call("GET", "/api/v1/invitations", Some(&boss), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "demoted on the command line");
    // Import: a bad row names its line and imports nothing; the good file imports whole.
    let csv = f._dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "email,name,role,manager\nd1@acme.test,D1,,\nd2-at-acme.test,D2,,\n",
    )
    .unwrap();
    let path = csv.display().to_string();
    let (ok, out, err) = cli(&f, &["import", &path, "--org", "acme"]);
    assert!(!ok, "{out}");
    assert!(err.contains(&format!("{path}:3: bad email")), "{err}");
    let (_, listed, _) = cli(&f, &["invitations", "--org", "acme"]);
    assert!(listed.trim().is_empty(), "nothing imported: {listed}");
    std::fs::write(
        &csv,
        "email,name,role,manager\nd1@acme.test,D1,,\nd2@acme.test,D2,manager,ann@acme.test\n",
    )
    .unwrap();
    let (ok, out, err) = cli(&f, &["import", &path, "--org", "acme"]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    let (_, listed, _) = cli(&f, &["invitations", "--org", "acme"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
}
