//! The token in the Windows Credential Manager (keyring's windows-native store), the way
//! keyring.rs checks the Secret Service on Linux: sign in, find the token there and not in a
//! file, use it, sign out, and it is gone.

use super::delivery::{agent, agent_login, text, Net, PASSWORD};

#[test]
fn login_keeps_the_token_in_the_credential_manager_and_logout_removes_it() {
    let net = Net::new();
    let data = net.agent_dir("a");
    let out = agent_login(&data, &net.proxy.base(), PASSWORD);
    let said = text(&out.stderr) + &text(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("the token is in the keyring"), "{said}");
    assert!(!data.join("token").exists(), "the token went to a file");

    let conn = rusqlite::Connection::open(metron_agent::paths::store_path(&data)).unwrap();
    let device: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| {
            r.get(0)
        })
        .unwrap();
    drop(conn);
    let entry = keyring::Entry::new("dev.metron.agent", &format!("device-{device}")).unwrap();
    let token = entry
        .get_password()
        .expect("the token in the Credential Manager");
    assert!(token.len() >= 32, "a whole token");

    let tasks = agent(&data, &["tasks"]);
    assert!(
        text(&tasks.stdout).contains("Write the report"),
        "tasks signed in with the stored token: {}",
        text(&tasks.stderr)
    );
    assert!(agent(&data, &["logout"]).status.success());
    assert!(
        matches!(entry.get_password(), Err(keyring::Error::NoEntry)),
        "logout removes the credential"
    );
}
