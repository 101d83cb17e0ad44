//! The sensors of E1, each behind a small trait so the tracker can run on fakes in tests.
//!
//! A sensor that fails (no display, no EWMH window manager, Wayland, an X error) logs one
//! warning and reports "unknown"; it never panics and never blocks the tick.

pub mod browser_url;
#[cfg(target_os = "linux")]
pub mod gnome;
#[cfg(target_os = "linux")]
mod idle_time;
mod input;
#[cfg(target_os = "linux")]
pub mod kwin;
#[cfg(any(windows, target_os = "macos"))]
mod last_input;
pub mod presence;
mod system;
#[cfg(target_os = "linux")]
pub mod wayland;
#[cfg(windows)]
pub mod win_hooks;
mod window;
#[cfg(target_os = "linux")]
pub mod xinput;

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
    /// Whether an idle inhibitor is held (passive presence).
    pub presence: Box<dyn presence::PresenceProbe>,
    /// What feeds them, for `metron-agent status` and the app's settings.
    pub sources: Sources,
}

/// The names of the sources the sensors read, chosen once at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    pub activity: String,
    pub window: String,
    /// Whether input is counted by kind, or only seen (Wayland).
    pub counts: bool,
    /// What the person can do to let the sensors see more, told once (GNOME's extension).
    pub hint: Option<String>,
}

impl std::fmt::Display for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let activity = match (self.counts, self.activity.strip_suffix(')')) {
            (true, _) => self.activity.clone(),
            (false, Some(open)) => format!("{open}; input not counted)"),
            (false, None) => format!("{} (input not counted)", self.activity),
        };
        write!(f, "activity from {activity}, window from {}", self.window)
    }
}

impl Sensors {
    /// The real sensors of this desktop (see `system.rs` for the order they are tried in).
    pub fn system() -> Sensors {
        let mut sensors = system::sensors();
        // Browser windows carry their tab's address wherever the extension reports it.
        sensors.window = Box::new(browser_url::WithBrowserUrls::new(
            sensors.window,
            crate::browser::tab_file(),
        ));
        sensors
    }

    pub fn sample(&mut self) -> Sample {
        Sample {
            input: self.activity.take(),
            window: self.window.current(),
            inhibitor: self.presence.holder(),
        }
    }
}

/// A window as a compositor's own channel reports it (KWin's script, the GNOME extension):
/// an app id or class, a title, and a process id whose program /proc names.
#[cfg(target_os = "linux")]
fn window_from_compositor(app: &str, title: &str, pid: u32) -> WindowInfo {
    // Bounded before the engine clips them: these strings come from another process.
    const MAX_FIELD: usize = 4096;
    let clip = |s: &str| s.chars().take(MAX_FIELD).collect::<String>();
    let path = (pid > 0)
        .then(|| std::fs::read_link(format!("/proc/{pid}/exe")).ok())
        .flatten()
        .map(|p| p.display().to_string());
    WindowInfo {
        app: if app.is_empty() {
            WindowInfo::UNKNOWN_APP.into()
        } else {
            clip(app)
        },
        title: clip(title),
        url: None,
        path,
    }
}

/// Locks state a sensor thread shares with its probe. A panic while holding it loses at most
/// one sample, so a poisoned lock is taken as it is rather than stopping the tracker.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Fakes for tests of the tracker and of this crate's users.
pub mod fake {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// The sources of scripted sensors.
    pub fn sources() -> Sources {
        Sources {
            activity: "a script".into(),
            window: "a script".into(),
            counts: true,
            hint: None,
        }
    }

    /// Returns whatever the test put in the shared cell, then resets it.
    #[derive(Clone, Default)]
    pub struct ScriptedActivity(pub Arc<Mutex<Counts>>);

    impl ActivityProbe for ScriptedActivity {
        fn take(&mut self) -> Input {
            std::mem::take(&mut *lock(&self.0)).into()
        }
    }

    /// Always reports the window the test put in the shared cell.
    #[derive(Clone, Default)]
    pub struct ScriptedWindow(pub Arc<Mutex<Option<WindowInfo>>>);

    impl WindowProbe for ScriptedWindow {
        fn current(&mut self) -> Option<WindowInfo> {
            lock(&self.0).clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Sources;

    #[test]
    fn sources_say_when_input_is_not_counted() {
        let mut sources = Sources {
            activity: "org_kde_kwin_idle (Wayland)".into(),
            window: "wlr-foreign-toplevel-management (Wayland)".into(),
            counts: false,
            hint: None,
        };
        assert_eq!(
            sources.to_string(),
            "activity from org_kde_kwin_idle (Wayland; input not counted), window from wlr-foreign-toplevel-management (Wayland)"
        );
        sources.activity = "X11 RECORD".into();
        sources.counts = true;
        assert!(sources
            .to_string()
            .starts_with("activity from X11 RECORD, window"));
    }
}
