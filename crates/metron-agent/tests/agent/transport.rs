//! Transport (issue 11, item 10): plain http:// only to this machine unless confirmed, no
//! redirects followed, and TLS through a real nginx from Debian with a certificate made by
//! openssl at test time, trusted with `--ca-cert` and refused without it.

use super::delivery::{
    agent, agent_rows, spawn_track, stop, text, unsent, wait_until, Net, EMAIL, PASSWORD,
};
use super::server::ServerProc;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn plain_http_to_another_machine_is_refused_unless_confirmed_and_loopback_needs_no_confirmation() {
    let net = Net::new();
    let dir = net.agent_dir("a");
    // Not a loopback address: refused before anything is sent (192.0.2.0/24 is TEST-NET-1).
    let refused = agent(
        &dir,
        &[
            "login",
            "--server",
            "http://192.0.2.10:8750",
            "--email",
            EMAIL,
            "--password",
            PASSWORD,
        ],
    );
    let err = text(&refused.stderr);
    assert!(
        !refused.status.success()
            && err.contains("plain http:// to another machine")
            && err.contains("--insecure"),
        "{err}"
    );
    assert!(text(&agent(&dir, &["status"]).stdout).contains("not signed in"));
    // Confirmed: the check lets it through, and what fails is the connection (.invalid never
    // resolves), not the check.
    let confirmed = agent(
        &dir,
        &[
            "login",
            "--server",
            "http://metron.invalid:8750",
            "--email",
            EMAIL,
            "--password",
            PASSWORD,
            "--insecure",
        ],
    );
    let err = text(&confirmed.stderr);
    assert!(
        !confirmed.status.success()
            && !err.contains("plain http://")
            && err.contains("metron.invalid"),
        "{err}"
    );
    // The loopback forms need no confirmation.
    for server in [
        net.proxy.base(),
        format!(
            "http://localhost:{}",
            net.proxy.base().rsplit(':').next().unwrap()
        ),
    ] {
        let out = agent(
            &dir,
            &[
                "login",
                "--server",
                &server,
                "--email",
                EMAIL,
                "--password",
                PASSWORD,
            ],
        );
        assert!(out.status.success(), "{server}: {}", text(&out.stderr));
    }
}

/// A listener that answers every request with a redirect to `location`, counting requests.
fn redirector(location: String) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            seen.fetch_add(1, Ordering::SeqCst);
            read_request(&mut stream);
            let answer =
                format!("HTTP/1.1 308 Permanent Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (addr, count)
}

/// Reads one request's head and its Content-Length body.
fn read_request(stream: &mut TcpStream) -> String {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        head.push_str(&line);
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    head + &String::from_utf8_lossy(&body)
}

#[test]
fn login_does_not_follow_a_redirect_and_says_where_it_pointed() {
    let dir = tempfile::tempdir().unwrap();
    // Where the redirect points: a listener that would receive the password if it were followed.
    let thief = TcpListener::bind("127.0.0.1:0").unwrap();
    thief.set_nonblocking(true).unwrap();
    let target = format!("http://{}/api/v1/login", thief.local_addr().unwrap());
    let (addr, requests) = redirector(target.clone());
    let out = agent(
        dir.path(),
        &[
            "login",
            "--server",
            &format!("http://{addr}"),
            "--email",
            EMAIL,
            "--password",
            PASSWORD,
        ],
    );
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&format!("redirect to {target}")) && err.contains("does not follow redirects"),
        "{err}"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    assert!(thief.accept().is_err(), "the redirect was followed");
}

/// Debian's nginx, terminating TLS with a self-signed certificate made by openssl for
/// 127.0.0.1 and proxying to a metron-server, as docs/DEPLOY.md sets it up.
struct Nginx {
    child: Child,
    port: u16,
    cert: PathBuf,
}

