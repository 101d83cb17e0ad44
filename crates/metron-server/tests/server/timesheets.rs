//! Timesheets and corrections (issue 16): a week built from tracked intervals, an idle stop
//! discarded, an away stretch kept, a manual entry, a moved and a removed interval, checked
//! figure by figure against hand-computed values in the week's timesheet, the day reports and
//! the CSV; then submit, approve and unlock with the audit trail; the policy, the overlap rule
//! and who may review whom; the team's timesheet, and the kept lines of settled days that every
//! change to them forgets.

use super::*;
use metron_server::db::kept_line;

on_both!(
    a_corrected_week_adds_up_to_the_hand_computed_figures_and_locks_when_approved,
    manual_time_obeys_the_policy_and_the_overlap_rule,
    managers_review_the_people_an_admin_gave_them_and_nobody_reviews_themselves,
    tracked_time_that_arrives_after_manual_time_is_counted_once,
    two_overlapping_entries_sent_at_once_store_one,
    a_team_timesheet_adds_up_its_people_and_only_reviewers_read_it,
    kept_days_are_forgotten_by_every_change_to_them,
    kept_lines_are_packed_and_those_kept_as_json_before_still_read,
);

const DAY: i64 = 86_400;

/// An interval `start` seconds after [`t0`] (08:00 UTC of the fixture day, a Monday: 09:00
/// local at +60), `secs` long, its first `active` seconds with input.
fn tracked(task: &str, start: i64, secs: i64, active: i64, end_reason: &str) -> Value {
    let mut i = interval(task, start, secs);
    i["active"] = json!(format!(
        "{}{}",
        "1".repeat(active as usize),
        "0".repeat((secs - active) as usize)
    ));
    i["end_reason"] = json!(end_reason);
    i
}

/// `n` back-to-back minute intervals from `start`, `active` seconds of input each.
fn minutes(task: &str, start: i64, n: i64, active: i64) -> Vec<Value> {
    (0..n)
        .map(|k| tracked(task, start + 60 * k, 60, active, "boundary"))
        .collect()
}

