//! The report page (SPEC R3) in headless Chromium, driven over W3C WebDriver by chromedriver,
//! against a real `metron-server` process on 127.0.0.1 with a SQLite file. What the page shows
//! is checked against the JSON of the report API for the same day; screenshots go to
//! `target/web-screenshots/` for a person to look at.

use super::processes::{cli, get_json, login, post_intervals, serve};
use super::*;
use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const OFFSET_MIN: i64 = 180;

/// chromedriver and the Chromium it starts, in their own process group so nothing outlives the
/// test even when it fails half-way.
pub(crate) struct Driver {
    child: Child,
    base: String,
}

impl Driver {
    pub(crate) async fn start() -> Driver {
        use std::os::unix::process::CommandExt;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("chromedriver did not start ({e}): install chromium and chromium-driver with `.ci/deps.sh test`"));
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let start = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await {
                if r.json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true)
                {
                    break;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver never became ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver { child, base }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and every Chromium process it started.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// A WebDriver session on headless Chromium: the few commands this test needs.
pub(crate) struct Browser {
    http: reqwest::Client,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub(crate) async fn open(driver: &Driver, downloads: &Path) -> Browser {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                         "--disable-dev-shm-usage", "--lang=en-US", format!("--user-data-dir={}", profile.path().display())],
                "prefs": {"download.default_directory": downloads.display().to_string(), "download.prompt_for_download": false}
            }
        }}});
        let answer: Value = http
            .post(format!("{}/session", driver.base))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {answer}"))
            .to_string();
        let browser = Browser {
            http,
            session: format!("{}/session/{id}", driver.base),
            _profile: profile,
        };
        browser
            .cdp(
                "Browser.setDownloadBehavior",
                json!({"behavior": "allow", "downloadPath": downloads.display().to_string()}),
            )
            .await;
        browser
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let v = self.answer(method, path, body).await;
        if v["error"].is_string() {
            panic!("WebDriver {path}: {v}");
        }
        v
    }

    /// WebDriver's answer (its `value`), an error included.
    async fn answer(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
            .json()
            .await
            .unwrap();
        v["value"].clone()
    }

    /// Runs `js` as [`Self::script`] does; `Err` with WebDriver's message if the script threw.
    async fn try_script(&self, js: &str) -> Result<Value, String> {
        let body = json!({"script": js, "args": []});
        let v = self
            .answer(reqwest::Method::POST, "/execute/sync", Some(body))
            .await;
        match v["error"].as_str() {
            Some("javascript error") => Err(v["message"].to_string()),
            Some(_) => panic!("WebDriver /execute/sync: {v}"),
            None => Ok(v),
        }
    }

    /// A Chrome DevTools command through chromedriver's vendor endpoint.
    pub(crate) async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({"cmd": cmd, "params": params})),
        )
        .await
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// Runs `js` (a function body; `return` gives the value) in the page.
    pub(crate) async fn script(&self, js: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
        .await
    }

    pub(crate) async fn find(&self, css: &str) -> Option<String> {
        let v = self
            .http
            .post(format!("{}/element", self.session))
            .json(&json!({"using": "css selector", "value": css}))
            .send()
            .await;
        let v: Value = v.ok()?.json().await.ok()?;
        v["value"][ELEMENT].as_str().map(str::to_string)
    }

    /// Waits until `js` returns something truthy; returns it. A script that throws counts as
    /// not yet: a wait may span a navigation (a sign-in through the provider's page comes back
    /// to this one), when the elements it reads are not there for a moment.
    pub(crate) async fn wait_for(&self, what: &str, js: &str) -> Value {
        let start = Instant::now();
        loop {
            let (v, threw) = match self.try_script(js).await {
                Ok(v) => (v, None),
                Err(message) => (Value::Null, Some(message)),
            };
            if !(v.is_null() || v == false || v == "" || v == 0) {
                return v;
            }
            let page = self
                .try_script("return document.body ? document.body.innerText.slice(0, 600) : ''")
                .await
                .unwrap_or_default();
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what} (the script last threw: {threw:?}); the page says: {page}"
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    pub(crate) async fn element(&self, css: &str) -> String {
        self.wait_for(
            css,
            &format!("return !!document.querySelector({})", json!(css)),
        )
        .await;
        self.find(css)
            .await
            .unwrap_or_else(|| panic!("no element {css}"))
    }

    pub(crate) async fn click(&self, css: &str) {
        let e = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let e = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            Some(json!({})),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// The rendered text of the first element matching `css` ("" when absent).
    pub(crate) async fn text(&self, css: &str) -> String {
        let v = self
            .script(&format!(
                "const e = document.querySelector({}); return e ? e.innerText : ''",
                json!(css)
            ))
            .await;
        v.as_str().unwrap_or_default().trim().to_string()
    }

    pub(crate) async fn visible(&self, css: &str) -> bool {
        let js = format!(
            "const e = document.querySelector({}); return !!e && e.getClientRects().length > 0",
            json!(css)
        );
        self.script(&js).await == true
    }

    /// The whole page (not just the window) as PNG, through DevTools.
    pub(crate) async fn screenshot(&self, path: &Path) {
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true}),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Messages the page logged (errors, CSP violations) since the last call.
    pub(crate) async fn console(&self) -> Vec<String> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({"type": "browser"})),
            )
            .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|m| format!("{} {}", m["level"], m["message"]))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) async fn sign_in(&self, email: &str, password: &str) {
        self.element("#signin:not([hidden]) #email").await;
        self.type_into("#email", email).await;
        self.type_into("#password", password).await;
        self.click("#signin-button").await;
        self.wait_for(
            "the signed-in page",
            "return !document.getElementById('app').hidden && document.getElementById('me-name').textContent",
        )
        .await;
    }

    pub(crate) async fn close(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

/// The page's duration format ("7 h 32 min"), to compare its text with the API's seconds.
fn duration(secs: u64) -> String {
    let (h, m) = (secs / 3600, secs % 3600 / 60);
    match (secs, h, m) {
        (s, _, _) if s < 60 => format!("{s} s"),
        (_, 0, m) => format!("{m} min"),
        (_, h, 0) => format!("{h} h"),
        (_, h, m) => format!("{h} h {m} min"),
    }
}

/// "57,312": the page writes counts the en-US way.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "09:12" of an RFC 3339 instant in the report's offset.
fn clock(rfc3339: &str, offset_min: i64) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap()
        + chrono::Duration::minutes(offset_min);
    t.naive_utc().format("%H:%M").to_string()
}

