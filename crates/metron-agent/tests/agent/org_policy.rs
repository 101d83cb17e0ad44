//! The organization's passive limit (issue 27), from a real server to the engine: an admin
//! turns passive presence off with `PUT /api/v1/timesheets/policy`, the agent keeps the limit
//! at sign-in, and its tracker then stops on idle though an inhibitor is held all along.

use super::delivery::{Net, PASSWORD};
use super::server::server_cli;
use metron_agent::clock::Clock;
use metron_agent::delivery::org_policy;
use metron_agent::paths::store_path;
use metron_agent::sensors::fake::{ScriptedActivity, ScriptedWindow};
use metron_agent::sensors::presence::PresenceProbe;
use metron_agent::sensors::Sensors;
use metron_agent::store::Store;
use metron_agent::tracker::Tracker;
use metron_core::{Engine, EngineConfig, Event, Now, StopCause};
use rand::{rngs::StdRng, SeedableRng};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ADMIN: &str = "boss@example.com";

/// An app that holds an idle inhibitor for as long as the test runs.
struct AlwaysHeld;

impl PresenceProbe for AlwaysHeld {
    fn holder(&mut self) -> Option<String> {
        Some("keepawake".into())
    }
}

#[derive(Clone)]
struct SteppedClock(Arc<Mutex<Now>>);

impl Clock for SteppedClock {
    fn now(&self) -> Now {
        *self.0.lock().unwrap()
    }
}

fn set_policy(base: &str, policy: serde_json::Value) -> serde_json::Value {
    let http = reqwest::blocking::Client::new();
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({"email": ADMIN, "password": PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = login["token"].as_str().expect("the admin's token");
    let answer = http
        .put(format!("{base}/api/v1/timesheets/policy"))
        .bearer_auth(token)
        .json(&policy)
        .send()
        .unwrap();
    assert_eq!(answer.status(), 200);
    answer.json().unwrap()
}

/// Seconds of tracking with no input under the inhibitor, until the engine stops by itself;
/// the passive seconds recorded and whether the stop was the idle one.
fn track_without_input(store: Store, limit_secs: u64) -> (usize, bool) {
    let clock = SteppedClock(Arc::new(Mutex::new(Now {
        mono: Duration::from_secs(100),
        wall: chrono::Utc::now() - chrono::Duration::hours(3),
        utc_offset_minutes: 0,
    })));
    let sensors = Sensors {
        activity: Box::new(ScriptedActivity::default()),
        window: Box::new(ScriptedWindow(Arc::new(Mutex::new(None)))),
        presence: Box::new(AlwaysHeld),
        sources: metron_agent::sensors::fake::sources(),
    };
    let engine = Engine::new(
        EngineConfig::default(),
        uuid::Uuid::nil(),
        Box::new(StdRng::seed_from_u64(1)),
    )
    .unwrap();
    let mut tracker = Tracker::new(engine, store, sensors, Box::new(clock.clone())).unwrap();
    tracker.start("t");
    let (mut passive, mut idle_stop) = (0, false);
    for _ in 0..limit_secs {
        {
            let mut now = clock.0.lock().unwrap();
            now.mono += Duration::from_secs(1);
            now.wall += chrono::Duration::seconds(1);
        }
        for event in tracker.tick() {
            match event {
                Event::Closed(i) => passive += i.passive.map_or(0, |p| p.matches('1').count()),
                Event::Stopped(cause) => idle_stop = cause == StopCause::Idle,
                _ => {}
            }
        }
        if !tracker.engine().is_tracking() {
            break;
        }
    }
    (passive, idle_stop)
}

#[test]
fn the_organization_turns_passive_presence_off_and_the_agent_applies_it() {
    let net = Net::new();
    server_cli(
        &net.db,
        &[
            "user",
            "add",
            "--email",
            ADMIN,
            "--name",
            "Boss",
            "--password",
            PASSWORD,
            "--admin",
        ],
    );
    let policy = set_policy(
        &net.server.base(),
        serde_json::json!({"passive_limit_secs": 0}),
    );
    assert_eq!(policy["passive_limit_secs"], 0);

    let dir = net.agent_dir("agent");
    net.login(&dir);
    let store = Store::open(&store_path(&dir)).unwrap();
    assert_eq!(
        org_policy::passive_limit(&store),
        Some(0),
        "kept at sign-in"
    );

    // The agent's own limit is 2 hours; the organization's 0 wins: the idle stop comes 300 s
    // after the last input, inhibitor or not.
    let (passive, idle_stop) = track_without_input(store, 1000);
    assert!(idle_stop, "stopped on idle");
    assert_eq!(passive, 0, "no second was passive");
}

#[test]
fn without_an_organization_limit_the_agents_own_applies() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("agent.sqlite")).unwrap();
    assert_eq!(org_policy::passive_limit(&store), None);
    let (passive, idle_stop) = track_without_input(store, 1000);
    assert!(!idle_stop, "the inhibitor kept tracking going");
    assert!(passive >= 800, "{passive}");
}
