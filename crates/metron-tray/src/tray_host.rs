//! Whether a Wayland session can show the tray icon.
//!
//! On Linux the icon is a StatusNotifierItem (libayatana-appindicator), which a host in the
//! panel draws: KDE Plasma and most wlroots bars (waybar) have one, GNOME only with the
//! AppIndicator extension. On X11 libayatana falls back to the old XEmbed tray, so the check is
//! for Wayland only: there, without a host, the icon is nowhere, and closing the window must
//! quit rather than leave an unreachable process behind.

use std::time::Duration;

use dbus::blocking::stdintf::org_freedesktop_dbus::Properties;
use dbus::blocking::Connection;

const WATCHER: &str = "org.kde.StatusNotifierWatcher";

/// What the person is told, once, when no tray can be shown.
pub const NO_HOST_HINT: &str = "This desktop shows no tray icons, so closing Metron's window quits Metron (tracking stops). \
On GNOME, the AppIndicator extension (package gnome-shell-extension-appindicator) puts Metron in the top bar.";

/// `Some(false)` when this is a Wayland session whose bus has no tray host; `None` on X11 or
/// when it can't be told.
pub fn wayland_without_host() -> Option<bool> {
    std::env::var_os("WAYLAND_DISPLAY")?;
    let conn = Connection::new_session().ok()?;
    let proxy = conn.with_proxy(
        WATCHER,
        "/StatusNotifierWatcher",
        Duration::from_millis(500),
    );
    let registered: bool = proxy
        .get(WATCHER, "IsStatusNotifierHostRegistered")
        .unwrap_or(false);
    Some(!registered)
}
