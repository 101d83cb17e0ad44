//! Delivery against a real `metron-server` process on 127.0.0.1, through the fault proxy:
//! login/logout/tasks/resend/status, every kind of fault, the server down for a 720-interval
//! backlog, a lost answer, the agent or the server killed mid-upload, two devices of one account.

use super::proxy::{Fault, FaultProxy};
use super::server::{server_cli, ServerProc};
use super::*;
use chrono::{Duration as Secs, Utc};
use metron_agent::delivery::{Attempt, ServerClient, TokenStore, Uploader};
use metron_agent::paths::store_path;
use metron_agent::store::Store;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const EMAIL: &str = "ann@example.com";
pub const PASSWORD: &str = "correct horse battery";

/// A server with one user and one task, and a fault proxy in front of it.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub server: ServerProc,
    pub proxy: FaultProxy,
    pub task: String,
}

impl Net {
    pub fn new() -> Net {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("server.sqlite");
        server_cli(
            &db,
            &[
                "user",
                "add",
                "--email",
                EMAIL,
                "--name",
                "Ann",
                "--password",
                PASSWORD,
            ],
        );
        let task = server_cli(&db, &["task", "add", "--name", "Write the report"])["id"]
            .as_str()
            .unwrap()
            .to_string();
        let server = ServerProc::start(&db, "127.0.0.1:0");
        let proxy = FaultProxy::start(server.addr);
        Net {
            dir,
            db,
            server,
            proxy,
            task,
        }
    }

