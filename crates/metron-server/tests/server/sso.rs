//! Signing in with the organization's identity provider (issue 29), against a real OpenID
//! provider: npm's `oidc-provider` started on loopback by `oidc/provider.mjs`, which the server
//! reaches for discovery, keys and codes. The test plays the browser: it follows the redirects
//! with the provider's cookies, fills its login form, and hands the provider's redirect back to
//! the server. Each refused case checks the reason the person is shown and that no account
//! was made.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use tower::ServiceExt;

use crate::oidc::{Provider, CLIENT};
use crate::{on_both, Fixture};

/// The provider sending browsers back to the in-process server's callback.
fn provider() -> Provider {
    Provider::start_for(&format!("{HOME}/api/v1/sso/callback"))
}

/// The page's address the server is told (`public_url`): the provider sends browsers back to
/// its callback, which the test delivers to the server in process.
const HOME: &str = "http://metron.test";

/// A browser at the provider: its cookies, no redirect followed on its own.
struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    fn keep(&mut self, r: &reqwest::Response) {
        for c in r.headers().get_all("set-cookie") {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.insert(k.trim().into(), v.trim().into());
            }
        }
    }

    fn cookie(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Follows the provider's pages from `url`, signing in as `email` on its form, until it
    /// sends the browser back to Metron: that address.
    async fn sign_in_at(&mut self, issuer: &str, mut url: String, email: &str) -> String {
        for _ in 0..12 {
            if url.starts_with(HOME) {
                return url;
            }
            let r = self
                .http
                .get(&url)
                .header("cookie", self.cookie())
                .send()
                .await
                .unwrap();
            self.keep(&r);
            let status = r.status();
            if status.is_redirection() {
                url = absolute(issuer, r.headers()["location"].to_str().unwrap());
                continue;
            }
            let page = r.text().await.unwrap();
            let action = page
                .split("action=\"")
                .nth(1)
                .and_then(|a| a.split('"').next())
                .unwrap_or_else(|| panic!("{status} and no login form at {url}: {page}"));
            let r = self
                .http
                .post(absolute(issuer, action))
                .header("cookie", self.cookie())
                .form(&[("login", email)])
                .send()
                .await
                .unwrap();
            self.keep(&r);
            assert!(r.status().is_redirection(), "{}", r.status());
            url = absolute(issuer, r.headers()["location"].to_str().unwrap());
        }
        panic!("the provider never sent the browser back")
    }
}

fn absolute(issuer: &str, location: &str) -> String {
    if location.starts_with("http") {
        location.into()
    } else {
        format!("{issuer}{location}")
    }
}

/// A GET of the server as a browser: status, Location (if any) and body.
async fn browse(f: &Fixture, url: &str) -> (StatusCode, String, String) {
    let path = url.strip_prefix(HOME).unwrap_or(url);
    let response = f
        .app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .map_or_else(String::new, |l| l.to_str().unwrap().to_string());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        location,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// A PKCE verifier and its S256 challenge.
fn pkce(seed: char) -> (String, String) {
    use base64::Engine;
    use sha2::Digest;
    let verifier: String = std::iter::repeat_n(seed, 50).collect();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn query_of(url: &str, key: &str) -> Option<String> {
    let (_, query) = url.split_once(['?', '#'])?;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| {
            reqwest::Url::parse(&format!("http://x/?v={v}"))
                .unwrap()
                .query_pairs()
                .next()
                .unwrap()
                .1
                .into_owned()
        })
    })
}

