//! `/api/v1/devices` (issue 15, "who and where"): a device's report of itself, first and last
//! seen from its reports and intervals, who may read whose devices, and hostile reports.

use super::*;

on_both!(
    a_device_reports_itself_and_is_seen_by_its_intervals,
    devices_are_read_by_their_person_and_the_admins_only,
    a_hostile_device_report_is_refused,
);

const LAPTOP: &str = "01930000-0000-7000-8000-00000000d001";
const DESKTOP: &str = "01930000-0000-7000-8000-00000000d002";

fn report(host: &str) -> Value {
    json!({
        "host_name": host, "os_user": "ann", "domain": "corp.example.com",
        "os_name": "Debian GNU/Linux 12 (bookworm)", "os_version": "6.1.0-28-amd64",
        "time_zone": "Europe/Berlin", "utc_offset_minutes": 60, "app_version": "0.2.0"
    })
}

async fn list(f: &Fixture, token: &str, query: &str) -> (StatusCode, Value) {
    f.call("GET", &format!("/api/v1/devices{query}"), Some(token), None)
        .await
}

async fn a_device_reports_itself_and_is_seen_by_its_intervals(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let task = f.task(&ann).await;
    // The laptop tracked 08:00-08:01 and 10:00-10:01 (interval() is the laptop's).
    let mut second = interval(&task, 7200, 60);
    second["device_id"] = json!(LAPTOP);
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(&ann),
            Some(json!({"intervals": [interval(&task, 0, 60), second]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, devices) = list(&f, &ann, "").await;
    assert_eq!(status, StatusCode::OK, "{devices}");
    assert_eq!(devices.as_array().unwrap().len(), 1, "{devices}");
    assert_eq!(devices[0]["device_id"], LAPTOP);
    assert_eq!(devices[0]["info"], Value::Null, "tracked, never reported");
    assert_eq!(devices[0]["first_seen"], at(0));
    assert_eq!(devices[0]["last_seen"], at(7260));

    // It reports: the report is kept as checked (trimmed), and now counts as seeing it.
    let mut laptop = report("  ann-laptop ");
    laptop["domain"] = json!("");
    let (status, stored) = f
        .call(
            "PUT",
            &format!("/api/v1/devices/{LAPTOP}"),
            Some(&ann),
            Some(laptop),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(stored["info"]["host_name"], "ann-laptop");
    assert_eq!(
        stored["info"]["domain"],
        Value::Null,
        "an empty domain is none"
    );
    assert_eq!(stored["first_seen"], at(0));
    let reported = stored["reported_at"].as_str().unwrap().to_string();
    assert_eq!(stored["last_seen"], reported.as_str());

    // A second device reports before it tracks; a later report replaces the first.
    for host in ["ann-desktop", "ann-workstation"] {
        let (status, body) = f
            .call(
                "PUT",
                &format!("/api/v1/devices/{DESKTOP}"),
                Some(&ann),
                Some(report(host)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, devices) = list(&f, &ann, "").await;
    let hosts: Vec<&str> = devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["info"]["host_name"].as_str().unwrap())
        .collect();
    assert_eq!(hosts.len(), 2, "{devices}");
    assert!(
        hosts.contains(&"ann-workstation") && hosts.contains(&"ann-laptop"),
        "{hosts:?}"
    );
    let desktop = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == DESKTOP)
        .unwrap();
    assert_eq!(desktop["info"]["time_zone"], "Europe/Berlin");
    assert_eq!(desktop["info"]["os_user"], "ann");
    assert_eq!(desktop["info"]["domain"], "corp.example.com");

    // An interval from before the laptop was first seen widens its span back; a duplicate
    // delivery changes nothing.
    let mut early = interval(&task, -3600, 60);
    early["device_id"] = json!(LAPTOP);
    for _ in 0..2 {
        let (status, body) = f
            .call(
                "POST",
                "/api/v1/intervals",
                Some(&ann),
                Some(json!({"intervals": [early.clone()]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, devices) = list(&f, &ann, "").await;
    let laptop = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == LAPTOP)
        .unwrap();
    assert_eq!(laptop["first_seen"], at(-3600));
    assert_eq!(laptop["last_seen"], reported.as_str());
}

async fn devices_are_read_by_their_person_and_the_admins_only(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let eve = f.login("eve@other.test", "eve-password").await;
    let (status, _) = f
        .call(
            "PUT",
            &format!("/api/v1/devices/{LAPTOP}"),
            Some(&ann),
            Some(report("ann-laptop")),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f
        .call(
            "PUT",
            &format!("/api/v1/devices/{DESKTOP}"),
            Some(&eve),
            Some(report("eve-pc")),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, me) = f.call("GET", "/api/v1/me", Some(&ann), None).await;
    let ann_id = me["id"].as_str().unwrap().to_string();

    // The admin reads Ann's devices and the team's; the team's are the organization's only.
    let (status, devices) = list(&f, &boss, &format!("?user_id={ann_id}")).await;
    assert_eq!(status, StatusCode::OK, "{devices}");
    assert_eq!(devices[0]["info"]["host_name"], "ann-laptop");
    let (status, team) = list(&f, &boss, "?team=true").await;
    assert_eq!(status, StatusCode::OK, "{team}");
    let hosts: Vec<&str> = team
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["info"]["host_name"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["ann-laptop"], "Eve is in another organization");
    assert_eq!(team[0]["user_id"], ann_id.as_str());

    // Ann can't read the team's, nor can Eve read Ann's (another organization: not found).
    let (status, _) = list(&f, &ann, "?team=true").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, boss_me) = f.call("GET", "/api/v1/me", Some(&boss), None).await;
    let (status, _) = list(
        &f,
        &ann,
        &format!("?user_id={}", boss_me["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = list(&f, &eve, &format!("?user_id={ann_id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not an admin");
    let (status, _) = list(&f, &boss, &format!("?user_id={ann_id}&team=true")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = f.call("GET", "/api/v1/devices", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn a_hostile_device_report_is_refused(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let put = |id: String, body: Value| {
        let f = &f;
        let ann = ann.clone();
        async move {
            f.call(
                "PUT",
                &format!("/api/v1/devices/{id}"),
                Some(&ann),
                Some(body),
            )
            .await
        }
    };
    let cases = [
        ("not-a-uuid".to_string(), report("ann-laptop"), "device_id"),
        (LAPTOP.to_string(), report(&"h".repeat(256)), "host_name"),
        (LAPTOP.to_string(), report("ann\u{1b}[2J"), "host_name"),
        (
            LAPTOP.to_string(),
            {
                let mut r = report("ann-laptop");
                r["time_zone"] = json!("<script>");
                r
            },
            "time_zone",
        ),
        (
            LAPTOP.to_string(),
            {
                let mut r = report("ann-laptop");
                r["utc_offset_minutes"] = json!(100_000);
                r
            },
            "utc_offset_minutes",
        ),
        (
            LAPTOP.to_string(),
            {
                let mut r = report("ann-laptop");
                r["keystrokes"] = json!("hunter2");
                r
            },
            "keystrokes",
        ),
    ];
    for (id, body, named) in cases {
        let (status, answer) = put(id, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{named}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(named),
            "{named}: {answer}"
        );
    }
    let (_, devices) = list(&f, &ann, "").await;
    assert_eq!(devices, json!([]), "nothing refused was stored");
}
