//! Real `metron-server` processes on 127.0.0.1: the CLI, racing requests, graceful shutdown.

use super::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Adds ann@acme.test (password "ann-password") to the database `db` through the CLI.
fn add_ann(db: &str) {
    cli(
        db,
        &[
            "user",
            "add",
            "--email",
            "ann@acme.test",
            "--name",
            "Ann",
            "--password",
            "ann-password",
        ],
    );
}

/// A SQLite database `file` in `dir` holding one user, ann@acme.test (password "ann-password").
pub fn db_with_ann(dir: &tempfile::TempDir, file: &str) -> String {
    let db = dir.path().join(file).display().to_string();
    add_ann(&db);
    db
}

pub fn cli(db: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_metron-server"))
        .args(["--db", db])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn serve(db: &str) -> Server {
    serve_with(db, &[])
}

/// A server process with more `serve` options.
pub fn serve_with(db: &str, options: &[&str]) -> Server {
    let mut child = server_command()
        .args(["--db", db, "serve", "--listen", "127.0.0.1:0"])
        .args(options)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Server {
        child,
        base: format!("http://{addr}"),
    }
}

/// Signs in over HTTP; the token.
pub async fn login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let r: Value = client
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login {email}: {r}"))
        .to_string()
}

/// `POST /api/v1/intervals` with `intervals` (a JSON array); the server's answer.
pub async fn post_intervals(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    intervals: Value,
) -> Value {
    http.post(format!("{base}/api/v1/intervals"))
        .bearer_auth(token)
        .json(&json!({ "intervals": intervals }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `GET url` with a bearer token, as JSON.
pub async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> Value {
    http.get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The user's intervals on the fixture day (UTC).
async fn stored_that_day(client: &reqwest::Client, base: &str, token: &str) -> Value {
    let url = format!(
        "{base}/api/v1/intervals?from={}&to={}",
        day_start(0),
        day_start(1)
    );
    get_json(client, &url, token).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_racing_overlapping_requests_store_exactly_one_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    race(&dir.path().join("race.sqlite").display().to_string(), 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_racing_requests_to_two_server_processes_on_one_postgres_store_exactly_one() {
    race(&fresh_postgres().await, 2).await;
}

/// The server's PostgreSQL connections read pages ahead for a person's day (a bitmap heap
/// scan): `effective_io_concurrency` 200, unless the address sets it.
#[tokio::test]
async fn postgres_connections_read_ahead_unless_the_address_says_otherwise() {
    let db = fresh_postgres().await;
    let show = |url: String| async move {
        let options = metron_server::db::postgres::connect_options(&url).unwrap();
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect_with(&options)
            .await
            .unwrap();
        sqlx::query_scalar::<_, String>("SHOW effective_io_concurrency")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(show(db.clone()).await, "200");
    let sep = if db.contains('?') { '&' } else { '?' };
    let chosen = format!("{db}{sep}options=-c%20effective_io_concurrency%3D16");
    assert_eq!(show(chosen).await, "16", "the operator's choice stands");
}

/// The overlap rule holds for any insert into PostgreSQL's intervals, not only the server's
/// (the `intervals_no_overlap` trigger, migration 0021): a row sharing a second with a stored
/// interval of its person is refused with the exclusion error, one that only touches it is
/// taken, and another person's row at the same time is taken.
#[tokio::test]
async fn postgres_refuses_an_overlapping_row_whoever_inserts_it() {
    let db = fresh_postgres().await;
    add_ann(&db);
    let task: Value =
        serde_json::from_str(&cli(&db, &["task", "add", "--name", "T", "--project", "P"])).unwrap();
    let server = serve(&db);
    let client = reqwest::Client::new();
    let token = login(&client, &server.base, "ann@acme.test", "ann-password").await;
    let first = json!([interval(task["id"].as_str().unwrap(), 0, 60)]);
    let r = post_intervals(&client, &server.base, &token, first).await;
    assert_eq!(r["results"][0]["status"], "accepted", "{r}");
    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    // A copy of the stored rows, `shift` seconds later, with the id `id`, of `person`.
    let copy = |id: &str, shift: i64, person: &str| {
        sqlx::AssertSqlSafe(format!(
            "INSERT INTO intervals (started_at, ended_at, received_at, person, id, device_id,
                                    task_id, body, packed, json_bytes)
             SELECT started_at + {shift}, ended_at + {shift}, received_at, {person}, {id},
                    device_id, task_id, body, packed, json_bytes FROM intervals"
        ))
    };
    let overlapping = sqlx::query(copy("'01930000-0000-7000-8000-00000000aa01'", 30, "person"))
        .execute(&pool)
        .await
        .unwrap_err();
    let code = overlapping.as_database_error().and_then(|e| e.code());
    assert_eq!(code.as_deref(), Some("23P01"), "{overlapping}");
    let touching = sqlx::query(copy("'01930000-0000-7000-8000-00000000aa02'", 60, "person"))
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(touching.rows_affected(), 1);
    sqlx::query(
        "INSERT INTO users (id, org_id, email, name, password_hash)
         SELECT 'someone-else', org_id, 'else@acme.test', 'Else', password_hash FROM users",
    )
    .execute(&pool)
    .await
    .unwrap();
    let other = "(SELECT seq FROM users WHERE id = 'someone-else')";
    let theirs = sqlx::query(copy("gen_random_uuid()", 30, other))
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        theirs.rows_affected(),
        2,
        "a copy of each of Ann's two rows"
    );
}

/// PostgreSQL stores the requests waiting at a moment with one statement; one it refuses
/// outright (here a table constraint, standing for any row the database turns down) must fail
/// alone, not take the requests grouped with it down too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_postgres_refuses_fails_alone_and_the_rest_of_its_group_is_stored() {
    let db = fresh_postgres().await;
    add_ann(&db);
    let task: Value = serde_json::from_str(&cli(
        &db,
        &["task", "add", "--name", "Refused", "--project", "P"],
    ))
    .unwrap();
    let task = task["id"].as_str().unwrap().to_string();
    let refused_device = "01930000-0000-7000-8000-0000000000bb";
    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE intervals ADD CONSTRAINT refuse_one_device CHECK (device_id <> '{refused_device}')"
    )))
    .execute(&pool)
    .await
    .unwrap();
    let server = serve(&db);
    let client = reqwest::Client::new();
    let token = login(&client, &server.base, "ann@acme.test", "ann-password").await;
    let mut handles = Vec::new();
    for k in 0..60 {
        let mut item = interval(&task, k * 60, 60);
        let refused = k % 10 == 0;
        if refused {
            item["device_id"] = json!(refused_device);
        }
        let (client, base, token) = (client.clone(), server.base.clone(), token.clone());
        handles.push(tokio::spawn(async move {
            let response = client
                .post(format!("{base}/api/v1/intervals"))
                .bearer_auth(token)
                .json(&json!({"intervals": [item]}))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (refused, status, body)
        }));
    }
    for h in handles {
        let (refused, status, body) = h.await.unwrap();
        if refused {
            assert!(status.is_server_error(), "{status} {body}");
        } else {
            assert_eq!(status, reqwest::StatusCode::OK, "{body}");
            assert_eq!(body["results"][0]["status"], "accepted", "{body}");
        }
    }
    let stored = stored_that_day(&client, &server.base, &token).await;
    assert_eq!(stored.as_array().unwrap().len(), 54);
}

/// 50 mutually overlapping intervals of one user sent at once, spread over `instances` server
/// processes sharing the database `db`: exactly one may be stored.
async fn race(db: &str, instances: usize) {
    add_ann(db);
    let task: Value = serde_json::from_str(&cli(
        db,
        &["task", "add", "--name", "Race", "--project", "P"],
    ))
    .unwrap();
    let task = task["id"].as_str().unwrap().to_string();
    let servers: Vec<Server> = (0..instances).map(|_| serve(db)).collect();
    let server = &servers[0];
    let client = reqwest::Client::new();
    let token = login(&client, &server.base, "ann@acme.test", "ann-password").await;
    let mut handles = Vec::new();
    for k in 0..50 {
        let (client, base, token) = (
            client.clone(),
            servers[k as usize % instances].base.clone(),
            token.clone(),
        );
        // All overlap each other: same user, starts 1 s apart, 60 s long.
        let body = json!({"intervals": [interval(&task, k, 60)]});
        handles.push(tokio::spawn(async move {
            let r: Value = client
                .post(format!("{base}/api/v1/intervals"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r["results"][0].clone()
        }));
    }
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.unwrap());
    }
    let accepted: Vec<&Value> = results
        .iter()
        .filter(|r| r["status"] == "accepted")
        .collect();
    assert_eq!(accepted.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|r| r["status"] != "accepted")
            .all(|r| r["reason"] == "overlap" && r["conflicts_with"] == accepted[0]["id"]),
        "{results:?}"
    );
    let stored = stored_that_day(&client, &server.base, &token).await;
    assert_eq!(stored.as_array().unwrap().len(), 1);
}