    pub fn agent_dir(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Signs the agent of `data_dir` in through the proxy.
    pub fn login(&self, data_dir: &Path) {
        let out = agent_login(data_dir, &self.proxy.base(), PASSWORD);
        assert!(out.status.success(), "login: {}", text(&out.stderr));
    }

    /// SIGKILL the server and start a new one on the same database; the proxy follows it.
    pub fn restart_server(&mut self) {
        self.server.kill();
        self.server = ServerProc::start(&self.db, "127.0.0.1:0");
        self.proxy.set_upstream(self.server.addr);
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// Runs `metron-agent --data-dir DIR ARGS`. No DISPLAY (unknown samples) and no session bus,
/// so the token goes to the 0600 file (the keyring path has its own test).
pub fn agent_cmd(data_dir: &Path, args: &[&str]) -> Command {
    let mut c = agent_command();
    c.arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("RUST_LOG", "warn");
    c
}

pub fn agent(data_dir: &Path, args: &[&str]) -> Output {
    agent_cmd(data_dir, args).output().unwrap()
}

/// `metron-agent login` to `server` as the test account, with this password.
pub fn agent_login(data_dir: &Path, server: &str, password: &str) -> Output {
    agent(
        data_dir,
        &[
            "login",
            "--server",
            server,
            "--email",
            EMAIL,
            "--password",
            password,
        ],
    )
}

/// `track` with short intervals (2-3 s), stderr captured.
pub fn spawn_track(data_dir: &Path, task: &str) -> Child {
    agent_cmd(
        data_dir,
        &["--interval-range", "2..3", "track", "--task", task],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap()
}

/// [`terminate`] (the tracker closes as `quit` and makes a last delivery try), then its
/// stderr.
pub fn stop(mut child: Child) -> String {
    terminate(&child);
    let out = wait_with_deadline(&mut child, Duration::from_secs(20));
    assert!(out.status.success(), "track failed: {}", text(&out.stderr));
    text(&out.stderr)
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < limit,
            "the process did not exit within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut stderr = Vec::new();
    if let Some(mut e) = child.stderr.take() {
        std::io::Read::read_to_end(&mut e, &mut stderr).unwrap();
    }
    Output {
        status: child.wait().unwrap(),
        stdout: Vec::new(),
        stderr,
    }
}

pub fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Revokes `token` on the server at `base` (`POST /api/v1/logout`, as a sign-out elsewhere or an
/// expiry would), and checks that it now answers 401.
pub fn revoke(base: &str, token: &str) {
    let http = reqwest::blocking::Client::new();
    let out = http
        .post(format!("{base}/api/v1/logout"))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert!(out.status().is_success(), "logout: {}", out.status());
    let me = http
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(me.status(), 401);
}

/// Puts `n` closed, unsent, back-to-back 60 s intervals into the agent's store, ending 10
/// minutes ago: a backlog as if the server had been unreachable for `n` minutes.
pub fn seed(data_dir: &Path, task: &str, n: usize) -> Vec<String> {
    std::fs::create_dir_all(data_dir).unwrap();
    let mut store = Store::open(&store_path(data_dir)).unwrap();
    let device = store.device_id().unwrap();
    let first = now_secs() - Secs::minutes(10) - Secs::seconds(60 * n as i64);
    (0..n)
        .map(|k| {
            let mut i = interval(0, 60);
            i.device_id = device;
            i.task_id = task.to_string();
            i.started_at = first + Secs::seconds(60 * k as i64);
            i.ended_at = i.started_at + Secs::seconds(60);
            store.commit(&i).unwrap();
            i.id.to_string()
        })
        .collect()
}

/// Now, in whole seconds (as the API wants interval times).
fn now_secs() -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap()
}

/// (id, status, reason) of every interval in the agent's store.
pub fn agent_rows(data_dir: &Path) -> Vec<(String, String, Option<String>)> {
    let conn = rusqlite::Connection::open_with_flags(
        store_path(data_dir),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = conn
        .prepare("SELECT id, status, reason FROM intervals ORDER BY started_at")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

pub fn unsent(data_dir: &Path) -> usize {
    agent_rows(data_dir)
        .iter()
        .filter(|r| r.1 == "unsent")
        .count()
}

/// Every interval the agent holds is sent, and the server holds exactly those plus `seeded`
/// (the store drops the oldest sent ones past 720, S3), once each.
fn assert_delivered_exactly_once(net: &Net, data_dir: &Path, seeded: &[String]) {
    let rows = agent_rows(data_dir);
    let not_sent: Vec<_> = rows.iter().filter(|r| r.1 != "sent").take(5).collect();
    assert!(not_sent.is_empty(), "not delivered: {not_sent:?}");
    let stored = ServerProc::stored_ids(&net.db);
    assert!(
        stored.iter().all(|(_, n)| *n == 1),
        "a duplicate on the server"
    );
    let made: HashSet<_> = rows
        .iter()
        .map(|r| r.0.clone())
        .chain(seeded.iter().cloned())
        .collect();
    let server: HashSet<_> = stored.into_iter().map(|(id, _)| id).collect();
    let missing: Vec<_> = made.difference(&server).take(5).collect();
    let extra: Vec<_> = server.difference(&made).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing on the server: {missing:?}; unknown to the agent: {extra:?}"
    );
}

#[cfg_attr(
    windows,
    ignore = "needs Ctrl-Break, which Wine cannot send without a console"
)]
#[test]
fn login_tasks_logout_with_clear_errors_and_a_private_token_file() {
    let net = Net::new();
    let dir = net.agent_dir("a");
    // Wrong password, nothing listening, a server of the wrong kind: clear, and nothing saved.
    let wrong = agent_login(&dir, &net.proxy.base(), "wrong password");
    assert!(!wrong.status.success());
    assert!(
        text(&wrong.stderr).contains("refused the email or password"),
        "{}",
        text(&wrong.stderr)
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let nobody = agent_login(&dir, &format!("http://{closed}"), PASSWORD);
    assert!(
        text(&nobody.stderr).contains("cannot connect to"),
        "{}",
        text(&nobody.stderr)
    );
    net.proxy.set_default(Some(Fault::Garbage));
    let other = agent_login(&dir, &net.proxy.base(), PASSWORD);
    assert!(
        text(&other.stderr).contains("is it a Metron server?"),
        "{}",
        text(&other.stderr)
    );
    net.proxy.set_default(None);
    let status = text(&agent(&dir, &["status"]).stdout);
    assert!(status.contains("not signed in"), "{status}");
    assert!(!dir.join("token").exists());

    let out = agent_login(&dir, &net.proxy.base(), PASSWORD);
    let said = text(&out.stdout);
    assert!(
        out.status.success()
            && said.contains("as Ann <ann@example.com>")
            && said.contains("1 tasks"),
        "{said}"
    );
    let token_file = dir.join("token");
    let token = std::fs::read_to_string(&token_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(said.contains("readable only by you") && !said.contains(token.trim()));

    let tasks = text(&agent(&dir, &["tasks"]).stdout);
    assert!(
        tasks.contains(&net.task) && tasks.contains("Write the report"),
        "{tasks}"
    );
    // Offline: the cached list, said to be cached.
    net.proxy.set_default(Some(Fault::Refuse));
    let cached = agent(&dir, &["tasks"]);
    assert!(
        text(&cached.stdout).contains("Write the report"),
        "{}",
        text(&cached.stdout)
    );
    assert!(
        text(&cached.stderr).contains("offline"),
        "{}",
        text(&cached.stderr)
    );
    let status = text(&agent(&dir, &["status"]).stdout);
    assert!(
        status.contains("as Ann <ann@example.com>") && status.contains("connection: offline"),
        "{status}"
    );
    net.proxy.set_default(None);
    assert!(text(&agent(&dir, &["status"]).stdout).contains("connection: online"));

    // Tracking by the task's name, with everything logged: the token never shows.
    let track = agent_cmd(
        &dir,
        &[
            "--interval-range",
            "2..3",
            "track",
            "--task",
            "write the report",
        ],
    )
    .env("RUST_LOG", "trace")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    wait_until(Duration::from_secs(20), "a delivered interval", || {
        agent_rows(&dir).iter().any(|r| r.1 == "sent")
    });
    let log = stop(track);
    assert!(log.contains("server: online"), "{log}");
    assert!(!log.contains(token.trim()), "the token appeared in the log");
    assert!(agent_rows(&dir).iter().all(|r| r.1 == "sent"));

    let out = agent(&dir, &["logout"]);
    assert!(
        text(&out.stdout).contains("signed out of"),
        "{}",
        text(&out.stdout)
    );
    assert!(!token_file.exists());
    let tasks = agent(&dir, &["tasks"]);
    assert!(!tasks.status.success() && text(&tasks.stderr).contains("not signed in"));
    // The revoked token no longer works on the server.
    let me = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/me", net.server.base()))
        .bearer_auth(token.trim())
        .send()
        .unwrap();
    assert_eq!(me.status(), 401);
}

#[test]
fn every_kind_of_fault_is_transient_with_a_clear_message_and_loses_nothing() {
    let net = Net::new();
    let dir = net.agent_dir("a");
    net.login(&dir);
    let ids = seed(&dir, &net.task, 30);
    let cases: Vec<(Fault, &str)> = vec![
        (Fault::Refuse, "broke"),
        (Fault::ResetMidRequest, "broke"),
        (
            Fault::Status(500, None),
            "the server failed (HTTP 500): injected 500",
        ),
        (Fault::Status(502, None), "HTTP 502"),
        (Fault::Status(503, None), "HTTP 503"),
        (Fault::Status(429, Some(7)), "it asked to retry in 7 s"),
        (Fault::Garbage, "is it a Metron server?"),
        (Fault::WrongContentType, "content type text/plain"),
        (Fault::Truncated, "broke"),
        // The server stores the batch; the answer is lost on the way back.
        (Fault::DropAfterCommit, "broke"),
    ];
    for (fault, expected) in cases {
        net.proxy.queue_batches([fault.clone()]);
        let out = agent(&dir, &["resend", "--all"]);
        let err = text(&out.stderr);
        assert!(
            !out.status.success() && err.contains(expected),
            "{fault:?}: {err}"
        );
        assert!(
            err.contains("30 unsent, 0 rejected stay queued"),
            "{fault:?}: {err}"
        );
        let status = text(&agent(&dir, &["status"]).stdout);
        assert!(
            status.contains("last error: ") && status.contains(expected),
            "{fault:?}: {status}"
        );
        assert_eq!(unsent(&dir), 30, "{fault:?}");
    }
    // The lost answer left all 30 on the server; sending again (slowly) is harmless.
    assert_eq!(ServerProc::stored_ids(&net.db).len(), 30);
    net.proxy
        .queue_batches([Fault::Delay(Duration::from_secs(1))]);
    let out = agent(&dir, &["resend", "--all"]);
    assert!(
        out.status.success()
            && text(&out.stdout).contains("30 delivered; 0 unsent, 0 rejected remain"),
        "{}",
        text(&out.stderr)
    );
    assert_delivered_exactly_once(&net, &dir, &ids);
    let batches = net.proxy.batches();
    assert_eq!(batches.len(), 11);
    assert!(
        batches.iter().all(|b| b.ids == ids),
        "every try carried the same 30, oldest first"
    );
    let reached: Vec<_> = batches
        .iter()
        .filter(|b| b.upstream_status == Some(200))
        .map(|b| b.fault.clone())
        .collect();
    assert_eq!(
        reached,
        [
            Fault::WrongContentType,
            Fault::Truncated,
            Fault::DropAfterCommit,
            Fault::Delay(Duration::from_secs(1))
        ],
        "the server answered these; the others never reached it"
    );
}

#[cfg_attr(
    windows,
    ignore = "needs Ctrl-Break, which Wine cannot send without a console"
)]
#[test]
fn a_720_interval_backlog_waits_out_a_dead_server_and_arrives_exactly_once() {
    let mut net = Net::new();
    let dir = net.agent_dir("a");
    net.login(&dir);
    let seeded = seed(&dir, &net.task, 720);
    net.server.kill();
    // S6: it starts offline, finding the task by name in the cached list.
    let track = spawn_track(&dir, "Write the report");
    wait_until(Duration::from_secs(20), "a few failed tries", || {
        net.proxy.batches().len() >= 2
    });
    let status = text(&agent(&dir, &["status"]).stdout);
    assert!(
        status.contains("uploader:   offline") && status.contains("last error:"),
        "{status}"
    );
    assert!(unsent(&dir) >= 720);
    // The backoff spaces the tries (1 s growing to 10 s), it does not hammer.
    std::thread::sleep(Duration::from_secs(6));
    let tries = net.proxy.batches().len();
    assert!(tries <= 6, "{tries} tries in ~8 s");

    net.restart_server();
    wait_until(Duration::from_secs(40), "the backlog to drain", || {
        unsent(&dir) == 0
    });
    let log = stop(track);
    assert!(log.contains("server: online"), "{log}");
    assert_delivered_exactly_once(&net, &dir, &seeded);
    assert!(
        ServerProc::stored_ids(&net.db).len() > 720,
        "live intervals were delivered too"
    );
    let stored = ServerProc::stored(&net.db);
    assert_no_overlap(&stored);
    assert!(stored.iter().all(|i| i.task_id == net.task));
}

#[cfg_attr(
    windows,
    ignore = "needs Ctrl-Break, which Wine cannot send without a console"
)]
#[test]
fn a_manual_resend_cuts_a_long_backoff_short() {
    let net = Net::new();
    let dir = net.agent_dir("a");
    net.login(&dir);
    seed(&dir, &net.task, 5);
    net.proxy.set_default(Some(Fault::Status(503, None)));
    let track = spawn_track(&dir, &net.task);
    // After four failures the next wait is at least 4 s (nominal 8 s, equal jitter).
    wait_until(Duration::from_secs(30), "four failed tries", || {
        net.proxy.batches().len() >= 4
    });
    let failures = net.proxy.batches().len();
    wait_until(Duration::from_secs(15), "the next failed try", || {
        net.proxy.batches().len() > failures
    });
    let failed_at = Instant::now();
    net.proxy.set_default(None);
    let out = agent(&dir, &["resend", "--all"]);
    assert!(
        text(&out.stdout).contains("the running tracker sends"),
        "{}",
        text(&out.stdout)
    );
    wait_until(Duration::from_secs(15), "the resend", || unsent(&dir) == 0);
    let took = failed_at.elapsed();
    assert!(
        took < Duration::from_millis(3500),
        "delivered {took:?} after the last failure: the resend did not cut the backoff"
    );
    stop(track);
}

#[cfg_attr(
    windows,
    ignore = "needs Ctrl-Break, which Wine cannot send without a console"
)]
#[test]
fn an_answer_lost_after_commit_is_retried_by_itself_without_a_duplicate() {
    let net = Net::new();
    let dir = net.agent_dir("a");
    net.login(&dir);
    let ids = seed(&dir, &net.task, 10);
    net.proxy.queue_batches([Fault::DropAfterCommit]);
    let track = spawn_track(&dir, &net.task);
    wait_until(Duration::from_secs(20), "the retry", || {
        net.proxy.batches().len() >= 2 && unsent(&dir) == 0
    });
    stop(track);
    assert_delivered_exactly_once(&net, &dir, &ids);
    let batches = net.proxy.batches();
    assert_eq!(
        (batches[0].fault.clone(), batches[0].upstream_status),
        (Fault::DropAfterCommit, Some(200))
    );
    assert!(
        ids.iter().all(|id| batches[1].ids.contains(id)),
        "the lost batch was sent again"
    );
}

