//! `/api/v1/events` (issue 15): the window and input events of stored intervals, as JSON and
//! as an XES log that pm4py (from PyPI) loads and mines a process model from; a day at a
//! time, each window named once a day (issue 27).

use super::*;
use std::path::PathBuf;
use std::process::Command;

on_both!(
    the_event_log_is_read_in_time_order_and_served_as_xes,
    the_event_log_is_refused_outside_its_rules,
    a_window_is_sent_once_a_day_however_many_events_happened_in_it,
    a_multi_day_export_is_its_days_one_after_another,
);

fn event(offset: i64, kind: &str) -> Value {
    json!({"offset": offset, "type": kind})
}

/// A window segment of `seconds` from `offset`.
fn window(offset: i64, seconds: i64, app: &str, url: Option<&str>) -> Value {
    json!({"offset": offset, "seconds": seconds, "app": app,
           "title": format!("{app} <window> & \"more\""), "url": url,
           "path": format!("/usr/bin/{app}")})
}

/// Two intervals on day one and one on day two: their windows, and the events of each (as the
/// engine records them, a time and a type; the window is the segment covering the second).
fn intervals(task: &str) -> Vec<Value> {
    let docs = Some("https://docs.example");
    let mut a = interval(task, 0, 60);
    a["windows"] = json!([
        window(0, 20, "code", None),
        window(20, 20, "chromium", docs),
        window(40, 20, "code", None)
    ]);
    a["events"] = json!([
        event(0, "WindowOpen"),
        event(0, "HardwareKeyboardEvent"),
        event(20, "WindowOpen"),
        event(40, "WindowSwitch"),
        event(59, "HardwareKeyboardEvent"),
    ]);
    let mut b = interval(task, 60, 60);
    b["windows"] = json!([
        window(0, 10, "code", None),
        window(10, 50, "chromium", docs)
    ]);
    b["events"] = json!([
        // The end of the typing before a pause, written when the next input came: 5 s before
        // this interval, in the previous one's window.
        event(-5, "HardwareKeyboardEvent"),
        event(10, "WindowSwitch"),
        event(30, "InjectedMouseClick"),
        event(50, "WindowUpdate"),
    ]);
    let mut c = interval(task, 86_400, 60);
    c["windows"] = json!([
        window(0, 20, "code", None),
        window(20, 20, "chromium", docs),
        window(40, 20, "code", None)
    ]);
    c["events"] = json!([
        event(0, "WindowOpen"),
        event(20, "WindowSwitch"),
        event(40, "WindowSwitch"),
    ]);
    vec![a, b, c]
}

/// Ann's token and task, her three intervals stored.
pub async fn stored(f: &Fixture) -> (String, String) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    store(f, &ann, intervals(&task)).await;
    (ann, task)
}

/// Stores `intervals` as Ann, every one accepted.
async fn store(f: &Fixture, ann: &str, intervals: Vec<Value>) {
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(ann),
            Some(json!({"intervals": intervals})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "accepted"),
        "{body}"
    );
}

/// The events of an export, each with its window's fields in place of the index (the shape
/// before windows were named once), in the order sent.
pub fn flat(export: &Value) -> Vec<Value> {
    let mut events = Vec::new();
    for day in export["days"].as_array().unwrap() {
        for e in day["events"].as_array().unwrap() {
            let mut event = e.clone();
            let window = &day["windows"][e["window"].as_u64().unwrap() as usize];
            for (key, value) in window.as_object().unwrap() {
                event[key] = value.clone();
            }
            event.as_object_mut().unwrap().remove("window");
            events.push(event);
        }
    }
    events
}

/// Both days of Ann's events as XES.
async fn xes(f: &Fixture, ann: &str) -> String {
    let path = format!(
        "/api/v1/events?from={}&to={}&format=xes",
        at(0),
        at(2 * 86_400)
    );
    let (status, kind, xes) = f.get_text(&path, ann).await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("application/xml"), "{kind}");
    xes
}

