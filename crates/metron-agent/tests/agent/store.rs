//! The SQLite store: S1-S3 on real files.

use super::*;
use metron_agent::store::{DeliveryStatus, Store, StoreError};

fn open_temp() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("agent.sqlite")).unwrap();
    (dir, store)
}

#[test]
fn a_committed_interval_survives_reopening_with_its_status() {
    let (dir, mut store) = open_temp();
    let a = interval(0, 60);
    let b = interval(60, 45);
    store.commit(&a).unwrap();
    store.commit(&b).unwrap();
    store.mark_rejected(b.id, "overlap").unwrap();
    drop(store);
    let store = Store::open(&dir.path().join("agent.sqlite")).unwrap();
    let all = store.intervals(false).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].interval, a);
    assert_eq!(all[0].status, DeliveryStatus::Unsent);
    assert_eq!(all[1].status, DeliveryStatus::Rejected);
    assert_eq!(all[1].reason.as_deref(), Some("overlap"));
    assert_eq!(store.counts().unwrap().unsent, 1);
    assert_eq!(store.last_ended_at().unwrap(), Some(b.ended_at));
}

#[test]
fn the_store_is_in_wal_mode_at_the_current_schema() {
    let (dir, _store) = open_temp();
    let conn = rusqlite::Connection::open(dir.path().join("agent.sqlite")).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(version, 3);
}

/// 0.1.0's store (schema v1) with an unsent and a sent interval, as that release left it.
const V1_SCHEMA: &str = "CREATE TABLE intervals (
        id TEXT PRIMARY KEY, started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL,
        task_id TEXT NOT NULL, body TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'unsent' CHECK (status IN ('unsent', 'sent', 'rejected')),
        reason TEXT, sent_at INTEGER);
    CREATE INDEX intervals_by_status ON intervals (status, ended_at);
    CREATE INDEX intervals_by_start ON intervals (started_at);
    CREATE TABLE checkpoint (slot INTEGER PRIMARY KEY CHECK (slot = 0), interval_id TEXT NOT NULL,
        body TEXT NOT NULL, saved_at INTEGER NOT NULL);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    PRAGMA user_version = 1;";

#[test]
fn a_store_of_0_1_0_is_migrated_with_its_unsent_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.sqlite");
    let (old_unsent, old_sent) = (interval(0, 60), interval(60, 60));
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(V1_SCHEMA).unwrap();
        for (i, status) in [(&old_unsent, "unsent"), (&old_sent, "sent")] {
            conn.execute(
                "INSERT INTO intervals (id, started_at, ended_at, task_id, body, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params![
                    i.id.to_string(),
                    i.started_at.timestamp(),
                    i.ended_at.timestamp(),
                    i.task_id,
                    serde_json::to_string(i).unwrap(),
                    status
                ],
            )
            .unwrap();
        }
    }
    let mut store = Store::open(&path).unwrap();
    let new = interval(120, 60);
    store.commit(&new).unwrap();
    let all = store.intervals(false).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(
        (&all[0].interval, all[0].status),
        (&old_unsent, DeliveryStatus::Unsent)
    );
    assert_eq!(
        (&all[1].interval, all[1].status),
        (&old_sent, DeliveryStatus::Sent)
    );
    assert_eq!(all[0].recorded_by, None, "0.1.0 did not record its version");
    assert_eq!(
        all[2].recorded_by.as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(store.unsent_batch(10).unwrap().len(), 2);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 3);
    // v3: the requests the app queues (corrections, manual entries), none yet.
    let requests: i64 = conn
        .query_row("SELECT count(*) FROM requests", [], |r| r.get(0))
        .unwrap();
    assert_eq!(requests, 0);
}

#[test]
fn committing_the_same_interval_twice_stores_it_once() {
    let (_dir, mut store) = open_temp();
    let a = interval(0, 60);
    store.commit(&a).unwrap();
    store.commit(&a).unwrap();
    assert_eq!(store.counts().unwrap().total, 1);
}

