//! The organization's settings page's API (issue 28): the organization's own settings change
//! field by field, each change of them, of the rules, the thresholds and the announcement is
//! one audit row; the URL policy is applied to what is stored (and a resend across a policy
//! change is still a duplicate); an organization's shorter retention is kept by the cleanup;
//! a proposed list of rules previews what it would re-classify over the last 7 days.

use super::*;

on_both!(
    organization_settings_change_field_by_field_and_each_change_is_audited,
    the_url_policy_decides_what_is_stored_of_page_addresses,
    an_organization_keeps_detail_for_fewer_days_when_it_says_so,
    a_rule_is_previewed_over_the_last_seven_days_before_it_is_saved,
);

const SETTINGS: &str = "/api/v1/organization/settings";

/// The organization-wide audit rows (`scope=all`) of the last hour, newest first.
pub(crate) async fn org_audit(f: &Fixture, admin: &str) -> Vec<Value> {
    let now = chrono::Utc::now();
    let fmt =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let path = format!(
        "/api/v1/audit?scope=all&from={}&to={}",
        fmt(now - chrono::Duration::hours(1)),
        fmt(now + chrono::Duration::minutes(1))
    );
    let (status, rows) = f.call("GET", &path, Some(admin), None).await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    rows.as_array().unwrap().clone()
}

