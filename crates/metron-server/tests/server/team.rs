//! Issue 28's story in one run, with every part real: a team lead invites Bea from the People
//! page, the mail reaches an SMTP server on loopback (aiosmtpd), Bea joins by its link in the
//! browser, signs the headless agent in and tracks; a task is archived and leaves her agent's
//! list while her day keeps its time; Max becomes her manager and reads her day, which her
//! access log and her My data page show; her export holds her intervals; a CSV of 300 people
//! with one bad row changes nothing; and removing Bea leaves nothing of her but the tombstone.

use super::processes::{cli, get_json, login};
use super::web::{screenshots_dir, Browser, Driver};
use super::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

/// The `metron-agent` binary of this workspace, built on first use (under `.ci/test.sh`, whose
/// `cargo test --workspace` builds every binary, it is there already).
pub(crate) fn agent_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    if std::env::var_os("METRON_WORKSPACE_BINS").is_none() {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "metron-agent",
                "--bin",
                "metron-agent",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo to build metron-agent");
        assert!(status.success(), "building metron-agent failed");
    }
    let bin = profile_dir.join("metron-agent");
    assert!(bin.exists(), "{} is missing", bin.display());
    bin
}

/// `metron-agent --data-dir DIR ARGS` without a display or a session bus: unknown samples
/// (idle seconds), and the token in the agent's 0600 file.
pub(crate) fn agent(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(agent_bin());
    command
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("RUST_LOG", "warn");
    command
}