#[test]
fn past_720_the_oldest_sent_intervals_go_first() {
    let (_dir, mut store) = open_temp();
    let all: Vec<Interval> = (0..800).map(|k| interval(k * 60, 60)).collect();
    // The 100 oldest stay unsent; the rest are sent as they close.
    for (k, i) in all.iter().enumerate() {
        store.commit(i).unwrap();
        if k >= 100 {
            store.mark_sent(&[i.id], Utc::now()).unwrap();
        }
    }
    let kept = store.intervals(false).unwrap();
    assert_eq!(kept.len(), 720);
    assert_eq!(
        store.counts().unwrap().unsent,
        100,
        "unsent intervals are never dropped"
    );
    // The 80 dropped are the oldest sent: intervals 100..180.
    let kept_ids: std::collections::HashSet<Uuid> = kept.iter().map(|s| s.interval.id).collect();
    assert!(all[..100].iter().all(|i| kept_ids.contains(&i.id)));
    assert!(all[100..180].iter().all(|i| !kept_ids.contains(&i.id)));
    assert!(all[180..].iter().all(|i| kept_ids.contains(&i.id)));
}

#[test]
fn unsent_intervals_are_kept_beyond_capacity() {
    let (_dir, mut store) = open_temp();
    for k in 0..800 {
        store.commit(&interval(k * 60, 60)).unwrap();
    }
    let counts = store.counts().unwrap();
    assert_eq!(counts.total, 800);
    assert_eq!(counts.unsent, 800);
}

#[test]
fn a_checkpoint_is_recovered_once_as_recovered() {
    let (_dir, mut store) = open_temp();
    let open = interval(0, 17);
    store.save_checkpoint(&open, Utc::now()).unwrap();
    let recovered = store.recover().unwrap().expect("a recovered interval");
    assert_eq!(recovered.id, open.id);
    assert_eq!(recovered.end_reason, EndReason::Recovered);
    assert_eq!(recovered.duration_secs(), 17);
    assert!(store.recover().unwrap().is_none(), "recovered only once");
    assert_eq!(store.intervals(true).unwrap().len(), 1);
}

#[test]
fn a_checkpoint_of_an_interval_that_closed_normally_is_not_recovered() {
    let (_dir, mut store) = open_temp();
    let open = interval(0, 17);
    store.save_checkpoint(&open, Utc::now()).unwrap();
    let mut closed = open.clone();
    closed.ended_at += chrono::Duration::seconds(3);
    closed.active = "1".repeat(20);
    closed.windows[0].seconds = 20;
    store.commit(&closed).unwrap();
    assert!(
        store.checkpoint().unwrap().is_none(),
        "commit clears its own checkpoint"
    );
    assert!(store.recover().unwrap().is_none());
    assert_eq!(
        store.intervals(false).unwrap()[0].interval.duration_secs(),
        20
    );
}

#[test]
fn a_garbage_file_is_moved_aside_with_a_clear_error_and_never_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.sqlite");
    let garbage = b"this is not a database, but it is somebody's file".repeat(200);
    std::fs::write(&path, &garbage).unwrap();
    let err = Store::open(&path)
        .err()
        .expect("a corrupt store must not open");
    let StoreError::Corrupt { moved_to, .. } = &err else {
        panic!("unexpected {err:?}")
    };
    let text = err.to_string();
    assert!(
        text.contains(&path.display().to_string()),
        "names the file: {text}"
    );
    assert!(
        text.contains("moved aside") && text.contains(".recover"),
        "says what to do: {text}"
    );
    assert_eq!(
        std::fs::read(moved_to).unwrap(),
        garbage,
        "the old file is kept byte for byte"
    );
    // The next start gets a fresh, working store.
    let mut store = Store::open(&path).unwrap();
    store.commit(&interval(0, 60)).unwrap();
}

#[test]
fn a_store_with_damaged_pages_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.sqlite");
    {
        let mut store = Store::open(&path).unwrap();
        for k in 0..300 {
            store.commit(&interval(k * 60, 60)).unwrap();
        }
    }
    // Fold the WAL into the main file, then scribble over the middle of it.
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 8192].fill(0xA5);
    std::fs::write(&path, &bytes).unwrap();
    match Store::open(&path) {
        Err(StoreError::Corrupt { moved_to, .. }) => assert!(moved_to.exists()),
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(_) => panic!("a damaged store opened as if healthy"),
    }
    assert!(!path.exists());
}