impl Nginx {
    fn start(dir: &Path, upstream: SocketAddr) -> Nginx {
        let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
        let made = Command::new(tool("openssl"))
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(made.status.success(), "openssl: {}", text(&made.stderr));
        // A free port: bound, read, released (nginx binds it a moment later).
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = dir.display();
        let conf = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log stderr warn;\nevents {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
             server {{\n    listen 127.0.0.1:{port} ssl;\n    ssl_certificate {};\n    ssl_certificate_key {};\n    \
             location / {{\n      proxy_pass http://{upstream};\n      proxy_set_header Host $host;\n      \
             proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n      proxy_set_header X-Forwarded-Proto $scheme;\n    }}\n  }}\n}}\n",
            cert.display(),
            key.display()
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let mut child = Command::new(tool("nginx"))
            .args(["-e", "stderr", "-p"])
            .arg(dir)
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("nginx exited ({status}): {err}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "nginx did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Nginx { child, port, cert }
    }

    fn base(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Debian tool the test needs: on PATH or in /usr/sbin (nginx lives there and root's PATH
/// is not everyone's). Missing is a failure with the fix, never a skip.
fn tool(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    on_path
        .or_else(|| Some(Path::new("/usr/sbin").join(name)).filter(|p| p.is_file()))
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed; `.ci/deps.sh test` installs it (apt-get install {name})"
            )
        })
}

#[cfg_attr(
    windows,
    ignore = "nginx and openssl are Linux programs, which Wine cannot start"
)]
#[test]
fn through_nginx_with_a_private_ca_the_agent_signs_in_with_ca_cert_and_delivers_and_without_it_fails_on_the_certificate(
) {
    let net = Net::new();
    let tls_dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(tls_dir.path(), net.server.addr);
    let dir = net.agent_dir("a");

    let untrusted = agent(
        &dir,
        &[
            "login",
            "--server",
            &nginx.base(),
            "--email",
            EMAIL,
            "--password",
            PASSWORD,
        ],
    );
    let err = text(&untrusted.stderr);
    assert!(!untrusted.status.success(), "{err}");
    assert!(
        err.contains("TLS connection") && err.contains("certificate") && err.contains("--ca-cert"),
        "{err}"
    );
    assert!(text(&agent(&dir, &["status"]).stdout).contains("not signed in"));

    let cert = nginx.cert.display().to_string();
    let out = agent(
        &dir,
        &[
            "login",
            "--server",
            &nginx.base(),
            "--email",
            EMAIL,
            "--password",
            PASSWORD,
            "--ca-cert",
            &cert,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("1 tasks"),
        "{}",
        text(&out.stdout)
    );
    // The CA is remembered with the account: later commands trust it without being told.
    let tasks = agent(&dir, &["tasks"]);
    assert!(
        text(&tasks.stdout).contains("Write the report")
            && !text(&tasks.stderr).contains("offline"),
        "{}",
        text(&tasks.stderr)
    );
    let status = text(&agent(&dir, &["status"]).stdout);
    assert!(status.contains("connection: online"), "{status}");

    let track = spawn_track(&dir, &net.task);
    wait_until(
        Duration::from_secs(20),
        "an interval delivered through nginx",
        || agent_rows(&dir).iter().any(|r| r.1 == "sent"),
    );
    stop(track);
    if unsent(&dir) > 0 {
        let out = agent(&dir, &["resend", "--all"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let sent = agent_rows(&dir).iter().filter(|r| r.1 == "sent").count();
    assert_eq!(sent, agent_rows(&dir).len());
    assert_eq!(ServerProc::stored_ids(&net.db).len(), sent);

    // A CA file that is not a certificate is refused at login, clearly.
    let junk = tls_dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let bad = agent(
        &dir,
        &[
            "login",
            "--server",
            &nginx.base(),
            "--email",
            EMAIL,
            "--password",
            PASSWORD,
            "--ca-cert",
            &junk.display().to_string(),
        ],
    );
    assert!(
        !bad.status.success() && text(&bad.stderr).contains("as a CA certificate"),
        "{}",
        text(&bad.stderr)
    );
}
