//! The browser's address: Metron's browser extension (`packaging/browser-extension`) tells
//! the native-messaging host [`host`] (this very binary, started by the browser) which tab is
//! in front, the host leaves it in a small private file ([`tab_file`]), and the tracker's
//! window sensor (`sensors::browser_url`) adds its URL to the browser window while that tab's
//! title is the window's. [`install`] registers the host with the browsers of this user.
//!
//! Why an extension and not the accessibility tree (AT-SPI, UI Automation): Chromium builds
//! its tree for web pages only when accessibility is turned on for the whole desktop (a screen
//! reader, or `--force-renderer-accessibility`), and walking it every second costs the browser
//! too; an extension is told of every tab change for free, the same way on Linux, Windows and
//! macOS, and it can't see private windows. docs/DECISIONS.md says more.

pub mod host;
pub mod install;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The host's name, as browsers know it (the manifests' `name`).
pub const HOST_NAME: &str = "app.metron.browser";
/// The extension's id in Chromium-based browsers (from the public `key` of its manifest).
pub const CHROMIUM_EXTENSION_ID: &str = "ogelpmineoinldcpeemknkfknlmghkbk";
/// The extension's id in Firefox (`browser_specific_settings.gecko.id`).
pub const FIREFOX_EXTENSION_ID: &str = "browser@metron.app";

/// The tab in front of the browser, as the extension last told it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tab {
    /// http(s) only; other schemes (files, the browser's own pages) are none of Metron's
    /// business and arrive as "".
    pub url: String,
    pub title: String,
}

/// Where the host leaves the front tab: the user's runtime dir (a tmpfs private to the user,
/// emptied at logout) where there is one, else the user's cache dir. The browser starts the
/// host with the user's environment, so both sides find the same file.
pub fn tab_file() -> PathBuf {
    #[cfg(windows)]
    let dir = dirs::data_local_dir().map(|d| d.join("Metron"));
    #[cfg(not(windows))]
    let dir = dirs::runtime_dir()
        .or_else(dirs::cache_dir)
        .map(|d| d.join("metron"));
    dir.unwrap_or_else(|| PathBuf::from("."))
        .join("browser-tab.json")
}

/// Whether an app or executable looks like a web browser the extension runs in.
pub fn is_browser(app: &str, path: Option<&str>) -> bool {
    const NAMES: [&str; 9] = [
        "chrom",
        "chrome",
        "firefox",
        "brave",
        "msedge",
        "edge",
        "vivaldi",
        "opera",
        "librewolf",
    ];
    let name = |s: &str| {
        let s = s.to_lowercase();
        NAMES.iter().any(|n| s.contains(n))
    };
    name(app) || path.is_some_and(|p| name(p.rsplit(['/', '\\']).next().unwrap_or(p)))
}
