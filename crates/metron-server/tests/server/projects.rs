//! Projects and tasks (issue 28, item 3): projects as records (created, renamed, coloured,
//! archived, restored, given members), tasks renamed, moved, archived and restored, each
//! change an audit row; archived tasks leave `GET /api/v1/tasks` and keep their time in every
//! report; the list's ETag and 304; who may do what; the caps and bad input; and migration
//! 0014 turning the old `tasks.project` strings into projects.

use super::*;
use metron_server::projects::PALETTE;

on_both!(
    projects_are_created_renamed_coloured_archived_and_restored_each_an_audit_row,
    an_archived_task_leaves_the_list_keeps_its_time_in_every_report_and_takes_late_intervals,
    the_task_list_answers_304_to_its_etag_and_a_new_etag_after_each_change,
    a_projects_members_alone_see_its_tasks_besides_the_admins,
    each_role_may_do_what_the_docs_say_with_projects_and_tasks,
    projects_and_tasks_are_capped_and_bad_input_changes_nothing,
    migration_0014_turns_project_strings_into_projects,
    the_commands_do_what_the_api_does_each_an_audit_row,
);

async fn admin(f: &Fixture) -> String {
    f.login("boss@acme.test", "boss-password").await
}

/// Creates a project as `token`; its id.
async fn project(f: &Fixture, token: &str, body: Value) -> String {
    let (status, body) = f
        .call("POST", "/api/v1/projects", Some(token), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_string()
}

/// Creates a task named `name` in the project named `project` as `token`; its id.
async fn task_in(f: &Fixture, token: &str, name: &str, project: &str) -> String {
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/tasks",
            Some(token),
            Some(json!({"name": name, "project": project})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_string()
}

async fn patch(f: &Fixture, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    f.call("PATCH", path, Some(token), Some(body)).await
}

/// The names of the tasks `GET /api/v1/tasks` gives `token`.
async fn listed(f: &Fixture, token: &str) -> Vec<String> {
    let (status, tasks) = f.call("GET", "/api/v1/tasks", Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{tasks}");
    tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

/// The organization's audit rows, oldest first: (action, subject, actor, user).
async fn audit_actions(f: &Fixture, token: &str) -> Vec<(String, String, String, String)> {
    let now = chrono::Utc::now();
    let range = format!(
        "from={}&to={}",
        (now - chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ"),
        (now + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ")
    );
    let (status, rows) = f
        .call(
            "GET",
            &format!("/api/v1/audit?scope=all&{range}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    let mut rows: Vec<(String, String, String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            // Rows about the organization (its projects) have no person: null.
            let user = r["user_id"].as_str().unwrap_or_default().to_string();
            (s("action"), s("subject_id"), s("actor_id"), user)
        })
        .collect();
    rows.reverse();
    rows
}

async fn projects_are_created_renamed_coloured_archived_and_restored_each_an_audit_row(f: Fixture) {
    let boss = admin(&f).await;
    let boss_id = f.user_id(&boss).await;
    let (status, created) = f
        .call(
            "POST",
            "/api/v1/projects",
            Some(&boss),
            Some(json!({"name": "  Website \u{200B}", "client": "Acme Ltd", "colour": "#AABBCC"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (
            created["name"].clone(),
            created["client"].clone(),
            created["colour"].clone(),
            created["archived"].clone()
        ),
        (
            json!("Website"),
            json!("Acme Ltd"),
            json!("#aabbcc"),
            json!(false)
        )
    );
    let web = created["id"].as_str().unwrap().to_string();
    // No colour asked: the palette's next (one project exists).
    let (_, second) = f
        .call(
            "POST",
            "/api/v1/projects",
            Some(&boss),
            Some(json!({"name": "Mobile"})),
        )
        .await;
    assert_eq!(second["colour"], PALETTE[1]);
    assert_eq!(second["client"], "");
    let mobile = second["id"].as_str().unwrap().to_string();
    // The name is unique in the organization, and only there.
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/projects",
            Some(&boss),
            Some(json!({"name": "Website"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"].as_str().unwrap().contains("Website"));
    let oscar = {
        accounts::add_user(
            &f.state,
            "other",
            "oscar@other.test",
            "Oscar",
            "a-password-1",
            true,
        )
        .await
        .unwrap();
        f.login("oscar@other.test", "a-password-1").await
    };
    project(&f, &oscar, json!({"name": "Website"})).await;

    let task = task_in(&f, &boss, "Landing page", "Website").await;
    let (status, renamed) = patch(
        &f,
        &boss,
        &format!("/api/v1/projects/{web}"),
        json!({"name": "Web site", "colour": "#112233", "client": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(
        (
            renamed["name"].clone(),
            renamed["colour"].clone(),
            renamed["client"].clone()
        ),
        (json!("Web site"), json!("#112233"), json!(""))
    );
    assert_eq!(renamed["tasks"][0]["id"], task.as_str());
    // The task list names the project by its new name (as old clients read it).
    let (_, tasks) = f.call("GET", "/api/v1/tasks", Some(&boss), None).await;
    assert_eq!(
        tasks,
        json!([{"id": task, "name": "Landing page", "project": "Web site"}])
    );
    // Renaming onto another project's name is refused.
    let (status, _) = patch(
        &f,
        &boss,
        &format!("/api/v1/projects/{mobile}"),
        json!({"name": "Web site"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Archived: gone from the list and from the default listing, there with ?archived=true.
    let (status, archived) = patch(
        &f,
        &boss,
        &format!("/api/v1/projects/{web}"),
        json!({"archived": true}),
    )
    .await;
    assert_eq!(
        (status, archived["archived"].clone()),
        (StatusCode::OK, json!(true))
    );
    assert!(listed(&f, &boss).await.is_empty());
    let (_, list) = f.call("GET", "/api/v1/projects", Some(&boss), None).await;
    let names: Vec<&str> = list["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Mobile"]);
    let (_, list) = f
        .call("GET", "/api/v1/projects?archived=true", Some(&boss), None)
        .await;
    assert_eq!(list["projects"].as_array().unwrap().len(), 2);
    assert_eq!(list["projects"][1]["name"], "Web site");
    assert_eq!(list["projects"][1]["tasks"][0]["name"], "Landing page");
    // A task can't be created in an archived project; restored, it can.
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/tasks",
            Some(&boss),
            Some(json!({"name": "Footer", "project": "Web site"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    patch(
        &f,
        &boss,
        &format!("/api/v1/projects/{web}"),
        json!({"archived": false}),
    )
    .await;
    assert_eq!(listed(&f, &boss).await, ["Landing page"]);
    task_in(&f, &boss, "Footer", "Web site").await;

    let actions: Vec<(String, String)> = audit_actions(&f, &boss)
        .await
        .into_iter()
        .map(|(action, subject, actor, user)| {
            // The organization's row: by the admin, about no one person.
            assert_eq!((actor.as_str(), user.as_str()), (boss_id.as_str(), ""));
            (action, subject)
        })
        .collect();
    let footer = actions.last().unwrap().1.clone();
    assert_eq!(
        actions,
        [
            ("project.create".to_string(), web.clone()),
            ("project.create".into(), mobile.clone()),
            ("task.create".into(), task.clone()),
            ("project.update".into(), web.clone()),
            ("project.archive".into(), web.clone()),
            ("project.restore".into(), web.clone()),
            ("task.create".into(), footer),
        ]
    );
    // The chain holds with them.
    metron_server::audit_chain::verify(f.state.db.as_ref())
        .await
        .unwrap()
        .unwrap();
}

async fn an_archived_task_leaves_the_list_keeps_its_time_in_every_report_and_takes_late_intervals(
    f: Fixture,
) {
    let boss = admin(&f).await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let ann_id = f.user_id(&ann).await;
    let gone = task_in(&f, &boss, "Legacy migration", "Q4").await;
    let kept = task_in(&f, &boss, "Support", "Q4").await;
    let send = |items: Vec<Value>| {
        let (f, ann) = (&f, &ann);
        async move {
            let (status, body) = f
                .call(
                    "POST",
                    "/api/v1/intervals",
                    Some(ann),
                    Some(json!({ "intervals": items })),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["status"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        send(vec![interval(&gone, 0, 600), interval(&kept, 600, 60)]).await,
        ["accepted", "accepted"]
    );

    let (status, view) = patch(
        &f,
        &boss,
        &format!("/api/v1/tasks/{gone}"),
        json!({"archived": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["archived"], true);
    assert_eq!(listed(&f, &ann).await, ["Support"]);
    assert_eq!(listed(&f, &boss).await, ["Support"]);

    // Delivered late (the agent was offline when it was archived): accepted all the same.
    assert_eq!(send(vec![interval(&gone, 1200, 300)]).await, ["accepted"]);

    // Its time is in the day, the timesheet and both CSVs, under its name.
    let (status, day) = f
        .call(
            "GET",
            &format!(
                "/api/v1/reports/daily?date={}&user_id={ann_id}",
                fixture_date(0)
            ),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{day}");
    assert_eq!(day["task_names"][&gone], "Legacy migration", "{day}");
    let secs: i64 = day["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["task_id"] == gone.as_str())
        .map(|t| t["tracked_secs"].as_i64().unwrap())
        .sum();
    assert_eq!(secs, 900, "{day}");
    let (status, sheet) = f
        .call(
            "GET",
            &format!("/api/v1/timesheets?period=week&date={}", fixture_date(0)),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sheet}");
    assert_eq!(sheet["task_names"][&gone], "Legacy migration", "{sheet}");
    for path in [
        format!("/api/v1/reports/daily.csv?date={}", fixture_date(0)),
        format!(
            "/api/v1/timesheets.csv?period=week&date={}",
            fixture_date(0)
        ),
    ] {
        let (status, _, csv) = f.get_text(&path, &ann).await;
        assert_eq!(status, StatusCode::OK, "{csv}");
        assert!(csv.contains("Legacy migration"), "{path}: {csv}");
    }
    // Renamed while archived: the reports follow the name.
    patch(
        &f,
        &boss,
        &format!("/api/v1/tasks/{gone}"),
        json!({"name": "Legacy migration (done)"}),
    )
    .await;
    let (_, _, csv) = f
        .get_text(
            &format!("/api/v1/reports/daily.csv?date={}", fixture_date(0)),
            &ann,
        )
        .await;
    assert!(csv.contains("Legacy migration (done)"), "{csv}");

    // Restored: back in the list. Moved to no project, then to another one.
    let (status, view) = patch(
        &f,
        &boss,
        &format!("/api/v1/tasks/{gone}"),
        json!({"archived": false, "project_id": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["project_id"], Value::Null);
    let (_, tasks) = f.call("GET", "/api/v1/tasks", Some(&ann), None).await;
    assert_eq!(
        tasks,
        json!([
            {"id": gone, "name": "Legacy migration (done)", "project": ""},
            {"id": kept, "name": "Support", "project": "Q4"},
        ])
    );
    let ops = project(&f, &boss, json!({"name": "Ops"})).await;
    let (_, view) = patch(
        &f,
        &boss,
        &format!("/api/v1/tasks/{gone}"),
        json!({"project_id": ops}),
    )
    .await;
    assert_eq!(view["project_id"], ops.as_str());
    let (_, list) = f.call("GET", "/api/v1/projects", Some(&boss), None).await;
    assert_eq!(list["projects"][0]["name"], "Ops");
    assert_eq!(list["projects"][0]["tasks"][0]["id"], gone.as_str());
    let actions: Vec<String> = audit_actions(&f, &boss)
        .await
        .into_iter()
        .filter(|(_, subject, _, _)| *subject == gone)
        .map(|(action, ..)| action)
        .collect();
    assert_eq!(
        actions,
        [
            "task.create",
            "task.archive",
            "task.update",
            "task.update",
            "task.update"
        ]
    );
}

/// `GET /api/v1/tasks` as `token`, with `If-None-Match` when given: status, ETag, body bytes.
async fn tasks_with_etag(
    f: &Fixture,
    token: &str,
    if_none_match: Option<&str>,
) -> (StatusCode, String, Vec<u8>) {
    let mut req = Request::get("/api/v1/tasks").header("authorization", format!("Bearer {token}"));
    if let Some(tag) = if_none_match {
        req = req.header("if-none-match", tag);
    }
    let response = f
        .app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, etag, body)
}

async fn the_task_list_answers_304_to_its_etag_and_a_new_etag_after_each_change(f: Fixture) {
    let boss = admin(&f).await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let ann_id = f.user_id(&ann).await;
    let task = task_in(&f, &boss, "Design", "Web").await;
    let (status, etag, body) = tasks_with_etag(&f, &ann, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
        "{etag}"
    );
    assert!(!etag.starts_with("W/"), "a strong validator");
    assert!(String::from_utf8(body).unwrap().contains("Design"));
    // The same list: 304, no body, the same tag (also inside a list, or sent weak).
    for sent in [
        etag.clone(),
        format!("\"nope\", {etag}"),
        format!("W/{etag}"),
    ] {
        let (status, again, body) = tasks_with_etag(&f, &ann, Some(&sent)).await;
        assert_eq!(
            (status, again.as_str()),
            (StatusCode::NOT_MODIFIED, etag.as_str()),
            "{sent}"
        );
        assert!(body.is_empty());
    }
    let (status, _, _) = tasks_with_etag(&f, &ann, Some("\"something else\"")).await;
    assert_eq!(status, StatusCode::OK);

    // Each change gives a new tag; the old one then gets the whole list.
    let web = {
        let (_, list) = f.call("GET", "/api/v1/projects", Some(&boss), None).await;
        list["projects"][0]["id"].as_str().unwrap().to_string()
    };
    let changes: Vec<(&str, String, Value)> = vec![
        (
            "PATCH",
            format!("/api/v1/tasks/{task}"),
            json!({"name": "Design v2"}),
        ),
        (
            "PATCH",
            format!("/api/v1/projects/{web}"),
            json!({"name": "Website"}),
        ),
        (
            "PUT",
            format!("/api/v1/projects/{web}/members"),
            json!({"users": [f.user_id(&boss).await]}),
        ),
        (
            "PUT",
            format!("/api/v1/projects/{web}/members"),
            json!({"users": [ann_id]}),
        ),
        (
            "PATCH",
            format!("/api/v1/tasks/{task}"),
            json!({"archived": true}),
        ),
        (
            "PATCH",
            format!("/api/v1/tasks/{task}"),
            json!({"archived": false}),
        ),
    ];
    let mut last = etag;
    for (method, path, body) in changes {
        let (status, answer) = f.call(method, &path, Some(&boss), Some(body.clone())).await;
        assert_eq!(status, StatusCode::OK, "{path} {body}: {answer}");
        let (status, tag, _) = tasks_with_etag(&f, &ann, Some(&last)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "after {path} {body} the old tag is stale"
        );
        assert_ne!(tag, last, "after {path} {body}");
        last = tag;
    }
    // The tag is the caller's list: the admin's differs where they see other tasks.
    task_in(&f, &boss, "Hidden", "Secret").await;
    let secret = {
        let (_, list) = f.call("GET", "/api/v1/projects", Some(&boss), None).await;
        list["projects"][0]["id"].as_str().unwrap().to_string()
    };
    f.call(
        "PUT",
        &format!("/api/v1/projects/{secret}/members"),
        Some(&boss),
        Some(json!({"users": [f.user_id(&boss).await]})),
    )
    .await;
    let (_, ann_tag, _) = tasks_with_etag(&f, &ann, None).await;
    let (_, boss_tag, _) = tasks_with_etag(&f, &boss, None).await;
    assert_ne!(ann_tag, boss_tag);
    assert_eq!(
        tasks_with_etag(&f, &ann, Some(&ann_tag)).await.0,
        StatusCode::NOT_MODIFIED
    );
}

async fn a_projects_members_alone_see_its_tasks_besides_the_admins(f: Fixture) {
    accounts::add_user(
        &f.state,
        "acme",
        "max@acme.test",
        "Max",
        "a-password-1",
        false,
    )
    .await
    .unwrap();
    let boss = admin(&f).await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let max = f.login("max@acme.test", "a-password-1").await;
    let eve = f.login("eve@other.test", "eve-password").await;
    let max_id = f.user_id(&max).await;
    let eve_id = f.user_id(&eve).await;
    let secret = project(&f, &boss, json!({"name": "Secret"})).await;
    task_in(&f, &boss, "Acquisition", "Secret").await;
    task_in(&f, &boss, "Email", "").await;
    let all = ["Email", "Acquisition"];
    assert_eq!(listed(&f, &ann).await, all);
    let members = format!("/api/v1/projects/{secret}/members");
    let (status, body) = f
        .call(
            "PUT",
            &members,
            Some(&boss),
            Some(json!({"users": [max_id, max_id]})),
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"users": [max_id]})));
    assert_eq!(listed(&f, &ann).await, ["Email"]);
    assert_eq!(listed(&f, &max).await, all);
    assert_eq!(
        listed(&f, &boss).await,
        all,
        "admins see every project's tasks"
    );
    let (_, list) = f.call("GET", "/api/v1/projects", Some(&boss), None).await;
    assert_eq!(list["projects"][0]["members"], json!([max_id]));
    assert_eq!(list["unassigned"][0]["name"], "Email");
    // Someone of another organization, or nobody, can't be a member: nothing changes.
    for bad in [
        json!({"users": [eve_id]}),
        json!({"users": ["no-such-user"]}),
    ] {
        let (status, _) = f.call("PUT", &members, Some(&boss), Some(bad)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    assert_eq!(listed(&f, &max).await, all);
    assert_eq!(listed(&f, &ann).await, ["Email"]);
    // No members: everyone again.
    let (status, _) = f
        .call("PUT", &members, Some(&boss), Some(json!({"users": []})))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed(&f, &ann).await, all);
    let actions: Vec<(String, String)> = audit_actions(&f, &boss)
        .await
        .into_iter()
        .filter(|(a, ..)| a == "project.members")
        .map(|(a, s, ..)| (a, s))
        .collect();
    assert_eq!(actions.len(), 2);
    assert!(actions.iter().all(|(_, s)| *s == secret));
}

async fn each_role_may_do_what_the_docs_say_with_projects_and_tasks(f: Fixture) {
    let Cast {
        boss,
        ann,
        max,
        oscar,
        ..
    } = f.cast().await;
    let web = project(&f, &boss, json!({"name": "Web"})).await;
    let task = task_in(&f, &boss, "Design", "Web").await;
    let roles = [
        ("admin", &boss),
        ("manager", &max),
        ("member", &ann),
        ("other org admin", &oscar),
    ];
    // (method, path, body, expected status per role in the order above)
    let matrix: Vec<(&str, String, Value, [u16; 4])> = vec![
        (
            "GET",
            "/api/v1/projects".into(),
            Value::Null,
            [200, 403, 403, 200],
        ),
        (
            "PATCH",
            format!("/api/v1/projects/{web}"),
            json!({"client": "C"}),
            [200, 403, 403, 404],
        ),
        (
            "PUT",
            format!("/api/v1/projects/{web}/members"),
            json!({"users": []}),
            [200, 403, 403, 404],
        ),
        (
            "PATCH",
            format!("/api/v1/tasks/{task}"),
            json!({"name": "Design 2"}),
            [200, 403, 403, 404],
        ),
        (
            "GET",
            "/api/v1/tasks".into(),
            Value::Null,
            [200, 200, 200, 200],
        ),
    ];
    for (method, path, body, expect) in &matrix {
        for ((role, token), want) in roles.iter().zip(expect) {
            let body = (!body.is_null()).then(|| body.clone());
            let (status, answer) = f.call(method, path, Some(token), body).await;
            assert_eq!(status.as_u16(), *want, "{role}: {method} {path}: {answer}");
        }
    }
    // Another organization's admin sees none of this organization's projects or tasks.
    let (_, list) = f.call("GET", "/api/v1/projects", Some(&oscar), None).await;
    assert_eq!(list, json!({"projects": [], "unassigned": []}));
    assert!(listed(&f, &oscar).await.is_empty());
    // Creating: everyone while the organization lets everyone create tasks; then admins only.
    for (n, (role, token)) in roles.iter().enumerate() {
        let (status, answer) = f
            .call(
                "POST",
                "/api/v1/projects",
                Some(token),
                Some(json!({"name": format!("P{n}")})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{role}: {answer}");
    }
    let (status, _) = f
        .call(
            "PUT",
            "/api/v1/organization/settings",
            Some(&boss),
            Some(json!({"task_creation": "admins"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for (n, (token, want)) in [(&boss, 201), (&max, 403), (&ann, 403)]
        .into_iter()
        .enumerate()
    {
        let (status, _) = f
            .call(
                "POST",
                "/api/v1/projects",
                Some(token),
                Some(json!({"name": format!("Q{n}")})),
            )
            .await;
        assert_eq!(status.as_u16(), want);
        let (status, _) = f
            .call(
                "POST",
                "/api/v1/tasks",
                Some(token),
                Some(json!({"name": "T", "project": "New one"})),
            )
            .await;
        assert_eq!(status.as_u16(), want);
    }
    // Nobody signed in: 401 everywhere.
    for (method, path, body, _) in &matrix {
        let body = (!body.is_null()).then(|| body.clone());
        assert_eq!(
            f.call(method, path, None, body).await.0,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
}

async fn projects_and_tasks_are_capped_and_bad_input_changes_nothing(f: Fixture) {
    let f = Fixture::with_limits(
        match db::is_postgres(&f.url()) {
            true => Backend::Postgres,
            false => Backend::Sqlite,
        },
        metron_server::limits::Limits {
            max_projects_per_org: 2,
            max_tasks_per_org: 3,
            ..Default::default()
        },
    )
    .await;
    let boss = admin(&f).await;
    let web = project(&f, &boss, json!({"name": "Web"})).await;
    let bad_projects = [
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": "a\u{7}b"}),
        json!({"name": "x".repeat(201)}),
        json!({"name": "Ok", "client": "c\nd"}),
        json!({"name": "Ok", "client": "c".repeat(201)}),
        json!({"name": "Ok", "colour": "red"}),
        json!({"name": "Ok", "colour": "#12345"}),
        json!({"name": "Ok", "colour": "#1234567"}),
        json!({"name": "Ok", "owner": "me"}),
        json!({"name": 7}),
    ];
    for bad in bad_projects {
        let (status, body) = f
            .call("POST", "/api/v1/projects", Some(&boss), Some(bad.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["error"].is_string());
    }
    let path = format!("/api/v1/projects/{web}");
    for bad in [
        json!({}),
        json!({"name": ""}),
        json!({"colour": "blue"}),
        json!({"archived": "yes"}),
        json!({"name": "W", "extra": 1}),
    ] {
        let (status, body) = patch(&f, &boss, &path, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (_, list) = f.call("GET", "/api/v1/projects", Some(&boss), None).await;
    assert_eq!(list["projects"][0]["name"], "Web");
    assert_eq!(list["projects"].as_array().unwrap().len(), 1);
    assert_eq!(
        f.call(
            "PATCH",
            "/api/v1/projects/nope",
            Some(&boss),
            Some(json!({"name": "X"}))
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let too_many: Vec<String> = (0..1001).map(|n| format!("u{n}")).collect();
    let (status, _) = f
        .call(
            "PUT",
            &format!("{path}/members"),
            Some(&boss),
            Some(json!({"users": too_many})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The second project is the last; a task that would open a third is refused whole.
    project(&f, &boss, json!({"name": "Ops"})).await;
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/projects",
            Some(&boss),
            Some(json!({"name": "Third"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("2 projects"),
        "{body}"
    );
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/tasks",
            Some(&boss),
            Some(json!({"name": "T", "project": "Third"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, list) = f
        .call("GET", "/api/v1/projects?archived=true", Some(&boss), None)
        .await;
    assert_eq!(list["projects"].as_array().unwrap().len(), 2);
    assert_eq!(list["unassigned"], json!([]), "no task was made");

    // Tasks: bad changes are refused; moving into an archived project too; then the cap.
    let task = task_in(&f, &boss, "One", "Web").await;
    let ops = {
        let (_, list) = f.call("GET", "/api/v1/projects", Some(&boss), None).await;
        list["projects"][0]["id"].as_str().unwrap().to_string()
    };
    patch(
        &f,
        &boss,
        &format!("/api/v1/projects/{ops}"),
        json!({"archived": true}),
    )
    .await;
    let task_path = format!("/api/v1/tasks/{task}");
    for (bad, want) in [
        (json!({}), StatusCode::BAD_REQUEST),
        (json!({"name": "\u{0}"}), StatusCode::BAD_REQUEST),
        (json!({"name": "y".repeat(201)}), StatusCode::BAD_REQUEST),
        (json!({"project_id": "nope"}), StatusCode::NOT_FOUND),
        (json!({"project_id": ops}), StatusCode::CONFLICT),
        (json!({"archived": 1}), StatusCode::BAD_REQUEST),
    ] {
        let (status, body) = patch(&f, &boss, &task_path, bad.clone()).await;
        assert_eq!(status, want, "{bad}: {body}");
    }
    let (_, list) = f.call("GET", "/api/v1/projects", Some(&boss), None).await;
    assert_eq!(
        list["projects"][0]["tasks"],
        json!([{"id": task, "name": "One", "project_id": web, "archived": false}])
    );
    assert_eq!(
        f.call(
            "PATCH",
            "/api/v1/tasks/nope",
            Some(&boss),
            Some(json!({"name": "X"}))
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    task_in(&f, &boss, "Two", "Web").await;
    task_in(&f, &boss, "Three", "").await;
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/tasks",
            Some(&boss),
            Some(json!({"name": "Four", "project": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Archived tasks still count: they keep their history.
    patch(&f, &boss, &task_path, json!({"archived": true})).await;
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/tasks",
            Some(&boss),
            Some(json!({"name": "Four", "project": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

/// Migrations up to 0012 (the schema before projects), then tasks with project strings as
/// the server of then stored them, then the current server opens the database.
async fn migration_0014_turns_project_strings_into_projects(f: Fixture) {
    let pg = db::is_postgres(&f.url());
    let url = if pg {
        fresh_postgres().await
    } else {
        f._dir.path().join("old.sqlite").display().to_string()
    };
    let dir = manifest_dir()
        .join("migrations")
        .join(if pg { "postgres" } else { "sqlite" });
    let migrator = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
    let rows = [
        ("t1", "o1", "Write report", "Q4"),
        ("t2", "o1", "Review", "Q4"),
        ("t3", "o1", "Email", ""),
        ("t4", "o1", "Deploy", "Ops"),
        ("t5", "o2", "Plan", "Q4"),
    ];
    let seed = |sql: &mut Vec<String>| {
        sql.push(
            "INSERT INTO organizations (id, name) VALUES ('o1', 'acme'), ('o2', 'other')".into(),
        );
        for (id, org, name, project) in rows {
            sql.push(format!(
                "INSERT INTO tasks (id, org_id, name, project) VALUES ('{id}', '{org}', '{name}', '{project}')"
            ));
        }
    };
    let mut sql = Vec::new();
    seed(&mut sql);
    if pg {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        migrator.run_to(12, &pool).await.unwrap();
        for s in &sql {
            sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{url}?mode=rwc"))
            .await
            .unwrap();
        migrator.run_to(12, &pool).await.unwrap();
        for s in &sql {
            sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    }
    let state = AppState::new(db::connect(&url).await.unwrap());
    let acme = state.db.projects("o1").await.unwrap();
    let names: Vec<(&str, &str, bool)> = acme
        .iter()
        .map(|p| (p.name.as_str(), p.colour.as_str(), p.archived != 0))
        .collect();
    assert_eq!(
        names,
        [("Ops", PALETTE[0], false), ("Q4", PALETTE[1], false)]
    );
    let other = state.db.projects("o2").await.unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(
        (other[0].name.as_str(), other[0].colour.as_str()),
        ("Q4", PALETTE[0])
    );
    assert_ne!(other[0].id, acme[1].id, "one project per organization");
    let project_of = |id: &str| {
        let state = &state;
        let id = id.to_string();
        async move {
            let org = if id == "t5" { "o2" } else { "o1" };
            state
                .db
                .task_row(org, &id)
                .await
                .unwrap()
                .unwrap()
                .project_id
        }
    };
    assert_eq!(project_of("t1").await.as_deref(), Some(acme[1].id.as_str()));
    assert_eq!(project_of("t2").await.as_deref(), Some(acme[1].id.as_str()));
    assert_eq!(project_of("t3").await, None);
    assert_eq!(project_of("t4").await.as_deref(), Some(acme[0].id.as_str()));
    assert_eq!(
        project_of("t5").await.as_deref(),
        Some(other[0].id.as_str())
    );
    // What old clients read is what they read before.
    let tasks = state.db.tasks("o1").await.unwrap();
    let seen: Vec<(&str, &str, &str)> = tasks
        .iter()
        .map(|t| (t.id.as_str(), t.name.as_str(), t.project.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("t3", "Email", ""),
            ("t4", "Deploy", "Ops"),
            ("t2", "Review", "Q4"),
            ("t1", "Write report", "Q4")
        ]
    );
    // New projects continue the palette.
    let actor = metron_server::projects::Actor::operator("o1");
    let made = metron_server::projects::create_task(
        &state,
        &actor,
        metron_core::wire::NewTask {
            name: "Hire".into(),
            project: "People".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(made.project, "People");
    let people = state
        .db
        .project_named("o1", "People")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(people.colour, PALETTE[2]);
}

/// `metron-server ARGS` on the fixture's database: its standard output, or the test fails.
fn cli(f: &Fixture, args: &[&str]) -> String {
    let out = server_command()
        .arg("--db")
        .arg(f.url())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn the_commands_do_what_the_api_does_each_an_audit_row(f: Fixture) {
    let boss = admin(&f).await;
    let made: Value = serde_json::from_str(&cli(
        &f,
        &[
            "project", "add", "--name", "Web", "--client", "Acme", "--colour", "#ABCDEF", "--org",
            "acme",
        ],
    ))
    .unwrap();
    assert_eq!(
        (made["name"].clone(), made["colour"].clone()),
        (json!("Web"), json!("#abcdef"))
    );
    let web = made["id"].as_str().unwrap().to_string();
    cli(
        &f,
        &[
            "task",
            "add",
            "--name",
            "Design",
            "--project",
            "Web",
            "--org",
            "acme",
        ],
    );
    cli(
        &f,
        &[
            "task",
            "add",
            "--name",
            "Design",
            "--project",
            "Ops",
            "--org",
            "acme",
        ],
    );
    // Two tasks share the name: the command asks which.
    let out = server_command()
        .args([
            "--db",
            &f.url(),
            "task",
            "rename",
            "--name",
            "Design",
            "--to",
            "X",
            "--org",
            "acme",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--project"));
    cli(
        &f,
        &[
            "task",
            "rename",
            "--name",
            "Design",
            "--project",
            "Web",
            "--to",
            "Mockups",
            "--org",
            "acme",
        ],
    );
    cli(
        &f,
        &[
            "task", "move", "--name", "Mockups", "--to", "", "--org", "acme",
        ],
    );
    cli(
        &f,
        &["task", "archive", "--name", "Design", "--org", "acme"],
    );
    cli(
        &f,
        &[
            "project", "rename", "--name", "Web", "--to", "Website", "--colour", "#000000",
            "--org", "acme",
        ],
    );
    cli(
        &f,
        &["project", "archive", "--name", "Ops", "--org", "acme"],
    );
    let (_, list) = f
        .call("GET", "/api/v1/projects?archived=true", Some(&boss), None)
        .await;
    assert_eq!(list["projects"][0]["name"], "Ops");
    assert_eq!(list["projects"][0]["archived"], true);
    assert_eq!(list["projects"][0]["tasks"][0]["archived"], true);
    assert_eq!(list["projects"][1]["name"], "Website");
    assert_eq!(list["projects"][1]["colour"], "#000000");
    assert_eq!(list["projects"][1]["id"], web.as_str());
    assert_eq!(list["unassigned"][0]["name"], "Mockups");
    cli(
        &f,
        &["project", "restore", "--name", "Ops", "--org", "acme"],
    );
    cli(
        &f,
        &["task", "restore", "--name", "Design", "--org", "acme"],
    );
    assert_eq!(listed(&f, &boss).await, ["Mockups", "Design"]);
    let listing = cli(&f, &["project", "list", "--org", "acme"]);
    let lines: Vec<Value> = listing
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{listing}");
    assert_eq!(lines[1]["name"], "Website");
    assert_eq!(lines[2]["tasks"][0]["name"], "Mockups");
    let rows = audit_actions(&f, &boss).await;
    // The server's command line: no actor, no person (its reason says so).
    assert!(rows
        .iter()
        .all(|(_, _, actor, user)| actor.is_empty() && user.is_empty()));
    let actions: Vec<&str> = rows.iter().map(|(a, ..)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "project.create",
            "task.create",
            "project.create",
            "task.create",
            "task.update",
            "task.update",
            "task.archive",
            "project.update",
            "project.archive",
            "project.restore",
            "task.restore",
        ]
    );
}
