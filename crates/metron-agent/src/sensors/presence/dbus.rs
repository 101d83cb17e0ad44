//! Idle inhibitors on Linux, asked over D-Bus. A desktop keeps them in one of these places:
//!
//! - GNOME (X11 and Wayland): `org.gnome.SessionManager.IsInhibited(8)` (8 = idle);
//! - KDE Plasma, Xfce and others: `org.freedesktop.PowerManagement.Inhibit.HasInhibit`;
//! - systemd-logind (the system bus): `ListInhibitors`, an `idle` lock held in `block` mode by a
//!   process of this user;
//! - a bare window manager, where nobody owns `org.freedesktop.ScreenSaver`: Metron's own
//!   stand-in service (`screensaver.rs`) records the inhibitors apps take through it.
//!
//! The asking happens on a thread of its own, which owns the connections: a tick only reads
//! the last answer, and the connections answer calls addressed to them (a panel or `busctl`
//! introspecting the process) at once, tracking or not, instead of leaving the caller to its
//! timeout. Which providers exist is looked up at start and once a minute; while the tracker
//! reads the answer, they are asked every [`ASK_EVERY`]; while it doesn't (not tracking),
//! nothing is asked.

use dbus::blocking::{Connection, Proxy};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::screensaver::ScreenSaverService;
use super::{holders_text, PresenceProbe};

/// How long an answer is kept.
const ASK_EVERY: Duration = Duration::from_secs(2);
/// How often the providers present are looked up again (a desktop service may start late).
const LOOK_EVERY: Duration = Duration::from_secs(60);
/// A D-Bus call's timeout: a hung service must not hold the answer back for long.
const CALL_TIMEOUT: Duration = Duration::from_millis(300);
/// The longest the thread waits for an incoming message before it looks at the clock.
const WAIT: Duration = Duration::from_millis(500);
/// Asking goes on this long after the tracker last read the answer.
const READ_LAPSE: Duration = Duration::from_secs(5);

const GNOME: &str = "org.gnome.SessionManager";
const POWER: &str = "org.freedesktop.PowerManagement";
const LOGIND: &str = "org.freedesktop.login1";

/// What the probe and its thread share.
struct Shared {
    /// Who holds an inhibitor, as last asked.
    held: Mutex<Option<String>>,
    /// When the tracker last read `held`, in milliseconds after `epoch` (0: never).
    read_at: AtomicU64,
    epoch: Instant,
    stop: AtomicBool,
}

impl Shared {
    fn since_epoch(&self) -> u64 {
        // +1 so that a read in the first millisecond is not taken for "never".
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX) + 1
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn read_lately(&self) -> bool {
        let at = self.read_at.load(Ordering::Relaxed);
        at != 0 && self.since_epoch().saturating_sub(at) <= READ_LAPSE.as_millis() as u64
    }
}

pub struct DbusPresence {
    shared: Arc<Shared>,
    described: String,
}

impl DbusPresence {
    pub fn start() -> DbusPresence {
        let asker = Asker {
            service: None,
            session: Connection::new_session().ok(),
            system: Connection::new_system().ok(),
            gnome: false,
            power: false,
            logind: false,
            looked: None,
            asked: None,
        };
        let asker = Asker {
            service: asker
                .session
                .as_ref()
                .and_then(|_| ScreenSaverService::start()),
            ..asker
        };
        let described = asker.describe();
        let shared = Arc::new(Shared {
            held: Mutex::new(None),
            read_at: AtomicU64::new(0),
            epoch: Instant::now(),
            stop: AtomicBool::new(false),
        });
        if asker.session.is_some() || asker.system.is_some() {
            let for_thread = shared.clone();
            let spawned = std::thread::Builder::new()
                .name("metron-presence".into())
                .spawn(move || asker.run(&for_thread));
            if let Err(e) = spawned {
                tracing::warn!("could not start the idle-inhibitor probe: {e}");
            }
        }
        DbusPresence { shared, described }
    }

