//! Adds the browser's address to the window in front: while a browser's window shows the
//! title of the tab the extension last reported (`crate::browser`), that tab's URL is the
//! window's. The title check keeps a report of one browser window off another one, and off a
//! window whose browser has closed. It compares whole titles ([`shows_tab`]): a tab titled
//! `I` must not lend its address to every window whose title starts with "I". The privacy filter then keeps what the person's settings
//! allow (the host by default) before anything is recorded.

use std::path::PathBuf;
use std::time::SystemTime;

use metron_core::WindowInfo;

use super::WindowProbe;
use crate::browser::{is_browser, Tab};

/// The front tab as last read, and the file's change time it was read at.
pub struct FrontTab {
    file: PathBuf,
    read_at: Option<SystemTime>,
    tab: Option<Tab>,
}

impl FrontTab {
    pub fn new(file: PathBuf) -> Self {
        FrontTab {
            file,
            read_at: None,
            tab: None,
        }
    }

    /// The URL of `window`'s tab, if it is a browser window showing the reported tab. Reads
    /// the file only when it changed (a stat a second while a browser is in front).
    pub fn url_for(&mut self, window: &WindowInfo) -> Option<String> {
        if !is_browser(&window.app, window.path.as_deref()) {
            return None;
        }
        let modified = std::fs::metadata(&self.file)
            .and_then(|m| m.modified())
            .ok();
        if modified.is_none() {
            self.tab = None;
        } else if modified != self.read_at {
            self.tab = std::fs::read(&self.file)
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        }
        self.read_at = modified;
        let tab = self.tab.as_ref()?;
        (shows_tab(&window.title, &tab.title) && !tab.url.is_empty()).then(|| tab.url.clone())
    }
}

/// What browsers put after the page's title in their window's title, as `<title><separator>
/// <name>`: Chromium's family uses " - ", Firefox's an em dash (older ones " - ").
const BROWSER_NAMES: [&str; 11] = [
    "Chromium",
    "Google Chrome",
    "Google Chrome Beta",
    "Brave",
    "Microsoft Edge",
    // Edge writes a zero-width space into its own name on some versions.
    "Microsoft\u{200b} Edge",
    "Vivaldi",
    "Opera",
    "Mozilla Firefox",
    "Firefox Developer Edition",
    "LibreWolf",
];
const SEPARATORS: [&str; 3] = [" - ", " \u{2014} ", " \u{2013} "];

/// Whether a browser window titled `window_title` shows a tab titled `tab_title`: the same
/// title, alone (some desktops leave the browser's name off) or followed by a browser's own
/// name. A window titled otherwise gets no address: better none than another page's.
pub fn shows_tab(window_title: &str, tab_title: &str) -> bool {
    if tab_title.is_empty() {
        return false;
    }
    let Some(rest) = window_title.strip_prefix(tab_title) else {
        return false;
    };
    rest.is_empty()
        || SEPARATORS.iter().any(|sep| {
            rest.strip_prefix(sep)
                .is_some_and(|name| BROWSER_NAMES.contains(&name))
        })
}

/// A window probe whose browser windows carry their tab's address.
pub struct WithBrowserUrls {
    inner: Box<dyn WindowProbe>,
    tab: FrontTab,
}

impl WithBrowserUrls {
    pub fn new(inner: Box<dyn WindowProbe>, file: PathBuf) -> Self {
        WithBrowserUrls {
            inner,
            tab: FrontTab::new(file),
        }
    }
}

impl WindowProbe for WithBrowserUrls {
    fn current(&mut self) -> Option<WindowInfo> {
        let mut window = self.inner.current()?;
        if window.url.is_none() {
            window.url = self.tab.url_for(&window);
        }
        Some(window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(app: &str, title: &str) -> WindowInfo {
        WindowInfo {
            app: app.into(),
            title: title.into(),
            url: None,
            path: Some(format!("/usr/lib/{app}/{app}")),
        }
    }

    fn report(file: &std::path::Path, url: &str, title: &str) {
        let tab = Tab {
            url: url.into(),
            title: title.into(),
        };
        std::fs::write(file, serde_json::to_vec(&tab).unwrap()).unwrap();
        // A later change time than the last read, on file systems with coarse times.
        let later = SystemTime::now() + std::time::Duration::from_secs(1);
        std::fs::File::options()
            .write(true)
            .open(file)
            .unwrap()
            .set_modified(later)
            .unwrap();
    }

    #[test]
    fn a_browser_window_showing_the_reported_tab_gets_its_url() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("browser-tab.json");
        let mut front = FrontTab::new(file.clone());
        let docs = window("chromium", "serde - Rust - Chromium");
        assert_eq!(front.url_for(&docs), None, "no report yet");
        report(&file, "https://docs.rs/serde", "serde - Rust");
        assert_eq!(
            front.url_for(&docs).as_deref(),
            Some("https://docs.rs/serde")
        );
        // Another window of the browser, or another app with a like title: none.
        assert_eq!(front.url_for(&window("chromium", "Inbox - Chromium")), None);
        // A tab titled "I" lends its address to no window whose title merely starts with "I".
        report(&file, "https://evil.test/", "I");
        assert_eq!(front.url_for(&window("chromium", "Inbox - Chromium")), None);
        assert_eq!(
            front
                .url_for(&window("chromium", "I - Chromium"))
                .as_deref(),
            Some("https://evil.test/")
        );
        assert_eq!(front.url_for(&window("gedit", "serde - Rust notes")), None);
        // The next tab.
        report(&file, "https://mail.example.com/", "Inbox");
        assert_eq!(
            front
                .url_for(&window("chromium", "Inbox - Chromium"))
                .as_deref(),
            Some("https://mail.example.com/")
        );
        // The browser's own pages have no address to give; a removed file, nothing.
        report(&file, "", "Settings");
        assert_eq!(
            front.url_for(&window("chromium", "Settings - Chromium")),
            None
        );
        std::fs::remove_file(&file).unwrap();
        assert_eq!(front.url_for(&window("chromium", "Inbox - Chromium")), None);
    }

    #[test]
    fn a_tab_is_matched_on_the_whole_title_with_the_browsers_own_suffixes() {
        assert!(shows_tab("Inbox - Chromium", "Inbox"));
        assert!(shows_tab("Inbox — Mozilla Firefox", "Inbox"));
        assert!(shows_tab("Inbox - Google Chrome", "Inbox"));
        assert!(shows_tab("Inbox - Microsoft\u{200b} Edge", "Inbox"));
        assert!(
            shows_tab("Inbox", "Inbox"),
            "a desktop that shows the page's title alone"
        );
        // A title that only starts like the tab's is another page.
        assert!(!shows_tab("Inbox - Chromium", "I"));
        assert!(!shows_tab("Inbox (3) - Chromium", "Inbox"));
        assert!(!shows_tab("Inbox - Chromium - Chromium", "Inbox"));
        assert!(!shows_tab("Inbox - Evil Browser", "Inbox"));
        assert!(!shows_tab("Inbox - Chromium", ""));
        assert!(!shows_tab("", ""));
    }

    #[test]
    fn browsers_are_known_by_app_or_executable() {
        use crate::browser::is_browser;
        assert!(is_browser("Chromium", None));
        assert!(is_browser(
            "Navigator",
            Some("/usr/lib/firefox-esr/firefox-esr")
        ));
        assert!(is_browser("msedge.exe", None));
        assert!(!is_browser("code", Some("/usr/share/code/code")));
        assert!(!is_browser("gedit", None));
    }
}