/// A small deterministic generator, so the day looks varied yet is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// An interval of `secs` seconds from local time `local` (seconds after 00:00 of the fixture
/// day at +180) with about `busy` of its seconds active, in the given window segments.
fn work(
    task: &str,
    local: i64,
    secs: i64,
    busy: f64,
    windows: &[(&str, &str, Option<&str>, i64)],
    rng: &mut Lcg,
) -> Value {
    let t0 = fixture_day()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
        - OFFSET_MIN * 60;
    let at = |t: i64| {
        chrono::DateTime::from_timestamp(t0 + t, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    // Input comes in runs of 10 s, like real work.
    let mut active = String::new();
    while (active.len() as i64) < secs {
        let on = rng.next() < busy;
        let run = 10.min(secs - active.len() as i64) as usize;
        active.push_str(&(if on { "1" } else { "0" }).repeat(run));
    }
    let ones = active.bytes().filter(|&b| b == b'1').count() as u64;
    let mut offset = 0;
    let mut segments = Vec::new();
    for (k, (app, title, url, share)) in windows.iter().enumerate() {
        let seconds = if k + 1 == windows.len() {
            secs - offset
        } else {
            secs * share / 100
        };
        if seconds <= 0 {
            continue;
        }
        segments.push(json!({"offset": offset, "seconds": seconds, "app": app, "title": title, "url": url, "path": null}));
        offset += seconds;
    }
    json!({
        "id": uuid::Uuid::now_v7().to_string(),
        "device_id": LAPTOP,
        "task_id": task,
        "started_at": at(local),
        "ended_at": at(local + secs),
        "utc_offset_minutes": OFFSET_MIN,
        "end_reason": "boundary",
        "active": active,
        "counts": {"keys": ones * 3, "clicks": ones / 6, "scrolls": ones / 9, "moves": ones * 4},
        "windows": segments
    })
}

/// A working day of Ann's at UTC+3: a morning and an afternoon of 10-minute intervals with a
/// lunch break, an evening interval that runs past local midnight (only its first 5 minutes are
/// the fixture day's), and one early on the next day local that is still the fixture day in
/// UTC and must not show. Returns the intervals and how many of them fall in the local day of
/// the fixture day.
fn annes_day(write: &str, support: &str) -> (Vec<Value>, usize) {
    let mut rng = Lcg(7);
    let code = ("Code", "report.rs — metron", None, 0);
    let docs = (
        "Firefox",
        "std - Rust",
        Some("https://doc.rust-lang.org/std/index.html"),
        0,
    );
    let youtube = (
        "Firefox",
        "Funny cats - YouTube",
        Some("https://www.youtube.com/watch?v=x"),
        0,
    );
    let slack = ("Slack", "#support", None, 0);
    let h = |hours: i64, minutes: i64| hours * 3600 + minutes * 60;
    let mut intervals = Vec::new();
    let busy = [
        0.92, 0.85, 0.7, 0.95, 0.55, 0.8, 0.35, 0.9, 0.75, 0.6, 0.15, 0.88,
    ];
    let mut slot = |start: i64, task: &str, k: usize, rng: &mut Lcg| {
        let windows: Vec<(&str, &str, Option<&str>, i64)> = match k % 5 {
            0 | 3 => vec![(code.0, code.1, code.2, 70), (docs.0, docs.1, docs.2, 30)],
            1 => vec![
                (code.0, code.1, code.2, 55),
                (slack.0, slack.1, slack.2, 25),
                (docs.0, docs.1, docs.2, 20),
            ],
            2 => vec![
                (slack.0, slack.1, slack.2, 60),
                (code.0, code.1, code.2, 40),
            ],
            _ => vec![
                (code.0, code.1, code.2, 50),
                (youtube.0, youtube.1, youtube.2, 50),
            ],
        };
        intervals.push(work(task, start, 600, busy[k % busy.len()], &windows, rng));
    };
    // 08:57-12:37 with a coffee break at 10:37-10:52, then 13:20-17:40.
    let mut k = 0;
    for start in (0..22)
        .map(|i| h(8, 57) + i * 600)
        .filter(|&s| !(h(10, 37)..h(10, 52)).contains(&s))
    {
        slot(start, if k % 4 == 2 { support } else { write }, k, &mut rng);
        k += 1;
    }
    for start in (0..26).map(|i| h(13, 20) + i * 600) {
        slot(
            start,
            if (8..14).contains(&k) { support } else { write },
            k,
            &mut rng,
        );
        k += 1;
    }
    // 23:55 local on the fixture day to 00:05 on the next: cut at midnight.
    intervals.push(work(
        support,
        h(23, 55),
        600,
        0.5,
        &[(slack.0, slack.1, slack.2, 100)],
        &mut rng,
    ));
    let in_day = intervals.len();
    // 00:10-00:20 local on the next day = 21:10-21:20 UTC on the fixture day.
    intervals.push(work(
        support,
        h(24, 10),
        600,
        0.5,
        &[(slack.0, slack.1, slack.2, 100)],
        &mut rng,
    ));
    (intervals, in_day)
}

/// Ann's laptop, which recorded her intervals, and a desktop she has but did not use.
const LAPTOP: &str = "01930000-0000-7000-8000-00000000d0a1";
const DESKTOP: &str = "01930000-0000-7000-8000-00000000d0a2";

pub(crate) fn screenshots_dir() -> PathBuf {
    // CARGO_MANIFEST_DIR is crates/metron-server; the workspace's target/ is two levels up.
    super::manifest_dir().join("../../target/web-screenshots")
}

#[tokio::test]
async fn the_report_page_shows_the_day_the_api_computes_and_only_what_each_person_may_see() {
    let test_day = fixture_date(0);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("web.sqlite").display().to_string();
    let admin: Value = serde_json::from_str(&cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "maria@acme.test",
            "--name",
            "Maria Manager",
            "--password",
            "maria-password",
            "--admin",
        ],
    ))
    .unwrap();
    let ann: Value = serde_json::from_str(&cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "ann@acme.test",
            "--name",
            "Ann Employee",
            "--password",
            "ann-password",
        ],
    ))
    .unwrap();
    let write: Value = serde_json::from_str(&cli(
        &db,
        &["task", "add", "--name", "Write report", "--project", "Q4"],
    ))
    .unwrap();
    let support: Value =
        serde_json::from_str(&cli(&db, &["task", "add", "--name", "Customer support"])).unwrap();
    let (admin_id, ann_id) = (admin["id"].as_str().unwrap(), ann["id"].as_str().unwrap());
    let server = serve(&db);
    let base = server.base.clone();
    let http = reqwest::Client::new();

    // The page and its files come with their types and a CSP that forbids inline code.
    for (path, kind) in [
        ("/", "text/html"),
        ("/app.js", "text/javascript"),
        ("/style.css", "text/css"),
    ] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
    }

    // Rules, so the day has all three classes; then Ann's day through the API.
    let admin_token = login(&http, &base, "maria@acme.test", "maria-password").await;
    for rule in [
        json!({"target": "app", "kind": "glob", "pattern": "code*", "class": "productive"}),
        json!({"target": "host", "kind": "regex", "pattern": r"(www\.)?youtube\.com", "class": "unproductive"}),
    ] {
        let r = http
            .post(format!("{base}/api/v1/rules"))
            .bearer_auth(&admin_token)
            .json(&rule)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let ann_token = login(&http, &base, "ann@acme.test", "ann-password").await;
    let (intervals, in_day) = annes_day(
        write["id"].as_str().unwrap(),
        support["id"].as_str().unwrap(),
    );
    let answer = post_intervals(&http, &base, &ann_token, json!(intervals)).await;
    assert!(
        answer["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "accepted"),
        "{answer}"
    );
    let report = get_json(
        &http,
        &format!("{base}/api/v1/reports/daily?date={test_day}&user_id={ann_id}"),
        &admin_token,
    )
    .await;
    assert_eq!(report["utc_offset_minutes"], OFFSET_MIN, "{report}");
    let timeline = report["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), in_day);
    assert!(
        report["productive_secs"].as_u64().unwrap() > 0
            && report["unproductive_secs"].as_u64().unwrap() > 0
    );

    // Ann's laptop (the intervals' device) reports itself, and so does a desktop she did not
    // use that day.
    for (device, host) in [(LAPTOP, "ann-laptop"), (DESKTOP, "ann-desktop")] {
        let r = http
            .put(format!("{base}/api/v1/devices/{device}"))
            .bearer_auth(&ann_token)
            .json(
                &json!({"host_name": host, "os_user": "ann", "domain": "acme.local",
                "os_name": "Debian GNU/Linux 12 (bookworm)", "os_version": "6.1.0-28-amd64",
                "time_zone": "Europe/Istanbul", "utc_offset_minutes": 180, "app_version": "0.2.0"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }

    let driver = Driver::start().await;
    let downloads = tempfile::tempdir().unwrap();
    let browser = Browser::open(&driver, downloads.path()).await;
    let shots = screenshots_dir();
    browser.goto(&format!("{base}/")).await;
    browser.sign_in("maria@acme.test", "maria-password").await;
    assert_eq!(browser.text("#me-name").await, "Maria Manager");

    // Maria picks the test day in the day picker; the team table lists both, Ann with her
    // figures.
    browser
        .script(&format!("const d = document.getElementById('date'); d.value = '{test_day}'; d.dispatchEvent(new Event('change')); return true"))
        .await;
    let ann_row = format!("#team-table tbody tr[data-user-id='{ann_id}']");
    // The table is first drawn for today (Ann's row with dashes): wait for the test day's.
    browser
        .wait_for(
            "the team's test day",
            &format!(
                "const td = document.querySelector(\"{ann_row} td.tracked\"); return td && td.textContent === '{}'",
                duration(report["tracked_secs"].as_u64().unwrap())
            ),
        )
        .await;
    assert!(
        browser
            .visible(&format!("#team-table tbody tr[data-user-id='{admin_id}']"))
            .await
    );
    assert_eq!(
        browser.text(&format!("{ann_row} td.tracked")).await,
        duration(report["tracked_secs"].as_u64().unwrap())
    );
    assert_eq!(
        browser.text(&format!("{ann_row} td.activity")).await,
        format!("{} %", report["activity_pct"])
    );
    assert_eq!(
        browser.text(&format!("{ann_row} td.devices-cell")).await,
        "ann-laptop",
        "the device Ann tracked on, by its reported name"
    );
    browser
        .wait_for(
            "Maria's own (empty) day",
            "return !document.getElementById('empty').hidden",
        )
        .await;
    assert_eq!(browser.text("#empty").await, "Nothing tracked on this day.");
    browser.screenshot(&shots.join("admin-team.png")).await;

    // A click on Ann's row opens her day: the figures are the API's.
    browser.click(&ann_row).await;
    browser
        .wait_for(
            "Ann's day",
            "return document.getElementById('day-title').textContent.startsWith('Ann Employee')",
        )
        .await;
    browser
        .wait_for(
            "the figures",
            "return !document.getElementById('day-body').hidden",
        )
        .await;
    assert!(browser
        .script("return location.hash")
        .await
        .as_str()
        .unwrap()
        .contains(ann_id));
    assert_eq!(
        browser.text("#fig-tracked .value").await,
        duration(report["tracked_secs"].as_u64().unwrap())
    );
    assert_eq!(
        browser.text("#fig-active .value").await,
        duration(report["active_secs"].as_u64().unwrap())
    );
    assert_eq!(
        browser.text("#fig-idle .value").await,
        duration(report["idle_secs"].as_u64().unwrap())
    );
    assert_eq!(
        browser.text("#fig-away .value").await,
        duration(report["away_secs"].as_u64().unwrap())
    );
    assert_eq!(
        browser.text("#fig-activity .value").await,
        format!("{} %", report["activity_pct"])
    );
    let (first, last) = (
        report["first_activity"].as_str().unwrap(),
        report["last_activity"].as_str().unwrap(),
    );
    assert_eq!(
        browser.text("#fig-span .value").await,
        format!("{} – {}", clock(first, OFFSET_MIN), clock(last, OFFSET_MIN))
    );
    // Her devices: the laptop with the day's tracked time, the desktop as not used.
    let laptop_row = format!("#devices tr[data-device-id='{LAPTOP}']");
    assert_eq!(
        browser.text(&format!("{laptop_row} .name")).await,
        "ann-laptop"
    );
    assert_eq!(
        browser.text(&format!("{laptop_row} .device-detail")).await,
        "ann @ acme.local · Debian GNU/Linux 12 (bookworm) (6.1.0-28-amd64) · Europe/Istanbul"
    );
    assert_eq!(
        browser.text(&format!("{laptop_row} td.num")).await,
        duration(report["tracked_secs"].as_u64().unwrap())
    );
    let desktop_row = format!("#devices tr[data-device-id='{DESKTOP}']");
    assert_eq!(
        browser.text(&format!("{desktop_row} .name")).await,
        "ann-desktop"
    );
    assert!(browser
        .text(&format!("{desktop_row} td.num"))
        .await
        .starts_with("not used · last seen "));
    // The offset is the report's, not the browser's: Ann started at 08:57 and ended at midnight.
    assert_eq!(clock(first, OFFSET_MIN), "08:57");
    assert_eq!(clock(last, OFFSET_MIN), "00:00");
    let tracked = report["tracked_secs"].as_u64().unwrap();
    for class in ["productive", "neutral", "unproductive"] {
        let secs = report[format!("{class}_secs")].as_u64().unwrap();
        let legend = browser
            .text(&format!("#class-legend li[data-class='{class}']"))
            .await;
        let share = (200 * secs + tracked) / (2 * tracked);
        assert!(
            legend.contains(&duration(secs)) && legend.contains(&format!("{share} %")),
            "{class}: {legend}"
        );
    }

    // One timeline block per interval of the day, each with its time, task and activity.
    let blocks = browser
        .script("return [...document.querySelectorAll('#timeline .block')].map(b => b.title)")
        .await;
    let blocks = blocks.as_array().unwrap();
    assert_eq!(blocks.len(), timeline.len());
    let e = &timeline[0];
    let expected = format!(
        "{}–{} · {} · {} %",
        clock(e["started_at"].as_str().unwrap(), OFFSET_MIN),
        clock(e["ended_at"].as_str().unwrap(), OFFSET_MIN),
        report["task_names"][e["task_id"].as_str().unwrap()]
            .as_str()
            .unwrap(),
        e["activity_pct"]
    );
    assert!(
        blocks[0].as_str().unwrap().starts_with(&expected),
        "{} vs {expected}",
        blocks[0]
    );
    assert!(
        blocks
            .last()
            .unwrap()
            .as_str()
            .unwrap()
            .starts_with("23:55–00:00 · Customer support"),
        "{}",
        blocks.last().unwrap()
    );
    let bars = browser
        .script("return document.querySelectorAll('#activity .hour').length")
        .await;
    assert_eq!(bars, 16, "one bar per hour 08:00-24:00");

    // Apps, hosts and tasks in the API's order, with the rules' classes.
    assert_eq!(report["apps"][0]["app"], "Code");
    assert_eq!(
        browser.text("#apps tbody tr:first-child td.name").await,
        "Code"
    );
    assert_eq!(
        browser.text("#apps tbody tr:first-child .badge").await,
        "productive"
    );
    assert_eq!(
        browser.text("#apps tbody tr:first-child td.num").await,
        duration(report["apps"][0]["tracked_secs"].as_u64().unwrap())
    );
    assert_eq!(
        browser.text("#hosts tbody tr:first-child td.name").await,
        report["hosts"][0]["host"].as_str().unwrap()
    );
    let youtube_badge = browser
        .script("return [...document.querySelectorAll('#hosts tbody tr')].find(r => r.innerText.includes('www.youtube.com')).querySelector('.badge').textContent")
        .await;
    assert_eq!(youtube_badge, "unproductive");
    assert_eq!(
        browser.text("#tasks tbody tr:first-child td.name").await,
        "Write report"
    );
    assert_eq!(
        browser.text("#counts [data-key='keys'] dd").await,
        thousands(report["counts"]["keys"].as_u64().unwrap())
    );
    assert_eq!(
        browser.text("#counts [data-key='injected'] dd").await,
        "not measured",
        "these intervals did not tell devices from programs"
    );
    // The unusual-activity card lists the API's flags (issue 15), in its order.
    let flags: Vec<Value> = report["unusual"]["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].clone())
        .collect();
    assert_eq!(
        browser
            .script("return [...document.querySelectorAll('#unusual-flags > .flag')].map(f => f.dataset.kind)")
            .await,
        json!(flags)
    );
    assert!(browser
        .text("#unusual-summary")
        .await
        .ends_with("injected input not measured on this desktop"));
    browser.screenshot(&shots.join("employee-day.png")).await;

    // Export CSV: the button saves what the endpoint answers, one row per timeline entry.
    let csv = http
        .get(format!(
            "{base}/api/v1/reports/daily.csv?date={test_day}&user_id={ann_id}"
        ))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), timeline.len() + 1, "{csv}");
    browser.click("#export-csv").await;
    let saved = downloads
        .path()
        .join(format!("metron-ann@acme.test-{test_day}.csv"));
    let start = Instant::now();
    while !saved.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no download in {:?}",
            std::fs::read_dir(downloads.path())
                .unwrap()
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), csv);

    // The same day in dark mode.
    browser
        .cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
        )
        .await;
    let background = browser
        .script("return getComputedStyle(document.body).backgroundColor")
        .await;
    assert_ne!(background, "rgb(244, 245, 248)", "the dark theme applies");
    browser
        .screenshot(&shots.join("employee-day-dark.png"))
        .await;
    browser
        .cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": "light"}]}),
        )
        .await;

    // A day tracked on Wayland: activity known, input not counted. The page says so instead
    // of showing 0 key presses.
    let wayland_day = fixture_date(2);
    let mut wayland = work(
        write["id"].as_str().unwrap(),
        2 * 86400 + 10 * 3600,
        600,
        0.8,
        &[("org.gnome.TextEditor", "notes.txt", None, 100)],
        &mut Lcg(11),
    );
    wayland["counts"] = json!({"keys": 0, "clicks": 0, "scrolls": 0, "moves": 0});
    wayland["counts_measured"] = json!(false);
    let answer = post_intervals(&http, &base, &ann_token, json!([wayland])).await;
    assert_eq!(answer["results"][0]["status"], "accepted", "{answer}");
    browser
        .script(&format!("const d = document.getElementById('date'); d.value = '{wayland_day}'; d.dispatchEvent(new Event('change')); return true"))
        .await;
    browser
        .wait_for(
            "the Wayland day's counts",
            "const dd = document.querySelector(\"#counts [data-key='keys'] dd\"); return dd && dd.textContent === 'not measured'",
        )
        .await;
    assert!(browser
        .text("#counts")
        .await
        .contains("reports activity, not counts"));
    browser
        .screenshot(&shots.join("employee-day-wayland.png"))
        .await;

    // A day on a desktop that tells devices from programs (issue 15): the second half of
    // each active stretch injected, as a jiggler would. The page gives the injected time.
    let injected_day = fixture_date(3);
    let mut told = work(
        write["id"].as_str().unwrap(),
        3 * 86400 + 10 * 3600,
        600,
        0.8,
        &[("code", "main.rs", None, 100)],
        &mut Lcg(12),
    );
    let active = told["active"].as_str().unwrap().to_string();
    let injected: String = active
        .chars()
        .enumerate()
        .map(|(i, c)| if i >= active.len() / 2 { c } else { '0' })
        .collect();
    let injected_secs = injected.matches('1').count() as u64;
    assert!(injected_secs > 0);
    told["injected"] = json!(injected);
    told["injected_counts"] = json!({"keys": 0, "clicks": 0, "scrolls": 0, "moves": 0});
    // And a call without input in the first half: its idle seconds were passive.
    let passive: String = active
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i < active.len() / 2 && c == '0' {
                '1'
            } else {
                '0'
            }
        })
        .collect();
    let passive_secs = passive.matches('1').count() as u64;
    assert!(passive_secs > 0);
    told["passive"] = json!(passive);
    // Who held the inhibitor (issue 27): the first runs of passive seconds a meeting app, the
    // next a program keeping the screen awake; runs past the 32 stretches an interval may
    // carry name nobody.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, c) in passive.chars().enumerate() {
        match (c, runs.last_mut()) {
            ('1', Some(run)) if run.0 + run.1 == i => run.1 += 1,
            ('1', _) => runs.push((i, 1)),
            _ => {}
        }
    }
    let presence: Vec<Value> = runs
        .iter()
        .take(32)
        .enumerate()
        .map(|(n, (offset, seconds))| {
            let held_by = if n < runs.len().min(32) / 2 {
                "org.example.Meeting (zoom)"
            } else {
                "keepawake (python3)"
            };
            json!({"offset": offset, "seconds": seconds, "held_by": held_by})
        })
        .collect();
    told["presence"] = json!(presence);
    let answer = post_intervals(&http, &base, &ann_token, json!([told])).await;
    assert_eq!(answer["results"][0]["status"], "accepted", "{answer}");
    browser
        .script(&format!("const d = document.getElementById('date'); d.value = '{injected_day}'; d.dispatchEvent(new Event('change')); return true"))
        .await;
    let expected = duration(injected_secs);
    browser
        .wait_for(
            "the injected time",
            &format!("const dd = document.querySelector(\"#counts [data-key='injected'] dd\"); return dd && dd.textContent === '{expected}'"),
        )
        .await;
    assert!(browser
        .text("#counts [data-key='injected']")
        .await
        .contains("% of active time, from programs"));
    assert_eq!(
        browser.text("#fig-passive").await,
        format!("+ {} passive (calls, video)", duration(passive_secs))
    );
    let day = get_json(
        &http,
        &format!("{base}/api/v1/reports/daily?date={injected_day}"),
        &ann_token,
    )
    .await;
    assert_eq!(day["passive_secs"], passive_secs);
    let holders: Vec<String> = day["presence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let name = p["held_by"].as_str().unwrap();
            let name = if name.is_empty() { "not named" } else { name };
            format!("{name} {}", duration(p["passive_secs"].as_u64().unwrap()))
        })
        .collect();
    assert!(holders.len() >= 2, "{day}");
    assert_eq!(
        browser.text("#fig-presence").await,
        format!("held by {}", holders.join(" · "))
    );
    assert_eq!(
        browser.text("#fig-idle .value").await,
        duration(day["idle_secs"].as_u64().unwrap())
    );
    // The injected input is flagged, with the share and the stretch it happened in.
    let unusual = &day["unusual"];
    assert_eq!(unusual["flags"].as_array().unwrap().len(), 1, "{unusual}");
    assert_eq!(unusual["flags"][0]["kind"], "injected_input");
    assert_eq!(
        browser.text("#unusual-summary").await,
        format!(
            "1 pattern found · {} % of active time had injected input",
            unusual["injected_pct"]
        )
    );
    let stretch = browser
        .text("#unusual-flags .flag[data-kind='injected_input'] .flag-spans li:first-child")
        .await;
    let injected_evidence = format!(
        "{} injected",
        duration(
            unusual["flags"][0]["spans"][0]["injected_secs"]
                .as_u64()
                .unwrap()
        )
    );
    assert!(
        stretch.starts_with("10:") && stretch.contains(&injected_evidence),
        "{stretch}"
    );
    browser
        .screenshot(&shots.join("employee-day-injected.png"))
        .await;
    // The team table of that day gives Ann's share with the flag.
    browser
        .wait_for(
            "Ann's flag in the team table",
            &format!(
                "const td = document.querySelector(\"{ann_row} td.unusual-cell\"); return td && td.textContent === 'Injected {} %'",
                unusual["injected_pct"]
            ),
        )
        .await;

    // Ann signs in: her own day, no team table, and Maria's day is refused with the API's reason.
    browser.click("#signout").await;
    browser.sign_in("ann@acme.test", "ann-password").await;
    assert_eq!(browser.text("#me-name").await, "Ann Employee");
    browser.goto(&format!("{base}/#date={test_day}")).await;
    browser
        .wait_for(
            "Ann's own day",
            "return document.getElementById('day-title').textContent.startsWith('My day')",
        )
        .await;
    browser
        .wait_for(
            "her figures",
            "return !document.getElementById('day-body').hidden",
        )
        .await;
    assert_eq!(browser.text("#fig-tracked .value").await, duration(tracked));
    assert!(!browser.visible("#team").await && !browser.visible("#person-picker").await);
    browser
        .screenshot(&shots.join("employee-own-day.png"))
        .await;

    // The next day in local time holds the rest of the midnight interval and the 00:10 one,
    // though that one is still the test day in UTC.
    let next = get_json(
        &http,
        &format!("{base}/api/v1/reports/daily?date={}", fixture_date(1)),
        &ann_token,
    )
    .await;
    browser.click("#next-day").await;
    // The page's long date: "24 November 2026".
    let next_title = (fixture_day() + chrono::Days::new(1))
        .format("%-d %B %Y")
        .to_string();
    browser
        .wait_for(
            "the next day",
            &format!(
                "return document.getElementById('day-title').textContent.includes('{next_title}')"
            ),
        )
        .await;
    browser
        .wait_for(
            "its figures",
            "return !document.getElementById('day-body').hidden",
        )
        .await;
    assert_eq!(
        browser.text("#fig-tracked .value").await,
        duration(next["tracked_secs"].as_u64().unwrap())
    );
    assert_eq!(browser.text("#fig-span .value").await, "00:00 – 00:20");
    assert_eq!(
        browser
            .script("return document.querySelectorAll('#timeline .block').length")
            .await,
        2
    );
    let refused = http
        .get(format!(
            "{base}/api/v1/reports/daily?date={test_day}&user_id={admin_id}"
        ))
        .bearer_auth(&ann_token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let reason = refused.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_string();
    browser
        .goto(&format!("{base}/#date={test_day}&user={admin_id}"))
        .await;
    let banner = browser
        .wait_for(
            "the refusal",
            "const e = document.getElementById('error'); return !e.hidden && e.textContent",
        )
        .await;
    let banner = banner.as_str().unwrap();
    assert!(
        banner.contains(&reason) && banner.contains("403"),
        "{banner}"
    );
    assert!(!browser.visible("#day-body").await && !browser.visible("#team").await);
    browser
        .screenshot(&shots.join("employee-forbidden.png"))
        .await;

    let console = browser.console().await;
    assert!(
        !console
            .iter()
            .any(|m| m.contains("Content Security Policy") || m.contains("Uncaught")),
        "{console:#?}"
    );
    browser.close().await;
}