/// The organization's provider set by its admin, pointing at `idp`.
async fn set_up(f: &mut Fixture, idp: &Provider, extra: Value) -> String {
    f.state.public_url = Some(HOME.into());
    f.app = crate::server_api::app(f.state.clone());
    let boss = f.login("boss@acme.test", "boss-password").await;
    let mut body = json!({
        "name": "Acme ID",
        "issuer": idp.issuer,
        "client_id": CLIENT.0,
        "client_secret": CLIENT.1,
        "allowed_domains": ["acme.test"],
        "groups_claim": "groups",
        "admin_groups": ["it-admins"],
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, view) = f
        .call("PUT", "/api/v1/organization/sso", Some(&boss), Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["client_secret_set"], json!(true));
    assert!(view.get("client_secret").is_none(), "{view}");
    assert_eq!(
        view["callback_url"],
        json!(format!("{HOME}/api/v1/sso/callback"))
    );
    let (_, providers) = f.call("GET", "/api/v1/sso/providers", None, None).await;
    let acme = providers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Acme ID")
        .expect("listed");
    acme["id"].as_str().unwrap().to_string()
}

/// The page's flow from start to the provider's redirect back: where the server sends the
/// browser after the callback (`/#sso_code=...` or `/#sso_error=...`), and the verifier.
async fn page_flow(f: &Fixture, idp: &Provider, provider: &str, email: &str) -> (String, String) {
    let (verifier, challenge) = pkce('v');
    let (status, to_idp, body) = browse(
        f,
        &format!(
            "/api/v1/sso/start?provider={provider}&state=page-state&code_challenge={challenge}&code_challenge_method=S256"
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(to_idp.starts_with(&idp.issuer), "{to_idp}");
    let back = Browser::new().sign_in_at(&idp.issuer, to_idp, email).await;
    let (status, home, body) = browse(f, &back).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    (home, verifier)
}

/// Trades the page's code: the token's answer.
async fn trade(f: &Fixture, home: &str, verifier: &str) -> (StatusCode, Value) {
    let code = query_of(home, "sso_code").unwrap_or_else(|| panic!("no code: {home}"));
    assert_eq!(query_of(home, "sso_state").as_deref(), Some("page-state"));
    f.call(
        "POST",
        "/api/v1/sso/token",
        None,
        Some(json!({"code": code, "code_verifier": verifier, "redirect_uri": ""})),
    )
    .await
}

async fn people(f: &Fixture) -> i64 {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let (_, list) = f.call("GET", "/api/v1/users", Some(&boss), None).await;
    list.as_array().map_or(0, |l| l.len() as i64)
}

async fn the_page_signs_people_in_creates_links_and_maps_groups(mut f: Fixture) {
    let idp = provider();
    let provider = set_up(&mut f, &idp, json!({})).await;
    let ann_by_password = f.login("ann@acme.test", "ann-password").await;
    let ann_id = f.user_id(&ann_by_password).await;

    // Ann exists: linked by her verified email, the same person.
    let (home, verifier) = page_flow(&f, &idp, &provider, "ann@acme.test").await;
    let (status, signed) = trade(&f, &home, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    assert_eq!(signed["user"]["id"], json!(ann_id));
    // The code was taken: a second trade finds nothing.
    let (status, again) = trade(&f, &home, &verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");

    // Carol is new: a member of Acme; "boss-2" is in it-admins: an admin.
    let before = people(&f).await;
    for (email, admin) in [("carol@acme.test", false), ("boss-2@acme.test", true)] {
        let (home, verifier) = page_flow(&f, &idp, &provider, email).await;
        let (status, signed) = trade(&f, &home, &verifier).await;
        assert_eq!(status, StatusCode::OK, "{signed}");
        assert_eq!(
            (
                signed["user"]["email"].as_str(),
                signed["user"]["admin"].as_bool()
            ),
            (Some(email), Some(admin))
        );
        let token = signed["token"].as_str().unwrap();
        let (status, me) = f.call("GET", "/api/v1/me", Some(token), None).await;
        assert_eq!(
            (status, me["email"].as_str()),
            (StatusCode::OK, Some(email))
        );
    }
    assert_eq!(people(&f).await, before + 2);
    // Carol again: the same person (linked by subject), nobody new.
    let (home, verifier) = page_flow(&f, &idp, &provider, "carol@acme.test").await;
    assert_eq!(trade(&f, &home, &verifier).await.0, StatusCode::OK);
    assert_eq!(people(&f).await, before + 2);
    // A wrong verifier takes the code and signs no one in.
    let (home, _) = page_flow(&f, &idp, &provider, "carol@acme.test").await;
    let (wrong, _) = pkce('w');
    let (status, body) = trade(&f, &home, &wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// Each refusal: the page is told why, and nobody is made.
async fn refused_sign_ins_say_why_and_make_no_one(mut f: Fixture) {
    let idp = provider();
    let provider = set_up(&mut f, &idp, json!({})).await;
    let before = people(&f).await;
    for (mode, email, says) in [
        ("wrong_audience", "dan@acme.test", "audience"),
        ("expired", "dan@acme.test", "expire"),
        ("bad_signature", "dan@acme.test", "signature"),
        ("replay_nonce", "dan@acme.test", "nonce"),
        (
            "none",
            "mallory@evil.test",
            "Accounts of evil.test can't sign in",
        ),
        ("none", "unverified@acme.test", "not verified your email"),
    ] {
        if mode == "replay_nonce" {
            // The previous sign-in's ID token is what the provider hands over next: first a
            // sign-in whose token is then replayed (refused itself for its domain).
            page_flow(&f, &idp, &provider, "mallory@evil.test").await;
        }
        idp.next_token(mode);
        let (home, _) = page_flow(&f, &idp, &provider, email).await;
        let why = query_of(&home, "sso_error").unwrap_or_else(|| panic!("{mode}: {home}"));
        assert!(
            why.to_lowercase().contains(&says.to_lowercase()),
            "{mode}: {why}"
        );
        assert!(query_of(&home, "sso_code").is_none(), "{home}");
    }
    assert_eq!(people(&f).await, before, "no account was made");

    // A key the server has not seen (the provider rotated its keys): fetched, and accepted.
    idp.next_token("rotated");
    let (home, verifier) = page_flow(&f, &idp, &provider, "dan@acme.test").await;
    assert_eq!(
        trade(&f, &home, &verifier).await.0,
        StatusCode::OK,
        "{home}"
    );

    // A state the server never gave, and a callback delivered twice: a page, no sign-in.
    let (status, _, body) = browse(&f, "/api/v1/sso/callback?code=x&state=forged").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("did not start here"), "{body}");
    let (_, challenge) = pkce('v');
    let (_, to_idp, _) = browse(
        &f,
        &format!("/api/v1/sso/start?provider={provider}&state=s&code_challenge={challenge}&code_challenge_method=S256"),
    )
    .await;
    let back = Browser::new()
        .sign_in_at(&idp.issuer, to_idp, "dan@acme.test")
        .await;
    assert_eq!(browse(&f, &back).await.0, StatusCode::SEE_OTHER);
    let (status, _, body) = browse(&f, &back).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A disabled person is refused.
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let ann_id = f.user_id(&ann).await;
    let (status, body) = f
        .call(
            "POST",
            &format!("/api/v1/users/{ann_id}/disable"),
            Some(&boss),
            None,
        )
        .await;
    assert!(status.is_success(), "{body}");
    let (home, _) = page_flow(&f, &idp, &provider, "ann@acme.test").await;
    assert!(
        query_of(&home, "sso_error").is_some_and(|w| w.contains("disabled")),
        "{home}"
    );
    // Without the PKCE challenge or to an address that is no loopback: refused at the start.
    for query in [
        format!("provider={provider}&state=s"),
        format!("provider={provider}&state=s&code_challenge={challenge}&code_challenge_method=S256&redirect_uri=http://evil.example:80/"),
        "provider=nobody&state=s".to_string(),
    ] {
        let (status, _, _) = browse(&f, &format!("/api/v1/sso/start?{query}")).await;
        assert!(status.is_client_error(), "{query}: {status}");
    }
}

/// The desktop app's loopback flow and an agent's device code.
async fn apps_and_agents_end_with_a_device_token(mut f: Fixture) {
    let idp = provider();
    let provider = set_up(&mut f, &idp, json!({})).await;
    // The app: back to its loopback address with the code and its state.
    let (verifier, challenge) = pkce('a');
    let loopback = "http://127.0.0.1:49152/callback";
    let (_, to_idp, _) = browse(&f, &format!("/api/v1/sso/start?provider={provider}&redirect_uri={loopback}&state=app-state&code_challenge={challenge}&code_challenge_method=S256")).await;
    let back = Browser::new()
        .sign_in_at(&idp.issuer, to_idp, "carol@acme.test")
        .await;
    let (status, to_app, _) = browse(&f, &back).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to_app.starts_with(&format!("{loopback}?code=")), "{to_app}");
    assert_eq!(query_of(&to_app, "state").as_deref(), Some("app-state"));
    let code = query_of(&to_app, "code").unwrap();
    let trade = |redirect: &str| json!({"code": code, "code_verifier": verifier, "redirect_uri": redirect, "device_id": "laptop-1"});
    let (status, signed) = f
        .call("POST", "/api/v1/sso/token", None, Some(trade(loopback)))
        .await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    assert_eq!(signed["user"]["email"], "carol@acme.test");

    // A refused app sign-in goes back with the reason.
    let (_, to_idp, _) = browse(&f, &format!("/api/v1/sso/start?provider={provider}&redirect_uri={loopback}&state=s2&code_challenge={challenge}&code_challenge_method=S256")).await;
    let back = Browser::new()
        .sign_in_at(&idp.issuer, to_idp, "mallory@evil.test")
        .await;
    let (_, to_app, _) = browse(&f, &back).await;
    assert_eq!(query_of(&to_app, "error").as_deref(), Some("access_denied"));
    assert!(query_of(&to_app, "error_description")
        .unwrap()
        .contains("evil.test"));

    // The agent: a code to show, pending, too fast, then approved once.
    let (status, grant) = f
        .call(
            "POST",
            "/api/v1/sso/device",
            None,
            Some(json!({"provider": provider, "device_id": "server-7"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{grant}");
    let user_code = grant["user_code"].as_str().unwrap();
    assert_eq!(
        grant["verification_uri_complete"],
        json!(format!("{HOME}/#device={user_code}"))
    );
    let poll = json!({"device_code": grant["device_code"]});
    let (status, body) = f
        .call("POST", "/api/v1/sso/device/token", None, Some(poll.clone()))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("authorization_pending"))
    );
    let (_, body) = f
        .call("POST", "/api/v1/sso/device/token", None, Some(poll.clone()))
        .await;
    assert_eq!(body["error"], "slow_down");
    let (_, to_idp, _) = browse(
        &f,
        &format!(
            "/api/v1/sso/start?provider={provider}&user_code={}",
            user_code.to_lowercase()
        ),
    )
    .await;
    let back = Browser::new()
        .sign_in_at(&idp.issuer, to_idp, "dan@acme.test")
        .await;
    let (status, _, page) = browse(&f, &back).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("signed in now"), "{page}");
    let (status, signed) = f
        .call("POST", "/api/v1/sso/device/token", None, Some(poll.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    assert_eq!(signed["user"]["email"], "dan@acme.test");
    let (_, body) = f
        .call("POST", "/api/v1/sso/device/token", None, Some(poll))
        .await;
    assert_eq!(body["error"], "expired_token", "handed out once");

    // A refused agent sign-in: the poll says why.
    let (_, grant) = f
        .call(
            "POST",
            "/api/v1/sso/device",
            None,
            Some(json!({"provider": provider})),
        )
        .await;
    let (_, to_idp, _) = browse(
        &f,
        &format!(
            "/api/v1/sso/start?provider={provider}&user_code={}",
            grant["user_code"].as_str().unwrap()
        ),
    )
    .await;
    let back = Browser::new()
        .sign_in_at(&idp.issuer, to_idp, "unverified@acme.test")
        .await;
    assert_eq!(browse(&f, &back).await.0, StatusCode::FORBIDDEN);
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/sso/device/token",
            None,
            Some(json!({"device_code": grant["device_code"]})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"].as_str().unwrap().contains("verified"),
        "{body}"
    );
}

/// SSO-only: passwords sign in the break-glass admin and nobody else; the settings are the
/// admins', audited, and the break-glass account must be an admin.
async fn sso_only_leaves_one_password_the_break_glass_admins(mut f: Fixture) {
    let idp = provider();
    set_up(&mut f, &idp, json!({})).await;
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let settings = |extra: Value| {
        let mut body = json!({"name": "Acme ID", "issuer": idp.issuer, "client_id": CLIENT.0});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let (status, body) = f
        .call(
            "PUT",
            "/api/v1/organization/sso",
            Some(&boss),
            Some(settings(
                json!({"sso_only": true, "break_glass_email": "ann@acme.test"}),
            )),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains("admin"), "{body}");
    // A member can't read or change it.
    for method in ["GET", "PUT", "DELETE"] {
        let body = (method == "PUT").then(|| settings(json!({})));
        let (status, _) = f
            .call(method, "/api/v1/organization/sso", Some(&ann), body)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method}");
    }
    let (status, view) = f
        .call(
            "PUT",
            "/api/v1/organization/sso",
            Some(&boss),
            Some(settings(
                json!({"sso_only": true, "break_glass_email": "Boss@acme.test"}),
            )),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(
        view["client_secret_set"],
        json!(true),
        "the secret was kept"
    );
    let (status, body) = f.try_login("ann@acme.test", "ann-password").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("Acme ID"),
        "{body}"
    );
    // A wrong password is still only a wrong password.
    assert_eq!(
        f.try_login("ann@acme.test", "nope").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        f.try_login("boss@acme.test", "boss-password").await.0,
        StatusCode::OK
    );
    // Another organization's people are not touched.
    assert_eq!(
        f.try_login("eve@other.test", "eve-password").await.0,
        StatusCode::OK
    );
    let audit = serde_json::to_string(&crate::settings::org_audit(&f, &boss).await).unwrap();
    assert!(audit.contains("organization.sso"), "{audit}");
    assert!(
        !audit.contains(CLIENT.1),
        "the secret is never in the audit"
    );
    // Neither an invitation nor a reset link sets a password that signs in.
    let (status, invited) = f
        .call(
            "POST",
            "/api/v1/invitations",
            Some(&boss),
            Some(json!({"email": "newbie@acme.test"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    let token = invited["link"]
        .as_str()
        .unwrap()
        .rsplit_once('=')
        .unwrap()
        .1;
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/invitations/accept",
            None,
            Some(json!({"token": token, "name": "Newbie", "password": "a-good-password"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("Acme ID"),
        "{body}"
    );
    let ann_id = f.user_id(&ann).await;
    let (status, link) = f
        .call(
            "POST",
            &format!("/api/v1/users/{ann_id}/reset-link"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let token = link["link"].as_str().unwrap().rsplit_once('=').unwrap().1;
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/password-reset",
            None,
            Some(json!({"token": token, "password": "another-good-one"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // Removed: passwords again.
    let (status, _) = f
        .call("DELETE", "/api/v1/organization/sso", Some(&boss), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        f.try_login("ann@acme.test", "ann-password").await.0,
        StatusCode::OK
    );
}

/// The real server (its provider set by `[sso]` in server.toml), the page in headless
/// Chromium, and the real `metron-agent`: its browser flow (a small browser of the test's,
/// `oidc/browser.py`, follows the agent's loopback redirect) and its device code approved on
/// the page.
#[tokio::test]
async fn the_page_and_the_agent_sign_in_through_the_provider_end_to_end() {
    use crate::processes::{cli, get_json};
    use crate::team::{agent, free_port};
    use crate::web::{screenshots_dir, Browser, Driver};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sso.sqlite").display().to_string();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let idp = Provider::start_for(&format!("{base}/api/v1/sso/callback"));
    cli(
        &db,
        &[
            "user",
            "add",
            "--email",
            "boss@acme.test",
            "--name",
            "Boss",
            "--password",
            "boss-password",
            "--admin",
        ],
    );
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "public_url = \"{base}\"\n[sso]\nname = \"Acme ID\"\nissuer = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\nallowed_domains = [\"acme.test\"]\n",
            idp.issuer, CLIENT.0, CLIENT.1
        ),
    )
    .unwrap();
    let mut child = crate::server_command()
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
    let _server = crate::processes::Server {
        child,
        base: base.clone(),
    };
    assert!(line.starts_with("listening on"), "{line}");
    let http = reqwest::Client::new();
    let providers = get_json(&http, &format!("{base}/api/v1/sso/providers"), "").await;
    assert_eq!(providers[0]["name"], "Acme ID", "{providers}");

    // The page: the button, the provider's form, back signed in as a new member.
    let driver = Driver::start().await;
    let downloads = tempfile::tempdir().unwrap();
    let browser = Browser::open(&driver, downloads.path()).await;
    let shots = screenshots_dir();
    std::fs::create_dir_all(&shots).unwrap();
    browser.goto(&base).await;
    browser
        .wait_for(
            "the provider's button",
            "return document.querySelector('#sso .sso-button')?.textContent",
        )
        .await;
    assert_eq!(
        browser.text("#sso .sso-button").await,
        "Sign in with Acme ID"
    );
    browser.screenshot(&shots.join("sso-signin.png")).await;
    for (scheme, shot) in [("dark", "sso-signin-dark.png"), ("light", "")] {
        browser
            .cdp(
                "Emulation.setEmulatedMedia",
                json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]}),
            )
            .await;
        if !shot.is_empty() {
            browser.screenshot(&shots.join(shot)).await;
        }
    }
    browser.click("#sso .sso-button").await;
    browser.element("#login").await;
    browser.type_into("#login", "carol@acme.test").await;
    browser.click("#sign-in").await;
    let name = browser
        .wait_for(
            "signed in through the provider",
            "return !document.getElementById('app').hidden && document.getElementById('me-name').textContent",
        )
        .await;
    assert_eq!(name, "Carol");
    assert!(!browser
        .script("return location.hash")
        .await
        .as_str()
        .unwrap()
        .contains("sso_code"));
    browser.screenshot(&shots.join("sso-signed-in.png")).await;

    // Refused: the page says why, in the server's words, in English and in Russian.
    browser.click("#signout").await;
    for (lang, shot) in [("en", "sso-refused.png"), ("ru", "sso-refused-ru.png")] {
        browser
            .script(&format!(
                "localStorage.setItem('metron.lang', '{lang}'); return 0"
            ))
            .await;
        // Signed out of the provider too, so it asks who signs in.
        browser.cdp("Network.clearBrowserCookies", json!({})).await;
        browser.goto(&base).await;
        browser.element("#sso .sso-button").await;
        browser.click("#sso .sso-button").await;
        browser.element("#login").await;
        browser.type_into("#login", "mallory@evil.test").await;
        browser.click("#sign-in").await;
        let why = browser
            .wait_for(
                "the refusal",
                "return document.getElementById('sso-error')?.textContent",
            )
            .await;
        assert!(why.as_str().unwrap().contains("evil.test"), "{why}");
        browser.screenshot(&shots.join(shot)).await;
    }
    browser
        .script("localStorage.setItem('metron.lang', 'en'); return 0")
        .await;

    // The agent with a browser: the loopback redirect, followed by the test's browser.
    let dan_dir = dir.path().join("dan-agent");
    let out = agent(&dan_dir, &["login", "--server", &base, "--sso"])
        .env("DISPLAY", ":404")
        .env("METRON_SSO_BROWSER", crate::oidc::browser())
        .env("METRON_TEST_SSO_EMAIL", "dan@acme.test")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("signed in to") && said.contains("dan@acme.test"),
        "{said}"
    );
    let status = agent(&dan_dir, &["status"]).output().unwrap();
    assert!(String::from_utf8_lossy(&status.stdout).contains("dan@acme.test"));

    // The agent without one: the code, approved on the page by Erin.
    let mut waiting = agent(
        &dir.path().join("erin-agent"),
        &["login", "--server", &base, "--sso", "--no-browser"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(waiting.stdout.take().unwrap()).lines();
    let shown = lines.next().unwrap().unwrap();
    let complete = lines.next().unwrap().unwrap();
    let url = complete
        .split("(or open ")
        .nth(1)
        .and_then(|u| u.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{shown}\n{complete}"))
        .to_string();
    let code = url.rsplit('=').next().unwrap().to_string();
    assert!(shown.contains(&code), "{shown}");
    browser.goto(&url).await;
    let typed = browser
        .wait_for(
            "the device page",
            "return document.getElementById('device-code')?.value",
        )
        .await;
    assert_eq!(typed, json!(code));
    browser.screenshot(&shots.join("sso-device.png")).await;
    browser.cdp("Network.clearBrowserCookies", json!({})).await;
    browser.click("#public-root .sso-button").await;
    browser.element("#login").await;
    browser.type_into("#login", "erin@acme.test").await;
    browser.click("#sign-in").await;
    let page = browser
        .wait_for(
            "the approval",
            "return document.getElementById('sso-message')?.textContent",
        )
        .await;
    assert!(page.as_str().unwrap().contains("signed in now"), "{page}");
    let done = waiting.wait().unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(done.success(), "{rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("erin@acme.test")),
        "{rest:?}"
    );
    browser.close().await;
}

on_both!(
    the_page_signs_people_in_creates_links_and_maps_groups,
    refused_sign_ins_say_why_and_make_no_one,
    apps_and_agents_end_with_a_device_token,
    sso_only_leaves_one_password_the_break_glass_admins,
);
