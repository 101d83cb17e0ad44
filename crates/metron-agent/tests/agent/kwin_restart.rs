//! KWin restarting under the KWin sensor (issue 27): a stand-in KWin on a private session bus
//! (Python with Gio: it owns `org.kde.KWin`, takes `loadScript` and runs a script by calling
//! back the `Activated` the script would call), then another process in its place, as when
//! KWin crashes or is replaced. The sensor must trust the new owner and load its script
//! again; before, it kept listening for the dead one and stayed silent.
//!
//! A stand-in because the real kwin_wayland in this harness runs as its bus's only program
//! (`dbus-run-session`), so it can't be restarted on the same bus; the real KWin is tracked in
//! `sensors_wayland.rs`.

use metron_agent::sensors::kwin::KwinWindow;
use metron_agent::sensors::WindowProbe;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FAKE_KWIN: &str = r#"
import re, sys
from gi.repository import Gio, GLib
app = sys.argv[1]
XML = """<node>
<interface name="org.kde.kwin.Scripting">
  <method name="loadScript"><arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="i" direction="out"/></method>
  <method name="unloadScript"><arg type="s" direction="in"/><arg type="b" direction="out"/></method>
  <method name="start"/>
</interface>
<interface name="org.kde.kwin.Script"><method name="run"/></interface>
</node>"""
info = Gio.DBusNodeInfo.new_for_xml(XML)
bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
scripts = []

def activate(path):
    # What window.js does in KWin: call the service named in it with the active window.
    service = re.search(r'callDBus\("([^"]+)"', open(path).read()).group(1)
    bus.call(service, "/dev/metron/KWin", "dev.metron.KWin", "Activated",
        GLib.Variant("(sss)", (app, app + " window", "0")), None, Gio.DBusCallFlags.NONE,
        2000, None, None)
    return False

def call(conn, sender, path, iface, method, params, invocation):
    if method == "loadScript":
        scripts.append(params.unpack()[0])
        n = len(scripts) - 1
        conn.register_object("/Scripting/Script%d" % n, info.interfaces[1], call, None, None)
        invocation.return_value(GLib.Variant("(i)", (n,)))
    elif method == "unloadScript":
        invocation.return_value(GLib.Variant("(b)", (False,)))
    else:
        # run (or KWin 5's start): answered first, the script's call comes after.
        invocation.return_value(None)
        for s in (scripts if method == "start" else [scripts[int(path.rsplit("Script", 1)[1])]]):
            GLib.idle_add(activate, s)

bus.register_object("/Scripting", info.interfaces[0], call, None, None)
Gio.bus_own_name_on_connection(bus, "org.kde.KWin", Gio.BusNameOwnerFlags.NONE,
    lambda *a: print("owned", flush=True), None)
GLib.MainLoop().run()
"#;

struct Kill(Vec<Child>);

impl Drop for Kill {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn fake_kwin(address: &str, app: &str) -> Child {
    let mut kwin = Command::new("/usr/bin/python3")
        .args(["-c", FAKE_KWIN, app])
        .env("DBUS_SESSION_BUS_ADDRESS", address)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with gi (the test command installs python3-gi)");
    let mut line = String::new();
    BufReader::new(kwin.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "owned", "the stand-in KWin took its name");
    kwin
}

fn wait_for_app(probe: &mut KwinWindow, app: &str) {
    let start = Instant::now();
    loop {
        let seen = probe.current().map(|w| w.app);
        if seen.as_deref() == Some(app) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the sensor never reported {app}'s window (last: {seen:?})"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_kwin_sensor_follows_kwin_through_a_restart() {
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

    procs.0.push(fake_kwin(&address, "first-kwin"));
    let mut channel = dbus::channel::Channel::open_private(&address).unwrap();
    channel.register().unwrap();
    let scripts = tempfile::tempdir().unwrap();
    let mut probe = KwinWindow::start_on(channel.into(), scripts.path()).unwrap();
    wait_for_app(&mut probe, "first-kwin");

    // KWin dies; another takes its name.
    let mut first = procs.0.pop().unwrap();
    first.kill().unwrap();
    first.wait().unwrap();
    procs.0.push(fake_kwin(&address, "second-kwin"));
    wait_for_app(&mut probe, "second-kwin");
}
