//! The tracker service the desktop app runs: real store, real server process (through the
//! fault proxy), scripted input and window (the sensors), real time.

use super::delivery::{agent_rows, revoke, wait_until, Net, EMAIL, PASSWORD};
use super::server::ServerProc;
use metron_agent::clock::{Clock, SystemClock};
use metron_agent::delivery::{sign_in, Connection, SignInOptions, TokenStore};
use metron_agent::paths::store_path;
use metron_agent::sensors::fake::{ScriptedActivity, ScriptedWindow};
use metron_agent::sensors::Sensors;
use metron_agent::store::RequestKind;
use metron_agent::store::Store;
use metron_agent::tracker_thread::{
    AwayAnswer, Notice, TrackerConfig, TrackerEvent, TrackerThread, TrackerView,
};
use metron_core::timesheet::AwayCause;
use metron_core::{EngineConfig, Now, WindowInfo};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The system clock, plus a jump the test can add (a machine that slept).
#[derive(Clone, Default)]
struct JumpClock {
    real: Arc<SystemClock>,
    jump: Arc<Mutex<Duration>>,
}

impl Clock for JumpClock {
    fn now(&self) -> Now {
        let mut now = self.real.now();
        let jump = *self.jump.lock().unwrap();
        now.mono += jump;
        now.wall += chrono::Duration::from_std(jump).unwrap();
        now
    }
}

struct Rig {
    net: Net,
    dir: std::path::PathBuf,
    service: Option<TrackerThread>,
    events: Receiver<TrackerEvent>,
    input: ScriptedActivity,
    clock: JumpClock,
}

impl Rig {
    fn new() -> Rig {
        Rig::with(EngineConfig {
            interval_range: 2..=3,
            ..Default::default()
        })
    }

    fn with(engine: EngineConfig) -> Rig {
        let net = Net::new();
        let dir = net.agent_dir("app");
        std::fs::create_dir_all(&dir).unwrap();
        let mut store = Store::open(&store_path(&dir)).unwrap();
        sign_in(
            &mut store,
            &dir,
            &net.proxy.base(),
            EMAIL,
            PASSWORD,
            &SignInOptions::default(),
        )
        .unwrap();
        drop(store);
        let input = ScriptedActivity::default();
        let window = ScriptedWindow(Arc::new(Mutex::new(Some(WindowInfo {
            app: "editor".into(),
            title: "report.md".into(),
            url: None,
            path: None,
        }))));
        let clock = JumpClock::default();
        let (tx, events) = mpsc::channel();
        let config = TrackerConfig {
            data_dir: dir.clone(),
            engine,
            sensors: Sensors {
                activity: Box::new(input.clone()),
                window: Box::new(window),
                presence: Box::new(metron_agent::sensors::presence::NoPresence),
                sources: metron_agent::sensors::fake::sources(),
            },
            clock: Box::new(clock.clone()),
        };
        let service = TrackerThread::start(config, move |e| {
            let _ = tx.send(e);
        })
        .unwrap();
        Rig {
            net,
            dir,
            service: Some(service),
            events,
            input,
            clock,
        }
    }

    /// States and notices pushed in the next `span`.
    fn collect(&self, span: Duration) -> (Vec<TrackerView>, Vec<Notice>) {
        let (mut states, mut notices) = (Vec::new(), Vec::new());
        let end = Instant::now() + span;
        while let Ok(e) = self
            .events
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            match e {
                TrackerEvent::State(s) => states.push(*s),
                TrackerEvent::Notice(n) => notices.push(n),
            }
        }
        (states, notices)
    }

    /// Waits for a pushed state that satisfies `pred`; returns it.
    fn wait_state(
        &self,
        limit: Duration,
        what: &str,
        pred: impl Fn(&TrackerView) -> bool,
    ) -> TrackerView {
        let end = Instant::now() + limit;
        loop {
            match self
                .events
                .recv_timeout(end.saturating_duration_since(Instant::now()))
            {
                Ok(TrackerEvent::State(s)) if pred(&s) => return *s,
                Ok(_) => {}
                Err(_) => panic!("timed out after {limit:?} waiting for {what}"),
            }
        }
    }
}

