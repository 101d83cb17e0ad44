//! Two-factor codes (issue 29, item 3): a person enrols (the secret read from the API, codes
//! computed here by totp-rs as an authenticator app would), signs in with a code; a wrong, a
//! replayed, and a two-steps-away code are refused, a recovery code works once, every failure
//! counts in the login limiter; an organization requires codes of admins or everyone (the
//! page's session may only set them up, a device's sign-in is refused); a reset link asks for
//! the code too; an admin turns a lost phone's codes off, audited; and the new routes' role
//! matrix.

use super::*;
use totp_rs::{Algorithm, Builder, Secret};

on_both!(
    enrolment_then_codes_sign_in_once_each_within_one_step,
    recovery_codes_work_once_and_are_replaced_with_a_current_code,
    second_factor_failures_count_in_the_login_limiter,
    the_organization_requires_codes_of_admins_or_everyone,
    a_reset_link_does_not_pass_the_second_factor,
    an_admin_turns_a_lost_phones_codes_off_and_the_roles_are_kept,
);

const STEP: i64 = 30;

/// The code an authenticator app shows for `secret` during `step`.
fn code(secret: &str, step: i64) -> String {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate(u64::try_from(step * STEP).unwrap())
        .to_string()
}

fn now_step() -> i64 {
    chrono::Utc::now().timestamp() / STEP
}

