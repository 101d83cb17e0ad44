//! Which sensors this desktop gets, chosen once at start.
//!
//! - Wayland (Linux with `WAYLAND_DISPLAY`): activity from the compositor's idle notifications
//!   (ext-idle-notify-v1, org_kde_kwin_idle), else GNOME's idle monitor; the window from the
//!   wlroots toplevel list, else a KWin script. Where a session has none of these, the X11
//!   sensors, which see XWayland apps only. docs/WAYLAND.md has the table by desktop.
//! - X11: XInput 2 raw events (hardware and injected input told apart), else rdev's RECORD
//!   listener; the window from active-win-pos-rs.
//! - Windows: low-level hooks that tell hardware from injected input (`win_hooks`); macOS:
//!   rdev's event tap. Both checked against the OS's idle time.

#[cfg(not(windows))]
use super::RdevActivity;
use super::{ActiveWindowProbe, Sensors, Sources};

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
    // Windows: Metron's own low-level hooks (rdev's drop the injected flag); macOS: rdev's
    // event tap. Both checked against the OS's idle time.
    #[cfg(windows)]
    let (activity, activity_name): (Box<dyn super::ActivityProbe>, _) = (
        Box::new(super::last_input::CrossChecked::new(
            super::win_hooks::HookActivity::start(),
        )),
        "low-level input hooks, hardware and injected told apart + GetLastInputInfo",
    );
    #[cfg(target_os = "macos")]
    let (activity, activity_name): (Box<dyn super::ActivityProbe>, _) = (
        Box::new(super::last_input::CrossChecked::new(RdevActivity::start())),
        "an event tap + the HID idle time",
    );
    #[cfg(not(any(windows, target_os = "macos")))]
    let (activity, activity_name) = x11_activity();
    Sensors {
        activity,
        window: Box::new(ActiveWindowProbe::default()),
        presence: presence(),
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

/// Idle inhibitors (passive presence), on every desktop.
fn presence() -> Box<dyn super::presence::PresenceProbe> {
    let (probe, name) = super::presence::system();
    tracing::info!("idle inhibitors (passive presence) from {name}");
    probe
}

/// Activity on X11: XInput 2 raw events, which tell hardware input from injected (XTEST),
/// else RECORD through rdev, which can't.
#[cfg(not(any(windows, target_os = "macos")))]
fn x11_activity() -> (Box<dyn super::ActivityProbe>, &'static str) {
    #[cfg(target_os = "linux")]
    match super::xinput::XInputActivity::start() {
        Ok(probe) => return (Box::new(probe), super::xinput::XINPUT2),
        Err(why) => tracing::info!("{}: {why}; using {RDEV_X11}", super::xinput::XINPUT2),
    }
    (Box::new(RdevActivity::start()), RDEV_X11)
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
                presence: None,
            }
        });
        // Inhibitors over D-Bus (GNOME, KDE, logind), and the compositor's own where it
        // tells them (ext-idle-notify version 2: sway, Hyprland, labwc with new wlroots).
        let presence: Box<dyn crate::sensors::presence::PresenceProbe> = match wayland.presence {
            Some(compositor) => Box::new(crate::sensors::presence::AnyOf(vec![
                super::presence(),
                Box::new(compositor),
            ])),
            None => super::presence(),
        };
        let (activity, activity_name, counts) = wayland_activity(wayland.activity);
        let (window, window_name, hint) = wayland_window(wayland.window);
        if let Some(hint) = &hint {
            tracing::warn!("{hint}");
        }
        Sensors {
            activity,
            window,
            presence,
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
                // Someone else's: reinstalling changes nothing; the person must know.
                Err(refusal @ gnome::ShellRefusal::Taken) => {
                    tracing::warn!("{refusal}");
                    hint = Some(refusal.to_string());
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
