//! Metron's resident desktop process (`metron-tray`) and the wire to its window.
//!
//! The desktop app is two processes. This one stays while Metron runs: the tracker service of
//! metron-agent, local mode (metron-server inside it), the tray, notifications, autostart and
//! the settings. It links no WebKit, so closed to the tray Metron costs tens of megabytes, not
//! hundreds. The window (`metron`, the Tauri shell) is a process of its own, started on
//! "Show window" and gone when closed; it reaches this one over a local connection only its
//! user can open ([`link`]: a Unix socket, a named pipe on Windows). [`resident::Resident`]
//! holds the logic behind a [`resident::Desktop`] trait, so the commands are tested without a
//! display; [`gui`] puts it on the OS's desktop, whose event loop is the only per-OS part
//! ([`event_loop`]).

pub mod autostart;
pub mod error;
pub mod event_loop;
pub mod gui;
pub mod link;
pub mod local;
pub mod logging;
pub mod notify;
pub mod resident;
pub mod settings;
pub mod tray;
#[cfg(target_os = "linux")]
pub mod tray_host;
pub mod window;

/// The OS locale's language ("ru", "en", ...): from LC_ALL / LC_MESSAGES / LANG, else (on
/// Windows and macOS, where those are seldom set) the user's locale setting.
pub fn os_locale() -> String {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        .or_else(sys_locale::get_locale)
        .map(|v| {
            v.split(['_', '.', '-'])
                .next()
                .unwrap_or("en")
                .to_lowercase()
        })
        .unwrap_or_else(|| "en".into())
}