/// Issue 16 on the page: a person adds time they didn't track with the timesheet's form (it
/// waits for approval), their manager approves it from the approvals card and then the week;
/// the figures the page shows are the API's.
#[tokio::test]
async fn manual_time_is_added_approved_and_the_week_signed_off_on_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sheet.sqlite").display().to_string();
    let add_user = |email: &str, name: &str, password: &str, admin: bool| {
        let mut args = vec![
            "user",
            "add",
            "--email",
            email,
            "--name",
            name,
            "--password",
            password,
        ];
        if admin {
            args.push("--admin");
        }
        serde_json::from_str::<Value>(&cli(&db, &args)).unwrap()
    };
    add_user("maria@acme.test", "Maria Manager", "maria-password", true);
    let ann = add_user("ann@acme.test", "Ann Employee", "ann-password", false);
    let ann_id = ann["id"].as_str().unwrap();
    let write: Value =
        serde_json::from_str(&cli(&db, &["task", "add", "--name", "Write report"])).unwrap();
    let meetings: Value =
        serde_json::from_str(&cli(&db, &["task", "add", "--name", "Meetings"])).unwrap();
    let server = serve(&db);
    let base = server.base.clone();
    let http = reqwest::Client::new();

    // Two days ago, in Ann's UTC+3: half an hour of work from 09:00 local (06:00 UTC), inside
    // the default 7-day window whatever day the test runs.
    let day = (chrono::Utc::now() - chrono::Duration::days(2)).date_naive();
    let start = day.and_hms_opt(6, 0, 0).unwrap().and_utc();
    let intervals: Vec<Value> = (0..30)
        .map(|k| {
            let from = start + chrono::Duration::minutes(k);
            let at = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            json!({
                "id": uuid::Uuid::now_v7().to_string(),
                "device_id": LAPTOP,
                "task_id": write["id"],
                "started_at": at(from),
                "ended_at": at(from + chrono::Duration::seconds(60)),
                // Her first ten minutes were stamped an hour behind (she had just landed, say):
                // the week lists the change, and its figures stay the same.
                "utc_offset_minutes": if k < 10 { OFFSET_MIN - 60 } else { OFFSET_MIN },
                "end_reason": "boundary",
                "active": "1".repeat(45) + &"0".repeat(15),
                "counts": {"keys": 30, "clicks": 2, "scrolls": 0, "moves": 40},
                "windows": [{"offset": 0, "seconds": 60, "app": "code", "title": "report.md", "url": null, "path": null}]
            })
        })
        .collect();
    let ann_token = login(&http, &base, "ann@acme.test", "ann-password").await;
    let answer = post_intervals(&http, &base, &ann_token, json!(intervals)).await;
    assert!(
        answer["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "accepted"),
        "{answer}"
    );

    let driver = Driver::start().await;
    let downloads = tempfile::tempdir().unwrap();
    let browser = Browser::open(&driver, downloads.path()).await;
    let shots = screenshots_dir();
    std::fs::create_dir_all(&shots).unwrap();
    browser.goto(&format!("{base}/#date={day}")).await;
    browser.sign_in("ann@acme.test", "ann-password").await;
    let row = format!("#sheet-table tbody tr[data-date='{day}']");
    browser
        .wait_for("the week", &format!("const r = document.querySelector(\"{row}\"); return r && r.textContent.includes('30 min')"))
        .await;
    assert_eq!(browser.text("#sheet-state").await, "Open");
    assert!(browser.visible("#sheet-submit").await && !browser.visible("#sheet-approve").await);
    // The change of offset, in the timesheet and in the day, at 09:10 in the new offset.
    let zones = browser.text("#sheet-zones").await;
    assert!(
        zones.contains("Time zone changed: UTC+02:00 → UTC+03:00") && zones.contains("09:10"),
        "{zones}"
    );
    browser.goto(&format!("{base}/#date={day}")).await;
    browser
        .wait_for(
            "the day's zone change",
            "return document.getElementById('day-zones').textContent.includes('UTC+02:00 → UTC+03:00')",
        )
        .await;
    assert!(
        !browser.visible("#team-sheet").await,
        "Ann reviews nobody: no team timesheet"
    );

    // The form: 11:00-12:30 her time, a client workshop on Meetings.
    browser.click("#add-time summary").await;
    browser
        .script(&format!(
            "document.getElementById('add-task').value = {}; document.getElementById('add-date').value = '{day}';
             document.getElementById('add-from').value = '11:00'; document.getElementById('add-to').value = '12:30'; return true",
            json!(meetings["id"])
        ))
        .await;
    browser.type_into("#add-note", "Client workshop").await;
    browser.click("#add-submit").await;
    let said = browser
        .wait_for(
            "the answer to Add",
            "return document.getElementById('add-time-result').textContent",
        )
        .await;
    assert_eq!(said, "Added: waiting for your manager's approval.");
    let entries = get_json(
        &http,
        &format!(
            "{base}/api/v1/manual-entries?from={}&to={}",
            (start - chrono::Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            (start + chrono::Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        &ann_token,
    )
    .await;
    let entry = &entries[0];
    assert_eq!(
        (
            entry["status"].as_str(),
            entry["started_at"].as_str(),
            entry["ended_at"].as_str(),
            entry["note"].as_str()
        ),
        (
            Some("pending"),
            Some(format!("{day}T08:00:00Z").as_str()),
            Some(format!("{day}T09:30:00Z").as_str()),
            Some("Client workshop")
        ),
        "11:00-12:30 at UTC+3"
    );
    browser
        .screenshot(&shots.join("employee-timesheet.png"))
        .await;

    // The manager: the entry waits in the approvals card; approved, it joins the week.
    browser.click("#signout").await;
    browser.sign_in("maria@acme.test", "maria-password").await;
    browser
        .goto(&format!("{base}/#date={day}&user={ann_id}"))
        .await;
    let item = browser
        .wait_for("the approvals", "const l = document.querySelector('#approvals:not([hidden]) .approval'); return l && l.textContent")
        .await;
    let item = item.as_str().unwrap();
    assert!(
        item.contains("Ann Employee")
            && item.contains("Meetings")
            && item.contains("11:00–12:30")
            && item.contains("Client workshop"),
        "{item}"
    );
    browser
        .screenshot(&shots.join("manager-approvals.png"))
        .await;
    browser
        .click("#approvals-list .approval button.primary")
        .await;
    browser
        .wait_for("the approved entry in the week", &format!(
            "const r = document.querySelector(\"{row}\"); return document.getElementById('approvals').hidden && r && r.querySelector('.manual').textContent === '1 h 30 min' && r.querySelector('.total').textContent === '2 h'"
        ))
        .await;
    let sheet = get_json(
        &http,
        &format!("{base}/api/v1/timesheets?period=week&date={day}&user_id={ann_id}"),
        &login(&http, &base, "maria@acme.test", "maria-password").await,
    )
    .await;
    let figures = &sheet["timesheet"];
    assert_eq!(
        (
            figures["tracked_secs"].as_u64(),
            figures["manual_secs"].as_u64(),
            figures["activity_pct"].as_u64()
        ),
        (Some(1800), Some(5400), Some(75))
    );
    let foot = browser.text("#sheet-table tfoot").await;
    assert!(
        foot.contains("30 min")
            && foot.contains("1 h 30 min")
            && foot.contains("2 h")
            && foot.contains("75 %"),
        "{foot}"
    );
    // Her week, approved and locked.
    browser.click("#sheet-approve").await;
    browser
        .wait_for(
            "the approved week",
            "return document.getElementById('sheet-state').textContent.startsWith('Approved')",
        )
        .await;
    assert!(browser.visible("#sheet-unlock").await && !browser.visible("#sheet-approve").await);
    browser
        .screenshot(&shots.join("manager-timesheet.png"))
        .await;
    // Her week in the team's: Maria (an admin) reads everyone, a bar per day.
    let team_row = browser
        .wait_for(
            "Ann's approved week in the team timesheet",
            "const r = [...document.querySelectorAll('#team-sheet:not([hidden]) tbody tr')].find((r) => r.textContent.includes('Ann Employee'));
             return r && r.textContent.includes('Approved') && r.textContent",
        )
        .await;
    let team_row = team_row.as_str().unwrap();
    assert!(
        team_row.contains("30 min")
            && team_row.contains("1 h 30 min")
            && team_row.contains("2 h")
            && team_row.contains("75 %"),
        "{team_row}"
    );
    assert_eq!(
        browser
            .script("return document.querySelectorAll('#team-sheet tbody tr')[0].querySelectorAll('.day-bar').length")
            .await,
        json!(7)
    );
    // The month: a bar per day of it, and the CSV of the team.
    browser.click("#team-sheet-month").await;
    browser
        .wait_for(
            "the team's month",
            "const r = document.querySelector('#team-sheet tbody tr'); return r && r.querySelectorAll('.day-bar').length >= 28",
        )
        .await;
    browser
        .screenshot(&shots.join("manager-team-timesheet.png"))
        .await;

    // Ten minutes she tracked that morning arrive late, into the approved week: stored, and
    // the week says it changed, with both totals, until Maria approves it again.
    let late: Vec<Value> = (0..10)
        .map(|k| {
            let from = start - chrono::Duration::hours(1) + chrono::Duration::minutes(k);
            let at = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            json!({
                "id": uuid::Uuid::now_v7().to_string(), "device_id": LAPTOP, "task_id": write["id"],
                "started_at": at(from), "ended_at": at(from + chrono::Duration::seconds(60)),
                "utc_offset_minutes": OFFSET_MIN, "end_reason": "boundary",
                "active": "1".repeat(60), "counts": {"keys": 30, "clicks": 2, "scrolls": 0, "moves": 40},
                "windows": [{"offset": 0, "seconds": 60, "app": "code", "title": "report.md", "url": null, "path": null}]
            })
        })
        .collect();
    let answer = post_intervals(&http, &base, &ann_token, json!(late)).await;
    assert!(
        answer["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "accepted"),
        "{answer}"
    );
    browser.click("#team-sheet-week").await;
    browser
        .goto(&format!(
            "{base}/#date={day}&user={ann_id}&period=week&reload=1"
        ))
        .await;
    let said = browser
        .wait_for(
            "the changed week",
            "const c = document.getElementById('sheet-changed'); return c && !c.hidden && c.textContent",
        )
        .await;
    assert_eq!(
        said,
        json!("Changed since approval: 2 h then, 2 h 10 min now")
    );
    assert_eq!(browser.text("#sheet-approve").await, "Approve again");
    browser
        .screenshot(&shots.join("manager-timesheet-changed.png"))
        .await;
    browser.click("#sheet-approve").await;
    browser
        .wait_for(
            "the week approved again",
            "return document.getElementById('sheet-changed').hidden && document.getElementById('sheet-approve').hidden",
        )
        .await;

    // Max manages Ann but is no admin: her day's figures, and no title or address (the
    // organization doesn't share them with managers), said in those cards.
    add_user("max@acme.test", "Max Manager", "max-password", false);
    let max_id = get_json(
        &http,
        &format!("{base}/api/v1/me"),
        &login(&http, &base, "max@acme.test", "max-password").await,
    )
    .await["id"]
        .clone();
    let maria_token = login(&http, &base, "maria@acme.test", "maria-password").await;
    let answer = http
        .put(format!(
            "{base}/api/v1/users/{}/managed",
            max_id.as_str().unwrap()
        ))
        .bearer_auth(&maria_token)
        .json(&json!({"users": [ann_id]}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{:?}", answer.status());
    browser.click("#signout").await;
    browser.sign_in("max@acme.test", "max-password").await;
    browser
        .goto(&format!("{base}/#date={day}&user={ann_id}"))
        .await;
    let titles = browser
        .wait_for(
            "Ann's day without titles",
            "const t = document.getElementById('titles'); return t && t.textContent.includes('admins only') && document.getElementById('fig-tracked').textContent.includes('40 min') && t.textContent",
        )
        .await;
    assert!(!titles.as_str().unwrap().contains("report.md"), "{titles}");
    browser
        .screenshot(&shots.join("manager-day-without-detail.png"))
        .await;
    let console = browser.console().await;
    assert!(
        !console
            .iter()
            .any(|m| m.contains("Content Security Policy") || m.contains("Uncaught")),
        "{console:#?}"
    );
    browser.close().await;
}

/// The settings page (issue 28): an admin opens it from the navigation, renames the
/// organization and previews a rule over the last days' time before adding it, in English and
/// Russian, light and dark.
#[tokio::test]
async fn an_admin_changes_the_organization_and_previews_a_rule_on_the_settings_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("settings.sqlite").display().to_string();
    cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "maria@acme.test",
            "--name",
            "Maria Admin",
            "--password",
            "maria-password",
            "--admin",
        ],
    );
    cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "ann@acme.test",
            "--name",
            "Ann Employee",
            "--password",
            "ann-password",
        ],
    );
    let task: Value =
        serde_json::from_str(&cli(&db, &["task", "add", "--name", "Write report"])).unwrap();
    let server = serve(&db);
    let base = server.base.clone();
    let http = reqwest::Client::new();
    // Yesterday: twenty minutes in an editor and ten on a news site.
    let start = (chrono::Utc::now() - chrono::Duration::days(1))
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc();
    let at =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let intervals: Vec<Value> = (0..30)
        .map(|k| {
            let from = start + chrono::Duration::minutes(k);
            let (app, url) = if k < 20 { ("code", Value::Null) } else { ("firefox", json!("https://news.example.com/today")) };
            json!({
                "id": uuid::Uuid::now_v7().to_string(), "device_id": LAPTOP, "task_id": task["id"],
                "started_at": at(from), "ended_at": at(from + chrono::Duration::seconds(60)),
                "utc_offset_minutes": 0, "end_reason": "boundary", "active": "1".repeat(60),
                "counts": {"keys": 30, "clicks": 2, "scrolls": 0, "moves": 40},
                "windows": [{"offset": 0, "seconds": 60, "app": app, "title": "t", "url": url, "path": null}]
            })
        })
        .collect();
    let ann = login(&http, &base, "ann@acme.test", "ann-password").await;
    post_intervals(&http, &base, &ann, json!(intervals)).await;
    let maria = login(&http, &base, "maria@acme.test", "maria-password").await;

    let driver = Driver::start().await;
    let downloads = tempfile::tempdir().unwrap();
    let browser = Browser::open(&driver, downloads.path()).await;
    let shots = screenshots_dir();
    browser.goto(&format!("{base}/")).await;
    browser.sign_in("maria@acme.test", "maria-password").await;
    browser.click("#nav a[href='#page=settings']").await;
    browser.element("#settings-org input[name='name']").await;
    let stored = get_json(
        &http,
        &format!("{base}/api/v1/organization/settings"),
        &maria,
    )
    .await;
    let shown = browser
        .script("return document.querySelector(\"#settings-org input[name='name']\").value")
        .await;
    assert_eq!(shown, stored["name"], "the card shows the stored name");
    assert_eq!(browser.text("#nav a.active").await, "Settings");
    assert!(
        !browser.visible("#day-picker").await,
        "the day picker belongs to the reports"
    );

    browser
        .type_into("#settings-org input[name='name']", "Acme Ltd")
        .await;
    browser.click("#settings-org button.primary").await;
    browser
        .wait_for(
            "saved",
            "return document.querySelector('#settings-org .saved').textContent",
        )
        .await;
    let stored = get_json(
        &http,
        &format!("{base}/api/v1/organization/settings"),
        &maria,
    )
    .await;
    assert_eq!(stored["name"], "Acme Ltd");

    // The rule's preview says what the API says: 20 minutes of code become productive.
    browser
        .type_into("#rule-form input[name='pattern']", "code")
        .await;
    browser.click("#rule-form button.secondary").await;
    browser.wait_for("the preview", "const p = document.getElementById('rule-preview'); return p && !p.hidden && p.textContent").await;
    let preview = browser.text("#rule-preview").await;
    assert!(
        preview.contains("20 min") && preview.contains("code") && preview.contains("1 person"),
        "{preview}"
    );
    let rules = get_json(&http, &format!("{base}/api/v1/rules"), &maria).await;
    assert_eq!(rules, json!([]), "a preview stores nothing");
    // From the top, so the sticky bar is where a person sees it.
    browser.script("window.scrollTo(0, 0); return true").await;
    browser.screenshot(&shots.join("admin-settings.png")).await;
    browser
        .cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
        )
        .await;
    browser
        .screenshot(&shots.join("admin-settings-dark.png"))
        .await;

    // In Russian: the navigation and the page; the choice is kept.
    browser.script("const s = document.getElementById('lang'); s.value = 'ru'; s.dispatchEvent(new Event('change')); return true").await;
    browser
        .wait_for(
            "Russian",
            "return document.querySelector('#page-root h1')?.textContent === 'Настройки'",
        )
        .await;
    assert_eq!(browser.text("#nav a.active").await, "Настройки");
    assert_eq!(browser.text("#nav a:first-child").await, "Отчёты");
    browser
        .screenshot(&shots.join("admin-settings-ru-dark.png"))
        .await;
    browser
        .cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": "light"}]}),
        )
        .await;
    // The language re-drew the page: the rule is typed again.
    browser
        .type_into("#rule-form input[name='pattern']", "code")
        .await;
    browser.click("#rule-form button.primary").await;
    browser
        .wait_for(
            "the stored rule",
            "return document.querySelectorAll('#settings-rules tbody tr').length === 1",
        )
        .await;
    browser.script("window.scrollTo(0, 0); return true").await;
    browser.script("window.scrollTo(0, 0); return true").await;
    browser
        .screenshot(&shots.join("admin-settings-ru.png"))
        .await;
    let rules = get_json(&http, &format!("{base}/api/v1/rules"), &maria).await;
    assert_eq!(rules[0]["pattern"], "code");
    let console = browser.console().await;
    assert!(
        !console
            .iter()
            .any(|m| (m.contains("SEVERE") && !is_no_provider(m))
                || m.contains("Content Security Policy")),
        "the page logged errors: {console:?}"
    );
    browser.close().await;
}

