//! Each person's own data (issue 28): the export is a ZIP that holds the person's intervals
//! (opened here), an admin's download of it and a manager's read of a day land in the
//! person's access log while their own reads don't, the notice follows the settings and its
//! acknowledgement, and removing a person leaves nothing of them in any table but the audit
//! trail's tombstone, with the chain still verifying and the last admin kept.

use super::*;
use std::io::Read as _;

on_both!(
    the_export_holds_the_persons_data_and_others_reads_are_logged,
    an_export_past_its_budget_says_so_in_the_zip,
    the_notice_follows_the_settings_and_its_acknowledgement,
    removing_a_person_leaves_nothing_of_them_but_the_tombstone,
    each_role_reaches_the_own_data_routes_as_documented,
);

/// A GET answered with bytes: status, content type, body.
async fn get_bytes(f: &Fixture, path: &str, token: &str) -> (StatusCode, String, Vec<u8>) {
    let req = Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = f.app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get("content-type")
        .map_or_else(String::new, |v| v.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, kind, bytes.to_vec())
}

/// The ZIP's files by name.
pub(crate) fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a whole ZIP");
    let mut files = std::collections::BTreeMap::new();
    for n in 0..archive.len() {
        let mut file = archive.by_index(n).unwrap();
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        files.insert(file.name().unwrap().to_string(), text);
    }
    files
}