async fn the_event_log_is_read_in_time_order_and_served_as_xes(f: Fixture) {
    let (ann, task) = stored(&f).await;

    // The first 90 s: seven events, in time order, with the interval and task they came in.
    let path = format!("/api/v1/events?from={}&to={}", at(0), at(90));
    let (status, export) = f.call("GET", &path, Some(&ann), None).await;
    assert_eq!(status, StatusCode::OK, "{export}");
    assert_eq!(export["complete"], true);
    let events = flat(&export);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "WindowOpen",
            "HardwareKeyboardEvent",
            "WindowOpen",
            "WindowSwitch",
            "HardwareKeyboardEvent",
            "HardwareKeyboardEvent",
            "WindowSwitch"
        ]
    );
    // Each with the window of its second, from the segments.
    assert_eq!(events[2]["app"], "chromium");
    assert_eq!(events[2]["url"], "https://docs.example");
    assert_eq!(events[2]["path"], "/usr/bin/chromium");
    assert_eq!(events[4]["app"], "code", "typing at 55 s, in code");
    assert_eq!(events[4]["at"], at(55).as_str());
    assert_ne!(
        events[4]["interval_id"], events[3]["interval_id"],
        "it came with the next interval"
    );
    assert_eq!(events[6]["at"], at(70).as_str());
    assert_eq!(events[2]["task_id"], task.as_str());
    assert!(events[6]["interval_id"].is_string());

    // Both days as XES, escaped; pm4py mines it in the test below.
    let text = xes(&f, &ann).await;
    assert!(
        text.contains("&lt;window&gt; &amp; &quot;more&quot;"),
        "titles escaped"
    );
    assert_eq!(
        text.matches("<trace>").count(),
        2,
        "one case per task and day"
    );
    assert_eq!(text.matches("<event>").count(), 12);
}