/// A card of the page as PNG (its box only), through DevTools.
async fn card_screenshot(browser: &Browser, css: &str, path: &Path) {
    let rect = browser
        .script(&format!(
            // From the top: the sticky bar stays there, off the card.
            "window.scrollTo(0, 0); const r = document.querySelector({}).getBoundingClientRect(); \
             return [r.left, r.top, r.width, r.height]",
            json!(css)
        ))
        .await;
    let r: Vec<f64> = serde_json::from_value(rect).unwrap();
    let shot = browser
        .cdp(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": r[0] - 8.0, "y": r[1] - 8.0, "width": r[2] + 16.0, "height": r[3] + 16.0, "scale": 1}}),
        )
        .await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, png).unwrap();
}

/// The identity provider's card on the settings page (issue 29): an admin fills it in and
/// saves; the API then holds what she typed, and the client secret never comes back (not in
/// the API's answer, not on the page). SSO-only without a break-glass admin is refused in the
/// API's words, and nothing is stored. Set in server.toml, the card is read-only. No provider
/// runs: saving does not contact the issuer.
#[tokio::test]
async fn an_admin_sets_the_identity_provider_on_the_settings_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sso-page.sqlite").display().to_string();
    for (email, name, admin) in [
        ("maria@acme.test", "Maria Admin", true),
        ("ann@acme.test", "Ann Employee", false),
    ] {
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
        cli(&db, &args);
    }
    // The page's public address differs from where the test reaches the server: the card must
    // show the server's callback URL, built from public_url, once it knows it.
    let config = dir.path().join("server.toml");
    std::fs::write(&config, "public_url = \"https://metron.acme.test/\"\n").unwrap();
    let server = super::processes::serve_with(&db, &["--config", config.to_str().unwrap()]);
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let maria = login(&http, &base, "maria@acme.test", "a-good-password").await;
    let sso_url = format!("{base}/api/v1/organization/sso");
    let status = |token: &str| {
        let (http, url, token) = (http.clone(), sso_url.clone(), token.to_string());
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(&maria).await, 404, "no provider yet");

    let driver = Driver::start().await;
    let downloads = tempfile::tempdir().unwrap();
    let browser = Browser::open(&driver, downloads.path()).await;
    let shots = screenshots_dir();
    browser.goto(&format!("{base}/")).await;
    browser.sign_in("maria@acme.test", "a-good-password").await;
    browser.click("#nav a[href='#page=settings']").await;
    browser.element("#settings-sso input[name='issuer']").await;
    assert_eq!(
        browser.text("#settings-sso h2").await.to_lowercase(),
        "identity provider (sso)"
    );
    assert!(browser
        .text("#sso-state")
        .await
        .contains("No identity provider"));
    // Before a save the server has not said its public_url: the page's own address, said so.
    assert_eq!(
        browser
            .script("return document.getElementById('sso-callback').value")
            .await,
        format!("{base}/api/v1/sso/callback")
    );
    assert!(browser
        .text("#sso-callback-box")
        .await
        .contains("public_url"));

    const SECRET: &str = "kc-Secret-9f3a7c1e55";
    let fill = [
        ("name", "Acme ID"),
        ("issuer", "https://id.acme.test/realms/acme"),
        ("client_id", "metron-web"),
        ("client_secret", SECRET),
        ("allowed_domains", "acme.test, Acme.Example"),
        ("groups_claim", "groups"),
        ("admin_groups", "it-admins"),
        ("manager_groups", "team-leads, heads"),
    ];
    for (name, value) in fill {
        browser
            .type_into(&format!("#settings-sso input[name='{name}']"), value)
            .await;
    }
    // The lists as they are typed: one pill per item.
    assert_eq!(
        browser
            .script("return [...document.querySelectorAll(\"[data-list='manager_groups'] .pill\")].map(p => p.textContent)")
            .await,
        json!(["team-leads", "heads"])
    );
    // SSO only without the break-glass admin: the API's reason, on the card; nothing stored.
    browser.click("#settings-sso input[name='sso_only']").await;
    browser.click("#settings-sso button.primary").await;
    let refused = browser
        .wait_for(
            "the refusal",
            "const e = document.getElementById('sso-error'); return !e.hidden && e.textContent",
        )
        .await;
    assert!(
        refused.as_str().unwrap().contains("break_glass_email")
            && refused.as_str().unwrap().contains("SSO-only"),
        "{refused}"
    );
    assert_eq!(status(&maria).await, 404, "a refused save stores nothing");
    card_screenshot(
        &browser,
        "#settings-sso",
        &shots.join("admin-settings-sso-refused.png"),
    )
    .await;
    // A member is not an admin who could break the glass: the API says so.
    browser
        .type_into(
            "#settings-sso input[name='break_glass_email']",
            "ann@acme.test",
        )
        .await;
    browser.click("#settings-sso button.primary").await;
    browser
        .wait_for(
            "the second refusal",
            "return document.getElementById('sso-error').textContent.includes('enabled admin')",
        )
        .await;
    assert_eq!(status(&maria).await, 404);

    browser
        .type_into(
            "#settings-sso input[name='break_glass_email']",
            "Maria@Acme.test",
        )
        .await;
    browser.click("#settings-sso button.primary").await;
    browser
        .wait_for(
            "saved",
            "return document.querySelector('#settings-sso .saved').textContent",
        )
        .await;
    assert!(!browser.visible("#sso-error").await, "the refusal is gone");
    let stored = get_json(&http, &sso_url, &maria).await;
    assert_eq!(
        stored,
        json!({
            "name": "Acme ID",
            "issuer": "https://id.acme.test/realms/acme",
            "client_id": "metron-web",
            "client_secret_set": true,
            "allowed_domains": ["acme.test", "acme.example"],
            "groups_claim": "groups",
            "admin_groups": ["it-admins"],
            "manager_groups": ["team-leads", "heads"],
            "sso_only": true,
            "break_glass_email": "maria@acme.test",
            "from_file": false,
            "callback_url": "https://metron.acme.test/api/v1/sso/callback",
        })
    );
    // Now the server's own callback URL; the secret field empty, saying one is stored.
    browser
        .wait_for(
            "the server's callback URL",
            "return document.getElementById('sso-callback').value === 'https://metron.acme.test/api/v1/sso/callback'",
        )
        .await;
    let secret_field = browser
        .script("const e = document.querySelector(\"#settings-sso input[name='client_secret']\"); return [e.value, e.placeholder, e.type]")
        .await;
    assert_eq!(secret_field, json!(["", "stored", "password"]));
    let stored_secret = || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.query_row("SELECT client_secret FROM sso_providers", [], |r| {
            r.get::<_, String>(0)
        })
        .unwrap()
    };
    assert_eq!(stored_secret(), SECRET);

    // As the server stored it (lower-cased), and the same when drawn again from the server (a
    // reload); the secret nowhere on the page.
    browser
        .wait_for(
            "the stored form",
            "return document.querySelector(\"#settings-sso input[name='allowed_domains']\").value === 'acme.test, acme.example'",
        )
        .await;
    browser.script("location.reload(); return true").await;
    browser.element("#settings-sso input[name='issuer']").await;
    let shown = browser
        .script(
            "const f = document.getElementById('settings-sso'); \
             return Object.fromEntries([...f.querySelectorAll('input[name]')].map(e => [e.name, e.type === 'checkbox' ? e.checked : e.value]))",
        )
        .await;
    assert_eq!(
        shown,
        json!({
            "name": "Acme ID", "issuer": "https://id.acme.test/realms/acme", "client_id": "metron-web",
            "client_secret": "", "allowed_domains": "acme.test, acme.example", "groups_claim": "groups",
            "admin_groups": "it-admins", "manager_groups": "team-leads, heads", "sso_only": true,
            "break_glass_email": "maria@acme.test",
        })
    );
    assert_eq!(
        browser
            .script(&format!(
                "return document.documentElement.outerHTML.includes({})",
                json!(SECRET)
            ))
            .await,
        false
    );
    // A save without a secret keeps the stored one.
    browser
        .type_into("#settings-sso input[name='name']", "Acme Workforce ID")
        .await;
    browser.click("#settings-sso button.primary").await;
    browser
        .wait_for(
            "saved again",
            "return document.querySelector('#settings-sso .saved').textContent",
        )
        .await;
    let stored = get_json(&http, &sso_url, &maria).await;
    assert_eq!(
        (&stored["name"], &stored["client_secret_set"]),
        (&json!("Acme Workforce ID"), &json!(true))
    );
    assert!(!stored.to_string().contains(SECRET));
    assert_eq!(stored_secret(), SECRET, "an empty secret field keeps it");

    card_screenshot(
        &browser,
        "#settings-sso",
        &shots.join("admin-settings-sso.png"),
    )
    .await;
    browser
        .cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
        )
        .await;
    card_screenshot(
        &browser,
        "#settings-sso",
        &shots.join("admin-settings-sso-dark.png"),
    )
    .await;
    browser.script("const s = document.getElementById('lang'); s.value = 'ru'; s.dispatchEvent(new Event('change')); return true").await;
    browser
        .wait_for(
            "Russian",
            "return document.querySelector('#settings-sso h2')?.textContent === 'Поставщик удостоверений (SSO)'",
        )
        .await;
    assert_eq!(
        browser
            .script("return document.querySelector(\"#settings-sso input[name='client_secret']\").placeholder")
            .await,
        "сохранён"
    );
    card_screenshot(
        &browser,
        "#settings-sso",
        &shots.join("admin-settings-sso-ru-dark.png"),
    )
    .await;
    browser
        .cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": "light"}]}),
        )
        .await;
    card_screenshot(
        &browser,
        "#settings-sso",
        &shots.join("admin-settings-sso-ru.png"),
    )
    .await;

    // Removed (after the browser's confirm): the API has none, the card is empty again.
    browser
        .script("window.confirm = () => true; return true")
        .await;
    browser.click("#settings-sso button.danger").await;
    browser
        .wait_for(
            "removed",
            "return document.querySelector(\"#settings-sso input[name='issuer']\").value === '' && !document.getElementById('sso-state').hidden",
        )
        .await;
    assert_eq!(status(&maria).await, 404);
    browser.script("const s = document.getElementById('lang'); s.value = 'en'; s.dispatchEvent(new Event('change')); return true").await;
    let console = browser.console().await;
    assert!(
        !console.iter().any(|m| m.contains("Content Security Policy")
            || m.contains("Uncaught")
            || (m.contains("SEVERE")
                && !is_no_provider(m)
                // The two refused saves.
                && !(m.contains("/api/v1/organization/sso") && m.contains("status of 400")))),
        "the page logged errors: {console:?}"
    );
    drop(server);

    // Set in server.toml: the card shows it read-only, says where to change it; the API
    // refuses a change.
    std::fs::write(
        &config,
        "public_url = \"https://metron.acme.test/\"\n[sso]\nname = \"Corp SSO\"\nissuer = \"https://login.corp.test\"\n\
         client_id = \"metron\"\nclient_secret = \"file-secret-31\"\nallowed_domains = [\"acme.test\"]\n",
    )
    .unwrap();
    let server = super::processes::serve_with(&db, &["--config", config.to_str().unwrap()]);
    let base = server.base.clone();
    let maria = login(&http, &base, "maria@acme.test", "a-good-password").await;
    browser.goto(&format!("{base}/")).await;
    browser.sign_in("maria@acme.test", "a-good-password").await;
    browser.goto(&format!("{base}/#page=settings")).await;
    browser.element("#settings-sso input[name='issuer']").await;
    assert!(browser.text("#sso-state").await.contains("server.toml"));
    assert_eq!(
        browser
            .script("const f = document.getElementById('settings-sso'); return [f.querySelector('fieldset').disabled, !!f.querySelector('button.primary'), f.querySelector(\"input[name='issuer']\").value]")
            .await,
        json!([true, false, "https://login.corp.test"])
    );
    let put = http
        .put(format!("{base}/api/v1/organization/sso"))
        .bearer_auth(&maria)
        .json(&json!({"name": "X", "issuer": "https://x.test", "client_id": "x", "client_secret": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 409);
    card_screenshot(
        &browser,
        "#settings-sso",
        &shots.join("admin-settings-sso-file.png"),
    )
    .await;
    browser.close().await;
}

/// Chromium's console line for the settings page's first question when no identity provider
/// is set (the API answers it 404, which the page reads as "none").
fn is_no_provider(line: &str) -> bool {
    line.contains("/api/v1/organization/sso") && line.contains("404")
}

/// The people page (issue 28): an admin invites Bea from the page and copies the link; a
/// 300-person CSV with one bad row imports nothing and the page names the row; Bea opens the
/// link (the public invitation page), chooses her name and password and is signed in. In
/// English and Russian, light and dark.
#[tokio::test]
async fn an_admin_invites_from_the_people_page_and_the_invitee_joins_by_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("people.sqlite").display().to_string();
    cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "maria@acme.test",
            "--name",
            "Maria Admin",
            "--password",
            "maria-password",
            "--admin",
        ],
    );
    cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "ann@acme.test",
            "--name",
            "Ann Employee",
            "--password",
            "ann-password",
        ],
    );
    let server = serve(&db);
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let maria = login(&http, &base, "maria@acme.test", "maria-password").await;

    let driver = Driver::start().await;
    let downloads = tempfile::tempdir().unwrap();
    let browser = Browser::open(&driver, downloads.path()).await;
    let shots = screenshots_dir();
    browser.goto(&format!("{base}/")).await;
    browser.sign_in("maria@acme.test", "maria-password").await;
    browser.click("#nav a[href='#page=people']").await;
    browser
        .wait_for(
            "the people",
            "return document.querySelectorAll('#people-table tbody tr').length === 2",
        )
        .await;
    assert_eq!(browser.text("#nav a.active").await, "People");

    // Invite Bea: the dialog shows the link to copy, absolute with the page's address.
    browser.click("#invite-open").await;
    browser.type_into("#invite-email", "bea@acme.test").await;
    browser.type_into("#invite-name", "Bea").await;
    browser.click("#invite-dialog button[type='submit']").await;
    let link = browser
        .wait_for(
            "the link",
            "const i = document.querySelector('#link-dialog .link-value'); return i && i.value",
        )
        .await;
    let link = link.as_str().unwrap().to_string();
    assert!(link.starts_with(&format!("{base}/#invite=")), "{link}");
    assert_eq!(
        browser
            .script("return document.querySelector('#link-dialog .mail-status').dataset.status")
            .await,
        "not_configured"
    );
    browser
        .screenshot(&shots.join("admin-people-invite.png"))
        .await;
    browser.click("#link-dialog button.primary").await;
    browser
        .wait_for(
            "the pending invitation",
            "return document.querySelector(\"#people-pending tr[data-email='bea@acme.test']\") !== null",
        )
        .await;
    let pending = get_json(&http, &format!("{base}/api/v1/invitations"), &maria).await;
    assert_eq!(pending.as_array().unwrap().len(), 1);

    // Ann becomes a manager on the page, and Maria's person: the list says so.
    let ann = get_json(&http, &format!("{base}/api/v1/users?q=ann"), &maria).await;
    let ann_id = ann[0]["id"].as_str().unwrap().to_string();
    browser
        .script(&format!(
            "const s = document.getElementById('role-{ann_id}'); s.value = 'manager'; s.dispatchEvent(new Event('change')); return true"
        ))
        .await;
    browser
        .wait_for(
            "Ann's people button",
            "const r = document.querySelector(\"#people-table tr[data-email='ann@acme.test']\"); return !!r && [...r.querySelectorAll('button')].some((b) => b.textContent === 'Their people')",
        )
        .await;
    browser
        .script("const r = document.querySelector(\"#people-table tr[data-email='ann@acme.test']\"); [...r.querySelectorAll('button')].find((b) => b.textContent === 'Their people').click(); return true")
        .await;
    let maria_id = get_json(&http, &format!("{base}/api/v1/me"), &maria).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    browser.click(&format!("#managed-{maria_id}")).await;
    browser.click("#managed-save").await;
    browser
        .wait_for(
            "Ann as Maria's manager",
            "const r = document.querySelector(\"#people-table tr[data-email='maria@acme.test']\"); return !!r && r.children[3].textContent === 'Ann Employee'",
        )
        .await;
    let people = get_json(&http, &format!("{base}/api/v1/users?q=ann"), &maria).await;
    assert_eq!(people[0]["role"], "manager");
    let managed = get_json(
        &http,
        &format!("{base}/api/v1/users/{ann_id}/managed"),
        &maria,
    )
    .await;
    assert_eq!(managed["users"], json!([maria_id]));

    // A 300-person CSV with one bad row: the page names it, nothing is imported.
    let mut csv = String::from("email,name,role,manager\n");
    for k in 1..=300 {
        let email = if k == 200 {
            "person200.acme.test".to_string()
        } else {
            format!("person{k}@acme.test")
        };
        csv.push_str(&format!("{email},Person {k},member,maria@acme.test\n"));
    }
    let file = dir.path().join("people.csv");
    std::fs::write(&file, &csv).unwrap();
    browser.click("#import-open").await;
    let input = browser.element("#import-file").await;
    browser
        .call(
            reqwest::Method::POST,
            &format!("/element/{input}/value"),
            Some(json!({"text": file.display().to_string()})),
        )
        .await;
    browser.click("#import-go").await;
    browser
        .wait_for(
            "the report",
            "return document.querySelectorAll('.import-problems tbody tr').length === 1",
        )
        .await;
    assert_eq!(
        browser
            .script("return document.querySelector('.import-problems tbody tr').dataset.line")
            .await,
        "201"
    );
    assert!(browser
        .text(".import-problems")
        .await
        .contains("person200.acme.test"));
    let pending = get_json(&http, &format!("{base}/api/v1/invitations"), &maria).await;
    assert_eq!(pending.as_array().unwrap().len(), 1, "nothing imported");
    browser
        .screenshot(&shots.join("admin-people-import.png"))
        .await;
    browser
        .cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
        )
        .await;
    browser
        .screenshot(&shots.join("admin-people-import-dark.png"))
        .await;
    browser
        .script("document.querySelector('#import-dialog').close(); return true")
        .await;
    browser.script("const s = document.getElementById('lang'); s.value = 'ru'; s.dispatchEvent(new Event('change')); return true").await;
    browser
        .wait_for(
            "Russian",
            "return document.querySelector('#page-root h1')?.textContent === 'Сотрудники'",
        )
        .await;
    browser
        .wait_for(
            "the people again",
            "return document.querySelectorAll('#people-table tbody tr').length === 2",
        )
        .await;
    browser
        .screenshot(&shots.join("admin-people-ru-dark.png"))
        .await;
    browser
        .cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": "light"}]}),
        )
        .await;
    browser.screenshot(&shots.join("admin-people-ru.png")).await;
    browser.close().await;

    // Bea opens her link in a browser of her own.
    let bea = Browser::open(&driver, downloads.path()).await;
    bea.goto(&link).await;
    bea.element("#public:not([hidden]) #link-form").await;
    bea.screenshot(&shots.join("invite-accept.png")).await;
    public_page_shots(&bea, &link, &shots, "invite-accept").await;
    bea.type_into("#link-name", "Bea Lind").await;
    bea.type_into("#link-password", "bea-password").await;
    bea.type_into("#link-again", "bea-passwort").await;
    bea.click("#link-form button[type='submit']").await;
    bea.wait_for(
        "the mismatch",
        "const e = document.getElementById('link-error'); return e && !e.hidden && e.textContent",
    )
    .await;
    bea.type_into("#link-again", "bea-password").await;
    bea.click("#link-form button[type='submit']").await;
    bea.element("#app:not([hidden])").await;
    assert_eq!(
        bea.script("return location.hash").await,
        "",
        "the token leaves the address bar"
    );
    let token = login(&http, &base, "bea@acme.test", "bea-password").await;
    let me = get_json(&http, &format!("{base}/api/v1/me"), &token).await;
    assert_eq!(me["name"], "Bea Lind");
    let people = get_json(&http, &format!("{base}/api/v1/users"), &maria).await;
    assert_eq!(people.as_array().unwrap().len(), 3);
    let console = bea.console().await;
    assert!(
        !console
            .iter()
            .any(|m| m.contains("Content Security Policy")),
        "the page logged errors: {console:?}"
    );
    bea.close().await;
    // The used link now says so, and signs nobody in.
    let again = Browser::open(&driver, downloads.path()).await;
    again.goto(&link).await;
    again.type_into("#link-name", "Mallory").await;
    again.type_into("#link-password", "mallory-password").await;
    again.type_into("#link-again", "mallory-password").await;
    again.click("#link-form button[type='submit']").await;
    let said = again
        .wait_for("the refusal", "const e = document.getElementById('link-error'); return e && !e.hidden && e.textContent")
        .await;
    assert!(said.as_str().unwrap().contains("used"), "{said}");
    again.screenshot(&shots.join("invite-used.png")).await;

    // A reset link Maria makes for Bea opens its own page: Bea chooses a new password there.
    let bea_id = me["id"].as_str().unwrap();
    let issued = http
        .post(format!("{base}/api/v1/users/{bea_id}/reset-link"))
        .bearer_auth(&maria)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let path = issued["link"].as_str().unwrap();
    assert!(
        path.starts_with("/#reset="),
        "without public_url, the path: {path}"
    );
    let reset = format!("{base}{path}");
    again.goto(&reset).await;
    again.element("#public:not([hidden]) #link-form").await;
    again.screenshot(&shots.join("reset-password.png")).await;
    public_page_shots(&again, &reset, &shots, "reset-password").await;
    again.type_into("#link-password", "bea-password-2").await;
    again.type_into("#link-again", "bea-password-2").await;
    again.click("#link-form button[type='submit']").await;
    again.element("#app:not([hidden])").await;
    login(&http, &base, "bea@acme.test", "bea-password-2").await;
    again.close().await;
}

