//! The client release an organization's admins announce (`/api/v1/client-version`): what a
//! valid announcement is, and whether it is newer than the running program. The server checks
//! an announcement before it stores one; the clients check it again before they show one, so
//! a link that came over the network reaches a browser only if it is http(s) and bounded,
//! whatever the server sent. Nothing here downloads anything: clients only tell their person.

use crate::wire::{ClientVersion, ClientVersionUpdate};

/// A version's length, in bytes (`0.2.0`, or `1.0.0-rc.1+build.5`).
pub const MAX_VERSION_BYTES: usize = 64;
/// A download address's length, in bytes.
pub const MAX_DOWNLOAD_URL_BYTES: usize = 2048;
/// Release notes' length, in characters.
pub const MAX_NOTES_CHARS: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    #[error(
        "latest must be a semantic version such as 0.2.0, of at most {MAX_VERSION_BYTES} bytes"
    )]
    BadVersion,
    #[error("download_url must be an http:// or https:// address of at most {MAX_DOWNLOAD_URL_BYTES} bytes, without spaces, a user name or password, bidi characters or encoded control characters")]
    BadUrl,
    #[error("notes may have at most {MAX_NOTES_CHARS} characters and no control characters but line breaks and tabs")]
    BadNotes,
    #[error("latest and download_url go together: give both to announce a release, or neither (and no notes) to withdraw it")]
    Incomplete,
}

/// The announcement trimmed and checked. Empty notes are no notes.
pub fn checked(update: ClientVersionUpdate) -> Result<ClientVersionUpdate, ReleaseError> {
    let trimmed = |s: Option<String>| s.map(|s| s.trim().to_string());
    let latest = trimmed(update.latest);
    let mut download_url = trimmed(update.download_url);
    // Format characters (bidi controls, zero-width ones) would reorder what people read.
    let notes = trimmed(update.notes.map(|n| {
        n.replace("\r\n", "\n")
            .chars()
            .filter(|c| !crate::limits::is_format(*c))
            .collect()
    }))
    .filter(|n| !n.is_empty());
    match (&latest, &download_url) {
        (Some(version), Some(url)) => {
            if version.len() > MAX_VERSION_BYTES || semver::Version::parse(version).is_err() {
                return Err(ReleaseError::BadVersion);
            }
            download_url = Some(web_address(url).ok_or(ReleaseError::BadUrl)?);
            if let Some(n) = &notes {
                let stray_control = n.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
                if n.chars().count() > MAX_NOTES_CHARS || stray_control {
                    return Err(ReleaseError::BadNotes);
                }
            }
        }
        (None, None) if notes.is_none() => {}
        _ => return Err(ReleaseError::Incomplete),
    }
    Ok(ClientVersionUpdate {
        latest,
        download_url,
        notes,
    })
}

/// The download link as every client shows it: an http(s) address with a host, of bounded
/// length, with nothing a shell, a terminal or a careless parser could read twice (spaces,
/// control characters, backslashes), no user name or password (`https://host@evil.test/`
/// reads as `host` to a hurried eye and leads to `evil.test`), no bidi or other format
/// characters, raw or percent-encoded, nor percent-encoded control characters; written out
/// as the `url` crate serializes it, the host in punycode (IDNA), so a look-alike host
/// (Cyrillic `а` for Latin `a`) shows as the `xn--` name it really is.
fn web_address(raw: &str) -> Option<String> {
    let hidden = |c: char| c.is_control() || crate::limits::is_format(c);
    if raw.len() > MAX_DOWNLOAD_URL_BYTES
        || raw
            .chars()
            .any(|c| hidden(c) || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    let lower = raw.to_ascii_lowercase();
    // The scheme's two slashes and a host right after them: the `url` crate, as browsers do,
    // would also read `http:host` and `https:///host` as addresses of `host`.
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Any `@` there, even before an empty user name, which the parser would quietly drop.
    if authority.is_empty() || authority.starts_with(':') || authority.contains('@') {
        return None;
    }
    let url = url::Url::parse(raw).ok()?;
    let has_host = url.host_str().is_some_and(|h| !h.is_empty());
    if !matches!(url.scheme(), "http" | "https")
        || !has_host
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    let shown = url.to_string();
    let decoded = percent_encoding::percent_decode_str(&shown).decode_utf8_lossy();
    if shown.len() > MAX_DOWNLOAD_URL_BYTES || decoded.chars().any(hidden) {
        return None;
    }
    Some(shown)
}

/// Whether `latest` is a later version than `running`, by semver precedence. A version that
/// doesn't parse is never newer.
pub fn is_newer(latest: &str, running: &str) -> bool {
    match (
        semver::Version::parse(latest.trim()),
        semver::Version::parse(running.trim()),
    ) {
        (Ok(latest), Ok(running)) => latest > running,
        _ => false,
    }
}

/// A release to tell the person about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Offer {
    pub version: String,
    pub download_url: String,
    pub notes: Option<String>,
}

