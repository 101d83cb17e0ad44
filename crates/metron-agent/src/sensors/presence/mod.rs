//! Passive presence (issue 15): whether something holds an idle inhibitor (a video call, a
//! playing video, a presentation), so that seconds without input count as passive rather than
//! idle and the idle stop waits. Read on Linux from the session's D-Bus (GNOME's session
//! manager, the freedesktop PowerManagement and ScreenSaver interfaces, systemd-logind's idle
//! inhibitors); elsewhere not seen yet, which reads as "no inhibitor" (today's behaviour).
//!
//! Any program of the session can hold an inhibitor, so the probe says *who* holds it (issue
//! 27): the engine records the name with the passive seconds and the reports show it. Names
//! come from what the bus itself vouches for (a connection's well-known name or its process),
//! not from what the caller says of itself.

#[cfg(target_os = "linux")]
mod bus_name;
#[cfg(target_os = "linux")]
mod dbus;
#[cfg(target_os = "linux")]
mod screensaver;

/// Tells who holds an idle inhibitor now, if anyone: a readable name (several holders are
/// joined, see [`holders_text`]). Called once per tick: it must be cheap (an implementation
/// caches what it asks over IPC).
pub trait PresenceProbe: Send {
    fn holder(&mut self) -> Option<String>;
}

/// For desktops where inhibitors can't be seen (and for tests): never inhibited.
pub struct NoPresence;

impl PresenceProbe for NoPresence {
    fn holder(&mut self) -> Option<String> {
        None
    }
}

/// Held when any of several sources says so (D-Bus and the Wayland compositor), by all the
/// holders they name.
pub struct AnyOf(pub Vec<Box<dyn PresenceProbe>>);

impl PresenceProbe for AnyOf {
    fn holder(&mut self) -> Option<String> {
        // Every probe is asked each tick (no short cut), so each keeps its own cache fresh.
        let named: Vec<String> = self.0.iter_mut().filter_map(|p| p.holder()).collect();
        holders_text(named.iter().flat_map(|n| n.split(", ")).map(str::to_string))
    }
}

/// Several holders as one name: distinct, sorted (so the same holders always read the same
/// and a stretch doesn't split on the order they were asked in), joined by ", ".
pub fn holders_text(names: impl IntoIterator<Item = String>) -> Option<String> {
    let mut names: Vec<String> = names.into_iter().filter(|n| !n.is_empty()).collect();
    names.sort();
    names.dedup();
    (!names.is_empty()).then(|| names.join(", "))
}

/// This desktop's probe and the name of what it reads.
pub fn system() -> (Box<dyn PresenceProbe>, String) {
    #[cfg(target_os = "linux")]
    {
        let probe = dbus::DbusPresence::start();
        let name = probe.describe();
        (Box::new(probe), name)
    }
    #[cfg(not(target_os = "linux"))]
    {
        (Box::new(NoPresence), "not seen on this OS yet".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Says(Option<&'static str>);
    impl PresenceProbe for Says {
        fn holder(&mut self) -> Option<String> {
            self.0.map(str::to_string)
        }
    }

    #[test]
    fn any_source_holding_an_inhibitor_counts_and_every_holder_is_named() {
        let mut none = AnyOf(vec![Box::new(Says(None)), Box::new(Says(None))]);
        assert_eq!(none.holder(), None);
        let mut one = AnyOf(vec![Box::new(Says(Some("zoom"))), Box::new(NoPresence)]);
        assert_eq!(one.holder().as_deref(), Some("zoom"));
        let mut two = AnyOf(vec![
            Box::new(Says(Some("zoom"))),
            Box::new(Says(Some("firefox, zoom"))),
            Box::new(Says(Some("firefox"))),
        ]);
        assert_eq!(two.holder().as_deref(), Some("firefox, zoom"));
    }
}
