//! Passive presence (issue 15): whether something holds an idle inhibitor (a video call, a
//! playing video, a presentation), so that seconds without input count as passive rather than
//! idle and the idle stop waits. Read on Linux from the session's D-Bus (GNOME's session
//! manager, the freedesktop PowerManagement and ScreenSaver interfaces, systemd-logind's idle
//! inhibitors); elsewhere not seen yet, which reads as "no inhibitor" (today's behaviour).

#[cfg(target_os = "linux")]
mod dbus;
#[cfg(target_os = "linux")]
mod screensaver;

/// Tells whether an idle inhibitor is held now. Called once per tick: it must be cheap (an
/// implementation caches what it asks over IPC).
pub trait PresenceProbe: Send {
    fn inhibited(&mut self) -> bool;
}

/// For desktops where inhibitors can't be seen (and for tests): never inhibited.
pub struct NoPresence;

impl PresenceProbe for NoPresence {
    fn inhibited(&mut self) -> bool {
        false
    }
}

/// Inhibited when any of several sources says so (D-Bus and the Wayland compositor).
pub struct AnyOf(pub Vec<Box<dyn PresenceProbe>>);

impl PresenceProbe for AnyOf {
    fn inhibited(&mut self) -> bool {
        // Every probe is asked each tick (no short cut), so each keeps its own cache fresh.
        let answers: Vec<bool> = self.0.iter_mut().map(|p| p.inhibited()).collect();
        answers.contains(&true)
    }
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

    struct Says(bool);
    impl PresenceProbe for Says {
        fn inhibited(&mut self) -> bool {
            self.0
        }
    }

    #[test]
    fn any_source_holding_an_inhibitor_counts() {
        let mut none = AnyOf(vec![Box::new(Says(false)), Box::new(Says(false))]);
        assert!(!none.inhibited());
        let mut one = AnyOf(vec![Box::new(Says(true)), Box::new(NoPresence)]);
        assert!(one.inhibited());
    }
}
