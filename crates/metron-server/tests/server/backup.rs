//! `metron-server backup`: a copy of the live SQLite database that another server serves alike.

use super::processes::{cli, db_with_ann, login, post_intervals, serve};
use super::*;
use std::process::{Command, Output};

fn backup(db: &str, to: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metron-server"))
        .args(["--db", db, "backup", "--to"])
        .arg(to)
        .output()
        .unwrap()
}

async fn day_report(client: &reqwest::Client, base: &str, token: &str) -> Value {
    let r = client
        .get(format!(
            "{base}/api/v1/reports/daily?date={}&utc_offset_minutes=60",
            fixture_date(0)
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn a_backup_taken_while_the_server_runs_serves_the_same_day_report() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_with_ann(&dir, "live.sqlite");
    let task: Value = serde_json::from_str(&cli(&db, &["task", "add", "--name", "Write"])).unwrap();
    let task = task["id"].as_str().unwrap();
    let live = serve(&db);
    let client = reqwest::Client::new();
    let token = login(&client, &live.base, "ann@acme.test", "ann-password").await;
    let batch: Vec<Value> = (0..40).map(|k| interval(task, k * 300, 240)).collect();
    let stored = post_intervals(&client, &live.base, &token, json!(batch)).await;
    assert!(
        stored["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "accepted"),
        "{stored}"
    );
    let before = day_report(&client, &live.base, &token).await;
    assert_eq!(before["tracked_secs"], 40 * 240, "{before}");

    // The server keeps running (its latest writes may still be only in the -wal file).
    let copy = dir.path().join("copy.sqlite");
    let out = backup(&db, &copy);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    let size = std::fs::metadata(&copy).unwrap().len();
    assert!(said.contains(&format!("({size} bytes)")), "{said}");
    assert!(said.contains("integrity ok"), "{said}");
    assert!(
        !dir.path().join("copy.sqlite-wal").exists(),
        "the copy is one file"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    let restored = serve(&copy.display().to_string());
    let token = login(&client, &restored.base, "ann@acme.test", "ann-password").await;
    assert_eq!(day_report(&client, &restored.base, &token).await, before);
}

#[test]
fn a_backup_never_overwrites_a_file_and_points_postgres_to_pg_dump() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_with_ann(&dir, "source.sqlite");
    let existing = dir.path().join("keep.me");
    std::fs::write(&existing, "precious").unwrap();
    let out = backup(&db, &existing);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("exists already"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "precious");

    // Refused from the address alone: nothing listens on port 1.
    let to = dir.path().join("pg.dump");
    let out = backup("postgres://metron:secret@127.0.0.1:1/metron", &to);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pg_dump"), "{stderr}");
    assert!(!stderr.contains("secret"), "{stderr}");
    assert!(!to.exists());
}
