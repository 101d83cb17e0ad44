//! A stand-in `org.freedesktop.ScreenSaver` for desktops that have none (a bare window
//! manager such as openbox or i3): browsers and video-call apps take their idle inhibitor
//! through this interface, and without an owner their call fails and nobody knows. Metron
//! takes the name only when it is free and lets a real service replace it
//! (`ALLOW_REPLACEMENT`); it records who holds an inhibitor, nothing else: it doesn't blank or
//! unblank the screen. An inhibitor ends with `UnInhibit`, or when the app that took it
//! leaves the bus (as the freedesktop specification says).
//!
//! Any program of the session may call `Inhibit`, so each inhibitor is kept with who took it
//! (issue 27), named by what the bus daemon vouches for: a well-known name the caller owns and
//! its process's program (`bus_name.rs`). The `application_name` argument is the caller's own
//! word and is not used.

use dbus::blocking::stdintf::org_freedesktop_dbus::RequestNameReply;
use dbus::blocking::Connection;
use dbus::channel::MatchingReceiver;
use dbus::message::{MatchRule, MessageType};
use dbus::Message;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const NAME: &str = "org.freedesktop.ScreenSaver";
const INTERFACE: &str = "org.freedesktop.ScreenSaver";
/// At most this many inhibitors are kept: a misbehaving app can't grow the table forever.
const MAX_HOLDERS: usize = 1024;

/// An app's inhibitor: its unique bus name (what `UnInhibit` and leaving the bus match) and
/// the readable name the reports show.
struct Holder {
    unique: String,
    name: String,
}

#[derive(Default)]
struct Holders {
    by_cookie: HashMap<u32, Holder>,
    next: u32,
}

pub struct ScreenSaverService {
    holders: Arc<Mutex<Holders>>,
    owned: Arc<AtomicBool>,
}

impl ScreenSaverService {
    /// Serves the interface on its own thread if the name is free; `None` if a desktop
    /// service owns it (then `dbus.rs` asks the desktop) or there is no session bus.
    pub fn start() -> Option<ScreenSaverService> {
        let conn = Connection::new_session().ok()?;
        match conn.request_name(NAME, true, false, true) {
            Ok(RequestNameReply::PrimaryOwner) => {}
            _ => return None,
        }
        let holders = Arc::new(Mutex::new(Holders {
            next: 1,
            ..Holders::default()
        }));
        let owned = Arc::new(AtomicBool::new(true));
        let service = ScreenSaverService {
            holders: holders.clone(),
            owned: owned.clone(),
        };
        let spawned = std::thread::Builder::new()
            .name("metron-screensaver".into())
            .spawn(move || serve(conn, holders, owned));
        if let Err(e) = spawned {
            tracing::warn!("could not start the ScreenSaver stand-in: {e}");
            return None;
        }
        tracing::info!(
            "no screensaver service on the session bus: Metron records idle inhibitors as {NAME}"
        );
        Some(service)
    }

    /// Who holds an inhibitor now, each app once (none once a real service took the name).
    pub fn holders(&self) -> Vec<String> {
        if !self.owned.load(Ordering::Relaxed) {
            return Vec::new();
        }
        let h = self.holders.lock().unwrap_or_else(|p| p.into_inner());
        h.by_cookie.values().map(|h| h.name.clone()).collect()
    }
}

fn serve(conn: Connection, holders: Arc<Mutex<Holders>>, owned: Arc<AtomicBool>) {
    // An app that leaves the bus releases what it held.
    let gone = holders.clone();
    let _ = conn.add_match(
        MatchRule::new_signal("org.freedesktop.DBus", "NameOwnerChanged"),
        move |(name, _old, new): (String, String, String), _: &Connection, _: &Message| {
            if new.is_empty() {
                let mut h = gone.lock().unwrap_or_else(|p| p.into_inner());
                h.by_cookie.retain(|_, holder| holder.unique != name);
            }
            true
        },
    );
    // A real screensaver took the name: stop answering for it.
    let lost = owned.clone();
    let _ = conn.add_match(
        MatchRule::new_signal("org.freedesktop.DBus", "NameLost"),
        move |(name,): (String,), _: &Connection, _: &Message| {
            if name == NAME {
                lost.store(false, Ordering::Relaxed);
            }
            true
        },
    );
    conn.start_receive(
        MatchRule::new_method_call(),
        Box::new(move |msg, conn| {
            if msg.msg_type() == MessageType::MethodCall {
                let reply = answer(&msg, &holders, conn);
                let _ = conn.channel().send(reply);
            }
            true
        }),
    );
    while owned.load(Ordering::Relaxed) {
        if conn.process(Duration::from_secs(1)).is_err() {
            break;
        }
    }
    owned.store(false, Ordering::Relaxed);
}

/// The reply to one method call: Inhibit, UnInhibit and GetActive of the interface (on the
/// two object paths apps use); anything else is an error.
fn answer(msg: &Message, holders: &Mutex<Holders>, conn: &Connection) -> Message {
    let path = msg.path().map(|p| p.to_string()).unwrap_or_default();
    let interface = msg.interface().map(|i| i.to_string()).unwrap_or_default();
    let member = msg.member().map(|m| m.to_string()).unwrap_or_default();
    let sender = msg.sender().map(|s| s.to_string()).unwrap_or_default();
    let known_path = path == "/org/freedesktop/ScreenSaver" || path == "/ScreenSaver";
    let unknown = || {
        msg.error(
            &"org.freedesktop.DBus.Error.UnknownMethod".into(),
            &std::ffi::CString::new(format!("{interface}.{member} is not served here"))
                .unwrap_or_default(),
        )
    };
    if !known_path || interface != INTERFACE {
        return unknown();
    }
    match member.as_str() {
        // Inhibit(application_name, reason) -> cookie. The name and reason are not kept.
        "Inhibit" if msg.read2::<&str, &str>().is_ok() => {
            if holders
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .by_cookie
                .len()
                >= MAX_HOLDERS
            {
                return msg.error(
                    &"org.freedesktop.DBus.Error.LimitsExceeded".into(),
                    c"too many inhibitors",
                );
            }
            // An app that already holds one is named as before; another is looked up with the
            // bus daemon, before the lock is taken (the tick's reader must not wait on it).
            let known = holders
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .by_cookie
                .values()
                .find(|h| h.unique == sender)
                .map(|h| h.name.clone());
            let name = known
                .unwrap_or_else(|| crate::sensors::presence::bus_name::readable(conn, &sender));
            let mut h = holders.lock().unwrap_or_else(|p| p.into_inner());
            let cookie = h.next;
            h.next = h.next.wrapping_add(1).max(1);
            h.by_cookie.insert(
                cookie,
                Holder {
                    unique: sender,
                    name,
                },
            );
            msg.method_return().append1(cookie)
        }
        "UnInhibit" => match msg.read1::<u32>() {
            Ok(cookie) => {
                let mut h = holders.lock().unwrap_or_else(|p| p.into_inner());
                // Only the app that took an inhibitor can release it.
                if h.by_cookie.get(&cookie).is_some_and(|h| h.unique == sender) {
                    h.by_cookie.remove(&cookie);
                }
                msg.method_return()
            }
            Err(_) => unknown(),
        },
        "GetActive" => msg.method_return().append1(false),
        _ => unknown(),
    }
}