fn run(mut command: Command) -> Output {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// aiosmtpd on a free loopback port; each received mail is a JSON line on the receiver.
fn smtp_sink() -> (std::process::Child, u16, Receiver<String>) {
    let port = free_port();
    let mut sink = Command::new(crate::events::pm4py_python())
        .arg("-u")
        .arg(crate::manifest_dir().join("tests/server/smtp_sink.py"))
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts aiosmtpd");
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = sink.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    assert_eq!(
        lines.recv_timeout(Duration::from_secs(30)).unwrap(),
        "ready"
    );
    (sink, port, lines)
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_team_lead_brings_bea_in_and_her_time_her_manager_her_data_and_her_removal_hold() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("team.sqlite").display().to_string();
    let (sink, smtp_port, mails) = smtp_sink();
    // Stopped however the test ends (a failed assertion too): neither outlives it.
    let _sink = super::processes::Server {
        child: sink,
        base: String::new(),
    };
    // The server on a port chosen first: the mailed links name its public address.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "public_url = \"{base}\"\n[smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nfrom = \"Metron <metron@acme.test>\"\nsecurity = \"none\"\n"
        ),
    )
    .unwrap();
    let user = |email: &str, name: &str, admin: bool| {
        let mut args = vec![
            "user",
            "add",
            "--email",
            email,
            "--name",
            name,
            "--password",
            "a-good-password",
        ];
        if admin {
            args.push("--admin");
        }
        serde_json::from_str::<Value>(&cli(&db, &args)).unwrap()
    };
    user("ada@acme.test", "Ada Lead", true);
    let max = user("max@acme.test", "Max Manager", false);
    cli(
        &db,
        &["task", "add", "--name", "Write report", "--project", "Q4"],
    );
    let meetings: Value = serde_json::from_str(&cli(
        &db,
        &["task", "add", "--name", "Meetings", "--project", "Q4"],
    ))
    .unwrap();
    let mut child = server_command()
        .args([
            "--config",
            config.to_str().unwrap(),
            "--db",
            &db,
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _server = super::processes::Server {
        child,
        base: base.clone(),
    };
    assert!(line.starts_with("listening on"), "{line}");
    let http = reqwest::Client::new();
    let ada = login(&http, &base, "ada@acme.test", "a-good-password").await;

    // Ada invites Bea on the People page; the mail carries the link the dialog shows.
    let driver = Driver::start().await;
    let downloads = tempfile::tempdir().unwrap();
    let lead = Browser::open(&driver, downloads.path()).await;
    lead.goto(&format!("{base}/")).await;
    lead.sign_in("ada@acme.test", "a-good-password").await;
    lead.click("#nav a[href='#page=people']").await;
    lead.click("#invite-open").await;
    lead.type_into("#invite-email", "bea@acme.test").await;
    lead.type_into("#invite-name", "Bea").await;
    lead.click("#invite-dialog button[type='submit']").await;
    let shown = lead
        .wait_for(
            "the link",
            "const i = document.querySelector('#link-dialog .link-value'); return i && i.value",
        )
        .await;
    let mail: Value = serde_json::from_str(
        &mails
            .recv_timeout(Duration::from_secs(30))
            .expect("the invitation mail"),
    )
    .unwrap();
    assert_eq!(mail["rcpt_tos"], json!(["bea@acme.test"]));
    let link = mail["body"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find(|w| w.contains("#invite="))
        .expect("a link in the mail")
        .to_string();
    assert_eq!(json!(link), shown, "the mailed link is the one shown");
    assert!(link.starts_with(&format!("{base}/#invite=")), "{link}");

    // Bea opens it in her own browser, chooses her password and is signed in.
    let bea_downloads = tempfile::tempdir().unwrap();
    let bea_browser = Browser::open(&driver, bea_downloads.path()).await;
    bea_browser.goto(&link).await;
    bea_browser.type_into("#link-name", "Bea Employee").await;
    bea_browser
        .type_into("#link-password", "bea-password-1")
        .await;
    bea_browser.type_into("#link-again", "bea-password-1").await;
    bea_browser.click("#link-form button[type='submit']").await;
    bea_browser
        .wait_for("Bea signed in", "return !document.getElementById('app').hidden && document.getElementById('me-name').textContent === 'Bea Employee'")
        .await;
    let bea = login(&http, &base, "bea@acme.test", "bea-password-1").await;
    let bea_id = get_json(&http, &format!("{base}/api/v1/me"), &bea).await["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Her agent signs in, lists the tasks and tracks 30 s on Meetings.
    let agent_dir = dir.path().join("bea-agent");
    run(agent(
        &agent_dir,
        &[
            "login",
            "--server",
            &base,
            "--email",
            "bea@acme.test",
            "--password",
            "bea-password-1",
        ],
    ));
    let tasks = String::from_utf8(run(agent(&agent_dir, &["tasks"])).stdout).unwrap();
    assert!(
        tasks.contains("Meetings") && tasks.contains("Write report"),
        "{tasks}"
    );
    let mut tracker = agent(
        &agent_dir,
        &[
            "--interval-range",
            "2..3",
            "track",
            "--task",
            meetings["id"].as_str().unwrap(),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    tokio::time::sleep(Duration::from_secs(30)).await;
    terminate(&tracker);
    let stopped = tracker.wait().unwrap();
    assert!(
        stopped.success(),
        "the tracker stopped cleanly: {stopped:?}"
    );
    let today = chrono::Utc::now().date_naive();
    let mut tracked = 0;
    for _ in 0..100 {
        let day = get_json(
            &http,
            &format!("{base}/api/v1/reports/daily?date={today}"),
            &bea,
        )
        .await;
        tracked = day["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["task_id"] == meetings["id"])
            .map(|t| t["tracked_secs"].as_u64().unwrap())
            .sum::<u64>();
        if tracked >= 25 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        (25..=40).contains(&tracked),
        "30 s tracked on Meetings reached the server: {tracked}"
    );

    // Ada archives Meetings: Bea's agent no longer lists it at its next refresh, and her day
    // keeps its time under its name.
    let (status, body) = patch(
        &http,
        &format!("{base}/api/v1/tasks/{}", meetings["id"].as_str().unwrap()),
        &ada,
        json!({"archived": true}),
    )
    .await;
    assert!(status.is_success(), "{body}");
    let tasks = String::from_utf8(run(agent(&agent_dir, &["tasks"])).stdout).unwrap();
    assert!(
        !tasks.contains("Meetings") && tasks.contains("Write report"),
        "{tasks}"
    );
    let day = get_json(
        &http,
        &format!("{base}/api/v1/reports/daily?date={today}"),
        &bea,
    )
    .await;
    let kept = day["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["task_id"] == meetings["id"])
        .expect("the archived task in her day");
    assert_eq!(kept["tracked_secs"].as_u64().unwrap(), tracked);
    assert_eq!(
        day["task_names"][meetings["id"].as_str().unwrap()],
        "Meetings"
    );

    // Ada makes Max Bea's manager; Max opens her day; her access log says so, on the page too.
    let max_id = max["id"].as_str().unwrap();
    let answer = http
        .put(format!("{base}/api/v1/users/{max_id}/managed"))
        .bearer_auth(&ada)
        .json(&json!({"users": [bea_id]}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    lead.click("#link-dialog button.primary").await;
    lead.click("#signout").await;
    lead.sign_in("max@acme.test", "a-good-password").await;
    // Signed in, Max opens Bea's day by its address.
    lead.goto(&format!("{base}/#date={today}&user={bea_id}"))
        .await;
    lead.wait_for(
        "Bea's day",
        "return document.getElementById('day-title').textContent.includes('Bea')",
    )
    .await;
    let log = get_json(&http, &format!("{base}/api/v1/me/access-log"), &bea).await;
    let reads: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["reader_id"] == max_id)
        .collect();
    assert!(
        !reads.is_empty(),
        "Max's read is in Bea's access log: {log}"
    );
    bea_browser.click("#nav a[href='#page=mydata']").await;
    bea_browser
        .wait_for("Max in her access log", "return [...document.querySelectorAll('#access-log tbody tr')].some((r) => r.textContent.includes('Max Manager'))")
        .await;
    bea_browser
        .script("window.scrollTo(0, 0); return true")
        .await;
    bea_browser
        .screenshot(&screenshots_dir().join("team-bea-my-data.png"))
        .await;

    // Her export holds every interval the server has of her.
    let zip = http
        .get(format!("{base}/api/v1/me/export"))
        .bearer_auth(&bea)
        .send()
        .await
        .unwrap();
    assert!(zip.status().is_success());
    let files = super::mydata::unzip(&zip.bytes().await.unwrap());
    let from = (chrono::Utc::now() - chrono::Duration::days(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = (chrono::Utc::now() + chrono::Duration::minutes(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let stored = get_json(
        &http,
        &format!("{base}/api/v1/intervals?from={from}&to={to}"),
        &bea,
    )
    .await;
    assert!(
        stored.as_array().unwrap().len() >= 10,
        "2-3 s intervals over 30 s: {stored}"
    );
    let exported = &files["intervals.json"];
    for interval in stored.as_array().unwrap() {
        assert!(
            exported.contains(interval["id"].as_str().unwrap()),
            "{} is in the export",
            interval["id"]
        );
    }

    // A CSV of 300 people with one bad row changes nothing and names the row.
    let mut csv = String::from("email,name,role,manager\n");
    for k in 0..300 {
        if k == 149 {
            csv.push_str("not-an-address,Broken Row,member,\n");
        } else {
            csv.push_str(&format!(
                "person{k}@acme.test,Person {k},member,max@acme.test\n"
            ));
        }
    }
    let people_before = get_json(&http, &format!("{base}/api/v1/users"), &ada)
        .await
        .as_array()
        .unwrap()
        .len();
    let answer = http
        .post(format!("{base}/api/v1/invitations/import"))
        .bearer_auth(&ada)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let report = answer.text().await.unwrap();
    assert_eq!(status.as_u16(), 422, "{report}");
    assert!(
        report.contains("151"),
        "the bad row is named by its line: {report}"
    );
    assert_eq!(
        get_json(&http, &format!("{base}/api/v1/invitations"), &ada).await,
        json!([]),
        "no invitation was made"
    );
    assert_eq!(
        get_json(&http, &format!("{base}/api/v1/users"), &ada)
            .await
            .as_array()
            .unwrap()
            .len(),
        people_before
    );

    // Ada removes Bea on the People page, her data downloaded first: nothing of hers is left
    // anywhere but the tombstone.
    lead.click("#signout").await;
    lead.sign_in("ada@acme.test", "a-good-password").await;
    lead.click("#nav a[href='#page=people']").await;
    lead.click("#people-table tr[data-email='bea@acme.test'] button[data-action='remove']")
        .await;
    lead.click("#remove-export").await;
    lead.wait_for(
        "the export saved",
        "return document.getElementById('remove-status').textContent.includes('.zip')",
    )
    .await;
    let saved = downloads.path().join("metron-bea@acme.test.zip");
    for _ in 0..100 {
        if saved.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let files = super::mydata::unzip(&std::fs::read(&saved).unwrap());
    assert!(files["intervals.json"].contains(stored[0]["id"].as_str().unwrap()));
    lead.type_into("#remove-email", "bea@acme.test").await;
    lead.script("window.scrollTo(0, 0); return true").await;
    lead.screenshot(&screenshots_dir().join("admin-people-remove.png"))
        .await;
    lead.click("#remove-go").await;
    lead.wait_for(
        "the removal's outcome",
        "return !!document.getElementById('removed-dialog')",
    )
    .await;
    assert!(!lead.text("#removed-dialog").await.is_empty());
    let left =
        super::mydata::rows_mentioning(&db, &[&bea_id, "bea@acme.test", "Bea Employee"]).await;
    assert_eq!(left, vec![("audit_log".to_string(), 1)], "{left:?}");
    let gone = http
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&bea)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status().as_u16(), 401);

    lead.close().await;
    bea_browser.close().await;
}

async fn patch(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: Value,
) -> (reqwest::StatusCode, String) {
    let answer = http
        .patch(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (answer.status(), answer.text().await.unwrap())
}
