//! Exports that stream (issue 27): the event log and every CSV are sent as they are written
//! (chunked, no length), start before the whole range is read, stop at the byte budget
//! saying so, and end unfinished when something fails halfway.

use super::events::{flat, stored};
use super::*;
use axum::http::Response;
use metron_server::limits::Limits;

on_both!(
    every_export_is_streamed_without_a_length,
    an_error_halfway_cuts_the_export_after_the_days_already_sent,
    the_byte_budget_stops_an_export_where_it_can_resume_and_says_so,
);

async fn get(f: &Fixture, path: &str, token: &str) -> Response<Body> {
    let req = Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    f.app.clone().oneshot(req).await.unwrap()
}

/// The body's frames up to its end or its first error: the bytes, and the error if any.
async fn frames(response: Response<Body>) -> (String, Option<String>) {
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => bytes.extend_from_slice(frame.data_ref().unwrap()),
            Err(e) => return (String::from_utf8(bytes).unwrap(), Some(e.to_string())),
        }
    }
    (String::from_utf8(bytes).unwrap(), None)
}

async fn every_export_is_streamed_without_a_length(f: Fixture) {
    let (ann, _) = stored(&f).await;
    let range = format!("from={}&to={}", at(0), at(2 * 86_400));
    for path in [
        format!("/api/v1/events?{range}"),
        format!("/api/v1/events?{range}&format=xes"),
        format!("/api/v1/reports/daily.csv?date={}", fixture_date(0)),
        format!(
            "/api/v1/timesheets.csv?period=week&date={}",
            fixture_date(0)
        ),
    ] {
        let response = get(&f, &path, &ann).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(
            response.headers().get("content-length").is_none(),
            "{path}: no length"
        );
        assert_eq!(
            axum::body::HttpBody::size_hint(response.body()).exact(),
            None,
            "{path}: the server sends it chunked, as it is written"
        );
        let (_, error) = frames(response).await;
        assert_eq!(error, None, "{path}");
    }
}

/// A stored interval of the second day that can't be read: the first day has gone out with
/// a 200 before the second was read, and the body then ends with an error instead of its
/// closing brace, so no client takes it for the whole range.
async fn an_error_halfway_cuts_the_export_after_the_days_already_sent(f: Fixture) {
    let (ann, _) = stored(&f).await;
    let second_day = t0() + 86_400;
    let url = f.url();
    let broken = "UPDATE intervals SET body = '{\"broken\": true}', packed = NULL
                  WHERE started_at >= $1";
    if url.starts_with("postgres://") {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query(broken)
            .bind(second_day)
            .execute(&mut conn)
            .await
            .unwrap();
    } else {
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query(broken)
            .bind(second_day)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    for format in ["json", "xes"] {
        let path = format!(
            "/api/v1/events?from={}&to={}&format={format}",
            at(0),
            at(2 * 86_400)
        );
        let response = get(&f, &path, &ann).await;
        assert_eq!(response.status(), StatusCode::OK, "{format}: started");
        let (text, error) = frames(response).await;
        assert!(error.is_some(), "{format}: the body ends in an error");
        assert!(
            text.contains(&fixture_date(0)),
            "{format}: day one was sent"
        );
        assert!(
            !text.contains("\"complete\":") && !text.contains("</log>"),
            "{format}: never a document that looks whole: {text}"
        );
    }
}

async fn the_byte_budget_stops_an_export_where_it_can_resume_and_says_so(f: Fixture) {
    let (whole, task) = {
        let (ann, task) = stored(&f).await;
        let path = format!("/api/v1/events?from={}&to={}", at(0), at(2 * 86_400));
        let (_, export) = f.call("GET", &path, Some(&ann), None).await;
        (flat(&export), task)
    };
    let url = f.url();
    let small = Limits {
        max_export_bytes: 300,
        ..Limits::default()
    };
    let state = AppState::with_limits(db::connect(&url).await.unwrap(), small);
    let f = Fixture {
        app: server_api::app(state.clone()),
        state,
        ..f
    };
    let ann = f.login("ann@acme.test", "ann-password").await;

    // JSON: parts that each say where the next starts, and together are the whole.
    let mut from = at(0);
    let mut parts = 0;
    let mut events = Vec::new();
    loop {
        let path = format!("/api/v1/events?from={from}&to={}", at(2 * 86_400));
        let (status, export) = f.call("GET", &path, Some(&ann), None).await;
        assert_eq!(status, StatusCode::OK, "{export}");
        parts += 1;
        events.extend(flat(&export));
        if export["complete"] == true {
            assert!(export.get("resume_from").is_none());
            break;
        }
        assert_eq!(export["complete"], false, "{export}");
        from = export["resume_from"].as_str().unwrap().to_string();
        assert!(parts < 40, "each part sends at least a second of events");
    }
    assert!(parts > 1, "the budget cut the export");
    assert_eq!(events, whole, "nothing lost, nothing twice");

    // XES: a comment that says so, and no end of the log, so no reader takes it as whole.
    let path = format!(
        "/api/v1/events?from={}&to={}&format=xes",
        at(0),
        at(2 * 86_400)
    );
    let (status, _, xes) = f.get_text(&path, &ann).await;
    assert_eq!(status, StatusCode::OK);
    assert!(xes.contains("export budget of 300 bytes"), "{xes}");
    assert!(
        xes.contains(&format!("from={}", at(0))),
        "a day's traces are whole only together: again from the day's start: {xes}"
    );
    assert!(!xes.contains("</log>"), "{xes}");

    // CSV: a last row that says rows are missing. It stops between days, so the month needs
    // two days with time: the fixture day's month holds its Tuesday (`stored`'s second day) or,
    // when the Monday is the last day of its month, the Sunday before, which has time too.
    let sunday = json!({"intervals": [interval(&task, -86_400, 60)]});
    let (status, body) = f
        .call("POST", "/api/v1/intervals", Some(&ann), Some(sunday))
        .await;
    assert_eq!(
        (status, body["results"][0]["status"].as_str()),
        (StatusCode::OK, Some("accepted")),
        "{body}"
    );
    let (status, _, csv) = f
        .get_text(
            &format!(
                "/api/v1/timesheets.csv?period=month&date={}",
                fixture_date(0)
            ),
            &ann,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let last = csv.lines().last().unwrap();
    assert!(
        last.contains("export budget of 300 bytes") && last.contains("missing"),
        "{csv}"
    );
}