async fn organization_settings_change_field_by_field_and_each_change_is_audited(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let (status, settings) = f.call("GET", SETTINGS, Some(&boss), None).await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(
        settings,
        json!({"name": "acme", "task_creation": "everyone", "managers_see_detail": false,
               "url_policy": "full", "retention_days": null, "server_retention_days": 400,
               "require_second_factor": "off"})
    );
    // One field: the others stay.
    let (status, changed) = f
        .call(
            "PUT",
            SETTINGS,
            Some(&boss),
            Some(json!({"name": "  Acme Ltd  "})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["name"], "Acme Ltd");
    assert_eq!(changed["task_creation"], "everyone");
    let (status, changed) = f
        .call(
            "PUT",
            SETTINGS,
            Some(&boss),
            Some(
                json!({"retention_days": 30, "url_policy": "host_only", "task_creation": "admins"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (
            &changed["name"],
            &changed["retention_days"],
            &changed["url_policy"],
            &changed["task_creation"]
        ),
        (
            &json!("Acme Ltd"),
            &json!(30),
            &json!("host_only"),
            &json!("admins")
        )
    );
    // Null goes back to the server's retention; an absent field is left alone.
    let (_, changed) = f
        .call(
            "PUT",
            SETTINGS,
            Some(&boss),
            Some(json!({"retention_days": null})),
        )
        .await;
    assert_eq!(
        (&changed["retention_days"], &changed["url_policy"]),
        (&Value::Null, &json!("host_only"))
    );
    // What is refused, and changes nothing.
    for (body, status_wanted, says) in [
        (
            json!({"retention_days": 0}),
            StatusCode::BAD_REQUEST,
            "retention_days",
        ),
        (
            json!({"retention_days": 401}),
            StatusCode::BAD_REQUEST,
            "retention_days",
        ),
        (json!({"name": "   "}), StatusCode::BAD_REQUEST, "name"),
        (
            json!({"name": "a\u{7}b"}),
            StatusCode::BAD_REQUEST,
            "control",
        ),
        (
            json!({"name": "x".repeat(201)}),
            StatusCode::BAD_REQUEST,
            "200",
        ),
        (json!({"url_policy": "some"}), StatusCode::BAD_REQUEST, ""),
        (json!({"name": "other"}), StatusCode::CONFLICT, "other"),
    ] {
        let (status, error) = f
            .call("PUT", SETTINGS, Some(&boss), Some(body.clone()))
            .await;
        assert_eq!(status, status_wanted, "{body}: {error}");
        assert!(
            error["error"].as_str().unwrap().contains(says),
            "{body}: {error}"
        );
    }
    let (status, _) = f
        .call("PUT", SETTINGS, Some(&ann), Some(json!({"name": "Mine"})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = f.call("GET", SETTINGS, Some(&ann), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, settings) = f.call("GET", SETTINGS, Some(&boss), None).await;
    assert_eq!(settings["name"], "Acme Ltd", "nothing refused was stored");

    // The rules, the thresholds and the announcement are audited too.
    let (status, rule) = f
        .call(
            "POST",
            "/api/v1/rules",
            Some(&boss),
            Some(
                json!({"target": "app", "kind": "glob", "pattern": "code", "class": "productive"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    let rule_id = rule["id"].as_str().unwrap();
    let (status, _) = f
        .call(
            "PUT",
            &format!("/api/v1/rules/{rule_id}"),
            Some(&boss),
            Some(
                json!({"target": "app", "kind": "glob", "pattern": "code*", "class": "productive"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f
        .call(
            "DELETE",
            &format!("/api/v1/rules/{rule_id}"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = f
        .call(
            "DELETE",
            &format!("/api/v1/rules/{rule_id}"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a second delete writes no row"
    );
    let (_, mut thresholds) = f
        .call("GET", "/api/v1/unusual/thresholds", Some(&boss), None)
        .await;
    thresholds["high_activity_pct"] = json!(90);
    let (status, _) = f
        .call(
            "PUT",
            "/api/v1/unusual/thresholds",
            Some(&boss),
            Some(thresholds),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f
        .call(
            "PUT",
            "/api/v1/client-version",
            Some(&boss),
            Some(json!({"latest": "0.3.0", "download_url": "https://example.com/metron"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let boss_id = f.user_id(&boss).await;
    let rows = org_audit(&f, &boss).await;
    let actions: Vec<&str> = rows
        .iter()
        .rev()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "organization.settings",
            "organization.settings",
            "organization.settings",
            "rules.create",
            "rules.update",
            "rules.delete",
            "organization.unusual_thresholds",
            "organization.client_version",
        ]
    );
    for row in &rows {
        assert_eq!(row["actor_id"], boss_id.as_str(), "{row}");
        assert_eq!(
            row["user_id"],
            Value::Null,
            "about the organization, not a person: {row}"
        );
    }
    let first = rows.last().unwrap();
    assert_eq!(first["before"]["name"], "acme");
    assert_eq!(first["after"]["name"], "Acme Ltd");
    assert_eq!(
        rows[2]["before"]["pattern"], "code*",
        "the deleted rule: {}",
        rows[2]
    );
    assert_eq!(rows[1]["after"]["high_activity_pct"], 90);
    // The chain still verifies with the organization's rows in it.
    let verified = metron_server::audit_chain::verify(f.state.db.as_ref())
        .await
        .unwrap();
    assert!(verified.is_ok(), "{verified:?}");
}

/// An interval `secs` long that ended `ago` seconds before now, in `app` on `url`.
fn recent(task: &str, ago: i64, secs: i64, app: &str, url: Option<&str>) -> Value {
    let end = chrono::Utc::now().timestamp() - ago;
    let at = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let mut body = interval(task, 0, secs);
    body["started_at"] = json!(at(end - secs));
    body["ended_at"] = json!(at(end));
    body["utc_offset_minutes"] = json!(0);
    body["windows"] = json!([{"offset": 0, "seconds": secs, "app": app, "title": "a page", "url": url, "path": null}]);
    body
}

async fn post(f: &Fixture, token: &str, items: Vec<Value>) -> Vec<String> {
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(token),
            Some(json!({"intervals": items})),
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

async fn stored_urls(f: &Fixture, token: &str) -> Vec<Value> {
    let now = chrono::Utc::now();
    let fmt =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let path = format!(
        "/api/v1/intervals?from={}&to={}",
        fmt(now - chrono::Duration::days(1)),
        fmt(now)
    );
    let (status, list) = f.call("GET", &path, Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["windows"][0]["url"].clone())
        .collect()
}

async fn the_url_policy_decides_what_is_stored_of_page_addresses(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    let page = "https://docs.example.com/people/ann?q=salary";
    let first = recent(&task, 3600, 60, "firefox", Some(page));
    assert_eq!(post(&f, &ann, vec![first.clone()]).await, ["accepted"]);
    for (policy, kept) in [
        ("host_only", json!("docs.example.com")),
        ("drop", Value::Null),
    ] {
        let (status, body) = f
            .call(
                "PUT",
                SETTINGS,
                Some(&boss),
                Some(json!({"url_policy": policy})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let ago = if policy == "drop" { 1200 } else { 2400 };
        assert_eq!(
            post(
                &f,
                &ann,
                vec![recent(&task, ago, 60, "firefox", Some(page))]
            )
            .await,
            ["accepted"]
        );
        assert_eq!(
            stored_urls(&f, &ann).await.last().unwrap(),
            &kept,
            "{policy}"
        );
    }
    assert_eq!(
        stored_urls(&f, &ann).await[0],
        json!(page),
        "what was stored before stays"
    );
    // The first interval delivered again under another policy is the same interval.
    assert_eq!(post(&f, &ann, vec![first.clone()]).await, ["duplicate"]);
    let mut changed = first;
    changed["active"] = json!("0".repeat(60));
    assert_eq!(
        post(&f, &ann, vec![changed]).await,
        ["rejected"],
        "a real conflict still is one"
    );
}

async fn an_organization_keeps_detail_for_fewer_days_when_it_says_so(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let eve = f.login("eve@other.test", "eve-password").await;
    for token in [&ann, &eve] {
        let task = f.task(token).await;
        assert_eq!(
            post(&f, token, vec![interval(&task, 0, 600)]).await,
            ["accepted"]
        );
    }
    let (status, body) = f
        .call(
            "PUT",
            SETTINGS,
            Some(&boss),
            Some(json!({"retention_days": 10})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Noon UTC, `days` after the fixture day.
    let noon = |days: i64| {
        chrono::DateTime::from_timestamp(t0() + 4 * 3600, 0).unwrap() + chrono::Duration::days(days)
    };
    let nothing = metron_server::retention::run_once(&f.state, 400, noon(9))
        .await
        .unwrap();
    assert_eq!(nothing, Default::default(), "nine days on, still kept raw");
    let done = metron_server::retention::run_once(&f.state, 400, noon(12))
        .await
        .unwrap();
    assert_eq!(
        (done.days_kept_as_aggregates, done.intervals_deleted),
        (1, 1),
        "Ann's day only"
    );
    let raw = |token: String| {
        let f = &f;
        async move {
            let (_, list) = f
                .call(
                    "GET",
                    &format!(
                        "/api/v1/intervals?from={}&to={}",
                        day_start(0),
                        day_start(1)
                    ),
                    Some(&token),
                    None,
                )
                .await;
            list.as_array().unwrap().len()
        }
    };
    assert_eq!(raw(ann.clone()).await, 0, "acme keeps 10 days");
    assert_eq!(
        raw(eve.clone()).await,
        1,
        "the other organization keeps the server's 400"
    );
    let (_, day) = f
        .call(
            "GET",
            &format!("/api/v1/reports/daily?date={}", fixture_date(0)),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(
        day["tracked_secs"], 600,
        "the day reads the same from its aggregate"
    );
}

async fn a_rule_is_previewed_over_the_last_seven_days_before_it_is_saved(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let eve = f.login("eve@other.test", "eve-password").await;
    let (ann_task, eve_task) = (f.task(&ann).await, f.task(&eve).await);
    let items = vec![
        recent(&ann_task, 7200, 600, "Code", None),
        recent(
            &ann_task,
            3600,
            300,
            "firefox",
            Some("https://news.example.com/today"),
        ),
        recent(
            &ann_task,
            1800,
            120,
            "firefox",
            Some("https://docs.rs/tokio"),
        ),
    ];
    assert_eq!(post(&f, &ann, items).await, ["accepted"; 3]);
    // Another organization's time is not counted in acme's preview.
    assert_eq!(
        post(&f, &eve, vec![recent(&eve_task, 3600, 900, "Code", None)]).await,
        ["accepted"]
    );
    let rule = |target: &str, pattern: &str, class: &str| json!({"target": target, "kind": "glob", "pattern": pattern, "class": class});
    let preview = |rules: Vec<Value>| {
        let (f, boss) = (&f, &boss);
        async move {
            f.call(
                "POST",
                "/api/v1/rules/preview",
                Some(boss),
                Some(json!({"rules": rules})),
            )
            .await
        }
    };
    let (status, answer) = preview(vec![rule("app", "code", "productive")]).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["reclassified_secs"], 600);
    assert_eq!(
        answer["changes"],
        json!([{"app": "Code", "host": null, "from": "neutral", "to": "productive", "tracked_secs": 600, "people": 1}])
    );
    assert_eq!(answer["more"], false);
    // Store one rule; a proposal that adds a host rule changes only the host's time.
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/rules",
            Some(&boss),
            Some(rule("app", "firefox", "unproductive")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, answer) = preview(vec![
        rule("app", "firefox", "unproductive"),
        rule("host", "docs.rs", "productive"),
    ])
    .await;
    assert_eq!(
        answer["changes"],
        json!([{"app": "firefox", "host": "docs.rs", "from": "unproductive", "to": "productive", "tracked_secs": 120, "people": 1}])
    );
    // The stored list again: nothing changes. Nothing was stored by a preview.
    let (_, answer) = preview(vec![rule("app", "firefox", "unproductive")]).await;
    assert_eq!(
        (&answer["reclassified_secs"], &answer["changes"]),
        (&json!(0), &json!([]))
    );
    let (_, rules) = f.call("GET", "/api/v1/rules", Some(&boss), None).await;
    assert_eq!(rules.as_array().unwrap().len(), 1);
    // Bad rules and too many are 400; a member is refused.
    let (status, error) = preview(vec![
        json!({"target": "app", "kind": "regex", "pattern": "(", "class": "productive"}),
    ])
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let (status, _) = preview(vec![rule("app", "x", "productive"); 1001]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/rules/preview",
            Some(&ann),
            Some(json!({"rules": []})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// `metron-server org` and `rule` change what the settings page changes, checked the same way.
#[test]
fn the_command_line_changes_what_the_settings_page_changes() {
    use super::processes::cli;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.sqlite").display().to_string();
    cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "boss@acme.test",
            "--name",
            "Boss",
            "--password",
            "boss-password",
            "--admin",
        ],
    );
    let set: Value = serde_json::from_str(&cli(
        &db,
        &[
            "org",
            "set",
            "--name",
            "Acme Ltd",
            "--url-policy",
            "drop",
            "--retention-days",
            "30",
            "--managers-see-detail",
            "true",
        ],
    ))
    .unwrap();
    assert_eq!(
        (
            &set["name"],
            &set["url_policy"],
            &set["retention_days"],
            &set["managers_see_detail"]
        ),
        (&json!("Acme Ltd"), &json!("drop"), &json!(30), &json!(true))
    );
    let policy = r#"{"manual": "allowed", "max_manual_secs": 3600, "moves": "approval", "edit_window_days": 3, "passive_limit_secs": 600}"#;
    // The organization goes by its new name from now on.
    cli(&db, &["org", "policy", "--org", "Acme Ltd", policy]);
    let rule: Value = serde_json::from_str(&cli(
        &db,
        &[
            "rule",
            "add",
            "--org",
            "Acme Ltd",
            "--target",
            "host",
            "--pattern",
            "*.example.com",
            "--class",
            "unproductive",
        ],
    ))
    .unwrap();
    let shown: Value =
        serde_json::from_str(&cli(&db, &["org", "show", "--org", "Acme Ltd"])).unwrap();
    assert_eq!(shown["settings"]["name"], "Acme Ltd");
    assert_eq!(shown["timesheet_policy"]["edit_window_days"], 3);
    assert_eq!(shown["rules"][0]["pattern"], "*.example.com");
    cli(
        &db,
        &[
            "rule",
            "remove",
            "--org",
            "Acme Ltd",
            rule["id"].as_str().unwrap(),
        ],
    );
    cli(
        &db,
        &[
            "org",
            "set",
            "--org",
            "Acme Ltd",
            "--retention-days",
            "server",
        ],
    );
    let shown: Value =
        serde_json::from_str(&cli(&db, &["org", "show", "--org", "Acme Ltd"])).unwrap();
    assert_eq!(
        (&shown["rules"], &shown["settings"]["retention_days"]),
        (&json!([]), &Value::Null)
    );
    // What the API refuses, the command line refuses, and says why.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_metron-server"))
        .args([
            "--db",
            &db,
            "org",
            "set",
            "--org",
            "Acme Ltd",
            "--retention-days",
            "0",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("retention_days must be 1 to 400"));
    // Five changes, each an audit row of the command line, and the chain holds.
    let verified = cli(&db, &["audit", "verify"]);
    assert!(
        verified.contains("the audit trail holds: 5 rows in 1 organizations"),
        "{verified}"
    );
}
