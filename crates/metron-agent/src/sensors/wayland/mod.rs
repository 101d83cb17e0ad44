//! Sensors for Wayland sessions of wlroots compositors and KWin: activity from the
//! compositor's idle notifications, the window in front from the foreign-toplevel list.
//!
//! Wayland gives a client no other client's input, so activity is known per second but input
//! is not counted ([`Input::Seen`]); the window is the activated toplevel's app id and title.

mod idle;
mod protocol;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use metron_core::{Input, WindowInfo};

use super::{lock, ActivityProbe, WindowProbe};
pub use protocol::{EXT_IDLE, KWIN_IDLE, WLR_TOPLEVELS};

/// The probes the compositor could feed; either may be missing.
pub struct WaylandSensors {
    pub activity: Option<(WaylandActivity, &'static str)>,
    pub window: Option<(WaylandWindow, &'static str)>,
    /// Where the compositor tells inhibited idleness apart (ext-idle-notify version 2).
    pub presence: Option<WaylandPresence>,
}

impl WaylandSensors {
    /// Connects to `$WAYLAND_DISPLAY`; an error says why nothing can be read there.
    pub fn start() -> Result<WaylandSensors, String> {
        let shared = Arc::new(Mutex::new(protocol::Observed {
            idle: idle::IdleTracker::new(Instant::now(), idle::TIMEOUT),
            window: None,
            connected: true,
            idle_respecting_inhibitors: None,
            input_idle_since: None,
        }));
        let offered = protocol::start(Arc::clone(&shared))?;
        let two_kinds = lock(&shared).idle_respecting_inhibitors.is_some();
        Ok(WaylandSensors {
            presence: two_kinds.then(|| WaylandPresence {
                shared: Arc::clone(&shared),
            }),
            activity: offered.idle.map(|name| {
                (
                    WaylandActivity {
                        shared: Arc::clone(&shared),
                    },
                    name,
                )
            }),
            window: offered.toplevels.map(|name| {
                (
                    WaylandWindow {
                        shared: Arc::clone(&shared),
                    },
                    name,
                )
            }),
        })
    }
}

/// Whether the seat had input in each second, from idle notifications.
pub struct WaylandActivity {
    shared: Arc<Mutex<protocol::Observed>>,
}

impl ActivityProbe for WaylandActivity {
    fn take(&mut self) -> Input {
        let mut observed = lock(&self.shared);
        let active = observed.idle.take(Instant::now());
        Input::Seen(active && observed.connected)
    }
}

/// The activated toplevel; `None` when none is (a bare desktop) or the compositor left.
pub struct WaylandWindow {
    shared: Arc<Mutex<protocol::Observed>>,
}

impl WindowProbe for WaylandWindow {
    fn current(&mut self) -> Option<WindowInfo> {
        let observed = lock(&self.shared);
        observed.window.clone().filter(|_| observed.connected)
    }
}

/// An idle inhibitor is held when the seat has had no input for a while but the notification
/// inhibitors hold back has not said idle: ext-idle-notify version 2 (issue 15).
pub struct WaylandPresence {
    shared: Arc<Mutex<protocol::Observed>>,
}

/// What the holder is called when the compositor says an inhibitor is held: Wayland's
/// idle-inhibit protocol doesn't tell other clients whose surface holds it.
pub const WAYLAND_HOLDER: &str = "a Wayland idle inhibitor (holder not told)";

impl super::presence::PresenceProbe for WaylandPresence {
    fn holder(&mut self) -> Option<String> {
        let observed = lock(&self.shared);
        inhibited(
            observed.input_idle_since,
            observed.idle_respecting_inhibitors,
            Instant::now(),
        )
        .then(|| WAYLAND_HOLDER.to_string())
    }
}

/// The two notifications fire a moment apart after the same timeout: only an input-idle
/// stretch older than one more timeout, with the other still not idle, is an inhibitor.
fn inhibited(input_idle_since: Option<Instant>, idle: Option<bool>, now: Instant) -> bool {
    let settled =
        input_idle_since.is_some_and(|t| now.saturating_duration_since(t) >= idle::TIMEOUT);
    settled && idle == Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn input_idle_without_idle_is_an_inhibitor_once_settled() {
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(5);
        // Input: no inhibitor whatever the other notification says.
        assert!(!inhibited(None, Some(false), later));
        // Input-idle for 5 s, the other not idle: a video holds it.
        assert!(inhibited(Some(t0), Some(false), later));
        // Both idle: plain idleness.
        assert!(!inhibited(Some(t0), Some(true), later));
        // Just now input-idle: the other may be a moment behind.
        assert!(!inhibited(
            Some(t0),
            Some(false),
            t0 + Duration::from_millis(300)
        ));
        // A compositor with one kind of notification can't tell.
        assert!(!inhibited(Some(t0), None, later));
    }
}