/// Waits until at least 20 s of the current step are left, so a test's codes of "this step"
/// and "the next" mean the same to the server all along.
async fn fresh_step() -> i64 {
    loop {
        let now = chrono::Utc::now().timestamp();
        if STEP - now % STEP >= 20 {
            return now / STEP;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

async fn login_with(
    f: &Fixture,
    email: &str,
    password: &str,
    factor: Value,
) -> (StatusCode, Value) {
    f.call(
        "POST",
        "/api/v1/login",
        None,
        Some(json!({"email": email, "password": password, "second_factor": factor})),
    )
    .await
}

fn error_of(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

/// Begins and confirms codes for the person of `token` at the current step; the secret and
/// the recovery codes.
async fn enrol(f: &Fixture, token: &str) -> (String, Vec<String>) {
    let (status, begun) = f
        .call("POST", "/api/v1/me/second-factor/begin", Some(token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{begun}");
    let secret = begun["secret"].as_str().unwrap().to_string();
    let (status, done) = f
        .call(
            "POST",
            "/api/v1/me/second-factor/confirm",
            Some(token),
            Some(json!({"code": code(&secret, now_step())})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let recovery = done["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (secret, recovery)
}

async fn audit_actions(f: &Fixture, admin: &str) -> Vec<String> {
    let now = chrono::Utc::now();
    let at = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let path = format!(
        "/api/v1/audit?scope=all&from={}&to={}",
        at(now - chrono::Duration::days(1)),
        at(now + chrono::Duration::days(1))
    );
    let (status, trail) = f.call("GET", &path, Some(admin), None).await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    trail
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn enrolment_then_codes_sign_in_once_each_within_one_step(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let (status, begun) = f
        .call("POST", "/api/v1/me/second-factor/begin", Some(&ann), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{begun}");
    let secret = begun["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    let uri = begun["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Metron:ann%40acme.test?")
            && uri.contains(&format!("secret={secret}"))
            && uri.contains("issuer=Metron"),
        "{uri}"
    );
    let svg = begun["qr_svg"].as_str().unwrap();
    assert!(svg.contains("<svg") && svg.contains("<path"), "{svg}");
    // Begun is not on: the password alone still signs in.
    let (status, body) = f.try_login("ann@acme.test", "ann-password").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, _) = f
        .call(
            "POST",
            "/api/v1/me/second-factor/confirm",
            Some(&ann),
            Some(json!({"code": "1".repeat(65)})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "bounded");
    // A begun enrolment waits ten minutes for its code, then must begin again.
    super::audit_chain::raw(
        &f.url(),
        "UPDATE second_factors SET created_at = created_at - 601",
    )
    .await
    .unwrap();
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/me/second-factor/confirm",
            Some(&ann),
            Some(json!({"code": code(&secret, now_step())})),
        )
        .await;
    assert_eq!(status, StatusCode::GONE, "expired: {body}");
    super::audit_chain::raw(
        &f.url(),
        "UPDATE second_factors SET created_at = created_at + 601",
    )
    .await
    .unwrap();
    let step = fresh_step().await;
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/me/second-factor/confirm",
            Some(&ann),
            Some(json!({"code": code(&secret, step + 3)})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        error_of(&body).starts_with("second_factor_invalid"),
        "{body}"
    );
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/me/second-factor/confirm",
            Some(&ann),
            Some(json!({"code": code(&secret, step)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let recovery = body["recovery_codes"].as_array().unwrap();
    assert_eq!(recovery.len(), 10);
    let (status, again) = f
        .call("POST", "/api/v1/me/second-factor/begin", Some(&ann), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "on already: {again}");
    // Only hashes of the recovery codes are stored (hex digests, never a dashed code).
    let plain = super::audit_chain::raw(
        &f.url(),
        "UPDATE recovery_codes SET used_at = used_at WHERE code_hash LIKE '%-%' OR length(code_hash) <> 64",
    )
    .await
    .unwrap();
    assert_eq!(plain, 0);
    let (_, status_now) = f
        .call("GET", "/api/v1/me/second-factor", Some(&ann), None)
        .await;
    assert_eq!(
        status_now,
        json!({"on": true, "required": false, "recovery_codes_left": 10})
    );

    // The password alone: asked for the code, distinguishably.
    let (status, body) = f.try_login("ann@acme.test", "ann-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        error_of(&body).starts_with("second_factor_required:"),
        "{body}"
    );
    // A wrong password with a good code is still a wrong password.
    let (status, body) =
        login_with(&f, "ann@acme.test", "wrong", json!(code(&secret, step + 1))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_of(&body), "wrong email or password");
    // The code that confirmed is used: a replay.
    let (status, body) = login_with(
        &f,
        "ann@acme.test",
        "ann-password",
        json!(code(&secret, step)),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        error_of(&body).starts_with("second_factor_invalid:"),
        "{body}"
    );
    let wrong = (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| (step - 2..=step + 2).all(|s| *c != code(&secret, s)))
        .unwrap();
    let (status, body) = login_with(&f, "ann@acme.test", "ann-password", json!(wrong)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(error_of(&body).starts_with("second_factor_invalid:"));
    // Two steps away either side: outside the window.
    for far in [step - 2, step + 2] {
        let (status, body) = login_with(
            &f,
            "ann@acme.test",
            "ann-password",
            json!(code(&secret, far)),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "step {far}: {body}");
    }
    // The next step's code (a clock a little ahead) signs in once, spaces and all.
    let next = code(&secret, step + 1);
    let spaced = format!("{} {}", &next[..3], &next[3..]);
    let (status, body) = login_with(&f, "ann@acme.test", "ann-password", json!(spaced)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["token"].as_str().is_some());
    let (status, body) = login_with(&f, "ann@acme.test", "ann-password", json!(next)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "replayed: {body}");
    // An earlier step than the last accepted is a replay too, though inside the window.
    let (status, _) = login_with(
        &f,
        "ann@acme.test",
        "ann-password",
        json!(code(&secret, step)),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Bounded before anything is looked up.
    let (status, _) = login_with(&f, "ann@acme.test", "ann-password", json!("1".repeat(65))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Old clients (no field) serialize as before.
    let old = metron_core::wire::LoginRequest {
        email: "a".into(),
        password: "b".into(),
        device_id: None,
        second_factor: None,
    };
    assert_eq!(
        serde_json::to_value(&old).unwrap(),
        json!({"email": "a", "password": "b"})
    );

    // Turned off with a current code (the next-but-one step is beyond the window: wait it).
    let boss = f.login("boss@acme.test", "boss-password").await;
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/me/second-factor/off",
            Some(&ann),
            Some(json!({"code": code(&secret, step + 1)})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "used already: {body}");
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/me/second-factor/off",
            Some(&ann),
            Some(json!({"code": recovery[0]})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    f.login("ann@acme.test", "ann-password").await;
    let actions = audit_actions(&f, &boss).await;
    for action in ["second_factor.on", "second_factor.off"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

async fn recovery_codes_work_once_and_are_replaced_with_a_current_code(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    fresh_step().await;
    let (secret, recovery) = enrol(&f, &ann).await;
    let mut unique = recovery.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 10);
    // Typed in capitals with spaces for dashes: still the code; once.
    let typed = recovery[3].to_uppercase().replace('-', " ");
    let (status, body) = login_with(&f, "ann@acme.test", "ann-password", json!(typed)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = login_with(&f, "ann@acme.test", "ann-password", json!(recovery[3])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "used: {body}");
    assert!(error_of(&body).starts_with("second_factor_invalid"));
    let (_, left) = f
        .call("GET", "/api/v1/me/second-factor", Some(&ann), None)
        .await;
    assert_eq!(left["recovery_codes_left"], 9);

    // New codes need a good code; the old ones stop working.
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/me/second-factor/recovery-codes",
            Some(&ann),
            Some(json!({"code": "not-a-code"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, fresh) = f
        .call(
            "POST",
            "/api/v1/me/second-factor/recovery-codes",
            Some(&ann),
            Some(json!({"code": code(&secret, now_step() + 1)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    let fresh: Vec<String> = fresh["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !recovery.contains(c)));
    let (status, _) = login_with(&f, "ann@acme.test", "ann-password", json!(recovery[0])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "an old code");
    let (status, body) = login_with(&f, "ann@acme.test", "ann-password", json!(fresh[0])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn second_factor_failures_count_in_the_login_limiter(f: Fixture) {
    let ann = f.login("ann@acme.test", "ann-password").await;
    let step = fresh_step().await;
    let (secret, _) = enrol(&f, &ann).await;
    // Asking for the code is no failure: any number of bare password sign-ins say "required".
    for _ in 0..12 {
        let (status, body) = f.try_login("ann@acme.test", "ann-password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(error_of(&body).starts_with("second_factor_required"));
    }
    // Ten wrong codes (the pair's limit), then even the right one waits.
    for n in 0..10 {
        let (status, body) = login_with(
            &f,
            "ann@acme.test",
            "ann-password",
            json!(code(&secret, step + 5 + n)),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    let (status, body) = login_with(
        &f,
        "ann@acme.test",
        "ann-password",
        json!(code(&secret, step + 1)),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // The own routes' codes are behind the same limiter.
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/me/second-factor/recovery-codes",
            Some(&ann),
            Some(json!({"code": code(&secret, step + 1)})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Another person is not held up.
    f.login("boss@acme.test", "boss-password").await;
}

async fn the_organization_requires_codes_of_admins_or_everyone(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let set = |token: String, value: &'static str| {
        let f = &f;
        async move {
            f.call(
                "PUT",
                "/api/v1/organization/settings",
                Some(&token),
                Some(json!({"require_second_factor": value})),
            )
            .await
        }
    };
    let (status, body) = set(boss.clone(), "admins").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the admin has no codes yet: {body}"
    );
    let (status, body) = set(boss.clone(), "sometimes").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = set(ann.clone(), "admins").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let step = fresh_step().await;
    let (boss_secret, _) = enrol(&f, &boss).await;
    let (status, body) = set(boss.clone(), "admins").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["require_second_factor"], "admins");
    // Admins only: Ann's devices sign in with the password alone.
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"email": "ann@acme.test", "password": "ann-password", "device_id": "laptop"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The admin can't turn their own codes off while required.
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/me/second-factor/off",
            Some(&boss),
            Some(json!({"code": code(&boss_secret, step + 1)})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (status, body) = set(boss.clone(), "everyone").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A device can't set codes up: refused, and told where to go.
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"email": "ann@acme.test", "password": "ann-password", "device_id": "laptop"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        error_of(&body).starts_with("second_factor_setup_required:"),
        "{body}"
    );
    assert!(error_of(&body).contains("web page"));
    // The page is signed in to set them up, and for nothing else.
    let page = f.login("ann@acme.test", "ann-password").await;
    let (status, me) = f.call("GET", "/api/v1/me", Some(&page), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["second_factor_setup_required"], true);
    let (status, body) = f.call("GET", "/api/v1/tasks", Some(&page), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(error_of(&body).starts_with("second_factor_setup_required"));
    let (_, st) = f
        .call("GET", "/api/v1/me/second-factor", Some(&page), None)
        .await;
    assert_eq!(st["required"], true);
    assert_eq!(st["on"], false);
    enrol(&f, &page).await;
    // The same session is whole now.
    let (status, body) = f.call("GET", "/api/v1/tasks", Some(&page), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, me) = f.call("GET", "/api/v1/me", Some(&page), None).await;
    assert_eq!(me["second_factor_setup_required"], false);
    // Sessions from before the requirement go on (docs/SECURITY.md).
    let (status, _) = f.call("GET", "/api/v1/tasks", Some(&ann), None).await;
    assert_eq!(status, StatusCode::OK);

    // The settings say it, the audit trail has both changes, and the command line's path
    // (no acting person) sets it back.
    let (_, settings) = f
        .call("GET", "/api/v1/organization/settings", Some(&boss), None)
        .await;
    assert_eq!(settings["require_second_factor"], "everyone");
    let org = f.state.db.find_organization("acme").await.unwrap().unwrap();
    let done = metron_server::routes::organization::update(
        &f.state,
        &org,
        None,
        serde_json::from_value(json!({"require_second_factor": "off"})).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        done.require_second_factor,
        metron_server::second_factor::Requirement::Off
    );
    let actions = audit_actions(&f, &boss).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "organization.settings")
            .count(),
        3,
        "{actions:?}"
    );
}

async fn a_reset_link_does_not_pass_the_second_factor(f: Fixture) {
    let boss = f.login("boss@acme.test", "boss-password").await;
    let ann = f.login("ann@acme.test", "ann-password").await;
    let ann_id = f.user_id(&ann).await;
    let step = fresh_step().await;
    let (secret, recovery) = enrol(&f, &ann).await;
    let (status, link) = f
        .call(
            "POST",
            &format!("/api/v1/users/{ann_id}/reset-link"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let token = link["link"]
        .as_str()
        .unwrap()
        .split("#reset=")
        .nth(1)
        .unwrap()
        .to_string();
    let reset = |factor: Value| {
        let f = &f;
        let token = token.clone();
        async move {
            f.call(
                "POST",
                "/api/v1/password-reset",
                None,
                Some(
                    json!({"token": token, "password": "new-password-1", "second_factor": factor}),
                ),
            )
            .await
        }
    };
    let (status, body) = reset(Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(error_of(&body).starts_with("second_factor_required"));
    let (status, body) = reset(json!(code(&secret, step + 4))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(error_of(&body).starts_with("second_factor_invalid"));
    // Nothing changed: the old password still signs in (with a code).
    let (status, body) = login_with(
        &f,
        "ann@acme.test",
        "ann-password",
        json!(code(&secret, step + 1)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The link is still good, with a recovery code (the phone is what was lost, say).
    let (status, body) = reset(json!(recovery[0])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["token"].as_str().is_some());
    let (status, body) = f.try_login("ann@acme.test", "new-password-1").await;
    assert!(
        error_of(&body).starts_with("second_factor_required"),
        "{status} {body}"
    );
    let (status, body) =
        login_with(&f, "ann@acme.test", "new-password-1", json!(recovery[1])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn an_admin_turns_a_lost_phones_codes_off_and_the_roles_are_kept(f: Fixture) {
    let cast = f.cast().await;
    fresh_step().await;
    enrol(&f, &cast.ann).await;
    let path = format!("/api/v1/users/{}/second-factor", cast.ann_id);
    // The role matrix of the admins' route: the manager and the member are refused, another
    // organization's admin is told "not found".
    for (who, token, expected) in [
        ("manager", &cast.max, StatusCode::FORBIDDEN),
        ("member", &cast.ann, StatusCode::FORBIDDEN),
        ("other org admin", &cast.oscar, StatusCode::NOT_FOUND),
        ("admin", &cast.boss, StatusCode::NO_CONTENT),
        ("admin again", &cast.boss, StatusCode::CONFLICT),
    ] {
        let (status, body) = f.call("DELETE", &path, Some(token), None).await;
        assert_eq!(status, expected, "{who}: {body}");
    }
    let (status, body) = f.try_login("ann@acme.test", "ann-password").await;
    assert_eq!(status, StatusCode::OK, "codes off: {body}");
    let actions = audit_actions(&f, &cast.boss).await;
    assert!(
        actions.iter().any(|a| a == "second_factor.reset"),
        "{actions:?}"
    );
    // The command line does the same (CLI parity), on either backend's database.
    fresh_step().await;
    enrol(&f, &cast.ann).await;
    let said = super::processes::cli(
        &f.url(),
        &["user", "reset-second-factor", "--email", "ann@acme.test"],
    );
    assert!(said.contains("are off"), "{said}");
    let (status, body) = f.try_login("ann@acme.test", "ann-password").await;
    assert_eq!(status, StatusCode::OK, "codes off: {body}");
    let said = super::processes::cli(
        &f.url(),
        &["user", "reset-second-factor", "--email", "ann@acme.test"],
    );
    assert!(said.contains("had no two-factor codes"), "{said}");
    let resets = audit_actions(&f, &cast.boss)
        .await
        .into_iter()
        .filter(|a| a == "second_factor.reset")
        .count();
    assert_eq!(
        resets, 2,
        "the command line's reset is audited, its no-op is not"
    );
    // The own routes: every role reaches its own, and only its own.
    for (who, token) in [
        ("admin", &cast.boss),
        ("manager", &cast.max),
        ("member", &cast.ann),
        ("other org admin", &cast.oscar),
    ] {
        let (status, body) = f
            .call("GET", "/api/v1/me/second-factor", Some(token), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{who}: {body}");
        assert_eq!(body["on"], false, "{who}");
        for route in ["recovery-codes", "off"] {
            let (status, body) = f
                .call(
                    "POST",
                    &format!("/api/v1/me/second-factor/{route}"),
                    Some(token),
                    Some(json!({"code": "123456"})),
                )
                .await;
            assert_eq!(
                status,
                StatusCode::CONFLICT,
                "{who} {route} while off: {body}"
            );
        }
        let (status, body) = f
            .call(
                "POST",
                "/api/v1/me/second-factor/confirm",
                Some(token),
                Some(json!({"code": "123456"})),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::GONE,
            "{who} confirm without begin: {body}"
        );
        let (status, _) = f
            .call("POST", "/api/v1/me/second-factor/begin", Some(token), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{who}");
    }
    for route in ["", "/begin"] {
        let (status, _) = f
            .call(
                if route.is_empty() { "GET" } else { "POST" },
                &format!("/api/v1/me/second-factor{route}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
