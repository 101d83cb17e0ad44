//! Which sensors this desktop gets, chosen once at start.
//!
//! - Wayland (Linux with `WAYLAND_DISPLAY`): activity from the compositor's idle notifications
//!   (ext-idle-notify-v1, org_kde_kwin_idle), else GNOME's idle monitor; the window from the
//!   wlroots toplevel list, else a KWin script. Where a session has none of these, the X11
//!   sensors, which see XWayland apps only. docs/WAYLAND.md has the table by desktop.
//! - X11: rdev's RECORD listener and active-win-pos-rs.
//! - Windows and macOS: rdev's hooks or event tap, checked against the OS's idle time.

use super::{ActiveWindowProbe, RdevActivity, Sensors, Sources};

#[cfg(not(any(windows, target_os = "macos")))]
const RDEV_X11: &str = "X11 RECORD";
const ACTIVE_WIN: &str = "the X11 active window";

pub fn sensors() -> Sensors {
    #[cfg(target_os = "linux")]
    if wayland::is_wayland() {
        return wayland::sensors();
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
            hint: None,
        },
    }
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

/// The choice on Wayland, by what the session offers.
#[cfg(target_os = "linux")]
mod wayland {
    use super::{ACTIVE_WIN, RDEV_X11};
    use crate::sensors::{
        ActiveWindowProbe, ActivityProbe, RdevActivity, Sensors, Sources, WindowProbe,
    };

    pub fn sensors() -> Sensors {
        let wayland = crate::sensors::wayland::WaylandSensors::start().unwrap_or_else(|why| {
            tracing::warn!("Wayland sensors unavailable: {why}");
            crate::sensors::wayland::WaylandSensors {
                activity: None,
                window: None,
            }
        });
        let (activity, activity_name, counts) = wayland_activity(wayland.activity);
        let (window, window_name, hint) = wayland_window(wayland.window);
        if let Some(hint) = &hint {
            tracing::warn!("{hint}");
        }
        Sensors {
            activity,
            window,
            sources: Sources {
                activity: activity_name,
                window: window_name,
                counts,
                hint,
            },
        }
    }

    /// Activity on Wayland: the compositor's idle notifications, else GNOME's idle monitor,
    /// else the X11 listener, which sees XWayland apps only.
    fn wayland_activity(
        notifications: Option<(crate::sensors::wayland::WaylandActivity, &'static str)>,
    ) -> (Box<dyn ActivityProbe>, String, bool) {
        if let Some((probe, name)) = notifications {
            return (Box::new(probe), format!("{name} (Wayland)"), false);
        }
        match crate::sensors::gnome::MutterIdle::connect() {
            Ok(mutter) => (
                Box::new(crate::sensors::idle_time::IdleTimeActivity::new(mutter)),
                format!("{} (GNOME)", crate::sensors::gnome::MUTTER_IDLE),
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

    /// The window on Wayland: the compositor's toplevel list (wlroots), else a KWin script. Both
    /// list XWayland windows too, so the X11 path is taken only when neither is there (GNOME).
    fn wayland_window(
        toplevels: Option<(crate::sensors::wayland::WaylandWindow, &'static str)>,
    ) -> (Box<dyn WindowProbe>, String, Option<String>) {
        use crate::sensors::{gnome, kwin};
        if let Some((probe, name)) = toplevels {
            return (Box::new(probe), format!("{name} (Wayland)"), None);
        }
        match kwin::KwinWindow::start() {
            Ok(kwin) => return (Box::new(kwin), format!("{} (KDE)", kwin::KWIN_SCRIPT), None),
            Err(why) => tracing::info!("KWin's scripting: {why}"),
        }
        let mut hint = None;
        if let Some(major) = gnome::shell_version() {
            match gnome::ShellWindow::connect() {
                Ok(shell) => {
                    return (
                        Box::new(shell),
                        format!("{} (GNOME)", gnome::SHELL_EXTENSION),
                        None,
                    )
                }
                // Not there or not enabled yet: put it (back) in place and say how to enable it.
                Err(why) => match gnome::install_extension(major) {
                    Ok((dir, _)) => {
                        tracing::warn!("{why}");
                        hint = Some(gnome::enable_hint(&dir));
                    }
                    Err(e) => tracing::warn!("{why}; installing it failed: {e}"),
                },
            }
        }
        tracing::warn!(
            "this Wayland session offers no window list Metron can read: windows are seen only for X11 (XWayland) apps"
        );
        (
            Box::new(ActiveWindowProbe::default()),
            format!("{ACTIVE_WIN} (XWayland apps only)"),
            hint,
        )
    }

    pub fn is_wayland() -> bool {
        std::env::var_os("WAYLAND_DISPLAY").is_some()
            || std::env::var("XDG_SESSION_TYPE").is_ok_and(|v| v.eq_ignore_ascii_case("wayland"))
    }
}
