//! The sensors of E1, each behind a small trait so the tracker can run on fakes in tests.
//!
//! A sensor that fails (no display, no EWMH window manager, Wayland, an X error) logs one
//! warning and reports "unknown"; it never panics and never blocks the tick.

mod input;
#[cfg(any(windows, target_os = "macos"))]
mod last_input;
mod window;

use metron_core::{Counts, Input, Sample, WindowInfo};

pub use input::RdevActivity;
pub use window::ActiveWindowProbe;

/// Watches input; `take` returns what it saw since the previous call.
pub trait ActivityProbe: Send {
    fn take(&mut self) -> Input;
}

/// Tells which window is in front; `None` when it can't.
pub trait WindowProbe: Send {
    fn current(&mut self) -> Option<WindowInfo>;
}

/// Both sensors, read together once per tick.
pub struct Sensors {
    pub activity: Box<dyn ActivityProbe>,
    pub window: Box<dyn WindowProbe>,
}

impl Sensors {
    /// The real sensors of this desktop.
    pub fn system() -> Sensors {
        if let Some(warning) = session_warning() {
            tracing::warn!("{warning}");
        }
        // rdev: X11 RECORD on Linux; low-level hooks on Windows and an event tap on macOS,
        // both checked against the OS's idle time.
        #[cfg(any(windows, target_os = "macos"))]
        let activity = Box::new(last_input::CrossChecked::new(RdevActivity::start()));
        #[cfg(not(any(windows, target_os = "macos")))]
        let activity = Box::new(RdevActivity::start());
        Sensors {
            activity,
            window: Box::new(ActiveWindowProbe::default()),
        }
    }

    pub fn sample(&mut self) -> Sample {
        Sample {
            input: self.activity.take(),
            window: self.window.current(),
        }
    }
}

/// A warning for sessions where the X11-based sensors can't see everything.
pub fn session_warning() -> Option<String> {
    let wayland = std::env::var("XDG_SESSION_TYPE")
        .map(|v| v.eq_ignore_ascii_case("wayland"))
        .unwrap_or(false)
        || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if wayland {
        return Some(
            "this is a Wayland session: input and windows of native Wayland apps are invisible to Metron's X11 sensors; \
             time is still tracked, with activity and apps from X11 apps only (or 'unknown')"
                .into(),
        );
    }
    if std::env::var_os("DISPLAY").is_none() {
        return Some("no DISPLAY is set: input activity and windows can't be seen; time is tracked with 'unknown' samples".into());
    }
    None
}

/// Fakes for tests of the tracker and of this crate's users.
pub mod fake {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Returns whatever the test put in the shared cell, then resets it.
    #[derive(Clone, Default)]
    pub struct ScriptedActivity(pub Arc<Mutex<Counts>>);

    impl ActivityProbe for ScriptedActivity {
        fn take(&mut self) -> Input {
            std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner())).into()
        }
    }

    /// Always reports the window the test put in the shared cell.
    #[derive(Clone, Default)]
    pub struct ScriptedWindow(pub Arc<Mutex<Option<WindowInfo>>>);

    impl WindowProbe for ScriptedWindow {
        fn current(&mut self) -> Option<WindowInfo> {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
        }
    }
}
