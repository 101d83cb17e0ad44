//! Which sensors this desktop gets, chosen once at start.
//!
//! - Wayland (Linux with `WAYLAND_DISPLAY`): the compositor's idle notifications and toplevel
//!   list first; the X11 sensors after them, which still see XWayland apps.
//! - X11: rdev's RECORD listener and active-win-pos-rs.
//! - Windows and macOS: rdev's hooks or event tap, checked against the OS's idle time.

use super::{ActiveWindowProbe, ActivityProbe, RdevActivity, Sensors, Sources, WindowProbe};
use metron_core::WindowInfo;

const RDEV_X11: &str = "X11 RECORD";
const ACTIVE_WIN: &str = "the X11 active window";

pub fn sensors() -> Sensors {
    #[cfg(target_os = "linux")]
    if is_wayland() {
        return wayland_sensors();
    }
    if let Some(warning) = session_warning() {
        tracing::warn!("{warning}");
    }
    // rdev: X11 RECORD on Linux; low-level hooks on Windows and an event tap on macOS,
    // both checked against the OS's idle time.
    #[cfg(any(windows, target_os = "macos"))]
    let (activity, activity_name) = (
        Box::new(super::last_input::CrossChecked::new(RdevActivity::start())),
        if cfg!(windows) {
            "low-level input hooks + GetLastInputInfo"
        } else {
            "an event tap + the HID idle time"
        },
    );
    #[cfg(not(any(windows, target_os = "macos")))]
    let (activity, activity_name) = (Box::new(RdevActivity::start()), RDEV_X11);
    Sensors {
        activity,
        window: Box::new(ActiveWindowProbe::default()),
        sources: Sources {
            activity: activity_name.into(),
            window: if cfg!(unix) && !cfg!(target_os = "macos") {
                ACTIVE_WIN.into()
            } else {
                "the foreground window".into()
            },
            counts: true,
        },
    }
}

#[cfg(target_os = "linux")]
fn wayland_sensors() -> Sensors {
    let wayland = super::wayland::WaylandSensors::start().unwrap_or_else(|why| {
        tracing::warn!("Wayland sensors unavailable: {why}");
        super::wayland::WaylandSensors {
            activity: None,
            window: None,
        }
    });
    let (activity, activity_name, counts) = wayland_activity(wayland.activity);
    let (window, window_name): (Box<dyn WindowProbe>, String) = match wayland.window {
        Some((probe, name)) => (
            Box::new(FirstOf(probe, ActiveWindowProbe::default())),
            format!("{name} (Wayland), then {ACTIVE_WIN}"),
        ),
        None => {
            tracing::warn!(
                "this Wayland compositor offers no toplevel list: windows are seen only for X11 (XWayland) apps"
            );
            (
                Box::new(ActiveWindowProbe::default()),
                format!("{ACTIVE_WIN} (XWayland apps only)"),
            )
        }
    };
    Sensors {
        activity,
        window,
        sources: Sources {
            activity: activity_name,
            window: window_name,
            counts,
        },
    }
}

/// Activity on Wayland: the compositor's idle notifications, else GNOME's idle monitor,
/// else the X11 listener, which sees XWayland apps only.
#[cfg(target_os = "linux")]
fn wayland_activity(
    notifications: Option<(super::wayland::WaylandActivity, &'static str)>,
) -> (Box<dyn ActivityProbe>, String, bool) {
    if let Some((probe, name)) = notifications {
        return (Box::new(probe), format!("{name} (Wayland)"), false);
    }
    match super::gnome::MutterIdle::connect() {
        Ok(mutter) => (
            Box::new(super::idle_time::IdleTimeActivity::new(mutter)),
            format!("{} (GNOME)", super::gnome::MUTTER_IDLE),
            false,
        ),
        Err(why) => {
            tracing::warn!(
                "this Wayland session offers no idle notifications and no GNOME idle monitor ({why}): \
                 activity is seen only in X11 (XWayland) apps"
            );
            (
                Box::new(RdevActivity::start()),
                format!("{RDEV_X11} (XWayland apps only)"),
                true,
            )
        }
    }
}

/// The first probe's window, or the second's when the first sees none: the Wayland list
/// first, then the X11 path for XWayland apps.
struct FirstOf<A, B>(A, B);

impl<A: WindowProbe, B: WindowProbe> WindowProbe for FirstOf<A, B> {
    fn current(&mut self) -> Option<WindowInfo> {
        self.0.current().or_else(|| self.1.current())
    }
}

#[cfg(target_os = "linux")]
fn is_wayland() -> bool {
    std::env::var_os("WAYLAND_DISPLAY").is_some()
        || std::env::var("XDG_SESSION_TYPE").is_ok_and(|v| v.eq_ignore_ascii_case("wayland"))
}

/// A warning for sessions where the sensors can't see everything.
fn session_warning() -> Option<String> {
    if cfg!(any(windows, target_os = "macos")) {
        return None;
    }
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return Some("no DISPLAY is set: input activity and windows can't be seen; time is tracked with 'unknown' samples".into());
    }
    None
}
