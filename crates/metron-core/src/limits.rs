//! The sizes a client may send (docs/SECURITY.md): the server refuses anything larger with
//! `invalid: ...`, and the engine clips what the sensors report to the same sizes, so a window
//! with a ten-kilobyte title is tracked, with its title cut, never refused.

use crate::window::WindowInfo;

/// An app name, in bytes.
pub const MAX_APP: usize = 256;
/// A window title, in bytes.
pub const MAX_TITLE: usize = 1024;
/// A URL, in bytes.
pub const MAX_URL: usize = 2048;
/// A process path, in bytes.
pub const MAX_PATH: usize = 1024;
/// A task id, a task's name or project, in bytes.
pub const MAX_TASK_TEXT: usize = 200;
/// A device id (a UUID is 36), in bytes.
pub const MAX_ID: usize = 64;

/// Checks one text a client sent: at most `max` bytes, no NUL or other control characters.
pub fn check_text(field: &str, text: &str, max: usize) -> Result<(), String> {
    if text.len() > max {
        return Err(format!("{field} has {} bytes; at most {max}", text.len()));
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(format!(
            "{field} holds the control character U+{:04X}",
            c as u32
        ));
    }
    Ok(())
}

/// Whether `c` is a format character (Unicode's `Cf`): the bidi embeddings, overrides and
/// isolates, the zero-width spaces and joiners, the byte-order mark, the tag characters. They
/// are invisible, yet they reorder or hide what a reader sees ("Trojan Source"): a reason that
/// reads "approved" on a reviewer's screen may hold something else.
pub fn is_format(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    c.general_category() == GeneralCategory::Format
}

/// A person's own words (a note, a reason, a name): refused, as [`check_text`] refuses, if
/// they hold a control character (NUL among them, which PostgreSQL can't store in text), and
/// returned without format characters ([`is_format`]). Their length is the caller's rule.
pub fn plain_text(field: &str, text: &str) -> Result<String, String> {
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(format!(
            "{field} holds the control character U+{:04X}",
            c as u32
        ));
    }
    Ok(text.chars().filter(|c| !is_format(*c)).collect())
}

/// `text` without control characters, cut to at most `max` bytes on a character boundary.
pub fn clip(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(c);
    }
    out
}

/// A window sample clipped to the sizes above (the engine applies it to every sample).
pub fn clip_window(w: WindowInfo) -> WindowInfo {
    let fits = |t: &str, max: usize| t.len() <= max && !t.chars().any(char::is_control);
    if fits(&w.app, MAX_APP)
        && fits(&w.title, MAX_TITLE)
        && w.url.as_deref().is_none_or(|u| fits(u, MAX_URL))
        && w.path.as_deref().is_none_or(|p| fits(p, MAX_PATH))
    {
        return w;
    }
    WindowInfo {
        app: clip(&w.app, MAX_APP),
        title: clip(&w.title, MAX_TITLE),
        url: w.url.map(|u| clip(&u, MAX_URL)),
        path: w.path.map(|p| clip(&p, MAX_PATH)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_checked_for_size_and_control_characters() {
        assert!(check_text("title", "report.md", MAX_TITLE).is_ok());
        assert!(check_text("title", &"x".repeat(MAX_TITLE + 1), MAX_TITLE)
            .unwrap_err()
            .contains("1025 bytes"));
        assert!(check_text("app", "a\0b", MAX_APP)
            .unwrap_err()
            .contains("U+0000"));
        assert!(check_text("app", "a\u{1b}[31m", MAX_APP).is_err());
    }

    #[test]
    fn plain_text_refuses_controls_and_drops_format_characters() {
        assert_eq!(
            plain_text("note", "lunch with Ann").unwrap(),
            "lunch with Ann"
        );
        assert!(plain_text("note", "a\0b").unwrap_err().contains("U+0000"));
        assert!(plain_text("note", "two\nlines")
            .unwrap_err()
            .contains("U+000A"));
        // Right-to-left override, isolates, zero-width space and joiner, BOM, a tag character.
        assert_eq!(
            plain_text(
                "reason",
                "ok\u{202E}devorppa\u{202C} \u{2067}x\u{2069}\u{200B}\u{200D}\u{FEFF}\u{E0041}!"
            )
            .unwrap(),
            "okdevorppa x!"
        );
        assert_eq!(
            plain_text("name", "Анна Łukasz 李").unwrap(),
            "Анна Łukasz 李"
        );
    }

    #[test]
    fn clipping_keeps_whole_characters_and_drops_controls() {
        assert_eq!(clip("ab\ncd", 10), "ab cd");
        let cyrillic = "я".repeat(600); // 2 bytes each
        let cut = clip(&cyrillic, MAX_TITLE);
        assert_eq!(cut.len(), MAX_TITLE);
        assert!(cut.chars().all(|c| c == 'я'));
        let w = clip_window(WindowInfo {
            app: "a".repeat(300),
            title: "t\0".into(),
            url: Some("u".repeat(3000)),
            path: None,
        });
        assert_eq!(
            (w.app.len(), w.title.as_str(), w.url.unwrap().len()),
            (MAX_APP, "t ", MAX_URL)
        );
    }
}