#[cfg_attr(
    windows,
    ignore = "needs Ctrl-Break, which Wine cannot send without a console"
)]
#[test]
fn an_agent_killed_mid_upload_loses_nothing_and_doubles_nothing() {
    let net = Net::new();
    let dir = net.agent_dir("a");
    net.login(&dir);
    let seeded = seed(&dir, &net.task, 250);
    // The first batch is held 2 s on the way to the server; the agent dies meanwhile, and the
    // server then stores the batch that no one will hear about.
    net.proxy
        .queue_batches([Fault::Delay(Duration::from_secs(2))]);
    let mut track = spawn_track(&dir, &net.task);
    wait_until(Duration::from_secs(20), "the first batch", || {
        net.proxy.batches_read() >= 1
    });
    track.kill().unwrap();
    track.wait().unwrap();
    wait_until(
        Duration::from_secs(10),
        "the held batch to reach the server",
        || ServerProc::stored_ids(&net.db).len() == 100,
    );
    assert_eq!(unsent(&dir), 250, "the killed agent never heard the answer");

    let track = spawn_track(&dir, &net.task);
    wait_until(Duration::from_secs(30), "the backlog to drain", || {
        unsent(&dir) == 0
    });
    stop(track);
    assert_delivered_exactly_once(&net, &dir, &seeded);
    assert!(
        agent_rows(&dir).len() >= 251,
        "the interval open at the kill was recovered and delivered"
    );
}

