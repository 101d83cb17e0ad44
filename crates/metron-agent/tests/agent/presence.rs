//! Passive presence (issue 15) end to end: `metron-agent track` on a private session bus with
//! no input at all; an app (Python with Gio, as a browser or a call app would) takes an idle
//! inhibitor through org.freedesktop.ScreenSaver, which Metron serves where no desktop does.
//! Tracking outlives the idle limit while the inhibitor is held, those seconds are marked
//! passive, and the idle stop comes once the app lets go. Each passive second names who held
//! the inhibitor, by what the bus vouches for (issue 27).

use super::delivery::{agent, text};
use super::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Kill(Vec<Child>);

impl Drop for Kill {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The seconds an app holds its inhibitor.
const HOLD_SECS: u64 = 20;
/// The idle stop: long enough that Metron serves the interface and the app takes its
/// inhibitor before it even on a busy machine (the Windows build runs beside the tests; with
/// 4 s the margin for starting the agent was 3 s).
const IDLE_LIMIT: u64 = 10;

const HOLDER: &str = r#"
import sys, time
from gi.repository import Gio, GLib
bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
if len(sys.argv) > 2:
    Gio.bus_own_name_on_connection(bus, sys.argv[2], Gio.BusNameOwnerFlags.NONE, None, None)
    # The name is ours once the daemon answered a round trip after the request.
    bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "GetId", None, None, Gio.DBusCallFlags.NONE, 2000, None)
call = lambda method, args, reply: bus.call_sync("org.freedesktop.ScreenSaver",
    "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver", method, args,
    GLib.VariantType(reply) if reply else None, Gio.DBusCallFlags.NONE, 2000, None)
cookie = call("Inhibit", GLib.Variant("(ss)", ("firefox", "Playing video")), "(u)").unpack()[0]
print("held", cookie, flush=True)
time.sleep(float(sys.argv[1]))
call("UnInhibit", GLib.Variant("(u)", (cookie,)), None)
print("released", flush=True)
"#;

#[test]
fn an_inhibitor_held_without_input_keeps_tracking_and_marks_the_seconds_passive() {
    let dir = tempfile::tempdir().unwrap();
    // A session bus of the test's own.
    let mut bus = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("dbus-daemon (the test command installs dbus)");
    let mut address = String::new();
    BufReader::new(bus.stdout.take().unwrap())
        .read_line(&mut address)
        .unwrap();
    let address = address.trim().to_string();
    let mut procs = Kill(vec![bus]);

    let data = dir.path().join("agent");
    let mut track = agent_command();
    track
        .args(["--data-dir", data.to_str().unwrap()])
        .args([
            "--interval-range",
            "4..6",
            "--idle-limit",
            &IDLE_LIMIT.to_string(),
        ])
        .args(["track", "--task", "t"])
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let tracker = track.spawn().unwrap();
    // The app takes its inhibitor as soon as Metron serves the interface.
    let owned = || {
        Command::new("dbus-send")
            .args([
                &format!("--bus={address}"),
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.ScreenSaver",
            ])
            .output()
            .is_ok_and(|o| text(&o.stdout).contains("boolean true"))
    };
    while !owned() {
        assert!(
            started.elapsed() < Duration::from_secs(IDLE_LIMIT - 2),
            "Metron did not serve org.freedesktop.ScreenSaver within {} s (before the idle limit)",
            IDLE_LIMIT - 2
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Two apps hold one: a meeting app that owns a well-known name, and a program that owns
    // none (and calls itself "firefox", which is not believed).
    for name in [Some("org.example.Meeting"), None] {
        let holder = Command::new("/usr/bin/python3")
            .args(["-c", HOLDER, &HOLD_SECS.to_string()])
            .args(name)
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with gi (the test command installs python3-gi)");
        procs.0.push(holder);
    }

    // Tracking ends by itself: the idle stop, IDLE_LIMIT s after the app let go.
    let out = tracker.wait_with_output().unwrap();
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    let lasted = started.elapsed();
    assert!(
        lasted >= Duration::from_secs(HOLD_SECS),
        "tracking stopped after {lasted:?}, while the inhibitor was held: {log}"
    );

    let listed = agent(&data, &["intervals", "--json"]);
    let intervals: Vec<metron_core::Interval> = text(&listed.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let passive: usize = intervals
        .iter()
        .filter_map(|i| i.passive.as_ref())
        .map(|p| p.matches('1').count())
        .sum();
    let tracked: i64 = intervals.iter().map(|i| i.duration_secs()).sum();
    assert!(
        passive as u64 >= HOLD_SECS - 3,
        "{passive} passive seconds of {tracked} tracked: {intervals:?}"
    );
    assert!(
        intervals.iter().all(|i| !i.active.contains('1')),
        "no input was made"
    );
    assert_eq!(
        intervals.last().unwrap().end_reason,
        metron_core::EndReason::Idle,
        "the idle stop came after the app let go"
    );
    // Every passive second names its holders: the meeting app by its bus name and program,
    // the other by its program alone.
    let both = "org.example.Meeting (python3), python3";
    let mut named = 0;
    let mut by_both = 0;
    for interval in &intervals {
        interval.validate().unwrap();
        for stretch in &interval.presence {
            assert!(
                [both, "python3", "org.example.Meeting (python3)"]
                    .contains(&stretch.held_by.as_str()),
                "{stretch:?}"
            );
            named += stretch.seconds as usize;
            if stretch.held_by == both {
                by_both += stretch.seconds as u64;
            }
        }
    }
    assert_eq!(
        named, passive,
        "every passive second is named: {intervals:?}"
    );
    assert!(
        by_both >= HOLD_SECS - 4,
        "{by_both} s named both: {intervals:?}"
    );
    // Not passive at the end: the last IDLE_LIMIT seconds were idle.
    let last = intervals.last().unwrap();
    assert!(last.passive.as_ref().is_none_or(|p| p.ends_with('0')));
}
