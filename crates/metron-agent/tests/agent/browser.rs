//! The browser's address end to end (issue 15): Debian's Chromium and Firefox ESR under Xvfb +
//! openbox with Metron's extension (`packaging/browser-extension`) loaded, the host registered
//! by `metron-agent browser install`, and a real tracker. Two local pages on two hosts opened
//! in turn: the tracker's window segments carry their hosts (the default privacy setting keeps
//! the host only) and never a page's path.

use super::sensors_x11::{wait_until, x_desktop, xdotool};
use super::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Serves `/first` and `/second` (any host name), each a page with its own title; the first
/// moves on to the second, on the other host, after 20 s (as a person following a link
/// would), so no keystroke has to find the address bar.
fn serve_pages() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&stream);
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    return;
                }
                // The rest of the head.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let (title, next) = if request.contains("/second") {
                    ("Second page", String::new())
                } else {
                    (
                        "First page",
                        format!(
                            r#"<meta http-equiv="refresh" content="20;url=http://localhost:{port}/second">"#
                        ),
                    )
                };
                let body = format!("<!doctype html>{next}<title>{title}</title><h1>{title}</h1>");
                let _ = write!(
                    &stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    port
}

fn front_tab(file: &Path) -> Option<metron_agent::browser::Tab> {
    serde_json::from_slice(&std::fs::read(file).ok()?).ok()
}

#[derive(Clone, Copy, Debug)]
enum Browser {
    Chromium,
    Firefox,
}

#[test]
fn the_tab_in_front_gives_chromium_its_address_through_the_extension() {
    two_pages_in_turn(Browser::Chromium);
}

#[test]
fn the_tab_in_front_gives_firefox_its_address_through_the_extension() {
    two_pages_in_turn(Browser::Firefox);
}

/// The browser's command with the extension loaded, in a profile under `home`.
fn browser_command(browser: Browser, home: &Path, first_page: &str) -> Command {
    let extension = super::manifest_dir().join("../../packaging/browser-extension");
    match browser {
        Browser::Chromium => {
            let mut c = Command::new("chromium");
            c.args([
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--window-size=1000,700",
                &format!(
                    "--user-data-dir={}",
                    home.join(".config/chromium").display()
                ),
                &format!("--load-extension={}", extension.display()),
                first_page,
            ]);
            c
        }
        Browser::Firefox => {
            // Firefox loads unsigned extensions only when told (ESR honours the pref), from
            // the profile's extensions folder as `<id>.xpi`, enabled by the two scope prefs.
            let profile = home.join("firefox-profile");
            let extensions = profile.join("extensions");
            std::fs::create_dir_all(&extensions).unwrap();
            let zipped = Command::new("zip")
                .current_dir(&extension)
                .args(["-q", "-r"])
                .arg(extensions.join("browser@metron.app.xpi"))
                .args(["manifest.json", "background.js", "icon-128.png"])
                .status()
                .unwrap_or_else(|e| panic!("zip: the test command installs it ({e})"));
            assert!(zipped.success());
            std::fs::write(
                profile.join("user.js"),
                [
                    r#"user_pref("xpinstall.signatures.required", false);"#,
                    r#"user_pref("extensions.autoDisableScopes", 0);"#,
                    r#"user_pref("extensions.enabledScopes", 15);"#,
                    r#"user_pref("browser.shell.checkDefaultBrowser", false);"#,
                    r#"user_pref("datareporting.policy.dataSubmissionEnabled", false);"#,
                    r#"user_pref("browser.startup.homepage_override.mstone", "ignore");"#,
                ]
                .join("\n"),
            )
            .unwrap();
            let mut c = Command::new("firefox-esr");
            c.arg("--profile")
                .arg(&profile)
                .args(["--no-remote", first_page]);
            c
        }
    }
}

