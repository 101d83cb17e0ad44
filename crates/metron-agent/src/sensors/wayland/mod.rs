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
}

impl WaylandSensors {
    /// Connects to `$WAYLAND_DISPLAY`; an error says why nothing can be read there.
    pub fn start() -> Result<WaylandSensors, String> {
        let shared = Arc::new(Mutex::new(protocol::Observed {
            idle: idle::IdleTracker::new(Instant::now(), idle::TIMEOUT),
            window: None,
            connected: true,
        }));
        let offered = protocol::start(Arc::clone(&shared))?;
        Ok(WaylandSensors {
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