/// pm4py (from PyPI) loads the XES and discovers a process model from it. The XES is the same
/// whichever backend stored the events (the test above reads both), so SQLite serves it here.
#[tokio::test]
#[cfg_attr(
    windows,
    ignore = "pm4py is a Linux Python here: Wine has none to run it (the XES is checked above)"
)]
async fn the_event_log_as_xes_is_mined_by_pm4py() {
    let f = Fixture::new(Backend::Sqlite).await;
    let (ann, _) = stored(&f).await;
    let xes = xes(&f, &ann).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.xes");
    std::fs::write(&file, &xes).unwrap();
    let out = Command::new(pm4py_python())
        .arg(script())
        .arg(&file)
        .output()
        .expect("runs pm4py");
    assert!(
        out.status.success(),
        "pm4py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let found: Value = serde_json::from_str(stdout.lines().last().unwrap())
        .unwrap_or_else(|_| panic!("pm4py printed: {stdout}"));
    assert_eq!(found["cases"], 2, "one case per task and day: {found}");
    assert_eq!(found["events"], 12, "{found}");
    assert_eq!(found["resources"], json!(["ann@acme.test"]));
    assert!(found["activities"]
        .as_array()
        .unwrap()
        .contains(&json!("WindowSwitch chromium")));
    let activities = found["activities"].as_array().unwrap().len() as u64;
    assert_eq!(
        found["transitions"].as_u64().unwrap(),
        activities,
        "the model has a transition per activity: {found}"
    );
    assert!(
        found["fitness"].as_f64().unwrap() > 0.9,
        "the model replays its own log: {found}"
    );
}

async fn the_event_log_is_refused_outside_its_rules(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let eve = f.login("eve@other.test", "eve-password").await;
    let range = format!("from={}&to={}", at(0), at(60));
    let (_, me) = f.call("GET", "/api/v1/me", Some(&boss), None).await;
    let boss_id = me["id"].as_str().unwrap();
    let (status, body) = f
        .call(
            "GET",
            &format!("/api/v1/events?{range}&user_id={boss_id}"),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = f
        .call(
            "GET",
            &format!("/api/v1/events?{range}&user_id={boss_id}"),
            Some(&eve),
            None,
        )
        .await;
    assert_ne!(status, StatusCode::OK, "another organization's person");
    for (query, why) in [
        (format!("{range}&format=csv"), "json or xes"),
        (format!("from={}&to={}", at(0), at(40 * 86_400)), "at most"),
        (format!("from={}&to={}", at(60), at(0)), "before"),
        ("from=yesterday&to=today".to_string(), "RFC 3339"),
    ] {
        let (status, body) = f
            .call("GET", &format!("/api/v1/events?{query}"), Some(&ann), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(why),
            "{query}: {body}"
        );
    }
    let (status, export) = f
        .call("GET", &format!("/api/v1/events?{range}"), Some(&boss), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{export}");
    assert_eq!(export["days"][0]["events"], json!([]), "{export}");
    assert_eq!(export["complete"], true);
}

/// A minute in one window with an event every second: the window's title travels once.
async fn a_window_is_sent_once_a_day_however_many_events_happened_in_it(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    let title = "Quarterly report, draft 7 (shared)";
    let minute = |start: i64| {
        let mut i = interval(&task, start, 60);
        i["windows"] = json!([{"offset": 0, "seconds": 60, "app": "writer", "title": title,
                               "url": null, "path": "/usr/bin/writer"}]);
        i["events"] = (0..60)
            .map(|s| event(s, "HardwareKeyboardEvent"))
            .collect::<Vec<_>>()
            .into();
        i
    };
    store(&f, &ann, vec![minute(0), minute(60), minute(86_400)]).await;
    let path = format!("/api/v1/events?from={}&to={}", at(0), at(2 * 86_400));
    let (status, _, text) = f.get_text(&path, &ann).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let export: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(flat(&export).len(), 180, "{text}");
    assert_eq!(
        text.matches(title).count(),
        2,
        "once in each of the two days it was used: {text}"
    );
    let first = &export["days"][0];
    assert_eq!(first["windows"].as_array().unwrap().len(), 1);
    assert!(first["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["window"] == 0 && e.get("title").is_none()));
}

/// An export of three local days (Ann's offset is +01:00) is the three one-day exports one
/// after another, as JSON (its `days`) and as XES (its traces).
async fn a_multi_day_export_is_its_days_one_after_another(f: Fixture) {
    let (ann, _) = stored(&f).await;
    let midnight = |day: i64| at(-9 * 3600 + day * 86_400);
    let get = |from: String, to: String, format: &'static str| {
        let ann = ann.clone();
        let f = &f;
        async move {
            let path = format!("/api/v1/events?from={from}&to={to}&format={format}");
            let (status, _, text) = f.get_text(&path, &ann).await;
            assert_eq!(status, StatusCode::OK, "{text}");
            text
        }
    };
    let whole: Value = serde_json::from_str(&get(midnight(0), midnight(3), "json").await).unwrap();
    let mut days = Vec::new();
    let mut traces = String::new();
    for day in 0..3 {
        let one: Value =
            serde_json::from_str(&get(midnight(day), midnight(day + 1), "json").await).unwrap();
        assert_eq!(one["days"].as_array().unwrap().len(), 1, "{one}");
        days.push(one["days"][0].clone());
        let xes = get(midnight(day), midnight(day + 1), "xes").await;
        let start = xes
            .find("  <trace>")
            .unwrap_or(xes.len() - "</log>\n".len());
        traces.push_str(&xes[start..xes.len() - "</log>\n".len()]);
    }
    assert_eq!(whole["days"], Value::from(days));
    assert_eq!(
        whole["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["date"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [fixture_date(0), fixture_date(1), fixture_date(2)]
    );
    assert_eq!(flat(&whole).len(), 12);
    let xes = get(midnight(0), midnight(3), "xes").await;
    let start = xes.find("  <trace>").unwrap();
    assert_eq!(&xes[start..xes.len() - "</log>\n".len()], traces);
}

fn script() -> PathBuf {
    super::manifest_dir().join("tests/server/discover_process.py")
}

/// The Python with pm4py: `target/pm4py-venv`, or `METRON_PM4PY_VENV` (the test command keeps
/// it in its machine-wide cache), made when it is not there: the pinned versions of
/// `pm4py-requirements.txt`, wheels only (no build of a source package can fail halfway), with
/// pip's retries for a slow registry. When that fails, the panic carries pip's own words.
/// Made once for both backends' tests, which may run in processes of their own
/// (cargo-nextest): a lock file beside the venv, not a mutex, makes them take turns. The
/// invitation mail test's aiosmtpd is in it too.
pub(crate) fn pm4py_python() -> PathBuf {
    let tests = super::manifest_dir().join("tests/server");
    let venv = std::env::var_os("METRON_PM4PY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::manifest_dir().join("../../target/pm4py-venv"));
    std::fs::create_dir_all(venv.parent().unwrap()).unwrap();
    let lock = std::fs::File::create(venv.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    let python = venv.join("bin/python");
    let ready = || {
        Command::new(&python)
            .args(["-c", "import pm4py, aiosmtpd"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ready() {
        return python;
    }
    let said = |what: &str, out: std::io::Result<std::process::Output>| match out {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "{what} exited with {}:\n{}{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Some(format!("{what} could not start: {e}")),
    };
    let _ = std::fs::remove_dir_all(&venv);
    let failed = said(
        "python3 -m venv",
        Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .output(),
    )
    .or_else(|| {
        said(
            "pip install",
            Command::new(&python)
                .args(["-m", "pip", "install", "--disable-pip-version-check", "-q"])
                .args(["--only-binary=:all:", "--retries=10", "--timeout=60", "-r"])
                .arg(tests.join("pm4py-requirements.txt"))
                .output(),
        )
    });
    if let Some(why) = failed {
        panic!(
            "could not install pm4py into {} (python3-venv and PyPI are needed): {why}",
            venv.display()
        );
    }
    assert!(
        ready(),
        "pm4py and aiosmtpd installed into {} but do not import",
        venv.display()
    );
    python
}