#[cfg_attr(
    windows,
    ignore = "needs Ctrl-Break, which Wine cannot send without a console"
)]
#[test]
fn a_server_killed_and_restarted_mid_batch_still_gets_everything_once() {
    let mut net = Net::new();
    let dir = net.agent_dir("a");
    net.login(&dir);
    let seeded = seed(&dir, &net.task, 250);
    net.proxy
        .queue_batches([Fault::StallMidBody(Duration::from_secs(2))]);
    let track = spawn_track(&dir, &net.task);
    wait_until(Duration::from_secs(20), "the first batch", || {
        net.proxy.batches_read() >= 1
    });
    // Half a request body is in the server; kill it there and start it again.
    std::thread::sleep(Duration::from_millis(300));
    net.restart_server();
    wait_until(Duration::from_secs(40), "the backlog to drain", || {
        unsent(&dir) == 0
    });
    stop(track);
    assert_delivered_exactly_once(&net, &dir, &seeded);
    assert_eq!(
        net.proxy.batches()[0].upstream_status,
        None,
        "the stalled batch never got an answer"
    );
}

#[cfg_attr(
    windows,
    ignore = "needs Ctrl-Break, which Wine cannot send without a console"
)]
#[test]
fn two_devices_of_one_account_end_with_one_timeline_and_no_endless_retry() {
    let net = Net::new();
    let (a, b) = (net.agent_dir("laptop"), net.agent_dir("desktop"));
    net.login(&a);
    net.login(&b);
    let (ta, tb) = (spawn_track(&a, &net.task), spawn_track(&b, &net.task));
    wait_until(Duration::from_secs(30), "both devices to deliver", || {
        agent_rows(&a).iter().any(|r| r.1 != "unsent")
            && agent_rows(&b).iter().any(|r| r.1 != "unsent")
    });
    std::thread::sleep(Duration::from_secs(6));
    // A device whose intervals came back `overlap` is told why: the other one is tracking.
    // (The server knows a device by its stored intervals, so the device that won every
    // second has nothing to see.)
    let overlapped = |dir: &Path| {
        agent_rows(dir)
            .iter()
            .any(|r| r.2.as_deref().is_some_and(|r| r.starts_with("overlap")))
    };
    let warning = "another device of this account is tracking now";
    let mut warned = HashMap::new();
    for dir in [&a, &b] {
        if overlapped(dir) {
            let status = text(&agent(dir, &["status"]).stdout);
            assert!(status.contains(warning), "{status}");
        }
        warned.insert(dir.clone(), overlapped(dir));
    }
    let (la, lb) = (stop(ta), stop(tb));
    for (dir, log) in [(&a, &la), (&b, &lb)] {
        if warned[dir] {
            assert!(log.contains(warning), "{log}");
        }
    }

    let mut rejected = 0;
    for dir in [&a, &b] {
        for (id, status, reason) in agent_rows(dir) {
            match status.as_str() {
                "sent" => {}
                "rejected" => {
                    assert!(
                        reason.as_deref().is_some_and(|r| r.starts_with("overlap")),
                        "{id}: {reason:?}"
                    );
                    rejected += 1;
                }
                _ => panic!("{id} ended {status}"),
            }
        }
    }
    assert!(rejected > 0, "the two devices tracked the same seconds");
    let stored = ServerProc::stored(&net.db);
    assert_no_overlap(&stored);
    let sent = agent_rows(&a)
        .iter()
        .chain(agent_rows(&b).iter())
        .filter(|r| r.1 == "sent")
        .count();
    assert_eq!(stored.len(), sent);
    // Each interval was offered once: a rejection is final until a person resends it.
    let mut offered: HashMap<String, usize> = HashMap::new();
    for batch in net.proxy.batches() {
        for id in batch.ids {
            *offered.entry(id).or_default() += 1;
        }
    }
    assert!(offered.values().all(|n| *n == 1), "{offered:?}");
}