#[test]
fn a_store_from_a_newer_metron_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.sqlite");
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = Store::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    assert!(path.exists());
}

#[test]
fn a_full_disk_is_a_typed_error_and_the_store_keeps_working_after() {
    let (_dir, mut store) = open_temp();
    store.commit(&interval(0, 60)).unwrap();
    // SQLite raises a cap below the current size to the current size: no room to grow.
    store.set_max_pages(1).unwrap();
    let mut failed = None;
    for k in 1..200 {
        if let Err(e) = store.commit(&interval(k * 60, 60)) {
            failed = Some(e);
            break;
        }
    }
    let err = failed.expect("the page cap must be hit");
    assert!(matches!(err, StoreError::DiskFull { .. }), "{err}");
    assert!(err.to_string().contains("disk holding"));
    store.set_max_pages(1 << 20).unwrap();
    store.commit(&interval(500 * 60, 60)).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn a_store_locked_by_another_program_is_reported_as_locked() {
    let (dir, mut store) = open_temp();
    let other = rusqlite::Connection::open(dir.path().join("agent.sqlite")).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let err = store.commit(&interval(0, 60)).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    other.execute_batch("ROLLBACK").unwrap();
    store.commit(&interval(0, 60)).unwrap();
}

#[test]
fn seven_hundred_twenty_intervals_fit_in_under_a_megabyte() {
    let (dir, mut store) = open_temp();
    for k in 0..720 {
        let mut i = interval(k * 60, 60);
        // A realistic mix: a few window switches per minute.
        i.windows = (0..4)
            .map(|w| WindowSegment {
                offset: w * 15,
                seconds: 15,
                app: format!("app{w}"),
                title: format!("Document {k} - part {w}"),
                url: None,
                path: Some(format!("/usr/bin/app{w}")),
            })
            .collect();
        store.commit(&i).unwrap();
    }
    drop(store);
    rusqlite::Connection::open(dir.path().join("agent.sqlite"))
        .unwrap()
        .pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    let size = std::fs::metadata(dir.path().join("agent.sqlite"))
        .unwrap()
        .len();
    println!("store of 720 intervals: {size} bytes");
    assert!(size < 1 << 20, "store of 720 intervals is {size} bytes");
}

#[test]
fn delivery_takes_unsent_intervals_oldest_first_and_rejected_ones_only_after_a_resend() {
    let (_dir, mut store) = open_temp();
    let all: Vec<Interval> = (0..5).map(|k| interval(k * 60, 60)).collect();
    for i in all.iter().rev() {
        store.commit(i).unwrap();
    }
    store.mark_sent(&[all[0].id], Utc::now()).unwrap();
    store.mark_rejected(all[2].id, "overlap").unwrap();
    let ids = |v: Vec<Interval>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.unsent_batch(100).unwrap()),
        vec![all[1].id, all[3].id, all[4].id]
    );
    assert_eq!(
        ids(store.unsent_batch(2).unwrap()),
        vec![all[1].id, all[3].id]
    );
    assert_eq!(
        store.mark_for_resend(Some(all[0].id)).unwrap(),
        0,
        "a sent interval is not resent"
    );
    assert_eq!(store.mark_for_resend(Some(all[2].id)).unwrap(), 1);
    assert_eq!(
        ids(store.unsent_batch(100).unwrap()),
        vec![all[1].id, all[2].id, all[3].id, all[4].id]
    );
    assert_eq!(store.intervals(false).unwrap()[2].reason, None);
    store.mark_rejected(all[4].id, "invalid: x").unwrap();
    store.mark_rejected(all[3].id, "invalid: y").unwrap();
    assert_eq!(store.mark_for_resend(None).unwrap(), 2);
    assert_eq!(store.counts().unwrap().unsent, 4);
}