/// A public page (a link's) in dark, then in Russian light and dark, then back in English
/// light for the rest of the test: `NAME-dark.png`, `NAME-ru.png`, `NAME-ru-dark.png`.
async fn public_page_shots(browser: &Browser, url: &str, shots: &Path, name: &str) {
    let scheme = |dark: bool| json!({"features": [{"name": "prefers-color-scheme", "value": if dark { "dark" } else { "light" }}]});
    browser
        .cdp("Emulation.setEmulatedMedia", scheme(true))
        .await;
    browser
        .screenshot(&shots.join(format!("{name}-dark.png")))
        .await;
    browser
        .script("localStorage.setItem('metron.lang', 'ru'); return true")
        .await;
    browser.goto("about:blank").await;
    browser.goto(url).await;
    browser
        .wait_for("the Russian form", "return document.documentElement.lang === 'ru' && !!document.querySelector('#public:not([hidden]) #link-form')")
        .await;
    browser
        .screenshot(&shots.join(format!("{name}-ru-dark.png")))
        .await;
    browser
        .cdp("Emulation.setEmulatedMedia", scheme(false))
        .await;
    browser
        .screenshot(&shots.join(format!("{name}-ru.png")))
        .await;
    browser
        .script("localStorage.setItem('metron.lang', 'en'); return true")
        .await;
    browser.goto("about:blank").await;
    browser.goto(url).await;
    browser.element("#public:not([hidden]) #link-form").await;
}