#[test]
fn a_rejected_interval_waits_for_a_manual_resend_of_one_id() {
    let net = Net::new();
    let dir = net.agent_dir("a");
    net.login(&dir);
    let ids = seed(&dir, &net.task, 3);
    // An interval of a task the server doesn't know is `invalid`: rejected for good.
    {
        let mut store = Store::open(&store_path(&dir)).unwrap();
        let mut i = interval(0, 30);
        i.device_id = store.device_id().unwrap();
        i.task_id = "no-such-task".into();
        i.started_at = now_secs() - Secs::minutes(5);
        i.ended_at = i.started_at + Secs::seconds(30);
        store.commit(&i).unwrap();
    }
    let out = agent(&dir, &["resend", "--all"]);
    assert!(
        text(&out.stdout).contains("3 delivered; 0 unsent, 1 rejected remain"),
        "{}",
        text(&out.stdout)
    );
    let rows = agent_rows(&dir);
    let bad = rows.iter().find(|r| r.1 == "rejected").unwrap().clone();
    assert!(bad.2.as_deref().unwrap().starts_with("invalid"), "{bad:?}");
    let listed = text(&agent(&dir, &["intervals", "--unsent"]).stdout);
    assert!(
        listed.contains(&bad.0) && listed.contains("rejected: invalid"),
        "{listed}"
    );
    let status = text(&agent(&dir, &["status"]).stdout);
    assert!(
        status.contains("1 rejected") && status.contains("metron-agent resend"),
        "{status}"
    );

    // A sent id is already there; an unknown id is an error; the rejected one is tried again.
    assert!(text(&agent(&dir, &["resend", &ids[0]]).stdout).contains("already delivered"));
    let unknown = agent(&dir, &["resend", &uuid::Uuid::now_v7().to_string()]);
    assert!(!unknown.status.success() && text(&unknown.stderr).contains("no interval"));
    let again = agent(&dir, &["resend", &bad.0]);
    assert!(
        text(&again.stdout).contains("1 rejected interval(s) queued again"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(
        net.proxy
            .batches()
            .iter()
            .filter(|b| b.ids.contains(&bad.0))
            .count(),
        2
    );
    assert_eq!(
        agent_rows(&dir)
            .iter()
            .filter(|r| r.1 == "rejected")
            .count(),
        1,
        "still invalid, still kept"
    );
}

#[test]
fn undelivered_intervals_stay_with_their_account_across_a_logout() {
    let net = Net::new();
    server_cli(
        &net.db,
        &[
            "user",
            "add",
            "--email",
            "bob@example.com",
            "--name",
            "Bob",
            "--password",
            PASSWORD,
        ],
    );
    let dir = net.agent_dir("a");
    net.login(&dir);
    seed(&dir, &net.task, 2);
    assert!(text(&agent(&dir, &["logout"]).stdout).contains("2 undelivered intervals stay"));
    let bob = agent(
        &dir,
        &[
            "login",
            "--server",
            &net.proxy.base(),
            "--email",
            "bob@example.com",
            "--password",
            PASSWORD,
        ],
    );
    assert!(
        !bob.status.success() && text(&bob.stderr).contains("tracked as ann@example.com"),
        "{}",
        text(&bob.stderr)
    );
    net.login(&dir);
    let out = agent(&dir, &["resend", "--all"]);
    assert!(
        text(&out.stdout).contains("2 delivered"),
        "{}",
        text(&out.stdout)
    );
}

#[cfg_attr(
    windows,
    ignore = "needs Ctrl-Break, which Wine cannot send without a console"
)]
#[test]
fn an_expired_session_says_signed_out_and_keeps_every_interval_until_the_same_account_signs_in_again(
) {
    let net = Net::new();
    let dir = net.agent_dir("a");
    net.login(&dir);
    let seeded = seed(&dir, &net.task, 3);
    revoke(
        &net.server.base(),
        std::fs::read_to_string(dir.join("token")).unwrap().trim(),
    );
    const SAID: &str = "signed out: your session expired";

    let out = agent(&dir, &["resend", "--all"]);
    assert!(
        !out.status.success() && text(&out.stderr).contains(SAID),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("3 unsent, 0 rejected stay queued"),
        "{}",
        text(&out.stderr)
    );
    let status = text(&agent(&dir, &["status"]).stdout);
    assert!(
        status.contains(&format!("connection: {SAID}"))
            && status.contains("3 unsent interval(s) are kept"),
        "{status}"
    );
    let tasks = agent(&dir, &["tasks"]);
    assert!(
        text(&tasks.stderr).contains(SAID) && text(&tasks.stdout).contains("Write the report"),
        "{}",
        text(&tasks.stderr)
    );

    // A tracker running meanwhile says it, keeps what it tracks, and delivers everything once
    // the same account signs in again, without a restart.
    let track = spawn_track(&dir, &net.task);
    wait_until(
        Duration::from_secs(20),
        "intervals tracked while signed out",
        || unsent(&dir) >= 5,
    );
    let status = text(&agent(&dir, &["status"]).stdout);
    assert!(status.contains("uploader:   signed out"), "{status}");
    assert_eq!(ServerProc::stored_ids(&net.db).len(), 0);
    net.login(&dir);
    wait_until(
        Duration::from_secs(30),
        "the kept intervals delivered",
        || unsent(&dir) == 0,
    );
    let log = stop(track);
    assert!(log.contains(&format!("server: {SAID}")), "{log}");
    assert_delivered_exactly_once(&net, &dir, &seeded);
}

