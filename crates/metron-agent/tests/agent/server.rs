//! A real `metron-server` process for the delivery tests, on a SQLite file in a temp dir.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The `metron-server` binary of this workspace, built on first use. Another package's binary
/// is not built for this package's tests, so the tests ask cargo for it, except under
/// `.ci/test.sh`, whose `cargo test --workspace` has built it already.
pub fn server_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // This binary is target/<debug|release>/deps/<name>-<hash>; build the server likewise
        // (benchmarks run optimized, so the server they talk to is optimized too).
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap();
        // Under `.ci/test.sh` (`cargo test --workspace`) the binary is built already, with the
        // features of that build; a `cargo build -p` here would build the dependency graph again
        // with other features: minutes on two cores, in the middle of the test run.
        if std::env::var_os("METRON_WORKSPACE_BINS").is_none() {
            let mut cargo = Command::new(env!("CARGO"));
            cargo
                .args([
                    "build",
                    "--quiet",
                    "-p",
                    "metron-server",
                    "--bin",
                    "metron-server",
                ])
                .current_dir(env!("CARGO_MANIFEST_DIR"));
            if profile_dir.ends_with("release") {
                cargo.arg("--release");
            }
            let status = cargo.status().expect("run cargo to build metron-server");
            assert!(status.success(), "building metron-server failed");
        }
        let bin = profile_dir.join(format!("metron-server{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.exists(), "{} is missing after the build", bin.display());
        bin
    })
}

pub struct ServerProc {
    pub addr: SocketAddr,
    child: Child,
}

/// Runs the server CLI on `db`, returns stdout (JSON for `user add` / `task add`).
pub fn server_cli(db: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(server_bin())
        .arg("--db")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

impl ServerProc {
    /// Starts the server on `db`, listening on `listen` (127.0.0.1:0 for any free port).
    pub fn start(db: &Path, listen: &str) -> ServerProc {
        let mut child = Command::new(server_bin())
            .arg("--db")
            .arg(db)
            .args(["serve", "--listen", listen])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        ServerProc { addr, child }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL: the server dies wherever it is.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Every interval id the server stored, with how often (the primary key makes 1 the only
    /// possible count; the query checks it rather than trusting it).
    pub fn stored_ids(db: &Path) -> Vec<(String, i64)> {
        let conn =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        let mut stmt = conn
            // The server stores an id as its 16 bytes: read back in its canonical text.
            .prepare(
                "SELECT lower(substr(hex(id), 1, 8) || '-' || substr(hex(id), 9, 4) || '-' ||
                 substr(hex(id), 13, 4) || '-' || substr(hex(id), 17, 4) || '-' ||
                 substr(hex(id), 21)), count(*) FROM intervals GROUP BY id ORDER BY started_at",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// The stored intervals' columns, in time order (their bodies are packed: the server's
    /// `db/packed.rs`).
    pub fn stored(db: &Path) -> Vec<StoredRow> {
        let conn =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        let mut stmt = conn
            .prepare("SELECT task_id, started_at, ended_at FROM intervals ORDER BY started_at")
            .unwrap();
        stmt.query_map([], |r| {
            Ok(StoredRow {
                task_id: r.get(0)?,
                started_at: r.get(1)?,
                ended_at: r.get(2)?,
            })
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }
}

/// An interval as the server's table holds it, its columns.
#[derive(Debug)]
pub struct StoredRow {
    pub task_id: String,
    /// Unix seconds.
    pub started_at: i64,
    pub ended_at: i64,
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        self.kill();
    }
}
