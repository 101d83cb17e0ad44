//! A real `metron-server` process under what a hostile network sends it: thousands of idle
//! connections, bodies trickling in a byte a second, a flood of the largest valid intervals.

use super::processes::{db_with_ann, serve_with, Server};
use super::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_string()
}

/// A fresh client's `GET /api/v1/health`: the status line, or why not, within `limit`.
async fn health_within(addr: &str, limit: Duration) -> Result<String, String> {
    let ask = async {
        let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        s.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .map_err(|e| e.to_string())?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer)
            .await
            .map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&answer)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string())
    };
    tokio::time::timeout(limit, ask)
        .await
        .map_err(|_| format!("no answer within {limit:?}"))?
}

/// Opens `n` connections that never send a byte.
async fn idle_connections(addr: &str, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        held.push(TcpStream::connect(addr).await.expect("connecting"));
    }
    held
}

/// Opens `n` connections that announce a 4 MB login body and send it a byte a second.
async fn trickling_connections(addr: &str, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).await.expect("connecting");
        let head = "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000000\r\n\r\n{";
        s.write_all(head.as_bytes()).await.unwrap();
        held.push(s);
    }
    held
}

/// Sends one more byte on each trickling connection every second (for two minutes, or until
/// aborted); the read halves are returned to see what the server answers.
fn keep_trickling(
    held: Vec<TcpStream>,
) -> (
    tokio::task::JoinHandle<()>,
    Vec<tokio::net::tcp::OwnedReadHalf>,
) {
    let (readers, mut writers): (Vec<_>, Vec<_>) =
        held.into_iter().map(TcpStream::into_split).unzip();
    let task = tokio::spawn(async move {
        for _ in 0..120 {
            for w in &mut writers {
                let _ = w.write_all(b" ").await;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    (task, readers)
}

/// Whether the server closed the connection (EOF or reset), and what it said first if anything.
async fn closed_by_server(s: &mut (impl AsyncReadExt + Unpin), within: Duration) -> Option<String> {
    let mut buf = vec![0u8; 4096];
    let mut said = String::new();
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(said),
            Ok(Ok(n)) => said.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
}

#[cfg_attr(
    windows,
    ignore = "times 2,200 held sockets; under Wine 8 it fails, Windows unknown"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_connections_dont_starve_a_fresh_client_and_are_cut_by_their_timeouts() {
    metron_server::listener::raise_open_file_limit().expect("raising this test's open-file limit");
    let dir = tempfile::tempdir().unwrap();
    let server = serve_with(
        &db_with_ann(&dir, "held.sqlite"),
        &[
            // Timeouts well above the time it takes to open 2,200 connections on a busy
            // machine (4.8 s was seen beside a build), so that they are all held when the
            // fresh client asks, whatever else the machine does.
            "--header-timeout",
            "12",
            "--body-timeout",
            "14",
            "--idle-timeout",
            "30",
        ],
    );
    let addr = addr(&server);
    let started = Instant::now();
    let mut idle = idle_connections(&addr, 2_000).await;
    let (trickle, mut trickled) = keep_trickling(trickling_connections(&addr, 200).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Everything is held and the fresh client is still served at once.
    let status = health_within(&addr, Duration::from_secs(1))
        .await
        .expect("health under load");
    assert_eq!(status, "HTTP/1.1 200 OK");
    // Held indeed: the first idle connection opened is still open after the health answer
    // (were it not, the machine took longer than the header timeout to open them all, and
    // the answer above proved nothing).
    assert!(
        closed_by_server(&mut idle[0], Duration::from_millis(50))
            .await
            .is_none(),
        "the idle connections were cut before the fresh client asked ({:?} after the first opened)",
        started.elapsed()
    );
    // The connections that never sent a byte are cut at the header timeout.
    let mut cut = 0;
    for s in idle.iter_mut().step_by(100) {
        if closed_by_server(s, Duration::from_secs(20)).await.is_some() {
            cut += 1;
        }
    }
    assert_eq!(
        cut,
        20,
        "idle connections still open {:?} after they opened",
        started.elapsed()
    );
    // The trickling bodies get 408 at the body timeout, and their connections close.
    let said = closed_by_server(&mut trickled[0], Duration::from_secs(20))
        .await
        .expect("a trickling body is cut");
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    let mut cut = 1;
    for r in trickled.iter_mut().skip(1) {
        if closed_by_server(r, Duration::from_secs(10)).await.is_some() {
            cut += 1;
        }
    }
    trickle.abort();
    assert_eq!(cut, 200, "trickling bodies cut");
    assert_eq!(
        health_within(&addr, Duration::from_secs(1)).await.unwrap(),
        "HTTP/1.1 200 OK"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_with(
        &db_with_ann(&dir, "held.sqlite"),
        &["--header-timeout", "2"],
    );
    let mut s = TcpStream::connect(addr(&server)).await.unwrap();
    s.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 1024];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Kept alive, then left idle: closed within the timeout (and a little).
    let at = Instant::now();
    assert!(
        closed_by_server(&mut s, Duration::from_secs(6))
            .await
            .is_some(),
        "still open after 6 s idle"
    );
    assert!(
        at.elapsed() >= Duration::from_millis(1_500),
        "closed too early: {:?}",
        at.elapsed()
    );
}

#[cfg_attr(
    windows,
    ignore = "needs Ctrl-Break, which Wine cannot send without a console"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_server_within_10_s_whatever_clients_hold() {
    metron_server::listener::raise_open_file_limit().expect("raising this test's open-file limit");
    let dir = tempfile::tempdir().unwrap();
    // Default timeouts: nobody is cut before the signal.
    let mut server = serve_with(&db_with_ann(&dir, "held.sqlite"), &[]);
    let addr = addr(&server);
    let _idle = idle_connections(&addr, 500).await;
    let (trickle, _readers) = keep_trickling(trickling_connections(&addr, 200).await);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let at = Instant::now();
    terminate(&server.child);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            at.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "exit {status:?}");
    trickle.abort();
}

/// Linux only: it reads the server's peak memory from /proc.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_the_largest_valid_intervals_leaves_the_team_report_quick_and_the_server_small()
{
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("flood.sqlite").display().to_string();
    // A 100-person organization (one password hash for all: hashing 100 would only cost time).
    {
        let database = db::connect(&db_path).await.unwrap();
        let org = database.organization("acme").await.unwrap();
        let hash = metron_server::auth::hash_password("long password").unwrap();
        database
            .create_user(&org, "boss@acme.test", "Boss", &hash, true)
            .await
            .unwrap();
        for k in 0..99 {
            database
                .create_user(
                    &org,
                    &format!("p{k:02}@acme.test"),
                    &format!("Person {k:02}"),
                    &hash,
                    false,
                )
                .await
                .unwrap();
        }
    }
    let task: Value = serde_json::from_str(&super::processes::cli(
        &db_path,
        &["task", "add", "--name", "Flood", "--org", "acme"],
    ))
    .unwrap();
    let task = task["id"].as_str().unwrap().to_string();
    let server = serve_with(&db_path, &[]);
    let client = reqwest::Client::new();
    let flooder =
        super::processes::login(&client, &server.base, "p00@acme.test", "long password").await;
    // The largest interval a client may send: 900 s in 800 window segments, each with an app,
    // title, URL and path at their size limits (about 3.5 MB of JSON).
    let largest = |k: i64| {
        let mut i = interval(&task, k * 900, 900);
        let seg = |n: u32| {
            json!({"offset": n, "seconds": if n == 799 { 101 } else { 1 }, "app": format!("{n:03}{}", "a".repeat(253)),
                   "title": "t".repeat(1024), "url": format!("https://h{n}.example/{}", "u".repeat(2020)), "path": "p".repeat(1024)})
        };
        i["windows"] = Value::Array((0..800).map(seg).collect());
        i
    };
    let mut accepted = 0;
    for k in 0..12 {
        let r: Value = client
            .post(format!("{}/api/v1/intervals", server.base))
            .bearer_auth(&flooder)
            .json(&json!({"intervals": [largest(k)]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match r["results"][0]["status"].as_str() {
            Some("accepted") => accepted += 1,
            _ => assert!(
                r["results"][0]["reason"]
                    .as_str()
                    .unwrap()
                    .contains("bytes one person may store a day"),
                "{r}"
            ),
        }
    }
    assert!(
        (3..12).contains(&accepted),
        "{accepted} of the 12 largest intervals accepted"
    );
    let boss =
        super::processes::login(&client, &server.base, "boss@acme.test", "long password").await;
    let at = Instant::now();
    let team: Value = client
        .get(format!(
            "{}/api/v1/reports/team?date={}",
            server.base,
            fixture_date(0)
        ))
        .bearer_auth(&boss)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let took = at.elapsed();
    assert_eq!(team["users"].as_array().unwrap().len(), 100);
    let flooded = team["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"]["email"] == "p00@acme.test")
        .unwrap();
    assert_eq!(flooded["tracked_secs"], 900 * accepted);
    eprintln!(
        "team report of 100 people after the flood: {took:?}, server peak {} MB",
        peak_kb_of(&server) / 1024
    );
    // The bound for this machine: the report under 1 s, the server under 300 MB.
    assert!(
        took < Duration::from_secs(1),
        "the team report took {took:?}"
    );
    let peak_kb = peak_kb_of(&server);
    assert!(
        peak_kb < 300 * 1024,
        "the server peaked at {} MB",
        peak_kb / 1024
    );
}

/// The server process's peak resident memory (VmHWM), in kB.
#[cfg(target_os = "linux")]
fn peak_kb_of(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}