#[test]
fn an_interval_ending_in_the_future_by_the_servers_clock_is_offered_again_later_not_rejected_for_good(
) {
    let net = Net::new();
    let dir = net.agent_dir("a");
    net.login(&dir);
    let mut store = Store::open(&store_path(&dir)).unwrap();
    let device = store.device_id().unwrap();
    let mut i = interval(0, 3);
    i.device_id = device;
    i.task_id = net.task.clone();
    // Ends 303 s ahead: 3 s past the 5 minutes the server allows, so time alone cures it.
    i.started_at = now_secs() + Secs::seconds(300);
    i.ended_at = i.started_at + Secs::seconds(3);
    store.commit(&i).unwrap();
    let id = i.id.to_string();
    let client = ServerClient::new(&net.proxy.base()).unwrap();
    let mut uploader = Uploader::new(store, client, TokenStore::new(&dir, device))
        .unwrap()
        .future_retry(Duration::from_secs(1));
    assert_eq!(
        uploader.attempt(),
        Attempt::Sent {
            sent: 0,
            rejected: 0,
            more: false
        }
    );
    assert_eq!(
        agent_rows(&dir)[0],
        (id.clone(), "unsent".to_string(), None),
        "kept unsent, not rejected"
    );
    let note = uploader.state().last_error.clone().unwrap_or_default();
    assert!(
        note.contains("in the future") && note.contains("go again in 1 s"),
        "{note}"
    );
    assert_eq!(
        uploader.attempt(),
        Attempt::Idle,
        "not offered again at once"
    );
    wait_until(
        Duration::from_secs(30),
        "the server's clock to reach it",
        || {
            uploader.attempt();
            agent_rows(&dir)[0].1 == "sent"
        },
    );
    let offered = net
        .proxy
        .batches()
        .iter()
        .filter(|b| b.ids.contains(&id))
        .count();
    assert!(
        (2..=20).contains(&offered),
        "offered {offered} times: again, with a wait between tries"
    );
    assert_eq!(ServerProc::stored_ids(&net.db), vec![(id, 1)]);
}

