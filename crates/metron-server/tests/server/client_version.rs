//! `/api/v1/client-version`: the release an organization's admins announce to its clients.

use super::processes::{cli, db_with_ann, login, serve};
use super::*;

on_both!(
    admins_announce_a_release_that_everyone_in_their_organization_reads,
    an_announcement_is_checked_and_refused_in_the_api_error_shape,
    a_link_that_reads_otherwise_than_it_leads_is_refused_and_a_look_alike_host_shown_in_punycode,
);

const PATH: &str = "/api/v1/client-version";

async fn admins_announce_a_release_that_everyone_in_their_organization_reads(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let eve = f.login("eve@other.test", "eve-password").await;
    let nothing = json!({"latest": null, "download_url": null, "notes": null, "updated_at": null});
    assert_eq!(
        f.call("GET", PATH, Some(&ann), None).await,
        (StatusCode::OK, nothing.clone())
    );
    assert_eq!(
        f.call("GET", PATH, None, None).await.0,
        StatusCode::UNAUTHORIZED
    );

    let release = json!({"latest": "0.2.0", "download_url": "https://example.com/metron/0.2.0", "notes": "Faster reports"});
    let (status, body) = f.call("PUT", PATH, Some(&ann), Some(release.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["error"].as_str().unwrap().contains("admin"), "{body}");

    let (status, stored) = f.call("PUT", PATH, Some(&boss), Some(release)).await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(stored["latest"], "0.2.0");
    let updated_at =
        chrono::DateTime::parse_from_rfc3339(stored["updated_at"].as_str().unwrap()).unwrap();
    assert!((chrono::Utc::now().timestamp() - updated_at.timestamp()).abs() < 60);

    let (status, read) = f.call("GET", PATH, Some(&ann), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        read, stored,
        "what the admin set is what the organization reads"
    );
    assert_eq!(read["download_url"], "https://example.com/metron/0.2.0");
    assert_eq!(read["notes"], "Faster reports");
    assert_eq!(
        f.call("GET", PATH, Some(&eve), None).await,
        (StatusCode::OK, nothing),
        "another organization announces nothing"
    );

    // A newer one replaces it; all null withdraws it.
    let (status, _) = f
        .call(
            "PUT",
            PATH,
            Some(&boss),
            Some(json!({"latest": "0.3.0", "download_url": "https://example.com/0.3.0"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, read) = f.call("GET", PATH, Some(&ann), None).await;
    assert_eq!(
        (read["latest"].as_str(), read["notes"].as_str()),
        (Some("0.3.0"), None)
    );
    let (status, cleared) = f
        .call(
            "PUT",
            PATH,
            Some(&boss),
            Some(json!({"latest": null, "download_url": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    let (_, read) = f.call("GET", PATH, Some(&ann), None).await;
    assert_eq!(read["latest"], Value::Null);
    assert!(read["updated_at"].is_string(), "when it was withdrawn");
}

async fn an_announcement_is_checked_and_refused_in_the_api_error_shape(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let url = "https://example.com/get";
    let long_url = format!("https://example.com/{}", "a".repeat(2048));
    let bad = [
        json!({"latest": "0.2", "download_url": url}),
        json!({"latest": "v0.2.0", "download_url": url}),
        json!({"latest": "0.2.0", "download_url": "javascript:alert(1)"}),
        json!({"latest": "0.2.0", "download_url": "ftp://example.com/x"}),
        json!({"latest": "0.2.0", "download_url": long_url}),
        json!({"latest": "0.2.0", "download_url": url, "notes": "я".repeat(2001)}),
        json!({"latest": "0.2.0"}),
        json!({"download_url": url}),
        json!({"latest": 2, "download_url": url}),
        json!([]),
    ];
    for body in bad {
        let (status, answer) = f.call("PUT", PATH, Some(&boss), Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {answer}");
        assert!(answer["error"].is_string(), "{answer}");
        assert_eq!(answer.as_object().unwrap().len(), 1, "{answer}");
    }
    let (_, read) = f.call("GET", PATH, Some(&boss), None).await;
    assert_eq!(read["latest"], Value::Null, "nothing refused was stored");
    // The limits themselves fit: 2,000 characters of notes (4,000 bytes), a 2,048-byte address.
    let longest = format!("https://e.com/{}", "a".repeat(2048 - 14));
    let (status, stored) = f
        .call(
            "PUT",
            PATH,
            Some(&boss),
            Some(
                json!({"latest": "1.0.0-rc.1", "download_url": longest, "notes": "я".repeat(2000)}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(stored["notes"].as_str().unwrap().chars().count(), 2000);
}

/// Issue 27: the link leads where it reads.
async fn a_link_that_reads_otherwise_than_it_leads_is_refused_and_a_look_alike_host_shown_in_punycode(
    f: Fixture,
) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    for link in [
        "https://metron.example.com@evil.test/metron-0.3.0.msi",
        "https://metron:release@evil.test/",
        "https://example.com/metron-\u{202E}isM.exe",
        "https://example.com/metron-%E2%80%AEisM.exe",
        "https://example.com/get%00.msi",
        "https://example.com/get?a=%0d%0aSet-Cookie:%20x",
    ] {
        let (status, answer) = f
            .call(
                "PUT",
                PATH,
                Some(&boss),
                Some(json!({"latest": "0.3.0", "download_url": link})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{link:?} -> {answer}");
    }
    // A host with a Cyrillic а (U+0430) for the Latin a is stored, and read by everyone, as
    // the punycode name it is.
    let (status, stored) = f
        .call(
            "PUT",
            PATH,
            Some(&boss),
            Some(json!({"latest": "0.3.0", "download_url": "https://\u{0430}pple.com/metron"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(stored["download_url"], "https://xn--pple-43d.com/metron");
    let ann = f.login("ann@acme.test", "ann-password").await;
    let (_, read) = f.call("GET", PATH, Some(&ann), None).await;
    assert_eq!(read["download_url"], "https://xn--pple-43d.com/metron");
}

#[tokio::test]
async fn both_endpoints_are_in_the_openapi_document() {
    let f = Fixture::new(Backend::Sqlite).await;
    let (status, doc) = f.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let path = &doc["paths"][PATH];
    assert!(path["get"]["responses"]["200"].is_object(), "{path}");
    assert!(path["put"]["responses"]["403"].is_object(), "{path}");
    let schema = &doc["components"]["schemas"]["ClientVersionUpdate"];
    assert_eq!(
        schema["properties"]["download_url"]["maxLength"], 2048,
        "{schema}"
    );
}

#[tokio::test]
async fn the_cli_announces_a_release_that_clients_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_with_ann(&dir, "cli.sqlite");
    let stored: Value = serde_json::from_str(&cli(
        &db,
        &[
            "client-version",
            "set",
            "--latest",
            "0.2.0",
            "--url",
            "https://example.com/metron",
            "--notes",
            "Packages for Debian and Fedora",
        ],
    ))
    .unwrap();
    assert_eq!(stored["latest"], "0.2.0");
    let bin = env!("CARGO_BIN_EXE_metron-server");
    let refused = std::process::Command::new(bin)
        .args([
            "--db",
            &db,
            "client-version",
            "set",
            "--latest",
            "soon",
            "--url",
            "https://x.org",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("semantic version"));
    let no_org = std::process::Command::new(bin)
        .args(["--db", &db, "client-version", "clear", "--org", "nope"])
        .output()
        .unwrap();
    assert!(
        !no_org.status.success(),
        "an unknown organization is not made up"
    );

    let server = serve(&db);
    let client = reqwest::Client::new();
    let token = login(&client, &server.base, "ann@acme.test", "ann-password").await;
    let read = || async {
        let r = client
            .get(format!("{}{PATH}", server.base))
            .bearer_auth(&token)
            .send();
        r.await.unwrap().json::<Value>().await.unwrap()
    };
    let announced = read().await;
    assert_eq!(announced["latest"], "0.2.0", "{announced}");
    assert_eq!(announced["notes"], "Packages for Debian and Fedora");
    // Withdrawn while the server runs: its next answer says so (nothing is cached).
    cli(&db, &["client-version", "clear"]);
    assert_eq!(read().await["latest"], Value::Null);
}
