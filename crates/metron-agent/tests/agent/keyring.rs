//! The token in a real Secret Service: gnome-keyring-daemon on a private session bus
//! (dbus-run-session), as on a desktop. Without one, the other delivery tests cover the
//! 0600-file fallback.

use super::delivery::{text, Net, EMAIL, PASSWORD};
use super::*;
use std::process::Command;

#[test]
fn login_keeps_the_token_in_the_secret_service_and_logout_removes_it() {
    let net = Net::new();
    let data = net.agent_dir("a");
    let home = net.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    // One session bus for the whole script: unlock a fresh keyring, sign in, look the token up
    // with secret-tool, use it, sign out, look again.
    let script = r#"
        set -e
        printf 'keyring password' | gnome-keyring-daemon --unlock --components=secrets > /dev/null
        "$AGENT" --data-dir "$DATA" login --server "$SERVER" --email "$EMAIL" --password "$PASSWORD"
        test ! -e "$DATA/token" || { echo "the token went to the file despite the keyring"; exit 1; }
        DEVICE=$(sqlite3 "$DATA/agent.sqlite" "SELECT value FROM meta WHERE key = 'device_id'")
        echo "keyring: $(secret-tool lookup service dev.metron.agent username "device-$DEVICE")"
        "$AGENT" --data-dir "$DATA" tasks
        "$AGENT" --data-dir "$DATA" logout
        echo "after logout: $(secret-tool lookup service dev.metron.agent username "device-$DEVICE" || true)"
    "#;
    let out = Command::new("dbus-run-session")
        .args(["--", "bash", "-c", script])
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("DISPLAY")
        .env("AGENT", agent_bin())
        .env("DATA", &data)
        .env("SERVER", net.proxy.base())
        .env("EMAIL", EMAIL)
        .env("PASSWORD", PASSWORD)
        .output()
        .expect("dbus-run-session (Debian package dbus) must be installed: .ci/deps.sh test installs it");
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}\n{}", text(&out.stderr));
    assert!(said.contains("the token is in the keyring"), "{said}");
    let token = said
        .lines()
        .find_map(|l| l.strip_prefix("keyring: "))
        .unwrap()
        .trim();
    assert!(
        token.len() >= 32,
        "the Secret Service holds the token: {said}"
    );
    assert!(
        said.contains("Write the report"),
        "tasks signed in with the token from the keyring: {said}"
    );
    assert!(said.lines().any(|l| l.trim() == "after logout:"), "{said}");
    assert_eq!(
        said.matches(token).count(),
        1,
        "the token is printed by secret-tool only"
    );
}
