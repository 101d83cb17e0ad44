//! Window and input events as task-mining agents record them (issue 15): a stream a process
//! miner can read beside the per-second intervals.
//!
//! - Window events: `WindowOpen` when something new comes to the front (a window, a tab, a
//!   file, a URL, even in a window that stays the same), `WindowSwitch` when a window or
//!   document seen before comes back, `WindowUpdate` when the same document's title changes
//!   (an unsaved-changes mark, an unread count). See [`WindowEvents`].
//! - Input (HID) events, thinned by the 1-minute rule (see [`HidThinner`]): enough to show
//!   when input began and ended around each pause, never one record per key.
//!
//! Intervals carry each event as a time and a type ([`crate::model::IntervalEvent`]); the
//! window it happened in is the window segment covering that second, found when the log is
//! read (the server's `/api/v1/events`, whose answer names each window once a day:
//! [`crate::wire::EventExport`]). Pure: times come in as values, nothing is read from the OS.
//! Window fields arrive already through the privacy filter (E6), so a withheld title is empty
//! in the log too.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::window::WindowInfo;

/// What kind of input device event (never which key or where).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HidKind {
    MouseClick,
    MouseScroll,
    Keyboard,
}

/// Whether an input came from a device or was injected by a program (XTEST, SendInput).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    Hardware,
    Injected,
}

/// The event types of the stream, named as task-mining tools name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventType {
    WindowOpen,
    WindowSwitch,
    WindowUpdate,
    HardwareMouseClick,
    InjectedMouseClick,
    HardwareMouseScroll,
    InjectedMouseScroll,
    HardwareKeyboardEvent,
    InjectedKeyboardEvent,
}

impl EventType {
    pub fn hid(kind: HidKind, origin: Origin) -> Self {
        use {EventType::*, HidKind::*, Origin::*};
        match (kind, origin) {
            (MouseClick, Hardware) => HardwareMouseClick,
            (MouseClick, Injected) => InjectedMouseClick,
            (MouseScroll, Hardware) => HardwareMouseScroll,
            (MouseScroll, Injected) => InjectedMouseScroll,
            (Keyboard, Hardware) => HardwareKeyboardEvent,
            (Keyboard, Injected) => InjectedKeyboardEvent,
        }
    }
}

/// A HID event as the sensor saw it: a time and a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hid {
    pub at: DateTime<Utc>,
    pub kind: EventType,
}

/// The 1-minute rule of task-mining agents. It remembers the time of the last HID event and
/// of the last one written. On a new event:
/// 1. at least 1 minute after the last event (a pause ended): write the last event (the end
///    of the input before the pause, unless it was written already) and the new one;
/// 2. else at least 1 minute after the last one written: write the new one;
/// 3. else only remember its time.
///
/// So a stretch of typing gives its first event, one a minute while it lasts, and its last
/// one once the next input shows a pause was taken.
#[derive(Debug, Clone, Default)]
pub struct HidThinner {
    last: Option<Hid>,
    last_written: Option<DateTime<Utc>>,
}

impl HidThinner {
    const GAP: Duration = Duration::minutes(1);

    pub fn new() -> Self {
        Self::default()
    }

    /// A thinner that continues from an earlier state (the last event and the last written).
    pub fn resume(last: Option<Hid>, last_written: Option<DateTime<Utc>>) -> Self {
        HidThinner { last, last_written }
    }

    /// The last event if it was held back (input ends here: a session stops).
    pub fn flush(&mut self) -> Option<Hid> {
        let last = self.last?;
        if self.last_written == Some(last.at) {
            return None;
        }
        self.last_written = Some(last.at);
        Some(last)
    }

    /// Takes one event; returns those to write, oldest first.
    pub fn push(&mut self, event: Hid) -> Vec<Hid> {
        let mut out = Vec::new();
        let after_pause = self.last.is_some_and(|l| event.at - l.at >= Self::GAP);
        if after_pause {
            let last = self.last.expect("checked above");
            if self.last_written != Some(last.at) {
                out.push(last);
            }
            out.push(event);
        } else if self.last_written.is_none_or(|w| event.at - w >= Self::GAP) {
            out.push(event);
        }
        if let Some(written) = out.last() {
            self.last_written = Some(written.at);
        }
        self.last = Some(event);
        out
    }
}