fn two_pages_in_turn(browser: Browser) {
    let _desktop = one_desktop_at_a_time();
    let (mut procs, display) = x_desktop();
    let port = serve_pages();

    // A person of their own, who has used the browser (its profile folder exists), with a
    // runtime dir.
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    let runtime = root.path().join("run");
    let (name, manifest) = match browser {
        Browser::Chromium => ("Chromium", ".config/chromium/NativeMessagingHosts"),
        Browser::Firefox => ("Firefox", ".mozilla/native-messaging-hosts"),
    };
    std::fs::create_dir_all(home.join(".config/chromium")).unwrap();
    std::fs::create_dir_all(home.join(".mozilla")).unwrap();
    std::fs::create_dir_all(&runtime).unwrap();
    let env = |c: &mut Command| {
        c.env("HOME", &home)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env_remove("XDG_CONFIG_HOME")
            .env("DISPLAY", &display);
    };
    let mut install = Command::new(agent_bin());
    install.args(["browser", "install"]);
    env(&mut install);
    let out = install.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        listed.contains(name) && home.join(manifest).join("app.metron.browser.json").exists(),
        "{listed}"
    );

    let data = root.path().join("data");
    let mut track = agent_command();
    track.args([
        "--data-dir",
        data.to_str().unwrap(),
        "--interval-range",
        "3..3",
        "track",
        "--task",
        "t1",
    ]);
    env(&mut track);
    let mut agent = track
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // In front while it shows the first page (the tracker must see it there). A browser's
    // first start in a new profile can take half a minute on a loaded 2-core machine, and the
    // page moves on only 20 s after it loaded, so the wait can be long. Now and then
    // Chromium's first start shows no window at all (met on a new machine, its output ending
    // in D-Bus errors): it is started again, three starts in all.
    let in_front = || {
        xdotool(
            &display,
            &[
                "search",
                "--name",
                "(First|Second) page",
                "windowactivate",
                "--sync",
            ],
        )
    };
    for start in 1.. {
        let mut command =
            browser_command(browser, &home, &format!("http://127.0.0.1:{port}/first"));
        // With a session bus that has no desktop behind it, Chromium's network service waits
        // on it and no page loads; a real desktop answers, a test session has none.
        command
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        env(&mut command);
        let mut started = command
            .spawn()
            .unwrap_or_else(|e| panic!("{browser:?}: the test command installs it ({e})"));
        if super::sensors_x11::waited(Duration::from_secs(45), in_front) {
            procs.0.push(started);
            break;
        }
        let _ = started.kill();
        let _ = started.wait();
        assert!(
            start < 3,
            "timed out waiting for the browser in front ({start} starts)"
        );
    }
    // The extension reports the first page through the host the browser started.
    let tab_file = runtime.join("metron/browser-tab.json");
    wait_until("the first page's report", Duration::from_secs(120), || {
        front_tab(&tab_file).is_some_and(|t| t.title == "First page")
    });
    assert_eq!(
        front_tab(&tab_file).unwrap().url,
        format!("http://127.0.0.1:{port}/first")
    );
    // The page moves on to the second, on the other host.
    wait_until("the second page's report", Duration::from_secs(30), || {
        front_tab(&tab_file).is_some_and(|t| t.title == "Second page")
    });
    std::thread::sleep(Duration::from_secs(4));
    terminate(&agent);
    let status = agent.wait().unwrap();
    let mut log = String::new();
    use std::io::Read;
    let _ = agent.stderr.take().unwrap().read_to_string(&mut log);
    assert!(status.success(), "{log}");

    let intervals = read_intervals(&metron_agent::paths::store_path(&data));
    let app = name.to_lowercase();
    let segments: Vec<&WindowSegment> = intervals
        .iter()
        .flat_map(|i| &i.windows)
        .filter(|w| w.app.to_lowercase().contains(&app))
        .collect();
    let with = |title: &str, host: &str| {
        segments
            .iter()
            .any(|w| w.title.starts_with(title) && w.url.as_deref() == Some(host))
    };
    assert!(with("First page", "127.0.0.1"), "{segments:#?}");
    assert!(with("Second page", "localhost"), "{segments:#?}");
    // Host only: no path, no port, and no page ever under the other's address.
    assert!(
        segments.iter().all(|w| w
            .url
            .as_deref()
            .is_none_or(|u| !u.contains('/') && !u.contains(':'))),
        "{segments:#?}"
    );
    assert!(!with("First page", "localhost") && !with("Second page", "127.0.0.1"));
}