#[test]
fn an_interval_delivered_too_late_is_kept_marked_rejected_with_the_servers_reason() {
    let net = Net::new();
    let dir = net.agent_dir("a");
    net.login(&dir);
    seed(&dir, &net.task, 2);
    // Tracked 300 days ago and never delivered (a laptop left in a drawer): past the
    // organization's edit window and the days a device has after it.
    let old = {
        let mut store = Store::open(&store_path(&dir)).unwrap();
        let mut i = interval(0, 60);
        i.device_id = store.device_id().unwrap();
        i.task_id = net.task.clone();
        i.started_at = now_secs() - Secs::days(300);
        i.ended_at = i.started_at + Secs::seconds(60);
        store.commit(&i).unwrap();
        i.id.to_string()
    };
    let out = agent(&dir, &["resend", "--all"]);
    assert!(
        text(&out.stdout).contains("2 delivered; 0 unsent, 1 rejected remain"),
        "{}",
        text(&out.stdout)
    );
    // Not dropped: kept in the store, marked rejected with the server's reason, and shown.
    let rows = agent_rows(&dir);
    let kept = rows
        .iter()
        .find(|r| r.0 == old)
        .expect("the old interval is kept");
    assert_eq!(kept.1, "rejected");
    let reason = kept.2.as_deref().unwrap();
    assert!(
        reason.starts_with(metron_core::wire::REASON_TOO_OLD) && reason.contains("edit window"),
        "{reason}"
    );
    let listed = text(&agent(&dir, &["intervals", "--unsent"]).stdout);
    assert!(
        listed.contains(&old) && listed.contains("rejected: invalid: too old"),
        "{listed}"
    );
    assert!(text(&agent(&dir, &["status"]).stdout).contains("1 rejected"));
}