/// Classifies each change of the window in front into open, switch or update.
///
/// A window's *document* is what it shows: the URL where the browser gives one, else its title
/// without the decorations programs add to the same document (a leading or trailing `*`, `●`
/// or `•` for unsaved changes, a `(3)` or `[3]` unread count). A document never seen before
/// is a `WindowOpen` (a new tab or file in the same window included); one seen before is a
/// `WindowSwitch`; the same document with a different title is a `WindowUpdate`.
#[derive(Debug, Clone, Default)]
pub struct WindowEvents {
    current: Option<(String, String, String)>,
    seen: HashSet<(String, String)>,
}

impl WindowEvents {
    /// How many documents are remembered: past it the memory starts again (a week of
    /// browsing stays far below; the bound keeps a hostile title stream from growing it).
    pub const MAX_SEEN: usize = 10_000;

    pub fn new() -> Self {
        Self::default()
    }

    /// The window in front; an event type when it is not the one already in front.
    pub fn observe(&mut self, window: &WindowInfo) -> Option<EventType> {
        let document = (window.app.clone(), document_of(window));
        let kind = match &self.current {
            Some((app, doc, title)) if (app, doc) == (&document.0, &document.1) => {
                if *title == window.title {
                    return None;
                }
                EventType::WindowUpdate
            }
            _ if self.seen.contains(&document) => EventType::WindowSwitch,
            _ => EventType::WindowOpen,
        };
        if self.seen.len() >= Self::MAX_SEEN {
            self.seen.clear();
        }
        self.seen.insert(document.clone());
        self.current = Some((document.0, document.1, window.title.clone()));
        Some(kind)
    }
}