/// Ann's interval with a title and an address, 08:00 UTC of the fixture day; its id.
async fn ann_tracks(f: &Fixture, ann: &str) -> String {
    let task = f.task(ann).await;
    let mut item = interval(&task, 0, 60);
    item["windows"] = json!([{"offset": 0, "seconds": 60, "app": "Firefox",
        "title": "Quarterly plan — Wiki", "url": "https://wiki.acme.test/plan", "path": null}]);
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(ann),
            Some(json!({"intervals": [item.clone()]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    item["id"].as_str().unwrap().to_string()
}

async fn access_log(f: &Fixture, token: &str) -> Vec<Value> {
    let (status, body) = f
        .call("GET", "/api/v1/me/access-log", Some(token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

async fn make_manager(f: &Fixture, boss: &str, manager: &str, of: &str) {
    let (status, body) = f
        .call(
            "PUT",
            &format!("/api/v1/users/{manager}/managed"),
            Some(boss),
            Some(json!({"users": [of]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn the_export_holds_the_persons_data_and_others_reads_are_logged(f: Fixture) {
    accounts::add_user(
        &f.state,
        "acme",
        "max@acme.test",
        "Max",
        "a-password-1",
        false,
    )
    .await
    .unwrap();
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let max = f.login("max@acme.test", "a-password-1").await;
    let (ann_id, boss_id, max_id) = (
        f.user_id(&ann).await,
        f.user_id(&boss).await,
        f.user_id(&max).await,
    );
    let interval_id = ann_tracks(&f, &ann).await;

    // Her own export: the ZIP holds her interval, its window and its README.
    let (status, kind, zip) = get_bytes(&f, "/api/v1/me/export", &ann).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "application/zip");
    let files = unzip(&zip);
    let intervals: Value = serde_json::from_str(&files["intervals.json"]).unwrap();
    assert_eq!(intervals.as_array().unwrap().len(), 1);
    assert_eq!(intervals[0]["id"], interval_id.as_str());
    assert_eq!(intervals[0]["windows"][0]["title"], "Quarterly plan — Wiki");
    assert!(files["intervals.csv"].contains(&interval_id));
    assert!(files["windows.csv"].contains("https://wiki.acme.test/plan"));
    let person: Value = serde_json::from_str(&files["person.json"]).unwrap();
    assert_eq!(person["email"], "ann@acme.test");
    let manifest: Value = serde_json::from_str(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["complete"], true);
    for name in [
        "devices.json",
        "manual_entries.json",
        "corrections.json",
        "timesheets.csv",
        "audit.json",
    ] {
        assert!(files["README.txt"].contains(name), "README names {name}");
    }
    assert!(files["README.txt"].contains("This export is complete."));
    // Her own reads are not in her log.
    let (status, _) = f
        .call(
            "GET",
            &format!("/api/v1/reports/daily?date={}", fixture_date(0)),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(access_log(&f, &ann).await.is_empty());

    // An admin's download of it is the same ZIP, and is logged.
    let (status, _, zip) = get_bytes(&f, &format!("/api/v1/users/{ann_id}/export"), &boss).await;
    assert_eq!(status, StatusCode::OK);
    assert!(unzip(&zip)["intervals.json"].contains(&interval_id));
    let log = access_log(&f, &ann).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (
            log[0]["reader_id"].as_str(),
            log[0]["what"].as_str(),
            log[0]["reader_role"].as_str()
        ),
        (Some(boss_id.as_str()), Some("export"), Some("admin"))
    );
    // Max, once her manager, reads her day: logged with the day, once an hour however often.
    make_manager(&f, &boss, &max_id, &ann_id).await;
    for _ in 0..3 {
        let (status, body) = f
            .call(
                "GET",
                &format!(
                    "/api/v1/reports/daily?date={}&user_id={ann_id}",
                    fixture_date(0)
                ),
                Some(&max),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _) = f
        .call(
            "GET",
            &format!(
                "/api/v1/timesheets?period=week&date={}&user_id={ann_id}",
                fixture_date(0)
            ),
            Some(&max),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let log = access_log(&f, &ann).await;
    let max_reads: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| e["reader_id"] == max_id.as_str())
        .map(|e| (e["what"].as_str().unwrap(), e["scope"].as_str().unwrap()))
        .collect();
    assert_eq!(max_reads.len(), 2, "{log:?}");
    let (day, week) = (fixture_date(0), format!("week:{}", fixture_date(0)));
    assert!(max_reads.contains(&("day", day.as_str())));
    assert!(max_reads.contains(&("timesheet", week.as_str())));
    assert!(log
        .iter()
        .any(|e| e["reader_role"] == "manager" && e["reader_name"] == "Max"));
    // A refused read is no read: Max may not see her events (the detail is off).
    let (status, _) = f
        .call(
            "GET",
            &format!(
                "/api/v1/events?from={}&to={}&user_id={ann_id}",
                day_start(0),
                day_start(1)
            ),
            Some(&max),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(access_log(&f, &ann).await.len(), 3);
    // Paged: one row a page, a Link to the next.
    let req = Request::get("/api/v1/me/access-log?limit=1")
        .header("authorization", format!("Bearer {ann}"))
        .body(Body::empty())
        .unwrap();
    let response = f.app.clone().oneshot(req).await.unwrap();
    let link = response
        .headers()
        .get("link")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(link.contains("after="), "{link}");
    // The boss's own log holds nothing of this.
    assert!(access_log(&f, &boss).await.is_empty());
}

async fn an_export_past_its_budget_says_so_in_the_zip(f: Fixture) {
    let f = Fixture {
        state: AppState::with_limits(
            f.state.db.clone(),
            metron_server::limits::Limits {
                max_export_bytes: 1,
                ..Default::default()
            },
        ),
        ..f
    };
    let f = Fixture {
        app: server_api::app(f.state.clone()),
        ..f
    };
    let ann = f.login("ann@acme.test", "ann-password").await;
    ann_tracks(&f, &ann).await;
    let (status, _, zip) = get_bytes(&f, "/api/v1/me/export", &ann).await;
    assert_eq!(status, StatusCode::OK);
    let files = unzip(&zip);
    let manifest: Value = serde_json::from_str(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["complete"], false, "{manifest}");
    assert!(manifest["cut_at"].as_str().is_some());
    assert!(files["README.txt"].contains("THIS EXPORT IS INCOMPLETE"));
    assert!(
        !files.contains_key("windows.csv"),
        "files after the cut are left out"
    );
}

async fn the_notice_follows_the_settings_and_its_acknowledgement(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let (status, notice) = f.call("GET", "/api/v1/me/notice", Some(&ann), None).await;
    assert_eq!(status, StatusCode::OK, "{notice}");
    assert_eq!(notice["content"]["collected"]["keystrokes"], false);
    assert_eq!(
        notice["content"]["visibility"]["managers"],
        "figures_and_timesheets"
    );
    assert_eq!(notice["acknowledged_at"], Value::Null);
    assert!(notice["text"]["en"]
        .to_string()
        .contains("not window titles"));
    assert!(
        notice["text"]["ru"].as_array().unwrap().len()
            == notice["text"]["en"].as_array().unwrap().len()
    );
    let first = notice["version"].as_str().unwrap().to_string();
    let (status, acked) = f
        .call(
            "POST",
            "/api/v1/me/notice/ack",
            Some(&ann),
            Some(json!({"version": first})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{acked}");
    assert!(acked["acknowledged_at"].is_string());

    // An admin lets managers see the detail: the notice says so, in a new version that Ann
    // has not acknowledged, and the old one can't be acknowledged any more.
    let (status, body) = f
        .call(
            "PUT",
            "/api/v1/organization/settings",
            Some(&boss),
            Some(json!({"task_creation": "everyone", "managers_see_detail": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, notice) = f.call("GET", "/api/v1/me/notice", Some(&ann), None).await;
    assert_eq!(notice["content"]["visibility"]["managers"], "everything");
    assert_eq!(notice["content"]["visibility"]["managers_see_detail"], true);
    assert!(!notice["content"]["withheld"]
        .to_string()
        .contains("detail_from_managers"));
    assert_ne!(notice["version"], first.as_str());
    assert_eq!(notice["acknowledged_at"], Value::Null);
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/me/notice/ack",
            Some(&ann),
            Some(json!({"version": first})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // The passive-presence limit of the timesheet policy is in it too.
    let (status, body) = f
        .call(
            "PUT",
            "/api/v1/timesheets/policy",
            Some(&boss),
            Some(json!({"passive_limit_secs": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, notice) = f.call("GET", "/api/v1/me/notice", Some(&ann), None).await;
    assert_eq!(
        notice["content"]["collected"]["passive_presence_limit_secs"],
        0
    );
    assert!(notice["text"]["en"]
        .to_string()
        .contains("never counts as presence"));
}

/// Every table of the schema (read from the database, so a table added later is counted
/// too) and the rows in it where any text column mentions `needle`.
pub(crate) async fn rows_mentioning(url: &str, needles: &[&str]) -> Vec<(String, i64)> {
    let like = |cols: &[String]| {
        let mut any = Vec::new();
        for c in cols {
            for n in needles {
                any.push(format!("CAST(\"{c}\" AS TEXT) LIKE '%{n}%'"));
            }
        }
        any.join(" OR ")
    };
    let mut found = Vec::new();
    if db::is_postgres(url) {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
            .await
            .unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE '_sqlx%'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert!(tables.len() > 15, "{tables:?}");
        for t in tables {
            let cols: Vec<String> = sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
            )
            .bind(&t)
            .fetch_all(&mut conn)
            .await
            .unwrap();
            let sql = format!("SELECT count(*) FROM \"{t}\" WHERE {}", like(&cols));
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut conn)
                .await
                .unwrap();
            found.push((t, n));
        }
    } else {
        let mut conn =
            <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("sqlite://{url}"))
                .await
                .unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert!(tables.len() > 15, "{tables:?}");
        for t in tables {
            let cols: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                .bind(&t)
                .fetch_all(&mut conn)
                .await
                .unwrap();
            let sql = format!("SELECT count(*) FROM \"{t}\" WHERE {}", like(&cols));
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut conn)
                .await
                .unwrap();
            found.push((t, n));
        }
    }
    found.retain(|(_, n)| *n > 0);
    found.sort();
    found
}

async fn team_has(f: &Fixture, boss: &str, email: &str) -> bool {
    let (status, team) = f
        .call(
            "GET",
            &format!("/api/v1/reports/team?date={}", fixture_date(0)),
            Some(boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{team}");
    team["users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["user"]["email"] == email && u["tracked_secs"].as_u64().unwrap_or(0) > 0)
}

async fn removing_a_person_leaves_nothing_of_them_but_the_tombstone(f: Fixture) {
    accounts::add_user(
        &f.state,
        "acme",
        "max@acme.test",
        "Max",
        "a-password-1",
        false,
    )
    .await
    .unwrap();
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let max = f.login("max@acme.test", "a-password-1").await;
    let (ann_id, max_id) = (f.user_id(&ann).await, f.user_id(&max).await);
    ann_tracks(&f, &ann).await;
    // Everything a person leaves behind: a manual entry (and its audit row), a device
    // report, a manager, an acknowledged notice, reads by others in her log.
    let task = f.task(&ann).await;
    let now = chrono::Utc::now().timestamp();
    let at = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/manual-entries",
            Some(&ann),
            Some(json!({"task_id": task, "started_at": at(now - 7200), "ended_at": at(now - 3600), "note": "Call with the client"})),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let (status, body) = f
        .call(
            "PUT",
            "/api/v1/devices/01930000-0000-7000-8000-00000000d001",
            Some(&ann),
            Some(json!({
                "host_name": "ann-laptop", "os_user": "ann", "domain": "corp.example.com",
                "os_name": "Debian GNU/Linux 12 (bookworm)", "os_version": "6.1.0-28-amd64",
                "time_zone": "Europe/Berlin", "utc_offset_minutes": 60, "app_version": "0.2.0"
            })),
        )
        .await;
    assert!(status.is_success(), "{body}");
    make_manager(&f, &boss, &max_id, &ann_id).await;
    let (_, notice) = f.call("GET", "/api/v1/me/notice", Some(&ann), None).await;
    f.call(
        "POST",
        "/api/v1/me/notice/ack",
        Some(&ann),
        Some(json!({"version": notice["version"]})),
    )
    .await;
    f.call(
        "GET",
        &format!(
            "/api/v1/reports/daily?date={}&user_id={ann_id}",
            fixture_date(0)
        ),
        Some(&max),
        None,
    )
    .await;
    assert!(team_has(&f, &boss, "ann@acme.test").await);
    let before = rows_mentioning(&f.url(), &[&ann_id, "ann@acme.test"]).await;
    // Intervals name her by her number (`users.seq`), not her id.
    let seq = f
        .scalar(&format!("SELECT seq FROM users WHERE id = '{ann_id}'"))
        .await;
    let hers = format!("SELECT count(*) FROM intervals WHERE person = {seq}");
    assert_eq!(f.scalar(&hers).await, 1);
    for table in [
        "devices",
        "manual_entries",
        "audit_log",
        "managers",
        "tokens",
        "access_log",
        "notice_acks",
        "users",
    ] {
        assert!(
            before.iter().any(|(t, _)| t == table),
            "{table} holds Ann before: {before:?}"
        );
    }

    // The admin downloads her export, then removes her.
    let (status, _, zip) = get_bytes(&f, &format!("/api/v1/users/{ann_id}/export"), &boss).await;
    assert_eq!(status, StatusCode::OK);
    assert!(unzip(&zip)["manual_entries.json"].contains("Call with the client"));
    let (status, removed) = f
        .call(
            "DELETE",
            &format!("/api/v1/users/{ann_id}"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_eq!(removed["deleted"]["intervals"], 1);
    assert_eq!(removed["deleted"]["users"], 1);
    assert!(
        removed["erased_audit_rows"].as_u64().unwrap() >= 1,
        "{removed}"
    );

    // Nothing of hers anywhere but the tombstone, which holds counts only.
    let after = rows_mentioning(
        &f.url(),
        &[&ann_id, "ann@acme.test", "Call with the client"],
    )
    .await;
    assert_eq!(after, vec![("audit_log".to_string(), 1)], "{after:?}");
    assert_eq!(f.scalar(&hers).await, 0);
    let (_, trail) = f
        .call(
            "GET",
            &format!(
                "/api/v1/audit?scope=all&from={}&to={}",
                at(now - 86_400),
                at(now + 86_400)
            ),
            Some(&boss),
            None,
        )
        .await;
    let tombstone = trail
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "user.remove")
        .unwrap();
    assert_eq!(tombstone["user_id"], ann_id.as_str());
    assert_eq!(tombstone["after"]["deleted"]["intervals"], 1);
    assert!(!tombstone.to_string().contains("ann@acme.test"));
    // Her token is dead; the team's figures no longer have her; Max manages nobody.
    let (status, _) = f.call("GET", "/api/v1/me", Some(&ann), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!team_has(&f, &boss, "ann@acme.test").await);
    let (_, managed) = f
        .call(
            "GET",
            &format!("/api/v1/users/{max_id}/managed"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(managed["users"], json!([]));
    // The chain still verifies, the erased rows named by the tombstone.
    let verified = metron_server::audit_chain::verify(f.state.db.as_ref())
        .await
        .unwrap()
        .unwrap_or_else(|b| panic!("the chain should hold after a removal: {b}"));
    assert!(verified.erased >= 1);
    // Un-erasing a row behind the triggers' back breaks it (its hash no longer matches).
    let url = f.url();
    let drop_trigger = if db::is_postgres(&url) {
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"
    } else {
        "DROP TRIGGER audit_log_no_update"
    };
    super::audit_chain::raw(&url, drop_trigger).await.unwrap();
    super::audit_chain::raw(
        &url,
        "UPDATE audit_log SET erased_by = NULL, reason = 'forged' WHERE erased_by IS NOT NULL",
    )
    .await
    .unwrap();
    assert!(metron_server::audit_chain::verify(f.state.db.as_ref())
        .await
        .unwrap()
        .is_err());

    // The last admin can't be removed, nor remove themselves.
    let boss_row = accounts::find(&f.state, "boss@acme.test").await.unwrap();
    let refused = metron_server::own_data::erase::remove(
        &f.state,
        metron_server::own_data::erase::Remover::Operator,
        &boss_row,
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(metron_server::own_data::erase::RemoveError::LastAdmin(_))
        ),
        "{refused:?}"
    );
    let (status, _) = f
        .call(
            "DELETE",
            &format!("/api/v1/users/{}", boss_row.user.id),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(accounts::find(&f.state, "boss@acme.test").await.is_ok());
}

async fn each_role_reaches_the_own_data_routes_as_documented(f: Fixture) {
    let Cast {
        boss,
        ann,
        max,
        oscar,
        ann_id,
        ..
    } = f.cast().await;
    // Everyone reads their own; only an admin of her organization downloads or removes Ann.
    for (who, token) in [
        ("admin", &boss),
        ("manager", &max),
        ("member", &ann),
        ("other org admin", &oscar),
    ] {
        for path in [
            "/api/v1/me/export",
            "/api/v1/me/access-log",
            "/api/v1/me/notice",
        ] {
            let (status, _, _) = get_bytes(&f, path, token).await;
            assert_eq!(status, StatusCode::OK, "{who} GET {path}");
        }
        let (status, _, _) = get_bytes(&f, &format!("/api/v1/users/{ann_id}/export"), token).await;
        let expected = match who {
            "admin" => StatusCode::OK,
            "other org admin" => StatusCode::NOT_FOUND,
            _ => StatusCode::FORBIDDEN,
        };
        assert_eq!(status, expected, "{who} downloading Ann's export");
    }
    for (who, token, expected) in [
        ("manager", &max, StatusCode::FORBIDDEN),
        ("member", &ann, StatusCode::FORBIDDEN),
        ("other org admin", &oscar, StatusCode::NOT_FOUND),
    ] {
        let (status, _) = f
            .call(
                "DELETE",
                &format!("/api/v1/users/{ann_id}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, expected, "{who} removing Ann");
    }
    let (status, _) = f.call("GET", "/api/v1/me/notice", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/me/notice/ack",
            Some(&ann),
            Some(json!({"version": 5})),
        )
        .await;
    assert!(status.is_client_error());
    let (status, _) = f
        .call("GET", "/api/v1/me/access-log?limit=0", Some(&ann), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Ann is still there after every refusal.
    assert!(accounts::find(&f.state, "ann@acme.test").await.is_ok());
}