#[tokio::test]
async fn a_person_reads_the_notice_sees_who_read_her_data_and_downloads_it_on_my_data() {
    let test_day = fixture_date(0);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mydata.sqlite").display().to_string();
    cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "maria@acme.test",
            "--name",
            "Maria Admin",
            "--password",
            "maria-password",
            "--admin",
        ],
    );
    let bea: Value = serde_json::from_str(&cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "bea@acme.test",
            "--name",
            "Bea Member",
            "--password",
            "bea-password",
        ],
    ))
    .unwrap();
    let bea_id = bea["id"].as_str().unwrap();
    let task: Value =
        serde_json::from_str(&cli(&db, &["task", "add", "--name", "Write report"])).unwrap();
    let server = serve(&db);
    let base = server.base.clone();
    let http = reqwest::Client::new();

    // Bea's minute on the test day, with a title and an address.
    let bea_token = login(&http, &base, "bea@acme.test", "bea-password").await;
    let interval_id = uuid::Uuid::now_v7().to_string();
    let stored = post_intervals(
        &http,
        &base,
        &bea_token,
        json!([{
            "id": interval_id, "device_id": LAPTOP, "task_id": task["id"],
            "started_at": format!("{test_day}T08:00:00Z"), "ended_at": format!("{test_day}T08:01:00Z"),
            "utc_offset_minutes": 0, "end_reason": "boundary", "active": "1".repeat(60),
            "counts": {"keys": 30, "clicks": 2, "scrolls": 0, "moves": 40},
            "windows": [{"offset": 0, "seconds": 60, "app": "firefox", "title": "Quarterly plan",
                         "url": "https://wiki.acme.test/plan", "path": null}]
        }]),
    )
    .await;
    assert_eq!(stored["results"][0]["status"], "accepted", "{stored}");

    // The admin reads 25 of Bea's days, the test day last: more than one page of the log.
    let maria = login(&http, &base, "maria@acme.test", "maria-password").await;
    let day = fixture_day();
    for back in (0..25).rev() {
        let date = day - chrono::Duration::days(back);
        let r = http
            .get(format!(
                "{base}/api/v1/reports/daily?date={date}&user_id={bea_id}"
            ))
            .bearer_auth(&maria)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{date}");
    }
    let log = get_json(&http, &format!("{base}/api/v1/me/access-log"), &bea_token).await;
    let log = log.as_array().unwrap().clone();
    assert_eq!(log.len(), 25, "{log:?}");
    assert_eq!(log[0]["scope"], test_day, "newest first");
    let notice = get_json(&http, &format!("{base}/api/v1/me/notice"), &bea_token).await;
    assert!(notice["acknowledged_at"].is_null(), "{notice}");

    let driver = Driver::start().await;
    let downloads = tempfile::tempdir().unwrap();
    let browser = Browser::open(&driver, downloads.path()).await;
    let shots = screenshots_dir();
    browser.goto(&format!("{base}/")).await;
    browser.sign_in("bea@acme.test", "bea-password").await;
    // The reports, where she lands, ask for the team's timesheet and are refused (a member's
    // 403, logged by the browser): only My data is held to no errors at all.
    let console = browser.console().await;
    assert!(
        !console
            .iter()
            .any(|m| m.contains("Content Security Policy") || m.contains("Uncaught")),
        "{console:#?}"
    );
    // A member's navigation: the reports and My data, no settings.
    assert!(browser
        .find("#nav a[href='#page=settings']")
        .await
        .is_none());
    browser.click("#nav a[href='#page=mydata']").await;
    browser.element("#mydata-notice #notice-ack").await;
    assert_eq!(browser.text("#nav a.active").await, "My data");

    // The notice is the server's, sentence by sentence, in English.
    let shown: Value = browser
        .script("return [...document.querySelectorAll('#mydata-notice .notice-text li')].map(li => li.textContent)")
        .await;
    assert_eq!(shown, notice["text"]["en"]);
    assert!(!browser.visible("#notice-acked").await);

    // The access log: the first page of 20 rows, newest first, as the API lists them.
    browser
        .wait_for(
            "the access log",
            "return document.querySelectorAll('#access-log tbody tr').length === 20",
        )
        .await;
    assert!(!browser.visible("#access-empty").await);
    let first = browser.text("#access-log tbody tr:first-child").await;
    // The test day as the page writes it (en-GB): "Mon, 23 Nov 2026", "Mon, 7 Sept 2026".
    let listed_day = day
        .format("%a, %-d %b %Y")
        .to_string()
        .replace(" Sep ", " Sept ");
    assert_eq!(
        browser
            .script("return document.querySelector('#access-log tbody tr').dataset.id")
            .await,
        log[0]["id"]
    );
    assert!(
        first.contains("Maria Admin")
            && first.contains("maria@acme.test")
            && first.contains("Admin")
            && first.contains("Day report")
            && first.contains(&listed_day),
        "{first}"
    );
    assert_eq!(
        browser
            .script("return document.querySelector('#access-log tbody tr a').getAttribute('href')")
            .await,
        format!("#date={test_day}"),
        "the day links to that day's report"
    );
    browser.script("window.scrollTo(0, 0); return true").await;
    browser.screenshot(&shots.join("my-data.png")).await;

    // "Load more" follows the Link header to the last five.
    assert!(browser.visible("#access-more").await);
    browser.click("#access-more").await;
    browser
        .wait_for(
            "the second page",
            "return document.querySelectorAll('#access-log tbody tr').length === 25",
        )
        .await;
    let ids = browser
        .script("return [...document.querySelectorAll('#access-log tbody tr')].map(tr => tr.dataset.id)")
        .await;
    let api_ids: Vec<Value> = log.iter().map(|r| r["id"].clone()).collect();
    assert_eq!(
        ids,
        Value::Array(api_ids),
        "the rows are the API's, in its order"
    );
    assert!(
        !browser.visible("#access-more").await,
        "no more after the last page"
    );

    // "I have read this": the API then says acknowledged, for the version shown. (From the
    // top: scrolled into view at the top edge, the button would be under the sticky bar.)
    browser.script("window.scrollTo(0, 0); return true").await;
    browser.click("#notice-ack").await;
    browser.element("#notice-acked").await;
    let acked = get_json(&http, &format!("{base}/api/v1/me/notice"), &bea_token).await;
    assert!(acked["acknowledged_at"].is_string(), "{acked}");
    assert_eq!(acked["version"], notice["version"]);
    assert!(browser.find("#notice-ack").await.is_none());

    // The download: a ZIP in the download folder that holds her interval.
    browser.click("#export-zip").await;
    browser
        .wait_for(
            "the download",
            "return document.getElementById('export-status').textContent.startsWith('Downloaded')",
        )
        .await;
    let start = Instant::now();
    let zip_path = loop {
        let done = std::fs::read_dir(downloads.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "zip"));
        if let Some(p) = done {
            break p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no ZIP was saved"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let name = zip_path.file_name().unwrap().to_str().unwrap().to_string();
    assert!(name.starts_with("metron-bea@acme.test-"), "{name}");
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).expect("a whole ZIP");
    let mut intervals = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("intervals.json").unwrap(),
        &mut intervals,
    )
    .unwrap();
    let intervals: Value = serde_json::from_str(&intervals).unwrap();
    assert_eq!(intervals.as_array().unwrap().len(), 1, "{intervals}");
    assert_eq!(intervals[0]["id"], interval_id.as_str());
    assert_eq!(intervals[0]["windows"][0]["title"], "Quarterly plan");

    browser
        .cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
        )
        .await;
    browser.script("window.scrollTo(0, 0); return true").await;
    browser.screenshot(&shots.join("my-data-dark.png")).await;

    // In Russian: the notice's Russian sentences, the log's words.
    browser.script("const s = document.getElementById('lang'); s.value = 'ru'; s.dispatchEvent(new Event('change')); return true").await;
    browser
        .wait_for(
            "Russian",
            "return document.querySelector('#page-root h1')?.textContent === 'Мои данные'",
        )
        .await;
    browser.element("#access-log tbody tr").await;
    let shown: Value = browser
        .script("return [...document.querySelectorAll('#mydata-notice .notice-text li')].map(li => li.textContent)")
        .await;
    assert_eq!(shown, acked["text"]["ru"]);
    assert_eq!(browser.text("#nav a.active").await, "Мои данные");
    assert!(browser
        .text("#access-log tbody tr:first-child")
        .await
        .contains("Отчёт за день"));
    browser.script("window.scrollTo(0, 0); return true").await;
    browser.screenshot(&shots.join("my-data-ru-dark.png")).await;
    browser
        .cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": "light"}]}),
        )
        .await;
    browser.script("window.scrollTo(0, 0); return true").await;
    browser.screenshot(&shots.join("my-data-ru.png")).await;

    let console = browser.console().await;
    assert!(
        !console.iter().any(|m| m.contains("SEVERE")
            || m.contains("Content Security Policy")
            || m.contains("Uncaught")),
        "My data logged errors: {console:?}"
    );

    // No one read the admin's data: her log says so.
    browser.script("const s = document.getElementById('lang'); s.value = 'en'; s.dispatchEvent(new Event('change')); return true").await;
    browser.click("#signout").await;
    browser.sign_in("maria@acme.test", "maria-password").await;
    browser.click("#nav a[href='#page=mydata']").await;
    browser.element("#access-empty").await;
    assert!(browser.visible("#access-empty").await);
    assert!(!browser.visible("#access-log").await);
    assert_eq!(
        browser.text("#access-empty").await,
        "No one else has read your data."
    );

    let console = browser.console().await;
    assert!(
        !console.iter().any(|m| m.contains("SEVERE")
            || m.contains("Content Security Policy")
            || m.contains("Uncaught")),
        "the page logged errors: {console:?}"
    );
    browser.close().await;
}