/// The requests for `GET /api/v1/tasks` the proxy saw, with the server's status.
fn task_list_statuses(net: &Net) -> Vec<Option<u16>> {
    net.proxy
        .log()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v1/tasks")
        .map(|r| r.upstream_status)
        .collect()
}

#[test]
fn the_task_refresh_sends_its_etag_keeps_the_list_on_304_and_drops_an_archived_task() {
    let net = Net::new();
    let dir = net.agent_dir("a");
    net.login(&dir);
    let cached = |dir: &Path| {
        let store = Store::open(&store_path(dir)).unwrap();
        metron_agent::delivery::account::tasks(&store).unwrap()
    };
    let signed_in = cached(&dir);
    assert_eq!(signed_in.tasks.len(), 1);
    let etag = signed_in
        .etag
        .clone()
        .expect("the sign-in keeps the list's ETag");
    assert_eq!(task_list_statuses(&net), [Some(200)]);

    // The uploader's periodic refresh (the desktop app runs the same): 304, list kept.
    let uploader = |dir: &Path| {
        let mut store = Store::open(&store_path(dir)).unwrap();
        let device = store.device_id().unwrap();
        let client = ServerClient::new(&net.proxy.base()).unwrap();
        let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&events);
        let uploader = Uploader::new(store, client, TokenStore::new(dir, device))
            .unwrap()
            .on_event(move |e| {
                if let metron_agent::delivery::DeliveryEvent::TasksRefreshed(tasks) = e {
                    seen.lock().unwrap().push(tasks);
                }
            });
        (
            metron_agent::delivery::UploaderThread::spawn(uploader),
            events,
        )
    };
    let (thread, events) = uploader(&dir);
    wait_until(
        Duration::from_secs(20),
        "the uploader's task refresh",
        || task_list_statuses(&net).len() == 2,
    );
    thread.stop();
    assert_eq!(task_list_statuses(&net), [Some(200), Some(304)]);
    assert!(events.lock().unwrap().is_empty(), "no new list on 304");
    let after = cached(&dir);
    assert_eq!(
        (after.tasks.clone(), after.etag.clone()),
        (signed_in.tasks.clone(), Some(etag.clone()))
    );
    assert!(after.refreshed_at > signed_in.refreshed_at);

    // An admin archives the task (here on the server's shell): the next refresh gets a new
    // list without it, and a new ETag.
    server_cli(
        &net.db,
        &[
            "task",
            "archive",
            "--name",
            "Write the report",
            "--org",
            "default",
        ],
    );
    let (thread, events) = uploader(&dir);
    wait_until(
        Duration::from_secs(20),
        "the uploader's task refresh",
        || task_list_statuses(&net).len() == 3,
    );
    thread.stop();
    assert_eq!(task_list_statuses(&net)[2], Some(200));
    assert_eq!(events.lock().unwrap().as_slice(), [Vec::new()]);
    let archived = cached(&dir);
    assert!(archived.tasks.is_empty());
    assert!(archived.etag.is_some() && archived.etag != Some(etag));

    // `metron-agent tasks` asks the same way: 304 now, and says the (empty) list.
    let out = agent(&dir, &["tasks"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stdout).contains("Write the report"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(task_list_statuses(&net)[3], Some(304));
    // Restored, it is back.
    server_cli(
        &net.db,
        &[
            "task",
            "restore",
            "--name",
            "Write the report",
            "--org",
            "default",
        ],
    );
    let out = agent(&dir, &["tasks"]);
    assert!(
        text(&out.stdout).contains("Write the report"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(task_list_statuses(&net)[4], Some(200));
}