    /// What is read, for `metron-agent status`.
    pub fn describe(&self) -> String {
        self.described.clone()
    }
}

impl PresenceProbe for DbusPresence {
    fn holder(&mut self) -> Option<String> {
        let now = self.shared.since_epoch();
        self.shared.read_at.store(now, Ordering::Relaxed);
        self.shared.held().clone()
    }
}

impl Drop for DbusPresence {
    fn drop(&mut self) {
        // The thread sees it within `WAIT` and ends, closing its connections.
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

/// The thread's side: the connections and what it learnt of the providers.
struct Asker {
    session: Option<Connection>,
    system: Option<Connection>,
    service: Option<ScreenSaverService>,
    /// Which providers own their names, as of `looked`.
    gnome: bool,
    power: bool,
    logind: bool,
    looked: Option<Instant>,
    asked: Option<Instant>,
}

impl Asker {
    fn describe(&self) -> String {
        let mut from = Vec::new();
        if self.session.is_some() {
            from.push("the session's inhibitors (GNOME, PowerManagement)");
        }
        if self.service.is_some() {
            from.push("Metron's org.freedesktop.ScreenSaver");
        }
        if self.system.is_some() {
            from.push("logind's idle locks");
        }
        if from.is_empty() {
            "no D-Bus: inhibitors not seen".into()
        } else {
            from.join(", ")
        }
    }

    fn run(mut self, shared: &Shared) {
        while !shared.stop.load(Ordering::Relaxed) {
            // Waits on one connection (an incoming call wakes it) and polls the other: calls
            // to either get their answer ("unknown method") within `WAIT`.
            let waited = {
                let conns: Vec<&Connection> = [&self.session, &self.system]
                    .into_iter()
                    .flatten()
                    .collect();
                let Some((first, rest)) = conns.split_first() else {
                    return;
                };
                for c in rest {
                    let _ = c.process(Duration::ZERO);
                }
                first.process(WAIT)
            };
            if waited.is_err() {
                // The bus went away: nothing more is answered; asking fails fast.
                std::thread::sleep(WAIT);
            }
            if !shared.read_lately() {
                // Not tracking: nothing is asked, and a later start begins from "not held"
                // (today's behaviour) until the first answer, within a second.
                *shared.held() = None;
                self.asked = None;
                continue;
            }
            if self.looked.is_none_or(|t| t.elapsed() >= LOOK_EVERY) {
                self.look();
            }
            if self.asked.is_none_or(|t| t.elapsed() >= ASK_EVERY) {
                let held = holders_text(self.ask());
                *shared.held() = held;
                self.asked = Some(Instant::now());
            }
        }
    }

    fn look(&mut self) {
        let owned = |conn: &Option<Connection>, name: &str| {
            conn.as_ref().is_some_and(|c| {
                let proxy = Proxy::new(
                    "org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    CALL_TIMEOUT,
                    c,
                );
                proxy
                    .method_call::<(bool,), _, _, _>(
                        "org.freedesktop.DBus",
                        "NameHasOwner",
                        (name,),
                    )
                    .is_ok_and(|(has,)| has)
            })
        };
        self.gnome = owned(&self.session, GNOME);
        self.power = owned(&self.session, POWER);
        self.logind = owned(&self.system, LOGIND);
        self.looked = Some(Instant::now());
    }

    /// Who holds an idle inhibitor, by every source that says (empty: nobody).
    fn ask(&self) -> Vec<String> {
        let mut holders = Vec::new();
        if let Some(service) = &self.service {
            holders.extend(service.holders());
        }
        if let (true, Some(c)) = (self.gnome, &self.session) {
            holders.extend(gnome_holders(c));
        }
        if let (true, Some(c)) = (self.power, &self.session) {
            let proxy = Proxy::new(
                POWER,
                "/org/freedesktop/PowerManagement/Inhibit",
                CALL_TIMEOUT,
                c,
            );
            if proxy
                .method_call::<(bool,), _, _, _>(
                    "org.freedesktop.PowerManagement.Inhibit",
                    "HasInhibit",
                    (),
                )
                .is_ok_and(|(held,)| held)
            {
                // The interface has no list of holders to ask.
                holders.push(POWER_HOLDER.to_string());
            }
        }
        if let (true, Some(c)) = (self.logind, &self.system) {
            let proxy = Proxy::new(LOGIND, "/org/freedesktop/login1", CALL_TIMEOUT, c);
            type Inhibitor = (String, String, String, String, u32, u32);
            if let Ok((list,)) = proxy.method_call::<(Vec<Inhibitor>,), _, _, _>(
                "org.freedesktop.login1.Manager",
                "ListInhibitors",
                (),
            ) {
                // SAFETY: getuid has no preconditions and can't fail.
                let me = unsafe { libc::getuid() };
                holders.extend(logind_holders(&list, me));
            }
        }
        holders
    }
}

/// What a PowerManagement inhibitor's holder is called: the interface only says one is held.
const POWER_HOLDER: &str = "a PowerManagement inhibitor (holder not told)";

/// logind's idle locks held in `block` mode by processes of user `me`, by their `who` (the
/// holder's own word, as `systemd-inhibit --who` sets it) and program.
fn logind_holders(list: &[(String, String, String, String, u32, u32)], me: u32) -> Vec<String> {
    list.iter()
        .filter(|(what, _, _, mode, uid, _)| {
            *uid == me && mode == "block" && what.split(':').any(|w| w == "idle")
        })
        .map(|(_, who, _, _, _, pid)| {
            let who = who.trim();
            match super::bus_name::program(*pid) {
                Some(program) if program != who => format!("{who} ({program})"),
                _ => who.to_string(),
            }
        })
        .collect()
}

/// GNOME's idle inhibitors (flag 8), by the app id each was taken under; one that can't be
/// read is still counted.
fn gnome_holders(c: &Connection) -> Vec<String> {
    let manager = Proxy::new(GNOME, "/org/gnome/SessionManager", CALL_TIMEOUT, c);
    let held = manager
        .method_call::<(bool,), _, _, _>(GNOME, "IsInhibited", (8u32,))
        .is_ok_and(|(held,)| held);
    if !held {
        return Vec::new();
    }
    let paths: Vec<dbus::Path<'static>> = manager
        .method_call::<(Vec<dbus::Path<'static>>,), _, _, _>(GNOME, "GetInhibitors", ())
        .map(|(p,)| p)
        .unwrap_or_default();
    let mut names: Vec<String> = paths
        .iter()
        .take(64)
        .filter_map(|path| {
            let inhibitor = Proxy::new(GNOME, path, CALL_TIMEOUT, c);
            let interface = "org.gnome.SessionManager.Inhibitor";
            let (flags,): (u32,) = inhibitor.method_call(interface, "GetFlags", ()).ok()?;
            if flags & 8 == 0 {
                return None;
            }
            let (app,): (String,) = inhibitor.method_call(interface, "GetAppId", ()).ok()?;
            Some(app)
        })
        .collect();
    if names.is_empty() {
        names.push("a GNOME inhibitor (holder not told)".into());
    }
    names
}

#[cfg(test)]
mod tests {
    #[test]
    fn logind_names_this_users_idle_blockers_by_who() {
        let lock = |what: &str, who: &str, mode: &str, uid: u32| {
            (
                what.to_string(),
                who.to_string(),
                "why".to_string(),
                mode.to_string(),
                uid,
                u32::MAX,
            )
        };
        let list = [
            lock("idle", "keepawake", "block", 1000),
            lock("sleep:idle", "Zoom", "block", 1000),
            lock("idle", "other user", "block", 1001),
            lock("idle", "delay only", "delay", 1000),
            lock("sleep", "not idle", "block", 1000),
        ];
        assert_eq!(super::logind_holders(&list, 1000), ["keepawake", "Zoom"]);
    }
}
