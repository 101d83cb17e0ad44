//! The audit trail is append-only and chained (issue 27): the database refuses UPDATE and
//! DELETE on it, rows written before the chain are chained when the server opens the
//! database, rows written at once chain one after the other, and `metron-server audit
//! verify` names the first row changed behind the triggers' back, with a non-zero exit.

use super::*;
use metron_server::audit_chain;

on_both!(
    audit_rows_are_never_changed_and_a_change_behind_the_triggers_breaks_the_chain,
    audit_rows_written_at_once_chain_one_after_the_other,
);

/// Runs one statement on the fixture's database as its owner, around the server.
pub async fn raw(url: &str, sql: &str) -> Result<u64, String> {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    if db::is_postgres(url) {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
            .await
            .unwrap();
        sqlx::Executor::execute(&mut conn, sql)
            .await
            .map(|done| done.rows_affected())
            .map_err(|e| e.to_string())
    } else {
        let mut conn =
            <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("sqlite://{url}"))
                .await
                .unwrap();
        sqlx::Executor::execute(&mut conn, sql)
            .await
            .map(|done| done.rows_affected())
            .map_err(|e| e.to_string())
    }
}

async fn set_window(f: &Fixture, admin: &str, days: u32) {
    let (status, body) = f
        .call(
            "PUT",
            "/api/v1/timesheets/policy",
            Some(admin),
            Some(json!({"manual": "approval", "edit_window_days": days})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn verified(state: &AppState) -> audit_chain::Verified {
    match audit_chain::verify(state.db.as_ref()).await.unwrap() {
        Ok(v) => v,
        Err(broken) => panic!("the chain should hold: {broken}"),
    }
}

async fn audit_rows_are_never_changed_and_a_change_behind_the_triggers_breaks_the_chain(
    f: Fixture,
) {
    let url = f.url();
    let pg = db::is_postgres(&url);
    // Two rows as a server before migration 0010 wrote them: no number, no hash.
    let insert_check = if pg {
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"
    } else {
        "DROP TRIGGER audit_log_chained"
    };
    raw(&url, insert_check).await.unwrap();
    for (id, at) in [("old-2", 200), ("old-1", 100)] {
        raw(
            &url,
            &format!(
                "INSERT INTO audit_log (id, org_id, user_id, actor_id, at, action, subject_id,
                 before, after, reason) SELECT '{id}', id, 'u', 'u', {at}, 'policy.set', 's',
                 NULL, '{{}}', 'before the chain' FROM organizations WHERE name = 'acme'"
            ),
        )
        .await
        .unwrap();
    }
    if pg {
        raw(
            &url,
            "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only",
        )
        .await
        .unwrap();
    }
    // Opening the database chains them, oldest first, through the triggers' one exception.
    let reopened = AppState::new(db::connect(&url).await.unwrap());
    let v = verified(&reopened).await;
    assert_eq!(v.rows, 2);
    let admin = f.login("boss@acme.test", "boss-password").await;
    for days in [10, 20, 30] {
        set_window(&f, &admin, days).await;
    }
    let v = verified(&f.state).await;
    assert_eq!(v.rows, 5);
    assert!(v
        .heads
        .iter()
        .any(|(_, seq, hash)| *seq == 5 && hash.len() == 64));

    // The database itself refuses to change or remove a row.
    for sql in [
        "UPDATE audit_log SET reason = 'nothing happened' WHERE seq = 4",
        "UPDATE audit_log SET seq = NULL, prev_hash = NULL, hash = NULL WHERE seq = 5",
        "DELETE FROM audit_log WHERE seq = 5",
        "DELETE FROM audit_log",
        "DELETE FROM audit_heads",
        "UPDATE audit_heads SET seq = 1",
    ] {
        let refused = raw(&url, sql).await.expect_err(sql);
        assert!(
            refused.contains("append-only") || refused.contains("audit_heads"),
            "{sql}: {refused}"
        );
    }
    if pg {
        assert!(raw(&url, "TRUNCATE audit_log").await.is_err());
    }
    assert_eq!(verified(&f.state).await.rows, 5, "nothing changed");

    // A change made around the triggers (a database owner can drop them) breaks the chain at
    // that row, and `audit verify` says which, with a non-zero exit.
    let update_check = if pg {
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"
    } else {
        "DROP TRIGGER audit_log_no_update"
    };
    raw(&url, update_check).await.unwrap();
    raw(
        &url,
        "UPDATE audit_log SET reason = 'nothing happened' WHERE seq = 4",
    )
    .await
    .unwrap();
    let broken = audit_chain::verify(f.state.db.as_ref())
        .await
        .unwrap()
        .expect_err("a changed row breaks the chain");
    assert_eq!(broken.seq, Some(4), "{broken}");
    assert!(broken.why.contains("changed"), "{broken}");
    let out = server_command()
        .args(["--db", &url, "audit", "verify"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&broken.row) && stderr.contains("#4"),
        "{stderr}"
    );
}

async fn audit_rows_written_at_once_chain_one_after_the_other(f: Fixture) {
    let admin = f.login("boss@acme.test", "boss-password").await;
    // Sixteen changes at once: each audit row must take the hash of a different previous row
    // (PostgreSQL runs them on connections of their own).
    let writes: Vec<_> = (1..=16)
        .map(|days| {
            let app = f.app.clone();
            let admin = admin.clone();
            tokio::spawn(async move {
                let req = Request::put("/api/v1/timesheets/policy")
                    .header("authorization", format!("Bearer {admin}"))
                    .header("content-type", "application/json")
                    .body(Body::from(
                        json!({"manual": "approval", "edit_window_days": days}).to_string(),
                    ))
                    .unwrap();
                app.oneshot(req).await.unwrap().status()
            })
        })
        .collect();
    for write in writes {
        assert_eq!(write.await.unwrap(), StatusCode::OK);
    }
    let v = verified(&f.state).await;
    assert_eq!(v.rows, 16);
    assert!(v.heads.iter().any(|(_, seq, _)| *seq == 16));
    let out = server_command()
        .args(["--db", &f.url(), "audit", "verify"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("16 rows"));

    // Rows removed around the triggers: the last one shows at the head, one inside at the
    // next row.
    let url = f.url();
    let delete_check = if db::is_postgres(&url) {
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"
    } else {
        "DROP TRIGGER audit_log_no_delete"
    };
    raw(&url, delete_check).await.unwrap();
    raw(&url, "DELETE FROM audit_log WHERE seq = 16")
        .await
        .unwrap();
    let broken = audit_chain::verify(f.state.db.as_ref())
        .await
        .unwrap()
        .expect_err("the last row is gone");
    assert!(broken.why.contains("missing"), "{broken}");
    raw(&url, "DELETE FROM audit_log WHERE seq = 8")
        .await
        .unwrap();
    let broken = audit_chain::verify(f.state.db.as_ref())
        .await
        .unwrap()
        .expect_err("a row inside is gone");
    assert_eq!(broken.seq, Some(9), "{broken}");
    assert!(broken.why.contains("#8 to #8"), "{broken}");
}