/// The projects page (issue 28, item 3): an admin creates two projects (a palette colour and a
/// typed one) and a task, renames the task in place, moves it, archives it (Ann's task list
/// loses it, the page hides it), shows the archived ones and restores it, and makes Ann a
/// project's member; a clash of names is said in the section's banner. Every step is checked
/// against the API; in English and Russian, light and dark.
#[tokio::test]
async fn an_admin_runs_projects_and_tasks_on_the_projects_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("projects.sqlite").display().to_string();
    cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "maria@acme.test",
            "--name",
            "Maria Admin",
            "--password",
            "maria-password",
            "--admin",
        ],
    );
    cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "ann@acme.test",
            "--name",
            "Ann Employee",
            "--password",
            "ann-password",
        ],
    );
    let server = serve(&db);
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let maria = login(&http, &base, "maria@acme.test", "maria-password").await;
    let ann = login(&http, &base, "ann@acme.test", "ann-password").await;
    let ann_id = get_json(&http, &format!("{base}/api/v1/me"), &ann).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let projects_url = format!("{base}/api/v1/projects?archived=true");
    let project = |list: &Value, name: &str| -> Value {
        list["projects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no project {name} in {list}"))
            .clone()
    };
    let anns_tasks = || async {
        let list = get_json(&http, &format!("{base}/api/v1/tasks"), &ann).await;
        list.as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap().to_string(),
                    t["project"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };

    let driver = Driver::start().await;
    let downloads = tempfile::tempdir().unwrap();
    let browser = Browser::open(&driver, downloads.path()).await;
    let shots = screenshots_dir();
    browser.goto(&format!("{base}/")).await;
    browser.sign_in("maria@acme.test", "maria-password").await;
    browser.click("#nav a[href='#page=projects']").await;
    browser.element("#projects-empty").await;
    assert_eq!(browser.text("#nav a.active").await, "Projects");

    // Two projects: one coloured from the palette, one with a colour typed as hex.
    browser.click("#project-new").await;
    browser.type_into("#project-name", "Website").await;
    browser.type_into("#project-client", "Acme Corp").await;
    browser
        .click("#project-dialog .swatch-button[data-colour='#16a34a']")
        .await;
    assert_eq!(
        browser
            .script("return document.getElementById('project-colour').value")
            .await,
        "#16a34a",
        "the swatch sets the hex"
    );
    browser
        .screenshot(&shots.join("admin-projects-new.png"))
        .await;
    browser.click("#project-dialog button[type='submit']").await;
    browser.element(".project-card[data-name='Website']").await;
    browser.click("#project-new").await;
    browser.type_into("#project-name", "Mobile app").await;
    browser.type_into("#project-colour", "#AA3377").await;
    browser.click("#project-dialog button[type='submit']").await;
    browser
        .element(".project-card[data-name='Mobile app']")
        .await;
    let list = get_json(&http, &projects_url, &maria).await;
    let website = project(&list, "Website");
    let mobile = project(&list, "Mobile app");
    assert_eq!(
        (&website["client"], &website["colour"]),
        (&json!("Acme Corp"), &json!("#16a34a"))
    );
    assert_eq!(
        (&mobile["client"], &mobile["colour"]),
        (&json!(""), &json!("#aa3377"))
    );
    let mobile_id = mobile["id"].as_str().unwrap().to_string();
    // The dot is the stored colour.
    assert_eq!(
        browser
            .script("return getComputedStyle(document.querySelector(\".project-card[data-name='Mobile app'] .colour-dot\")).backgroundColor")
            .await,
        "rgb(170, 51, 119)"
    );

    // A task in Website, from the card's own field.
    browser
        .type_into(
            ".project-card[data-name='Website'] .new-task",
            "Design mockups",
        )
        .await;
    browser
        .click(".project-card[data-name='Website'] .add-task button")
        .await;
    browser
        .element(".project-card[data-name='Website'] tr[data-name='Design mockups']")
        .await;
    let list = get_json(&http, &projects_url, &maria).await;
    let task_id = project(&list, "Website")["tasks"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        browser
            .text(".project-card[data-name='Website'] .task-count")
            .await,
        "1 task"
    );
    assert_eq!(
        anns_tasks().await,
        vec![("Design mockups".to_string(), "Website".to_string())]
    );

    // Renamed in place.
    let row = format!("tr[data-id='{task_id}']");
    browser.click(&format!("{row} button.rename")).await;
    browser
        .type_into(&format!("{row} .rename-input"), "Design the homepage")
        .await;
    browser
        .screenshot(&shots.join("admin-projects-rename.png"))
        .await;
    browser
        .click(&format!("{row} .rename-form button.primary"))
        .await;
    browser
        .element(&format!("{row}[data-name='Design the homepage']"))
        .await;
    assert_eq!(
        browser.text(&format!("{row} .task-name")).await,
        "Design the homepage"
    );
    // A name another project has: the API's refusal is said in the banner, nothing changes.
    let mobile_card = ".project-card[data-name='Mobile app']";
    browser.click(&format!("{mobile_card} button.rename")).await;
    browser
        .type_into(&format!("{mobile_card} .rename-input"), "Website")
        .await;
    browser
        .click(&format!("{mobile_card} .rename-form button.primary"))
        .await;
    let banner = browser
        .wait_for(
            "the banner",
            "const b = document.getElementById('page-error'); return !b.hidden && b.textContent",
        )
        .await;
    assert!(banner.as_str().unwrap().contains("Website"), "{banner}");
    browser
        .click(&format!("{mobile_card} .rename-form button.ghost"))
        .await;
    // Chromium logs the refused request itself; that, and only that, was logged so far.
    let console = browser.console().await;
    assert!(
        console
            .iter()
            .all(|m| m.contains("409 (Conflict)") && m.contains(&mobile_id)),
        "{console:?}"
    );
    assert_eq!(
        project(&get_json(&http, &projects_url, &maria).await, "Mobile app")["id"],
        json!(mobile_id)
    );

    // Moved to Mobile app: under its card now; the banner clears with the next success.
    browser
        .script(&format!(
            "const s = document.querySelector(\"{row} select.move\"); s.value = '{mobile_id}'; s.dispatchEvent(new Event('change')); return true"
        ))
        .await;
    browser.element(&format!("{mobile_card} {row}")).await;
    assert!(!browser.visible("#page-error").await);
    let list = get_json(&http, &projects_url, &maria).await;
    assert_eq!(
        project(&list, "Mobile app")["tasks"][0]["id"],
        json!(task_id)
    );
    assert_eq!(project(&list, "Website")["tasks"], json!([]));
    assert_eq!(
        anns_tasks().await,
        vec![("Design the homepage".to_string(), "Mobile app".to_string())]
    );

    // Archived: gone from the page and from Ann's list; the API keeps it, archived.
    browser.click(&format!("{row} button.archive")).await;
    browser
        .wait_for(
            "the task to leave the page",
            &format!("return document.querySelector(\"{row}\") === null"),
        )
        .await;
    assert_eq!(anns_tasks().await, vec![]);
    let list = get_json(&http, &projects_url, &maria).await;
    assert_eq!(
        project(&list, "Mobile app")["tasks"][0]["archived"],
        json!(true)
    );
    let shown = get_json(&http, &format!("{base}/api/v1/projects"), &maria).await;
    assert_eq!(project(&shown, "Mobile app")["tasks"], json!([]));
    assert_eq!(
        browser.text(&format!("{mobile_card} .task-count")).await,
        "0 tasks"
    );

    // Shown archived: muted, with Restore; the choice is kept in the address.
    browser.click("#projects-archived").await;
    browser
        .element(&format!("{mobile_card} {row}.archived button.restore"))
        .await;
    assert!(browser
        .script("return location.hash")
        .await
        .as_str()
        .unwrap()
        .contains("archived=1"));
    browser.click(&format!("{row} button.restore")).await;
    browser
        .element(&format!(
            "{mobile_card} {row}:not(.archived) button.archive"
        ))
        .await;
    assert_eq!(
        anns_tasks().await,
        vec![("Design the homepage".to_string(), "Mobile app".to_string())]
    );

    // Ann becomes Mobile app's member: the card names her, the API agrees, she still sees it.
    browser
        .click(&format!("{mobile_card} button.members-open"))
        .await;
    browser.click(&format!("#member-{ann_id}")).await;
    browser
        .screenshot(&shots.join("admin-projects-members.png"))
        .await;
    browser.click("#members-save").await;
    browser
        .wait_for(
            "Ann as a member",
            &format!("return document.querySelector(\"{mobile_card} .members\")?.textContent === 'Members: Ann Employee'"),
        )
        .await;
    assert_eq!(
        browser
            .text(".project-card[data-name='Website'] .members")
            .await,
        "Everyone sees it"
    );
    let list = get_json(&http, &projects_url, &maria).await;
    assert_eq!(project(&list, "Mobile app")["members"], json!([ann_id]));
    assert_eq!(anns_tasks().await.len(), 1);

    // A third project, archived from its card (after the browser's confirm): shown muted.
    browser.click("#project-new").await;
    browser.type_into("#project-name", "Old intranet").await;
    browser.type_into("#project-client", "Acme Corp").await;
    browser.click("#project-dialog button[type='submit']").await;
    let old = ".project-card[data-name='Old intranet']";
    browser
        .type_into(&format!("{old} .new-task"), "Keep the lights on")
        .await;
    browser.click(&format!("{old} .add-task button")).await;
    browser
        .element(&format!("{old} tr[data-name='Keep the lights on']"))
        .await;
    browser
        .script("window.confirm = () => true; return true")
        .await;
    browser.click(&format!("{old} button.archive")).await;
    browser
        .element(&format!("{old}.archived button.restore"))
        .await;
    let list = get_json(&http, &projects_url, &maria).await;
    assert_eq!(project(&list, "Old intranet")["archived"], json!(true));
    assert_eq!(
        anns_tasks().await,
        vec![("Design the homepage".to_string(), "Mobile app".to_string())]
    );
    // And an archived task beside an open one, while archived ones are shown: muted, in place.
    let website_card = ".project-card[data-name='Website']";
    browser
        .type_into(&format!("{website_card} .new-task"), "Banner v1")
        .await;
    browser
        .click(&format!("{website_card} .add-task button"))
        .await;
    browser
        .click(&format!(
            "{website_card} tr[data-name='Banner v1'] button.archive"
        ))
        .await;
    browser
        .element(&format!(
            "{website_card} tr.archived[data-name='Banner v1'] button.restore"
        ))
        .await;
    assert_eq!(
        browser
            .text(&format!("{website_card} .project-meta"))
            .await
            .replace('\n', " "),
        "0 tasks 1 archived Everyone sees it"
    );
    assert_eq!(
        browser.text("#projects-summary").await,
        "2 projects · 1 task"
    );

    // The pointer off the buttons, so no hover shows in the pictures.
    browser
        .call(
            reqwest::Method::POST,
            "/actions",
            Some(json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
                "actions": [{"type": "pointerMove", "x": 5, "y": 400, "origin": "viewport"}]}]})),
        )
        .await;
    browser.script("window.scrollTo(0, 0); return true").await;
    browser.screenshot(&shots.join("admin-projects.png")).await;
    browser
        .cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
        )
        .await;
    browser.script("window.scrollTo(0, 0); return true").await;
    browser
        .screenshot(&shots.join("admin-projects-dark.png"))
        .await;

    // In Russian: the page is drawn again, the archived ones still shown.
    browser.script("const s = document.getElementById('lang'); s.value = 'ru'; s.dispatchEvent(new Event('change')); return true").await;
    browser
        .wait_for(
            "Russian",
            "return document.querySelector('#page-root h1')?.textContent === 'Проекты'",
        )
        .await;
    browser.element(&format!("{old}.archived")).await;
    assert_eq!(browser.text("#nav a.active").await, "Проекты");
    assert_eq!(
        browser.text("#projects-summary").await,
        "2 проекта · 1 задача"
    );
    browser.script("window.scrollTo(0, 0); return true").await;
    browser
        .screenshot(&shots.join("admin-projects-ru-dark.png"))
        .await;
    browser
        .cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": "light"}]}),
        )
        .await;
    browser.script("window.scrollTo(0, 0); return true").await;
    browser
        .screenshot(&shots.join("admin-projects-ru.png"))
        .await;
    let console = browser.console().await;
    assert!(
        !console.iter().any(|m| m.contains("SEVERE")
            || m.contains("Uncaught")
            || m.contains("Content Security Policy")),
        "the page logged errors: {console:?}"
    );
    browser.close().await;
}