#[test]
fn the_service_tracks_delivers_and_its_counters_never_jump_at_a_boundary() {
    let rig = Rig::new();
    let handle = rig.service.as_ref().unwrap().handle();
    // Someone typing: input every 100 ms.
    let typing = Arc::new(AtomicBool::new(true));
    let (t, input) = (Arc::clone(&typing), rig.input.clone());
    let typist = std::thread::spawn(move || {
        while t.load(Ordering::Relaxed) {
            input.0.lock().unwrap().keys += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    handle.start(&rig.net.task);
    let (states, _) = rig.collect(Duration::from_secs(9));
    typing.store(false, Ordering::Relaxed);
    typist.join().unwrap();

    let tracking: Vec<&TrackerView> = states.iter().filter(|s| s.tracking.is_some()).collect();
    assert!(
        tracking.len() >= 7,
        "about one state a second: {}",
        tracking.len()
    );
    let first = tracking[0].tracking.as_ref().unwrap();
    assert_eq!(first.task_name.as_deref(), Some("Write the report"));
    for pair in tracking.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (sa, sb) = (
            a.tracking.as_ref().unwrap().session_secs,
            b.tracking.as_ref().unwrap().session_secs,
        );
        assert!(sb >= sa && sb - sa <= 2, "session counter {sa} -> {sb}");
        assert!(
            b.today.tracked_secs >= a.today.tracked_secs
                && b.today.tracked_secs - a.today.tracked_secs <= 2,
            "today's total {} -> {}",
            a.today.tracked_secs,
            b.today.tracked_secs
        );
        assert_eq!(
            b.today.tracked_secs - a.today.tracked_secs,
            sb - sa,
            "the two counters move together"
        );
    }
    let last = tracking.last().unwrap();
    assert!(
        last.recent.iter().filter(|b| !b.open).count() >= 2,
        "at least two boundaries: {:?}",
        last.recent
    );
    assert!(
        last.recent.iter().any(|b| !b.open && b.active_pct >= 50),
        "{:?}",
        last.recent
    );
    assert!(last.tracking.as_ref().unwrap().session_secs >= 7);
    assert!(states
        .iter()
        .any(|s| s.delivery.connection == Some(Connection::Online)));
    assert_eq!(last.account.as_ref().unwrap().email, EMAIL);

    handle.stop();
    let stopped = rig.wait_state(Duration::from_secs(10), "stopped and delivered", |s| {
        s.tracking.is_none() && s.delivery.unsent == 0
    });
    assert!(stopped.today.tracked_secs >= 7);
    let mut rig = rig;
    rig.service.take().unwrap().quit();
    let rows = agent_rows(&rig.dir);
    assert!(rows.iter().all(|r| r.1 == "sent"), "{rows:?}");
    assert_eq!(ServerProc::stored_ids(&rig.net.db).len(), rows.len());
}

#[test]
fn a_rejection_notifies_lists_the_reason_and_resend_offers_it_again() {
    let rig = Rig::new();
    let handle = rig.service.as_ref().unwrap().handle();
    handle.start("no-such-task");
    let (_, notices) = rig.collect(Duration::from_secs(6));
    assert!(
        notices.iter().any(|n| matches!(n, Notice::Rejected { reason, .. } if reason.starts_with("invalid: unknown task"))),
        "{notices:?}"
    );
    handle.stop();
    let state = rig.wait_state(Duration::from_secs(10), "the rejected list", |s| {
        s.tracking.is_none() && s.delivery.unsent == 0
    });
    assert!(state.delivery.rejected >= 1);
    let bad = state
        .undelivered
        .iter()
        .find(|u| {
            u.reason
                .as_deref()
                .is_some_and(|r| r.contains("unknown task"))
        })
        .unwrap()
        .clone();
    let offered = |id: &str| {
        rig.net
            .proxy
            .batches()
            .iter()
            .filter(|b| b.ids.iter().any(|i| i == id))
            .count()
    };
    assert_eq!(offered(&bad.id.to_string()), 1, "not retried on its own");
    handle.resend(Some(bad.id));
    wait_until(Duration::from_secs(10), "the resend", || {
        offered(&bad.id.to_string()) == 2
    });
}

#[test]
fn a_machine_that_slept_stops_tracking_with_a_notice() {
    let rig = Rig::new();
    let handle = rig.service.as_ref().unwrap().handle();
    handle.start(&rig.net.task);
    rig.wait_state(Duration::from_secs(10), "tracking", |s| {
        s.tracking.as_ref().is_some_and(|t| t.session_secs >= 2)
    });
    *rig.clock.jump.lock().unwrap() = Duration::from_secs(600);
    let (states, notices) = rig.collect(Duration::from_secs(3));
    assert!(notices.contains(&Notice::StoppedSleep), "{notices:?}");
    assert!(states.last().unwrap().tracking.is_none());
}

#[test]
fn an_expired_session_signs_the_app_out_with_a_notice_and_keeps_every_interval_for_the_next_sign_in(
) {
    let rig = Rig::new();
    let handle = rig.service.as_ref().unwrap().handle();
    rig.wait_state(Duration::from_secs(10), "online", |s| {
        s.delivery.connection == Some(Connection::Online)
    });
    // The token is revoked on the server (as an expiry or an admin would).
    let mut store = Store::open(&store_path(&rig.dir)).unwrap();
    let tokens = TokenStore::new(&rig.dir, store.device_id().unwrap());
    revoke(&rig.net.server.base(), &tokens.load().unwrap().0);
    handle.start(&rig.net.task);
    let (states, notices) = rig.collect(Duration::from_secs(8));
    assert_eq!(
        notices
            .iter()
            .filter(|n| **n == Notice::SessionExpired)
            .count(),
        1,
        "said once: {notices:?}"
    );
    let last = states.last().unwrap();
    assert_eq!(last.delivery.connection, Some(Connection::SignedOut));
    assert!(
        last.delivery
            .last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("signed out: your session expired")),
        "{last:?}"
    );
    assert!(
        last.delivery.unsent >= 2,
        "the intervals closed meanwhile are kept: {:?}",
        last.delivery
    );
    assert!(
        last.account.is_some(),
        "the account stays, so the same one can sign in again"
    );

    handle.stop();
    sign_in(
        &mut store,
        &rig.dir,
        &rig.net.proxy.base(),
        EMAIL,
        PASSWORD,
        &SignInOptions::default(),
    )
    .unwrap();
    handle.account_changed();
    rig.wait_state(
        Duration::from_secs(20),
        "the kept intervals delivered",
        |s| {
            s.tracking.is_none()
                && s.delivery.unsent == 0
                && s.delivery.connection == Some(Connection::Online)
        },
    );
    let rows = agent_rows(&rig.dir);
    assert!(rows.iter().all(|r| r.1 == "sent"), "{rows:?}");
    assert_eq!(ServerProc::stored_ids(&rig.net.db).len(), rows.len());
}

/// Types on the scripted keyboard for `secs` seconds.
fn type_for(input: &ScriptedActivity, secs: u64) {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        input.0.lock().unwrap().keys += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The server's rows of a person's corrections (change JSON, status) and manual entries
/// (start, end, note, status), oldest first.
type Corrections = Vec<(String, String)>;
type Entries = Vec<(i64, i64, String, String)>;

fn stored_changes(db: &std::path::Path) -> (Corrections, Entries) {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare("SELECT change, status FROM corrections ORDER BY created_at, interval_started_at")
        .unwrap();
    let corrections = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut stmt = conn
        .prepare(
            "SELECT started_at, ended_at, note, status FROM manual_entries ORDER BY started_at",
        )
        .unwrap();
    let entries = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (corrections, entries)
}

#[test]
fn coming_back_after_an_idle_stop_asks_and_the_answer_reaches_the_server_after_its_intervals() {
    // A 4-second idle limit stands in for 5 minutes.
    let rig = Rig::with(EngineConfig {
        interval_range: 2..=3,
        idle_limit_secs: 4,
        ..Default::default()
    });
    let handle = rig.service.as_ref().unwrap().handle();
    handle.start(&rig.net.task);
    type_for(&rig.input, 3);
    let stopped = rig.wait_state(Duration::from_secs(15), "the idle stop", |s| {
        s.tracking.is_none()
    });
    assert!(stopped.away.is_none(), "nobody is back yet to be asked");
    // Away a little longer; nothing is asked meanwhile.
    let (states, _) = rig.collect(Duration::from_secs(2));
    assert!(states.iter().all(|s| s.away.is_none()));
    rig.input.0.lock().unwrap().clicks += 1;
    let (states, notices) = rig.collect(Duration::from_secs(3));
    assert!(
        notices.iter().any(|n| matches!(n, Notice::Back { cause: AwayCause::Idle, task_id, away_secs } if *task_id == rig.net.task && *away_secs >= 6)),
        "{notices:?}"
    );
    let asked = states
        .iter()
        .rev()
        .find_map(|s| s.away.clone())
        .expect("the question in the view");
    assert_eq!(asked.cause, AwayCause::Idle);
    assert_eq!(asked.task_name.as_deref(), Some("Write the report"));
    assert_eq!(
        asked.tracked_away_secs, 4,
        "the idle limit's seconds were tracked"
    );
    assert_eq!(
        asked.away_secs,
        (asked.back_at - asked.left_at).num_seconds()
    );
    assert!(asked.away_secs >= asked.tracked_away_secs + 2);
    let today_before = states.last().unwrap().today.tracked_secs;

    // Keep it as work on the same task, with a note: tracking resumes.
    handle.answer_away(AwayAnswer::Keep {
        task_id: rig.net.task.clone(),
        note: "phone call".into(),
    });
    let resumed = rig.wait_state(Duration::from_secs(10), "tracking again", |s| {
        s.tracking.is_some() && s.away.is_none()
    });
    assert_eq!(
        resumed.today.tracked_secs + 4,
        today_before,
        "the app's own total leaves the idle seconds out at once"
    );
    let delivered = rig.wait_state(Duration::from_secs(20), "the answer delivered", |s| {
        !s.requests.is_empty()
            && s.requests
                .iter()
                .all(|r| r.status == metron_agent::store::DeliveryStatus::Sent)
    });
    let entry = &delivered.requests[0];
    assert_eq!(entry.kind, RequestKind::ManualEntry);
    assert_eq!(
        entry.outcome.as_deref(),
        Some("pending"),
        "a person's manual time waits for approval under the default policy"
    );
    handle.stop();

    let (corrections, entries) = stored_changes(&rig.net.db);
    assert!(!corrections.is_empty());
    assert!(corrections.iter().all(|(_, status)| status == "approved"));
    assert!(corrections[0].0.contains("\"trim\"") || corrections[0].0.contains("\"remove\""));
    assert_eq!(
        entries,
        vec![(
            asked.left_at.timestamp(),
            asked.back_at.timestamp(),
            "phone call".to_string(),
            "pending".to_string()
        )]
    );

    // An admin approves it with a note; the app learns it when its window next looks.
    super::server::server_cli(
        &rig.net.db,
        &[
            "user",
            "add",
            "--email",
            "boss@example.com",
            "--name",
            "Boss",
            "--password",
            PASSWORD,
            "--admin",
        ],
    );
    let http = reqwest::blocking::Client::new();
    let base = rig.net.server.base();
    let login: serde_json::Value = serde_json::from_str(
        &http
            .post(format!("{base}/api/v1/login"))
            .header("content-type", "application/json")
            .body(
                serde_json::json!({ "email": "boss@example.com", "password": PASSWORD })
                    .to_string(),
            )
            .send()
            .unwrap()
            .text()
            .unwrap(),
    )
    .unwrap();
    let decided = http
        .post(format!(
            "{base}/api/v1/manual-entries/{}/decision",
            entry.server_id.as_deref().unwrap()
        ))
        .bearer_auth(login["token"].as_str().unwrap())
        .header("content-type", "application/json")
        .body(r#"{"decision": "approve", "note": "thanks"}"#)
        .send()
        .unwrap();
    assert!(decided.status().is_success(), "{}", decided.status());
    handle.refresh();
    rig.wait_state(Duration::from_secs(15), "the approval in the app", |s| {
        s.requests.first().is_some_and(|r| {
            r.outcome.as_deref() == Some("approved") && r.outcome_note.as_deref() == Some("thanks")
        })
    });
}
