//! The test OpenID provider (`provider.mjs`, npm's oidc-provider) as a process a test starts
//! on loopback and stops when done: the server's sign-in tests and the desktop app's resident
//! test both include this file (`#[path]`), so there is one way to install and run it.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The client registered at the provider: what Metron's settings must name.
pub const CLIENT: (&str, &str) = ("metron", "client-s3cret");

/// This folder (`tests/server/oidc` of metron-server) in the checkout under test: cargo sets
/// `CARGO_MANIFEST_DIR` when it runs a test (a cached test binary may outlive the checkout it
/// was built in); both crates that use it sit side by side under `crates/`.
fn sources() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest.join("../metron-server/tests/server/oidc")
}

/// The test browser for programs that open one (`METRON_SSO_BROWSER`): `browser.py`.
pub fn browser() -> PathBuf {
    sources().join("browser.py")
}

/// The provider's folder: `node_modules` from the pinned `package-lock.json` (`npm ci`) and the
/// script beside it. `METRON_OIDC_NODE` (the test command keeps it in its cache) or
/// `target/oidc-provider`; one test process at a time installs (a lock file).
fn provider_dir() -> PathBuf {
    let source = sources();
    let dir = std::env::var_os("METRON_OIDC_NODE")
        .map(PathBuf::from)
        .unwrap_or_else(|| source.join("../../../../../target/oidc-provider"));
    std::fs::create_dir_all(&dir).unwrap();
    let lock = std::fs::File::create(dir.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    // Written only when changed, and by a rename: another test's provider may be reading
    // `provider.mjs` right now (it starts after this lock is released), and a copy truncates
    // the file first: that provider then exited on a half-written script.
    for file in ["package.json", "package-lock.json", "provider.mjs"] {
        let text = std::fs::read(source.join(file)).unwrap();
        if std::fs::read(dir.join(file)).ok().as_ref() != Some(&text) {
            let part = dir.join(format!("{file}.part"));
            std::fs::write(&part, &text).unwrap();
            std::fs::rename(&part, dir.join(file)).unwrap();
        }
    }
    if !dir.join("node_modules/oidc-provider/package.json").exists() {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
            .current_dir(&dir)
            .output()
            .expect("npm (the nodejs and npm packages) runs");
        assert!(
            out.status.success(),
            "npm ci in {} failed: {}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}

/// The running provider; stopped when dropped.
pub struct Provider {
    child: Child,
    pub issuer: String,
}

impl Provider {
    /// The provider, sending browsers back to `callback` (Metron's `/api/v1/sso/callback`).
    pub fn start_for(callback: &str) -> Provider {
        let dir = provider_dir();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .arg(port.to_string())
            .args([CLIENT.0, CLIENT.1, callback])
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = lines
            .find_map(|l| l.ok().filter(|l| l.starts_with("listening on ")))
            .expect("the provider started");
        // Read on: a closed pipe would end the provider at its next line of output.
        std::thread::spawn(move || lines.for_each(drop));
        Provider {
            child,
            issuer: ready.trim_start_matches("listening on ").to_string(),
        }
    }

    /// The next ID token changed as `mode` says (`provider.mjs`).
    pub fn next_token(&self, mode: &str) {
        let address = self.issuer.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        write!(
            stream,
            "POST /test/mode HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{mode}",
            mode.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