/// The code an authenticator app shows for `secret` (base32) during time step `step`.
fn totp_code(secret: &str, step: i64) -> String {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate(u64::try_from(step * 30).unwrap())
        .to_string()
}

/// Two-factor codes on the page (issue 29): the organization requires them of everyone, so Bea's
/// first sign-in opens the Account page alone; she scans (the secret is read from the page),
/// confirms with a code computed here, sees her ten recovery codes once and goes on into the
/// page; signed out, the sign-in form asks for her code and takes the next one. Screenshots of the
/// set-up and the code prompt, light and dark, English and Russian.
#[tokio::test]
async fn a_person_sets_up_two_factor_codes_on_the_page_and_signs_in_with_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tfa.sqlite").display().to_string();
    cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "bea@acme.test",
            "--name",
            "Bea Member",
            "--password",
            "bea-password",
        ],
    );
    let set = cli(&db, &["org", "set", "--require-second-factor", "everyone"]);
    assert!(
        set.contains("\"require_second_factor\":\"everyone\""),
        "{set}"
    );
    let server = serve(&db);
    let base = server.base.clone();

    let driver = Driver::start().await;
    let downloads = tempfile::tempdir().unwrap();
    let browser = Browser::open(&driver, downloads.path()).await;
    let shots = screenshots_dir();
    browser.goto(&format!("{base}/")).await;
    browser.sign_in("bea@acme.test", "bea-password").await;
    // Set-up only: the Account page, and nothing else in the navigation.
    browser.element("#account-tfa #tfa-begin").await;
    assert!(browser.visible("#tfa-required").await);
    let nav: Value = browser
        .script("return [...document.querySelectorAll('#nav a')].map(a => a.getAttribute('href'))")
        .await;
    assert_eq!(nav, json!(["#page=account"]), "set-up only");
    let set_dark = |dark: bool| {
        let browser = &browser;
        async move {
            browser
                .cdp(
                    "Emulation.setEmulatedMedia",
                    json!({"features": [{"name": "prefers-color-scheme", "value": if dark { "dark" } else { "light" }}]}),
                )
                .await;
        }
    };
    let begin = || {
        let browser = &browser;
        async move {
            browser.click("#tfa-begin").await;
            browser
                .wait_for(
                    "the QR code drawn",
                    "const i = document.getElementById('tfa-qr'); return i && i.complete && i.naturalWidth > 0",
                )
                .await;
            browser.script("window.scrollTo(0, 0); return true").await;
        }
    };
    // The QR code is an image of the otpauth URI, from a data: URL the CSP allows.
    begin().await;
    let alt = browser
        .script("return document.getElementById('tfa-qr').alt")
        .await;
    assert!(
        alt.as_str()
            .unwrap()
            .starts_with("otpauth://totp/Metron:bea%40acme.test?"),
        "{alt}"
    );
    browser
        .screenshot(&shots.join("two-factor-setup.png"))
        .await;
    set_dark(true).await;
    browser
        .screenshot(&shots.join("two-factor-setup-dark.png"))
        .await;
    // In Russian the page is drawn again: the set-up begins again (a new secret replaces the one
    // not confirmed).
    browser.script("const s = document.getElementById('lang'); s.value = 'ru'; s.dispatchEvent(new Event('change')); return true").await;
    browser
        .wait_for(
            "Russian",
            "return document.querySelector('#page-root h1')?.textContent === 'Аккаунт'",
        )
        .await;
    begin().await;
    browser
        .screenshot(&shots.join("two-factor-setup-ru-dark.png"))
        .await;
    set_dark(false).await;
    browser
        .screenshot(&shots.join("two-factor-setup-ru.png"))
        .await;
    browser.script("const s = document.getElementById('lang'); s.value = 'en'; s.dispatchEvent(new Event('change')); return true").await;
    browser
        .wait_for(
            "English",
            "return document.querySelector('#page-root h1')?.textContent === 'Account'",
        )
        .await;
    begin().await;
    let secret = browser.text("#tfa-secret").await.replace(' ', "");
    assert_eq!(secret.len(), 32, "{secret}");
    // A code of a step with time left in it, so the next step's code is still ahead later.
    loop {
        if 30 - chrono::Utc::now().timestamp() % 30 >= 12 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let step = chrono::Utc::now().timestamp() / 30;
    browser.type_into("#tfa-code", "000000").await;
    if totp_code(&secret, step) != "000000" {
        browser.click("#tfa-confirm").await;
        browser
            .wait_for(
                "the wrong code refused",
                "return !document.getElementById('page-error').hidden && document.getElementById('page-error').textContent",
            )
            .await;
        assert!(browser
            .text("#page-error")
            .await
            .starts_with("second_factor_invalid"));
    }
    browser
        .script("document.getElementById('tfa-code').value = ''; return true")
        .await;
    browser
        .type_into("#tfa-code", &totp_code(&secret, step))
        .await;
    browser.click("#tfa-confirm").await;
    browser.element("#tfa-recovery li").await;
    let codes: Value = browser
        .script(
            "return [...document.querySelectorAll('#tfa-recovery li')].map(li => li.textContent)",
        )
        .await;
    let codes = codes.as_array().unwrap();
    assert_eq!(codes.len(), 10, "{codes:?}");
    assert!(codes.iter().all(|c| c.as_str().unwrap().len() == 19));
    assert!(browser.visible("#tfa-copy").await);
    browser.script("window.scrollTo(0, 0); return true").await;
    browser
        .screenshot(&shots.join("two-factor-recovery.png"))
        .await;
    assert_eq!(browser.text("#tfa-done").await, "Continue to Metron");
    browser.click("#tfa-done").await;
    // The whole page now: the reports come first in the navigation again.
    browser
        .wait_for(
            "the whole page",
            "return document.querySelector(\"#nav a[href^='#date=']\") !== null && document.querySelector(\"#nav a[href='#page=mydata']\") !== null",
        )
        .await;

    // Signed out, the form asks for the code once the password is right.
    browser.click("#signout").await;
    browser.element("#signin:not([hidden]) #email").await;
    assert!(!browser.visible("#signin-code").await);
    browser.type_into("#email", "bea@acme.test").await;
    browser.type_into("#password", "bea-password").await;
    browser.click("#signin-button").await;
    browser
        .wait_for(
            "the code asked for",
            "return !document.getElementById('signin-code').hidden",
        )
        .await;
    assert_eq!(
        browser.text("#signin-error").await,
        "Enter the 6-digit code your authenticator app shows."
    );
    browser
        .screenshot(&shots.join("two-factor-prompt.png"))
        .await;
    set_dark(true).await;
    browser
        .screenshot(&shots.join("two-factor-prompt-dark.png"))
        .await;
    // In Russian: asked again (no code given), in the page's language.
    browser
        .script("localStorage.setItem('metron.lang', 'ru'); return true")
        .await;
    browser.click("#signin-button").await;
    browser
        .wait_for(
            "the Russian prompt",
            "return document.getElementById('code-label').textContent.startsWith('Код')",
        )
        .await;
    browser
        .screenshot(&shots.join("two-factor-prompt-ru-dark.png"))
        .await;
    set_dark(false).await;
    browser
        .screenshot(&shots.join("two-factor-prompt-ru.png"))
        .await;
    browser
        .script("localStorage.setItem('metron.lang', 'en'); return true")
        .await;
    // The confirming code is used; the next step's is good once.
    browser
        .type_into("#code", &totp_code(&secret, step + 1))
        .await;
    browser.click("#signin-button").await;
    browser
        .wait_for(
            "signed in with the code",
            "return !document.getElementById('app').hidden && document.getElementById('me-name').textContent",
        )
        .await;
    assert_eq!(browser.text("#me-name").await, "Bea Member");
    // Her Account page: on, ten recovery codes left, and no turning off while required.
    browser.click("#nav a[href='#page=account']").await;
    browser.element("#tfa-on").await;
    assert!(browser
        .script("return document.getElementById('tfa-off').disabled")
        .await
        .as_bool()
        .unwrap());
    browser.script("window.scrollTo(0, 0); return true").await;
    browser.screenshot(&shots.join("two-factor-on.png")).await;

    let console = browser.console().await;
    assert!(
        !console
            .iter()
            .any(|m| m.contains("Content Security Policy") || m.contains("Uncaught")),
        "the page logged errors: {console:?}"
    );
    browser.close().await;
}