async fn post(f: &Fixture, token: &str, items: Vec<Value>) {
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/intervals",
            Some(token),
            Some(json!({ "intervals": items })),
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

async fn new_task(f: &Fixture, admin: &str, name: &str) -> String {
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/tasks",
            Some(admin),
            Some(json!({"name": name, "project": "Q4"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_string()
}

async fn set_policy(f: &Fixture, admin: &str, policy: Value) {
    let (status, body) = f
        .call(
            "PUT",
            "/api/v1/timesheets/policy",
            Some(admin),
            Some(policy),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn add_manual(
    f: &Fixture,
    token: &str,
    task: &str,
    from: i64,
    to: i64,
    note: &str,
) -> (StatusCode, Value) {
    f.call(
        "POST",
        "/api/v1/manual-entries",
        Some(token),
        Some(json!({"task_id": task, "started_at": at(from), "ended_at": at(to), "note": note})),
    )
    .await
}

async fn correct(f: &Fixture, token: &str, interval: &Value, change: Value) -> (StatusCode, Value) {
    f.call(
        "POST",
        "/api/v1/corrections",
        Some(token),
        Some(json!({"interval_id": interval["id"], "change": change, "reason": "fixing my week"})),
    )
    .await
}

async fn decide(
    f: &Fixture,
    token: &str,
    what: &str,
    id: &Value,
    decision: &str,
) -> (StatusCode, Value) {
    f.call(
        "POST",
        &format!("/api/v1/{what}/{}/decision", id.as_str().unwrap()),
        Some(token),
        Some(json!({"decision": decision, "note": "checked with the calendar"})),
    )
    .await
}

/// (tracked, active, manual, total, activity %) of a figures object.
fn figures(v: &Value) -> (u64, u64, u64, u64, u64) {
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    (
        n("tracked_secs"),
        n("active_secs"),
        n("manual_secs"),
        n("total_secs"),
        n("activity_pct"),
    )
}

async fn a_corrected_week_adds_up_to_the_hand_computed_figures_and_locks_when_approved(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let write = new_task(&f, &boss, "Write report").await;
    let meet = new_task(&f, &boss, "Meetings").await;
    // The week is 14 to 20 days back (`fixture_day`): a window of 30 days covers it.
    set_policy(
        &f,
        &boss,
        json!({"manual": "approval", "moves": "allowed", "max_manual_secs": 28800, "edit_window_days": 30}),
    )
    .await;

    // Monday: 30 minutes at 45 s of input each; then an idle stop whose interval has 60 s of
    // input and 300 idle seconds, discarded (cut after its first minute).
    let mut items = minutes(&write, 0, 30, 45);
    let mon_idle = tracked(&write, 1800, 360, 60, "idle");
    items.push(mon_idle.clone());
    // Tuesday: 10 full minutes, then an idle stop kept as work: its interval stays whole and
    // the away time until 08:30 UTC becomes manual time on the same task.
    items.extend(minutes(&write, DAY, 10, 60));
    items.push(tracked(&write, DAY + 600, 360, 60, "idle"));
    // Wednesday: 20 minutes at 30 s.
    items.extend(minutes(&write, 2 * DAY, 20, 30));
    // Thursday: a 10-minute interval (300 s of input) that belonged to the meeting, then 10
    // full minutes.
    let thu_moved = tracked(&write, 3 * DAY, 600, 300, "switch");
    items.push(thu_moved.clone());
    items.extend(minutes(&write, 3 * DAY + 600, 10, 60));
    // Friday: 10 minutes that weren't work (removed), then 20 minutes at 40 s.
    let fri_removed = tracked(&write, 4 * DAY, 600, 600, "switch");
    items.push(fri_removed.clone());
    items.extend(minutes(&write, 4 * DAY + 600, 20, 40));
    post(&f, &ann, items).await;

    // The discarded idle tail, the move and the removal: in force at once.
    let (status, trim) = correct(
        &f,
        &ann,
        &mon_idle,
        json!({"action": "trim", "until": at(1860)}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{trim}");
    assert_eq!(trim["status"], "approved");
    let (status, moved) = correct(
        &f,
        &ann,
        &thu_moved,
        json!({"action": "move", "task_id": meet}),
    )
    .await;
    assert_eq!(
        (status, moved["status"].as_str()),
        (StatusCode::CREATED, Some("approved")),
        "{moved}"
    );
    let (status, removed) = correct(&f, &ann, &fri_removed, json!({"action": "remove"})).await;
    assert_eq!(
        (status, removed["status"].as_str()),
        (StatusCode::CREATED, Some("approved")),
        "{removed}"
    );

    // The kept away stretch (Tuesday 08:16-08:30 UTC) and a forgotten meeting (Wednesday
    // 13:00-14:30 local): pending until the admin approves them.
    let (status, kept) = add_manual(
        &f,
        &ann,
        &write,
        DAY + 960,
        DAY + 1800,
        "kept: away at the whiteboard",
    )
    .await;
    assert_eq!(
        (status, kept["status"].as_str()),
        (StatusCode::CREATED, Some("pending")),
        "{kept}"
    );
    let (status, meeting) = add_manual(
        &f,
        &ann,
        &meet,
        2 * DAY + 14_400,
        2 * DAY + 19_800,
        "client call",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{meeting}");
    // One denied and one withdrawn: neither counts.
    let (_, denied) = add_manual(
        &f,
        &ann,
        &meet,
        2 * DAY + 20_000,
        2 * DAY + 21_000,
        "lunch?",
    )
    .await;
    let (_, withdrawn) = add_manual(&f, &ann, &meet, 5 * DAY, 5 * DAY + 3600, "saturday").await;
    let (status, body) = f
        .call(
            "POST",
            &format!(
                "/api/v1/manual-entries/{}/withdraw",
                withdrawn["id"].as_str().unwrap()
            ),
            Some(&ann),
            Some(json!({"reason": "not work after all"})),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("withdrawn")),
        "{body}"
    );

    // Before approval, pending time counts nowhere.
    let (_, wed) = f
        .call(
            "GET",
            &format!("/api/v1/reports/daily?date={}", fixture_date(2)),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(wed["manual_secs"], 0, "{wed}");

    // The admin sees what waits, approves two, denies one.
    let (status, waiting) = f.call("GET", "/api/v1/approvals", Some(&boss), None).await;
    assert_eq!(status, StatusCode::OK, "{waiting}");
    assert_eq!(
        waiting["manual_entries"].as_array().unwrap().len(),
        3,
        "{waiting}"
    );
    for (id, verdict) in [
        (&kept["id"], "approve"),
        (&meeting["id"], "approve"),
        (&denied["id"], "deny"),
    ] {
        let (status, body) = decide(&f, &boss, "manual-entries", id, verdict).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, again) = decide(&f, &boss, "manual-entries", &kept["id"], "deny").await;
    assert!(
        again["error"]
            .as_str()
            .unwrap()
            .contains("already approved"),
        "{again}"
    );
    // The person sees the outcome.
    let (_, mine) = f
        .call(
            "GET",
            &format!("/api/v1/manual-entries?from={}&to={}", at(0), at(7 * DAY)),
            Some(&ann),
            None,
        )
        .await;
    let outcome: Vec<(&str, &str)> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["note"].as_str().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcome,
        [
            ("kept: away at the whiteboard", "approved"),
            ("client call", "approved"),
            ("lunch?", "denied"),
            ("saturday", "withdrawn")
        ]
    );

    // The week, by hand:
    //   Mon: tracked 1800 + 60 = 1860, active 1350 + 60 = 1410, activity 75.8 -> 76
    //   Tue: tracked 600 + 360 = 960, active 600 + 60 = 660, manual 840, total 1800, 68.75 -> 69
    //   Wed: tracked 1200, active 600, manual 5400, total 6600, 50
    //   Thu: tracked 1200 (600 moved to Meetings), active 300 + 600 = 900, 75
    //   Fri: tracked 1200 (600 removed), active 800, 66.7 -> 67
    //   Week: tracked 6420, active 4370, manual 6240, total 12660, 68.07 -> 68
    //   Write report: tracked 5820, active 4070, manual 840, total 6660, 69.9 -> 70
    //   Meetings: tracked 600, active 300, manual 5400, total 6000, 50
    let path = |p: &str| format!("/api/v1/timesheets{p}?period=week&date={}", fixture_date(3));
    let (status, sheet) = f.call("GET", &path(""), Some(&ann), None).await;
    assert_eq!(status, StatusCode::OK, "{sheet}");
    assert_eq!(sheet["state"], "open");
    let ts = &sheet["timesheet"];
    assert_eq!(
        ts["period"],
        json!({"kind": "week", "start": fixture_date(0)})
    );
    assert_eq!(figures(ts), (6420, 4370, 6240, 12660, 68));
    let days: Vec<_> = ts["days"].as_array().unwrap().iter().map(figures).collect();
    assert_eq!(
        days,
        [
            (1860, 1410, 0, 1860, 76),
            (960, 660, 840, 1800, 69),
            (1200, 600, 5400, 6600, 50),
            (1200, 900, 0, 1200, 75),
            (1200, 800, 0, 1200, 67),
            (0, 0, 0, 0, 0),
            (0, 0, 0, 0, 0),
        ]
    );
    let tasks: Vec<_> = ts["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["task_id"].as_str().unwrap().to_string(), figures(t)))
        .collect();
    assert_eq!(
        tasks,
        [
            (write.clone(), (5820, 4070, 840, 6660, 70)),
            (meet.clone(), (600, 300, 5400, 6000, 50)),
        ]
    );
    let thursday_tasks: Vec<_> = ts["days"][3]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["task_id"].as_str().unwrap().to_string(), figures(t)))
        .collect();
    assert_eq!(
        thursday_tasks,
        // A tie in total time: by task id (the first task created first).
        [
            (write.clone(), (600, 600, 0, 600, 100)),
            (meet.clone(), (600, 300, 0, 600, 50)),
        ]
    );
    assert_eq!(sheet["task_names"][&meet], "Meetings");

    // The day reports say the same.
    for (date, want) in [
        (fixture_date(0), (1860, 1410, 0, 76)),
        (fixture_date(1), (960, 660, 840, 69)),
        (fixture_date(2), (1200, 600, 5400, 50)),
        (fixture_date(4), (1200, 800, 0, 67)),
    ] {
        let (_, day) = f
            .call(
                "GET",
                &format!("/api/v1/reports/daily?date={date}"),
                Some(&ann),
                None,
            )
            .await;
        let got = (
            day["tracked_secs"].as_u64().unwrap(),
            day["active_secs"].as_u64().unwrap(),
            day["manual_secs"].as_u64().unwrap(),
            day["activity_pct"].as_u64().unwrap(),
        );
        assert_eq!(got, want, "{date}: {day}");
    }
    let (_, wed) = f
        .call(
            "GET",
            &format!("/api/v1/reports/daily?date={}", fixture_date(2)),
            Some(&ann),
            None,
        )
        .await;
    let wed_meet = wed["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["task_id"] == meet.as_str())
        .unwrap();
    assert_eq!(
        (
            wed_meet["tracked_secs"].as_u64(),
            wed_meet["manual_secs"].as_u64()
        ),
        (Some(0), Some(5400))
    );
    // And the team's day, for the admin.
    let (_, team) = f
        .call(
            "GET",
            &format!("/api/v1/reports/team?date={}", fixture_date(1)),
            Some(&boss),
            None,
        )
        .await;
    let ann_line = team["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"]["email"] == "ann@acme.test")
        .unwrap();
    assert_eq!(
        (
            ann_line["tracked_secs"].as_u64(),
            ann_line["manual_secs"].as_u64()
        ),
        (Some(960), Some(840))
    );

    // The CSV: a row per day and task, a total per day, the week's total.
    let (status, _, csv) = f.get_text(&path(".csv"), &ann).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "user,date,task,tracked_secs,active_secs,passive_secs,manual_secs,total_secs,activity_pct,total_hours,state,locked_total_secs,changed_since_lock"
    );
    let [monday, tuesday, wednesday, thursday] = [0, 1, 2, 3].map(fixture_date);
    for want in [
        format!("\"ann@acme.test\",{monday},\"Write report\",1860,1410,,0,1860,76,0.52,open,,"),
        format!("\"ann@acme.test\",{tuesday},\"Write report\",960,660,,840,1800,69,0.50,open,,"),
        format!("\"ann@acme.test\",{wednesday},\"Meetings\",0,0,,5400,5400,0,1.50,open,,"),
        format!("\"ann@acme.test\",{wednesday},\"(day total)\",1200,600,0,5400,6600,50,1.83,open,,"),
        format!("\"ann@acme.test\",{thursday},\"Meetings\",600,300,,0,600,50,0.17,open,,"),
        format!("\"ann@acme.test\",week {monday},\"(total)\",6420,4370,0,6240,12660,68,3.52,open,,false"),
    ] {
        assert!(lines.contains(&want.as_str()), "no line {want} in\n{csv}");
    }
    // 5 days x (tasks + a total) + header + the week's total.
    assert_eq!(lines.len(), 1 + (2 + 2 + 3 + 3 + 2) + 1, "{csv}");

    // Submitted: locked for the person.
    let week = json!({"period": "week", "date": wednesday, "note": "my week"});
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/timesheets/submit",
            Some(&ann),
            Some(week.clone()),
        )
        .await;
    assert_eq!(
        (status, body["state"].as_str()),
        (StatusCode::OK, Some("submitted")),
        "{body}"
    );
    let (status, body) = add_manual(&f, &ann, &meet, 5 * DAY, 5 * DAY + 600, "late entry").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"].as_str().unwrap().contains("unlock"), "{body}");
    let last = tracked(&write, 4 * DAY + 600, 60, 40, "boundary");
    let (_, friday) = f
        .call(
            "GET",
            &format!(
                "/api/v1/intervals?from={}&to={}",
                at(4 * DAY + 600),
                at(4 * DAY + 660)
            ),
            Some(&ann),
            None,
        )
        .await;
    let friday_first = &friday.as_array().unwrap()[0];
    assert_eq!(friday_first["started_at"], last["started_at"]);
    let (status, _) = correct(&f, &ann, friday_first, json!({"action": "remove"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // The person can't approve their own week; the admin can.
    let with_ann = |mut v: Value, id: &str| {
        v["user_id"] = json!(id);
        v
    };
    let ann_id = sheet["user"]["id"].as_str().unwrap().to_string();
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/timesheets/approve",
            Some(&ann),
            Some(with_ann(week.clone(), &ann_id)),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, waiting) = f.call("GET", "/api/v1/approvals", Some(&boss), None).await;
    assert_eq!(
        waiting["timesheets"][0]["period"]["start"], monday,
        "{waiting}"
    );
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/timesheets/approve",
            Some(&boss),
            Some(with_ann(week.clone(), &ann_id)),
        )
        .await;
    assert_eq!(
        (status, body["state"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{body}"
    );
    assert!(body["decided_by"].is_string(), "{body}");
    // Approved: still locked.
    let (status, _) = add_manual(&f, &ann, &meet, 5 * DAY, 5 * DAY + 600, "late entry").await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Unlocked by the admin: open again, the late entry goes in (pending).
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/timesheets/unlock",
            Some(&boss),
            Some(with_ann(week.clone(), &ann_id)),
        )
        .await;
    assert_eq!(
        (status, body["state"].as_str()),
        (StatusCode::OK, Some("open")),
        "{body}"
    );
    let (status, body) = add_manual(&f, &ann, &meet, 5 * DAY, 5 * DAY + 600, "late entry").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::CREATED, Some("pending")),
        "{body}"
    );

    // The audit trail: every step, who did it, before and after.
    let (status, trail) = f
        .call(
            "GET",
            &format!("/api/v1/audit?from={}&to={}", at(-30 * DAY), at(60 * DAY)),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    let mut actions: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    actions.reverse();
    assert_eq!(
        actions,
        [
            "correction.create",
            "correction.create",
            "correction.create",
            "manual_entry.create",
            "manual_entry.create",
            "manual_entry.create",
            "manual_entry.create",
            "manual_entry.withdraw",
            "manual_entry.approve",
            "manual_entry.approve",
            "manual_entry.deny",
            "timesheet.submit",
            "timesheet.approve",
            "timesheet.unlock",
            "manual_entry.create",
        ]
    );
    let move_record = trail
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["subject_id"] == moved["id"])
        .unwrap();
    assert_eq!(move_record["before"]["task_id"], write.as_str());
    assert_eq!(move_record["after"]["change"]["task_id"], meet.as_str());
    assert_eq!(move_record["reason"], "fixing my week");
    let approval = trail
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "timesheet.approve")
        .unwrap();
    assert_eq!(
        approval["after"]["figures"]["total_secs"], 12660,
        "{approval}"
    );
    assert_ne!(approval["actor_id"], approval["user_id"]);
}

async fn manual_time_obeys_the_policy_and_the_overlap_rule(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let eve = f.login("eve@other.test", "eve-password").await;
    let task = new_task(&f, &boss, "Write report").await;
    // Yesterday's local morning, inside the default 7-day window.
    let now = chrono::Utc::now().timestamp();
    let base = (now - DAY) / 3600 * 3600 - t0();
    post(&f, &ann, minutes(&task, base, 10, 30)).await;

    // The default policy: manual time needs approval, entries up to 8 h, 7 days back.
    let (_, policy) = f
        .call("GET", "/api/v1/timesheets/policy", Some(&ann), None)
        .await;
    assert_eq!(
        policy,
        json!({"manual": "approval", "max_manual_secs": 28800, "moves": "allowed", "edit_window_days": 7, "passive_limit_secs": 7200})
    );
    // Overlapping tracked time, another entry, too long, in the future, too far back.
    let (status, body) = add_manual(&f, &ann, &task, base + 300, base + 900, "x").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("tracked time"),
        "{body}"
    );
    let (status, _) = add_manual(&f, &ann, &task, base + 600, base + 1200, "first").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = add_manual(&f, &ann, &task, base + 1100, base + 1500, "second").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("another manual entry"),
        "{body}"
    );
    let (status, body) =
        add_manual(&f, &ann, &task, base + 1200, base + 1200 + 9 * 3600, "long").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) =
        add_manual(&f, &ann, &task, now - t0() + 60, now - t0() + 600, "future").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) =
        add_manual(&f, &ann, &task, base - 9 * DAY, base - 9 * DAY + 600, "old").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("edit window"),
        "{body}"
    );
    let (status, _) = add_manual(&f, &ann, "no-such-task", base + 2000, base + 2600, "x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Unknown fields and malformed times are refused, not ignored.
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/manual-entries",
            Some(&ann),
            Some(json!({"task_id": task, "started_at": "yesterday", "ended_at": at(base)})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/manual-entries",
            Some(&ann),
            Some(json!({"task_id": task, "started_at": at(base + 2000), "ended_at": at(base + 2600), "status": "approved"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Only admins set the policy, within bounds; "not allowed" then refuses manual time.
    let (status, _) = f
        .call(
            "PUT",
            "/api/v1/timesheets/policy",
            Some(&ann),
            Some(json!({"manual": "allowed"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = f
        .call(
            "PUT",
            "/api/v1/timesheets/policy",
            Some(&boss),
            Some(json!({"max_manual_secs": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    set_policy(&f, &boss, json!({"manual": "forbidden"})).await;
    let (status, _) = add_manual(&f, &ann, &task, base + 2000, base + 2600, "x").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An admin adding for someone is in force at once.
    let ann_id = f.call("GET", "/api/v1/me", Some(&ann), None).await.1["id"].clone();
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/manual-entries",
            Some(&boss),
            Some(json!({"user_id": ann_id, "task_id": task, "started_at": at(base + 2000), "ended_at": at(base + 2600), "note": "workshop"})),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::CREATED, Some("approved")),
        "{body}"
    );
    set_policy(
        &f,
        &boss,
        json!({"manual": "allowed", "moves": "forbidden"}),
    )
    .await;
    let (status, body) = add_manual(&f, &ann, &task, base + 3000, base + 3600, "x").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::CREATED, Some("approved")),
        "{body}"
    );

    // Corrections: a move is refused under "moves": "forbidden"; a cut must fall inside the
    // interval; nobody else's interval can be named.
    let (_, list) = f
        .call(
            "GET",
            &format!("/api/v1/intervals?from={}&to={}", at(base), at(base + 600)),
            Some(&ann),
            None,
        )
        .await;
    let first = list[0].clone();
    let (status, _) = correct(&f, &ann, &first, json!({"action": "move", "task_id": task})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = correct(
        &f,
        &ann,
        &first,
        json!({"action": "trim", "until": at(base + 3600)}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = correct(&f, &eve, &first, json!({"action": "remove"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Another organization can't read Ann's time.
    let (status, _) = f
        .call(
            "GET",
            &format!(
                "/api/v1/timesheets?period=week&date={}&user_id={}",
                fixture_date(2),
                ann_id.as_str().unwrap()
            ),
            Some(&eve),
            None,
        )
        .await;
    // Refused before any lookup: the answer is the same whether the id exists or not.
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = f
        .call(
            "GET",
            "/api/v1/timesheets?period=fortnight&date=2026-11-25",
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Ann, Max (a third person of her organization) and Boss, the admin, signed in, with a
/// task.
struct Team {
    ann: String,
    boss: String,
    max: String,
    ann_id: String,
    max_id: String,
    task: String,
}

impl Team {
    async fn of(f: &Fixture) -> Team {
        accounts::add_user(
            &f.state,
            "acme",
            "max@acme.test",
            "Max",
            "max-password",
            false,
        )
        .await
        .unwrap();
        let ann = f.login("ann@acme.test", "ann-password").await;
        let boss = f.login("boss@acme.test", "boss-password").await;
        let max = f.login("max@acme.test", "max-password").await;
        let (ann_id, max_id) = (f.user_id(&ann).await, f.user_id(&max).await);
        let task = new_task(f, &boss, "Write report").await;
        Team {
            ann,
            boss,
            max,
            ann_id,
            max_id,
            task,
        }
    }
}

async fn managers_review_the_people_an_admin_gave_them_and_nobody_reviews_themselves(f: Fixture) {
    let Team {
        ann,
        boss,
        max,
        ann_id,
        max_id,
        task,
    } = Team::of(&f).await;
    let base = (chrono::Utc::now().timestamp() - DAY) / 3600 * 3600 - t0();
    let (_, ann_entry) = add_manual(&f, &ann, &task, base, base + 600, "ann's").await;
    let (_, max_entry) = add_manual(&f, &max, &task, base, base + 600, "max's").await;

    // Before the role, Max reviews nobody.
    let (_, waiting) = f.call("GET", "/api/v1/approvals", Some(&max), None).await;
    assert_eq!(waiting["manual_entries"], json!([]), "{waiting}");
    let (status, _) = decide(&f, &max, "manual-entries", &ann_entry["id"], "approve").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Only an admin grants it.
    let (status, _) = f
        .call(
            "PUT",
            &format!("/api/v1/users/{max_id}/managed"),
            Some(&max),
            Some(json!({"users": [ann_id]})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = f
        .call(
            "PUT",
            &format!("/api/v1/users/{max_id}/managed"),
            Some(&boss),
            Some(json!({"users": [max_id]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "nobody manages themselves");
    let (status, body) = f
        .call(
            "PUT",
            &format!("/api/v1/users/{max_id}/managed"),
            Some(&boss),
            Some(json!({"users": [ann_id]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Max now sees and decides Ann's entry, reads her timesheet, but not his own entry.
    let (_, waiting) = f.call("GET", "/api/v1/approvals", Some(&max), None).await;
    let notes: Vec<&str> = waiting["manual_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["note"].as_str().unwrap())
        .collect();
    assert_eq!(notes, ["ann's"]);
    let (status, body) = decide(&f, &max, "manual-entries", &ann_entry["id"], "approve").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{body}"
    );
    let (status, _) = decide(&f, &max, "manual-entries", &max_entry["id"], "approve").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = f
        .call(
            "GET",
            &format!(
                "/api/v1/timesheets?period=month&date={}&user_id={ann_id}",
                fixture_date(2)
            ),
            Some(&max),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // A manager reads the day of the people they review (to check what they approve), not
    // anyone else's.
    let (status, _) = f
        .call(
            "GET",
            &format!(
                "/api/v1/reports/daily?date={}&user_id={ann_id}",
                fixture_date(2)
            ),
            Some(&max),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let boss_id = f.user_id(&boss).await;
    let (status, _) = f
        .call(
            "GET",
            &format!(
                "/api/v1/reports/daily?date={}&user_id={boss_id}",
                fixture_date(2)
            ),
            Some(&max),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Ann can't read Max's, and the admin sees Max's entry waiting.
    let (status, _) = f
        .call(
            "GET",
            &format!(
                "/api/v1/timesheets?period=month&date={}&user_id={max_id}",
                fixture_date(2)
            ),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, waiting) = f.call("GET", "/api/v1/approvals", Some(&boss), None).await;
    let notes: Vec<&str> = waiting["manual_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["note"].as_str().unwrap())
        .collect();
    assert_eq!(notes, ["max's"]);
}

async fn tracked_time_that_arrives_after_manual_time_is_counted_once(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let task = new_task(&f, &boss, "Write report").await;
    set_policy(&f, &boss, json!({"manual": "allowed"})).await;
    // Yesterday 09:00-10:00 UTC by hand; then a laptop that was offline delivers 09:30-09:40.
    let base = (chrono::Utc::now().timestamp() - DAY) / DAY * DAY + 9 * 3600 - t0();
    let (status, entry) = add_manual(&f, &ann, &task, base, base + 3600, "workshop").await;
    assert_eq!(
        (status, entry["status"].as_str()),
        (StatusCode::CREATED, Some("approved")),
        "{entry}"
    );
    post(&f, &ann, minutes(&task, base + 1800, 10, 60)).await;
    let date = chrono::DateTime::from_timestamp(t0() + base, 0)
        .unwrap()
        .date_naive();
    let (_, day) = f
        .call(
            "GET",
            &format!("/api/v1/reports/daily?date={date}&utc_offset_minutes=0"),
            Some(&ann),
            None,
        )
        .await;
    // 600 s tracked, and the entry's other 3,000 s: no second twice, none lost.
    assert_eq!(
        (day["tracked_secs"].as_u64(), day["manual_secs"].as_u64()),
        (Some(600), Some(3000)),
        "{day}"
    );
}

async fn two_overlapping_entries_sent_at_once_store_one(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let task = new_task(&f, &boss, "Write report").await;
    let base = (chrono::Utc::now().timestamp() - DAY) / DAY * DAY + 9 * 3600 - t0();
    // Both pass the checks before the insert; the database lets one in.
    let answers: Vec<StatusCode> = futures_join(
        add_manual(&f, &ann, &task, base, base + 1800, "first"),
        add_manual(&f, &ann, &task, base + 900, base + 2700, "second"),
    )
    .await;
    let mut sorted = answers.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [StatusCode::CREATED, StatusCode::CONFLICT],
        "{answers:?}"
    );
    let (_, list) = f
        .call(
            "GET",
            &format!(
                "/api/v1/manual-entries?from={}&to={}",
                at(base - DAY),
                at(base + DAY)
            ),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
}

async fn futures_join(
    a: impl std::future::Future<Output = (StatusCode, Value)>,
    b: impl std::future::Future<Output = (StatusCode, Value)>,
) -> Vec<StatusCode> {
    let ((sa, _), (sb, _)) = tokio::join!(a, b);
    vec![sa, sb]
}

async fn sheet(f: &Fixture, token: &str, query: &str) -> Value {
    let (status, body) = f
        .call(
            "GET",
            &format!("/api/v1/timesheets?{query}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn a_team_timesheet_adds_up_its_people_and_only_reviewers_read_it(f: Fixture) {
    let Team {
        ann,
        boss,
        max,
        ann_id,
        max_id,
        task,
    } = Team::of(&f).await;
    set_policy(
        &f,
        &boss,
        json!({"manual": "allowed", "edit_window_days": 30}),
    )
    .await;
    // Ann: Monday 20 minutes at 30 s of input, Tuesday 10 at 60 s.
    let mut items = minutes(&task, 0, 20, 30);
    items.extend(minutes(&task, DAY, 10, 60));
    post(&f, &ann, items).await;
    // Max: Wednesday 10 minutes at 45 s, and an hour of manual time that afternoon.
    post(&f, &max, minutes(&task, 2 * DAY, 10, 45)).await;
    let (status, entry) = add_manual(
        &f,
        &max,
        &task,
        2 * DAY + 4 * 3600,
        2 * DAY + 5 * 3600,
        "workshop",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");

    let query = format!("period=week&date={}", fixture_date(2));
    let (status, team) = f
        .call(
            "GET",
            &format!("/api/v1/timesheets/team?{query}"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{team}");
    let people = team["people"].as_array().unwrap();
    let emails: Vec<&str> = people
        .iter()
        .map(|p| p["user"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["ann@acme.test", "boss@acme.test", "max@acme.test"],
        "by name"
    );
    // Each line is the person's own timesheet, day by day.
    for person in people {
        let id = person["user"]["id"].as_str().unwrap();
        let own = sheet(&f, &boss, &format!("{query}&user_id={id}")).await;
        assert_eq!(figures(person), figures(&own["timesheet"]), "{person}");
        let days = |v: &Value| -> Vec<(u64, u64, u64, u64, u64)> {
            v.as_array().unwrap().iter().map(figures).collect()
        };
        assert_eq!(days(&person["days"]), days(&own["timesheet"]["days"]));
        assert_eq!(person["state"], "open");
    }
    assert_eq!(figures(&people[0]), (1800, 1200, 0, 1800, 67));
    assert_eq!(figures(&people[1]), (0, 0, 0, 0, 0));
    assert_eq!(figures(&people[2]), (600, 450, 3600, 4200, 75));
    assert_eq!(figures(&people[2]["days"][2]), (600, 450, 3600, 4200, 75));
    assert_eq!(
        figures(&team),
        (2400, 1650, 3600, 6000, 69),
        "the team's total"
    );
    assert_eq!(team["task_names"][&task], "Write report");

    // The CSV: a row per person and day with time, and each person's total.
    let (status, _, csv) = f
        .get_text(&format!("/api/v1/timesheets/team.csv?{query}"), &boss)
        .await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    let [monday, tuesday, wednesday] = [0, 1, 2].map(fixture_date);
    assert_eq!(
        lines,
        [
            "user,name,date,tracked_secs,active_secs,passive_secs,manual_secs,total_secs,activity_pct,total_hours,state,locked_total_secs,changed_since_lock".to_string(),
            format!("\"ann@acme.test\",\"Ann\",{monday},1200,600,0,0,1200,50,0.33,open,,"),
            format!("\"ann@acme.test\",\"Ann\",{tuesday},600,600,0,0,600,100,0.17,open,,"),
            format!("\"ann@acme.test\",\"Ann\",week {monday},1800,1200,0,0,1800,67,0.50,open,,false"),
            format!("\"boss@acme.test\",\"Boss\",week {monday},0,0,0,0,0,0,0.00,open,,false"),
            format!("\"max@acme.test\",\"Max\",{wednesday},600,450,0,3600,4200,75,1.17,open,,"),
            format!("\"max@acme.test\",\"Max\",week {monday},600,450,0,3600,4200,75,1.17,open,,false"),
        ],
        "{csv}"
    );

    // A submitted week shows as such.
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/timesheets/submit",
            Some(&ann),
            Some(json!({"period": "week", "date": monday})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Only reviewers read a team: Ann reviews nobody; Max, once he manages her, reads her only.
    let (status, _) = f
        .call(
            "GET",
            &format!("/api/v1/timesheets/team?{query}"),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = f
        .call(
            "PUT",
            &format!("/api/v1/users/{max_id}/managed"),
            Some(&boss),
            Some(json!({"users": [ann_id]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, mine) = f
        .call(
            "GET",
            &format!("/api/v1/timesheets/team?{query}"),
            Some(&max),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["people"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["people"][0]["user"]["id"], json!(ann_id));
    assert_eq!(mine["people"][0]["state"], "submitted");
    assert_eq!(figures(&mine), (1800, 1200, 0, 1800, 67));
    for bad in [
        "period=year&date=2026-11-25",
        "period=week",
        "period=week&date=25.11.2026",
    ] {
        let (status, body) = f
            .call(
                "GET",
                &format!("/api/v1/timesheets/team?{bad}"),
                Some(&boss),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
}

/// Of the fixture day's week: (Monday's tracked, Monday's manual, Tuesday's manual, the
/// week's total, Monday's tasks).
async fn week_of(f: &Fixture, token: &str) -> (u64, u64, u64, u64, Vec<String>) {
    let body = sheet(f, token, &format!("period=week&date={}", fixture_date(0))).await;
    let sheet = &body["timesheet"];
    let tasks: Vec<String> = sheet["days"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task_id"].as_str().unwrap().to_string())
        .collect();
    (
        sheet["days"][0]["tracked_secs"].as_u64().unwrap(),
        sheet["days"][0]["manual_secs"].as_u64().unwrap(),
        sheet["days"][1]["manual_secs"].as_u64().unwrap(),
        sheet["total_secs"].as_u64().unwrap(),
        tasks,
    )
}

/// The person's kept lines of that week.
async fn kept_lines(f: &Fixture, user_id: &str) -> Vec<(String, Vec<u8>)> {
    f.state
        .db
        .timesheet_days(user_id, &fixture_date(0), &fixture_date(6))
        .await
        .unwrap()
}

/// A kept line is stored packed (migration 0023); one kept as JSON by a server before it, as
/// the migration leaves it (the bytes of its JSON), still reads, and is what the week shows.
async fn kept_lines_are_packed_and_those_kept_as_json_before_still_read(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann_id = f.user_id(&ann).await;
    let write = new_task(&f, &boss, "Write report").await;
    post(&f, &ann, vec![tracked(&write, 0, 600, 300, "switch")]).await;
    assert_eq!(week_of(&f, &ann).await.0, 600);
    let kept = kept_lines(&f, &ann_id).await;
    assert_eq!(kept.len(), 7, "the settled week was kept by that read");
    for (day, body) in &kept {
        assert_eq!(body.first(), Some(&1), "{day}: packed, format 1");
    }
    // Monday's line as JSON, 60 s more by hand: a week that shows 660 read it.
    let (monday, body) = &kept[0];
    let mut line = kept_line::unpack(kept_line::day_of(monday).unwrap(), body).unwrap();
    line.figures.tracked_secs += 60;
    line.figures.total_secs += 60;
    let json = serde_json::to_string(&line).unwrap();
    let bytes = if db::is_postgres(&f.url()) {
        format!("convert_to('{json}', 'UTF8')")
    } else {
        format!("CAST('{json}' AS BLOB)")
    };
    let changed = f
        .scalar(&format!(
            "UPDATE timesheet_days SET body = {bytes} WHERE user_id = '{ann_id}' AND day = \
             '{monday}' RETURNING CAST(1 AS BIGINT)"
        ))
        .await;
    assert_eq!(changed, 1);
    assert_eq!(week_of(&f, &ann).await.0, 660);
}

async fn kept_days_are_forgotten_by_every_change_to_them(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann_id = f.user_id(&ann).await;
    let write = new_task(&f, &boss, "Write report").await;
    let meet = new_task(&f, &boss, "Meetings").await;
    set_policy(
        &f,
        &boss,
        json!({"manual": "allowed", "moves": "allowed", "edit_window_days": 30}),
    )
    .await;
    let monday = tracked(&write, 0, 600, 300, "switch");
    post(&f, &ann, vec![monday.clone()]).await;
    assert_eq!(
        week_of(&f, &ann).await,
        (600, 0, 0, 600, vec![write.clone()])
    );
    // The week is settled (over in every offset): all seven days were kept by that read.
    assert_eq!(kept_lines(&f, &ann_id).await.len(), 7);
    let version = f.state.db.time_version(&ann_id).await.unwrap().unwrap();

    // An interval that arrives late, for Monday.
    post(&f, &ann, vec![tracked(&write, 3600, 300, 300, "switch")]).await;
    assert!(
        kept_lines(&f, &ann_id).await.is_empty(),
        "from the day before on, all forgotten"
    );
    assert_eq!(
        week_of(&f, &ann).await,
        (900, 0, 0, 900, vec![write.clone()])
    );
    assert_eq!(kept_lines(&f, &ann_id).await.len(), 7);
    // A line computed before a change is not kept after it.
    let next_monday = fixture_date(7);
    let stale = vec![metron_server::db::timesheets::KeptLine {
        day: next_monday.clone(),
        body: "{}".into(),
        team: None,
    }];
    assert!(!f
        .state
        .db
        .keep_timesheet_days(&ann_id, version, &stale)
        .await
        .unwrap());
    assert!(f
        .state
        .db
        .timesheet_days(&ann_id, &next_monday, &next_monday)
        .await
        .unwrap()
        .is_empty());

    // A move.
    let (status, body) = correct(
        &f,
        &ann,
        &monday,
        json!({"action": "move", "task_id": meet}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        week_of(&f, &ann).await,
        (900, 0, 0, 900, vec![meet.clone(), write.clone()])
    );
    // Manual time on Tuesday, then withdrawn.
    let (status, entry) = add_manual(&f, &ann, &write, DAY, DAY + 1800, "call").await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    assert_eq!(
        week_of(&f, &ann).await,
        (900, 0, 1800, 2700, vec![meet.clone(), write.clone()])
    );
    let (status, body) = f
        .call(
            "POST",
            &format!(
                "/api/v1/manual-entries/{}/withdraw",
                entry["id"].as_str().unwrap()
            ),
            Some(&ann),
            Some(json!({"reason": "it was tracked after all"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        week_of(&f, &ann).await,
        (900, 0, 0, 900, vec![meet.clone(), write.clone()])
    );
    // A removal.
    let (status, body) = correct(&f, &ann, &monday, json!({"action": "remove"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        week_of(&f, &ann).await,
        (300, 0, 0, 300, vec![write.clone()])
    );
    // The team's view reads the same kept lines.
    let (_, team) = f
        .call(
            "GET",
            &format!(
                "/api/v1/timesheets/team?period=week&date={}",
                fixture_date(0)
            ),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(team["people"][0]["total_secs"], 300, "{team}");

    // The hourly settling keeps the last weeks' settled days of everyone with time.
    let lines = metron_server::kept_days::settle(&f.state, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(
        lines,
        35 * 3,
        "five weeks of everyone's days: Ann, Boss, and Eve of the other organization"
    );
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Days::new(36)).to_string();
    let to = (today - chrono::Days::new(2)).to_string();
    assert_eq!(
        f.state
            .db
            .timesheet_days(&ann_id, &from, &to)
            .await
            .unwrap()
            .len(),
        35
    );
}