#[cfg_attr(
    windows,
    ignore = "needs Ctrl-Break, which Wine cannot send without a console"
)]
#[tokio::test]
async fn sigterm_stops_the_server_cleanly_and_data_stays() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_with_ann(&dir, "stop.sqlite");
    let task: Value = serde_json::from_str(&cli(&db, &["task", "add", "--name", "T"])).unwrap();
    let mut server = serve(&db);
    let client = reqwest::Client::new();
    let token = login(&client, &server.base, "ann@acme.test", "ann-password").await;
    let batch: Vec<Value> = (0..300)
        .map(|k| interval(task["id"].as_str().unwrap(), k * 60, 60))
        .collect();
    let request = client
        .post(format!("{}/api/v1/intervals", server.base))
        .bearer_auth(&token)
        .json(&json!({ "intervals": batch }))
        .send();
    let (response, _) = tokio::join!(request, async {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        terminate(&server.child);
    });
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit {status:?}");
    // If the request got in before the stop, it got its whole answer; either way the data is whole.
    if let Ok(r) = response {
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["results"].as_array().unwrap().len(), 300);
    }
    let again = serve(&db);
    let stored = stored_that_day(&client, &again.base, &token).await;
    let n = stored.as_array().unwrap().len();
    assert!(
        n == 0 || n == 300,
        "a batch is stored whole or not at all, found {n}"
    );
}

#[test]
fn the_cli_refuses_a_duplicate_user_and_a_short_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.sqlite").display().to_string();
    cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "ann@acme.test",
            "--name",
            "Ann",
            "--password",
            "ann-password",
            "--admin",
        ],
    );
    let bin = env!("CARGO_BIN_EXE_metron-server");
    let dup = Command::new(bin)
        .args([
            "--db",
            &db,
            "user",
            "add",
            "--email",
            "ann@acme.test",
            "--name",
            "A",
            "--password",
            "whatever1",
        ])
        .output()
        .unwrap();
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    let short = Command::new(bin)
        .args([
            "--db",
            &db,
            "user",
            "add",
            "--email",
            "b@acme.test",
            "--name",
            "B",
            "--password",
            "x",
        ])
        .output()
        .unwrap();
    assert!(!short.status.success());
}
