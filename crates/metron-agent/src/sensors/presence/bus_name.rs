//! A session-bus client named for a person to read: who took an idle inhibitor (issue 27).
//!
//! The unique name (`:1.42`) says nothing to a manager, and what a caller says of itself (the
//! `application_name` of `Inhibit`) is its own word. The bus daemon vouches for two things: the
//! well-known names a connection owns, and the process behind it. A client is named by both
//! where it has both (`org.example.Meeting (zoom)`), by its program (`/proc/PID/comm`)
//! without a well-known name, and by its unique name where the daemon can't place it.
//! Neither is proof (the session bus gives a free name to whoever asks first, and a program
//! may rename itself); together they are what a manager can check against the machine.

use dbus::blocking::{Connection, Proxy};
use std::time::Duration;

/// Each question to the bus daemon; it answers at once unless the bus is wedged.
const CALL_TIMEOUT: Duration = Duration::from_millis(300);
/// Well-known names looked at: a session bus has a few dozen.
const MAX_NAMES: usize = 500;

/// The readable name of the client `unique` (see the module docs).
pub fn readable(conn: &Connection, unique: &str) -> String {
    let bus = Proxy::new(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        CALL_TIMEOUT,
        conn,
    );
    let program = bus
        .method_call::<(u32,), _, _, _>(
            "org.freedesktop.DBus",
            "GetConnectionUnixProcessID",
            (unique,),
        )
        .ok()
        .and_then(|(pid,)| program(pid));
    match (well_known(&bus, unique), program) {
        (Some(name), Some(program)) => format!("{name} ({program})"),
        (Some(name), None) => name,
        (None, Some(program)) => program,
        (None, None) => unique.to_string(),
    }
}

/// The first (sorted) well-known name `unique` owns, if any.
fn well_known(bus: &Proxy<'_, &Connection>, unique: &str) -> Option<String> {
    let (mut names,): (Vec<String>,) = bus
        .method_call("org.freedesktop.DBus", "ListNames", ())
        .ok()?;
    names.retain(|n| !n.starts_with(':') && n != "org.freedesktop.DBus");
    names.sort();
    names.into_iter().take(MAX_NAMES).find(|name| {
        bus.method_call::<(String,), _, _, _>("org.freedesktop.DBus", "GetNameOwner", (name,))
            .is_ok_and(|(owner,)| owner == unique)
    })
}

/// The program of process `pid`, as the kernel names it (at most 15 bytes).
pub fn program(pid: u32) -> Option<String> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    let comm = comm.trim();
    (!comm.is_empty()).then(|| comm.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_process_is_named_by_its_program() {
        let me = super::program(std::process::id()).unwrap();
        assert!(!me.is_empty() && me.len() <= 15, "{me}");
        assert_eq!(super::program(u32::MAX), None);
    }
}
