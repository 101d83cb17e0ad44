//! `metron-agent login --sso` against a real `metron-server` process: what it says where the
//! server offers no identity provider, and the flags' rules. The flows themselves, against the
//! server's OpenID Connect side and a real provider, are the server's end-to-end tests.

use super::delivery::{agent, text, Net, EMAIL};

#[test]
fn login_sso_to_a_server_without_an_identity_provider_says_so_plainly_and_saves_nothing() {
    let net = Net::new();
    let dir = net.agent_dir("sso");
    for args in [
        vec!["login", "--server", &net.server.base(), "--sso"],
        vec![
            "login",
            "--server",
            &net.server.base(),
            "--sso",
            "--no-browser",
        ],
        vec![
            "login",
            "--server",
            &net.server.base(),
            "--sso",
            "--provider",
            "corp",
        ],
    ] {
        let out = agent(&dir, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(
                "metron-agent: error: this server offers no sign-in with an identity provider; \
                 sign in with your email and password"
            ),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(!dir.join("token").exists());
    let status = text(&agent(&dir, &["status"]).stdout);
    assert!(status.contains("not signed in"), "{status}");

    // --provider and --no-browser belong to --sso; --sso takes no email.
    for (args, says) in [
        (vec!["--provider", "corp"], "--sso"),
        (vec!["--no-browser"], "--sso"),
        (vec!["--sso", "--email", EMAIL], "cannot be used with"),
        (vec![], "--email"),
    ] {
        let mut all = vec!["login", "--server", "http://127.0.0.1:1"];
        all.extend(args.iter().copied());
        let out = agent(&dir, &all);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{all:?}: {}",
            text(&out.stderr)
        );
    }
}