/// What a window shows, for telling a new document from a changed title (see [`WindowEvents`]).
fn document_of(window: &WindowInfo) -> String {
    if let Some(url) = window.url.as_deref().filter(|u| !u.is_empty()) {
        return url.to_string();
    }
    let mut title = window.title.trim();
    loop {
        let before = title;
        title = title
            .trim_start_matches(['*', '●', '•'])
            .trim_end_matches(['*', '●', '•'])
            .trim();
        // A leading unread count: "(3) Inbox", "[12] Chat".
        for (open, close) in [('(', ')'), ('[', ']')] {
            if let Some(rest) = title.strip_prefix(open) {
                if let Some((count, rest)) = rest.split_once(close) {
                    if !count.is_empty() && count.chars().all(|c| c.is_ascii_digit()) {
                        title = rest.trim_start();
                    }
                }
            }
        }
        if title == before {
            return title.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, s).unwrap()
    }

    fn hid(t: DateTime<Utc>, kind: EventType) -> Hid {
        Hid { at: t, kind }
    }

    fn times(events: &[Hid]) -> Vec<DateTime<Utc>> {
        events.iter().map(|e| e.at).collect()
    }

    #[test]
    fn typing_then_away_then_a_click_writes_the_start_the_end_and_the_click() {
        // (a) Typing from 10:00:00 to 10:00:35, away, a click at 10:05:20.
        let mut thinner = HidThinner::new();
        let mut written = Vec::new();
        let mut t = at(10, 0, 0);
        while t <= at(10, 0, 35) {
            written.extend(thinner.push(hid(t, EventType::HardwareKeyboardEvent)));
            t += Duration::seconds(1);
        }
        written.extend(thinner.push(hid(at(10, 5, 20), EventType::HardwareMouseClick)));
        assert_eq!(
            times(&written),
            [at(10, 0, 0), at(10, 0, 35), at(10, 5, 20)]
        );
        assert_eq!(written[1].kind, EventType::HardwareKeyboardEvent);
        assert_eq!(written[2].kind, EventType::HardwareMouseClick);
    }

    #[test]
    fn two_clicks_inside_the_minute_write_only_the_one_a_minute_after_the_last_written() {
        // (b) The last HID event at 15:00:30 (input from 15:00:20, when the last one was
        // written), a click at 15:00:55, a click in another program at 15:01:20.
        let mut thinner = HidThinner::resume(
            Some(hid(at(15, 0, 30), EventType::HardwareKeyboardEvent)),
            Some(at(15, 0, 20)),
        );
        assert!(thinner
            .push(hid(at(15, 0, 55), EventType::HardwareMouseClick))
            .is_empty());
        let written = thinner.push(hid(at(15, 1, 20), EventType::HardwareMouseClick));
        assert_eq!(times(&written), [at(15, 1, 20)]);
    }

    #[test]
    fn steady_input_writes_one_event_a_minute() {
        let mut thinner = HidThinner::new();
        let mut written = Vec::new();
        for s in 0..180 {
            let t = at(9, 0, 0) + Duration::seconds(s);
            written.extend(thinner.push(hid(t, EventType::InjectedMouseScroll)));
        }
        assert_eq!(times(&written), [at(9, 0, 0), at(9, 1, 0), at(9, 2, 0)]);
    }

    #[test]
    fn a_lone_event_after_a_pause_is_not_written_twice() {
        let mut thinner = HidThinner::new();
        assert_eq!(
            thinner
                .push(hid(at(8, 0, 0), EventType::HardwareMouseClick))
                .len(),
            1
        );
        // The last event (8:00:00) was written already: only the new one.
        let written = thinner.push(hid(at(8, 3, 0), EventType::HardwareMouseClick));
        assert_eq!(times(&written), [at(8, 3, 0)]);
    }

    fn window(app: &str, title: &str, url: Option<&str>) -> WindowInfo {
        WindowInfo {
            app: app.into(),
            title: title.into(),
            url: url.map(Into::into),
            path: Some(format!("/usr/bin/{app}")),
        }
    }

    #[test]
    fn new_documents_open_known_ones_switch_and_decorated_titles_update() {
        let mut w = WindowEvents::new();
        let kinds: Vec<Option<EventType>> = [
            window("code", "main.rs - Code", None),
            window("code", "main.rs - Code", None),
            window("code", "● main.rs - Code", None),
            window("code", "lib.rs - Code", None),
            window("slack", "(3) Slack", None),
            window("slack", "(4) Slack", None),
            window("code", "main.rs - Code", None),
            window("chromium", "Docs", Some("https://a.example/x")),
            window("chromium", "Docs — edited", Some("https://a.example/x")),
            window("chromium", "Docs", Some("https://b.example/y")),
            window("chromium", "Docs", Some("https://a.example/x")),
        ]
        .iter()
        .map(|win| w.observe(win))
        .collect();
        use EventType::*;
        assert_eq!(
            kinds,
            [
                Some(WindowOpen),
                None,
                Some(WindowUpdate),
                Some(WindowOpen),
                Some(WindowOpen),
                Some(WindowUpdate),
                Some(WindowSwitch),
                Some(WindowOpen),
                Some(WindowUpdate),
                Some(WindowOpen),
                Some(WindowSwitch),
            ]
        );
    }

    #[test]
    fn an_export_names_the_event_type_and_leaves_a_withheld_title_out() {
        let kind = WindowEvents::new()
            .observe(&window("code", "", None))
            .expect("first window opens");
        assert_eq!(serde_json::to_value(kind).unwrap(), "WindowOpen");
        let w = window("code", "", None);
        let exported = crate::wire::ExportWindow {
            app: w.app,
            title: w.title,
            url: w.url,
            path: w.path,
        };
        let json = serde_json::to_value(&exported).unwrap();
        assert_eq!(json["app"], "code");
        assert_eq!(json["path"], "/usr/bin/code");
        assert!(json.get("title").is_none(), "a withheld title is left out");
    }
}