/// The announced release, if it is valid and newer than `running`.
pub fn offer(announced: &ClientVersion, running: &str) -> Option<Offer> {
    let valid = checked(ClientVersionUpdate {
        latest: announced.latest.clone(),
        download_url: announced.download_url.clone(),
        notes: announced.notes.clone(),
    })
    .ok()?;
    let version = valid.latest?;
    is_newer(&version, running).then(|| Offer {
        version,
        download_url: valid.download_url.unwrap_or_default(),
        notes: valid.notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(latest: &str, url: &str, notes: Option<&str>) -> ClientVersionUpdate {
        ClientVersionUpdate {
            latest: Some(latest.into()),
            download_url: Some(url.into()),
            notes: notes.map(String::from),
        }
    }

    #[test]
    fn a_version_is_newer_only_by_semver_precedence() {
        assert!(is_newer("0.2.0", "0.1.0"), "newer");
        assert!(is_newer("0.10.0", "0.9.3"), "numbers, not text");
        assert!(
            is_newer("1.0.0", "1.0.0-rc.1"),
            "a release after its candidate"
        );
        assert!(!is_newer("0.1.0", "0.1.0"), "equal");
        assert!(!is_newer("0.1.0", "0.2.0"), "older");
        assert!(
            !is_newer("1.0.0-rc.1", "1.0.0"),
            "a candidate before its release"
        );
        assert!(!is_newer("garbage", "0.1.0"), "garbage");
        assert!(!is_newer("v9.0.0", "0.1.0"), "a v prefix is not semver");
        assert!(!is_newer("9", "0.1.0"), "nor is a bare number");
        assert!(!is_newer("9.0.0", "not a version"));
    }

    #[test]
    fn an_announcement_needs_a_version_and_a_web_address_together() {
        assert_eq!(
            checked(update(
                " 0.2.0 ",
                " https://example.com/metron ",
                Some("  ")
            )),
            Ok(update("0.2.0", "https://example.com/metron", None)),
            "trimmed, and blank notes are none"
        );
        assert!(checked(update("0.2.0", "HTTP://example.com", None)).is_ok());
        assert_eq!(
            checked(ClientVersionUpdate::default()),
            Ok(ClientVersionUpdate::default())
        );
        let incomplete = ClientVersionUpdate {
            latest: Some("0.2.0".into()),
            ..ClientVersionUpdate::default()
        };
        assert_eq!(checked(incomplete), Err(ReleaseError::Incomplete));
        let notes_alone = ClientVersionUpdate {
            notes: Some("soon".into()),
            ..ClientVersionUpdate::default()
        };
        assert_eq!(checked(notes_alone), Err(ReleaseError::Incomplete));
    }

    #[test]
    fn bad_versions_addresses_and_notes_are_refused() {
        let url = "https://example.com/";
        for version in [
            "0.2",
            "v0.2.0",
            "latest",
            "",
            &format!("0.2.0-{}", "a".repeat(60)),
        ] {
            assert_eq!(
                checked(update(version, url, None)),
                Err(ReleaseError::BadVersion),
                "{version:?}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_DOWNLOAD_URL_BYTES));
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "ftp://example.com/x",
            "https://",
            "https:///path",
            "https://exa mple.com",
            "https://example.com/\u{7}",
            "https://example.com\\@evil",
            "example.com",
            "http:example.com",
            &long,
            // A user name or password before the host: the link leads to evil.test.
            "https://metron.example.com@evil.test/metron-0.3.0.msi",
            "https://metron:download@evil.test/",
            "https://@evil.test/",
            // Bidi controls, raw or encoded: the name would read backwards on screen.
            "https://example.com/metron-\u{202E}isM.exe",
            "https://exa\u{2067}mple.com/",
            "https://example.com/metron-%E2%80%AEisM.exe",
            "https://example.com/a\u{200B}b",
            // Encoded control characters: NUL, a line break, a terminal escape.
            "https://example.com/get%00.msi",
            "https://example.com/get?x=%0d%0aSet-Cookie:%20a",
            "https://example.com/%1b[31mred",
            "https://example.com/#%7f",
        ] {
            assert_eq!(
                checked(update("0.2.0", bad, None)),
                Err(ReleaseError::BadUrl),
                "{bad:?}"
            );
        }
        // A look-alike host (Cyrillic а, U+0430) is shown as the punycode it is; the path and
        // the case of the scheme as the `url` crate writes them.
        assert_eq!(
            checked(update("0.2.0", "HTTPS://\u{0430}pple.com/get", None))
                .unwrap()
                .download_url
                .as_deref(),
            Some("https://xn--pple-43d.com/get")
        );
        assert_eq!(
            checked(update("0.2.0", "https://Example.COM", None))
                .unwrap()
                .download_url
                .as_deref(),
            Some("https://example.com/")
        );
        let longest_url = format!("https://e.com/{}", "a".repeat(MAX_DOWNLOAD_URL_BYTES - 14));
        assert_eq!(longest_url.len(), MAX_DOWNLOAD_URL_BYTES);
        assert!(checked(update("0.2.0", &longest_url, None)).is_ok());
        // Characters, not bytes: 2,000 Cyrillic letters are 4,000 bytes and fit.
        let most = "я".repeat(MAX_NOTES_CHARS);
        assert!(checked(update("0.2.0", url, Some(&most))).is_ok());
        let too_many = "я".repeat(MAX_NOTES_CHARS + 1);
        assert_eq!(
            checked(update("0.2.0", url, Some(&too_many))),
            Err(ReleaseError::BadNotes)
        );
        assert!(checked(update("0.2.0", url, Some("fixes:\r\n\t- sleep"))).is_ok());
        assert_eq!(
            checked(update("0.2.0", url, Some("red \u{1b}[31m"))),
            Err(ReleaseError::BadNotes)
        );
        assert_eq!(
            checked(update("0.2.0", url, Some("fixes \u{202E}sgub\u{202C}")))
                .unwrap()
                .notes
                .as_deref(),
            Some("fixes sgub"),
            "notes lose their bidi controls"
        );
    }

    #[test]
    fn only_a_valid_newer_announcement_is_offered() {
        let announced = ClientVersion {
            latest: Some("0.3.0".into()),
            download_url: Some("https://example.com/get".into()),
            notes: Some("Faster".into()),
            updated_at: None,
        };
        assert_eq!(
            offer(&announced, "0.2.0"),
            Some(Offer {
                version: "0.3.0".into(),
                download_url: "https://example.com/get".into(),
                notes: Some("Faster".into()),
            })
        );
        assert_eq!(offer(&announced, "0.3.0"), None, "equal");
        assert_eq!(offer(&announced, "0.4.0"), None, "older");
        assert_eq!(
            offer(&ClientVersion::default(), "0.2.0"),
            None,
            "none announced"
        );
        let hostile = ClientVersion {
            download_url: Some("javascript:alert(1)".into()),
            ..announced
        };
        assert_eq!(
            offer(&hostile, "0.2.0"),
            None,
            "a bad link is never offered"
        );
    }
}
