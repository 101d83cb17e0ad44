//! The native-messaging host: the browser starts `metron-agent` with the extension's origin as
//! its argument and speaks to it over stdin (each message a 32-bit length in native byte
//! order, then that much JSON). Each message is the front tab; the latest one is written to
//! [`super::tab_file`] for the tracker. The host answers nothing and ends with stdin, when
//! the browser closes or the extension is turned off.

use std::io::{ErrorKind, Read};
use std::path::Path;

use metron_core::limits::{MAX_TITLE, MAX_URL};

use super::{Tab, CHROMIUM_EXTENSION_ID, FIREFOX_EXTENSION_ID};

/// The largest message read: a URL and a title fit many times over. Browsers allow 1 MB.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Whether this process was started by a browser as Metron's host: Chromium passes the
/// calling extension's origin, Firefox the manifest's path and the extension's id.
pub fn started_by_browser(args: &[String]) -> bool {
    let chromium = format!("chrome-extension://{CHROMIUM_EXTENSION_ID}/");
    args.get(1).is_some_and(|a| *a == chromium)
        || args.get(2).is_some_and(|a| a == FIREFOX_EXTENSION_ID)
}

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("reading from the browser: {0}")]
    Read(std::io::Error),
    #[error("a message of {0} bytes is over the {MAX_MESSAGE}-byte limit")]
    TooLarge(usize),
    #[error("writing {path}: {error}")]
    Write { path: String, error: std::io::Error },
}

/// Serves the browser on `input` until it closes, writing each front tab to `file`. A message
/// that isn't a tab (bad JSON, a field too long) is skipped with a line on stderr, which
/// browsers keep in their log; one over [`MAX_MESSAGE`] ends the host, since the stream can't
/// be trusted after it.
pub fn serve(mut input: impl Read, file: &Path) -> Result<(), HostError> {
    if let Some(dir) = file.parent() {
        crate::private::private_dir(dir).map_err(|error| HostError::Write {
            path: dir.display().to_string(),
            error,
        })?;
    }
    let mut buffer = Vec::new();
    loop {
        let mut length = [0u8; 4];
        match input.read_exact(&mut length) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(HostError::Read(e)),
        }
        let length = u32::from_ne_bytes(length) as usize;
        if length > MAX_MESSAGE {
            return Err(HostError::TooLarge(length));
        }
        buffer.resize(length, 0);
        input.read_exact(&mut buffer).map_err(HostError::Read)?;
        match tab(&buffer) {
            Ok(tab) => {
                let json = serde_json::to_vec(&tab).expect("a tab serializes");
                crate::private::write_private(file, &json).map_err(|error| HostError::Write {
                    path: file.display().to_string(),
                    error,
                })?;
            }
            Err(why) => eprintln!("metron-agent (browser host): message skipped: {why}"),
        }
    }
}

/// A message as the front tab: sizes checked, and only web addresses kept.
fn tab(message: &[u8]) -> Result<Tab, String> {
    let tab: Tab = serde_json::from_slice(message).map_err(|e| format!("not a tab: {e}"))?;
    metron_core::limits::check_text("url", &tab.url, MAX_URL)?;
    metron_core::limits::check_text("title", &tab.title, MAX_TITLE)?;
    let web = ["http://", "https://"].iter().any(|s| {
        tab.url
            .get(..s.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(s))
    });
    Ok(Tab {
        url: if web { tab.url } else { String::new() },
        title: tab.title,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(messages: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in messages {
            out.extend_from_slice(&(m.len() as u32).to_ne_bytes());
            out.extend_from_slice(m.as_bytes());
        }
        out
    }

    fn read(file: &Path) -> Tab {
        serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
    }

    #[test]
    fn the_latest_tab_is_left_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("run/metron/browser-tab.json");
        let input = framed(&[
            r#"{"url": "https://docs.rs/serde", "title": "serde - Rust"}"#,
            r#"{"url": "https://mail.example.com/inbox", "title": "Inbox"}"#,
        ]);
        serve(&input[..], &file).unwrap();
        assert_eq!(
            read(&file),
            Tab {
                url: "https://mail.example.com/inbox".into(),
                title: "Inbox".into()
            }
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&file), 0o600);
            assert_eq!(mode(file.parent().unwrap()), 0o700);
        }
    }

    #[test]
    fn only_web_addresses_are_kept_and_bad_messages_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tab.json");
        let long = format!(
            r#"{{"url": "https://x.test/{}", "title": "t"}}"#,
            "a".repeat(MAX_URL)
        );
        let input = framed(&[
            r#"{"url": "HTTPS://Example.com/", "title": "Example"}"#,
            "not json",
            &long,
            r#"{"url": "file:///home/ann/salary.pdf", "title": "salary.pdf"}"#,
        ]);
        serve(&input[..], &file).unwrap();
        assert_eq!(
            read(&file),
            Tab {
                url: String::new(),
                title: "salary.pdf".into()
            },
            "a local file's address is not kept"
        );
    }

    #[test]
    fn an_oversized_message_ends_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let mut input = ((MAX_MESSAGE + 1) as u32).to_ne_bytes().to_vec();
        input.extend(vec![b' '; MAX_MESSAGE + 1]);
        let err = serve(&input[..], &dir.path().join("tab.json")).unwrap_err();
        assert!(matches!(err, HostError::TooLarge(n) if n == MAX_MESSAGE + 1));
        // A stream cut mid-message is an error too, not a tab.
        let mut cut = framed(&[r#"{"url": "", "title": "x"}"#]);
        cut.truncate(10);
        assert!(serve(&cut[..], &dir.path().join("tab.json")).is_err());
    }

    #[test]
    fn the_host_knows_the_browsers_calls() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(started_by_browser(&args(&[
            "metron-agent",
            "chrome-extension://ogelpmineoinldcpeemknkfknlmghkbk/"
        ])));
        assert!(started_by_browser(&args(&[
            "metron-agent",
            "/home/ann/.mozilla/native-messaging-hosts/app.metron.browser.json",
            "browser@metron.app"
        ])));
        assert!(!started_by_browser(&args(&[
            "metron-agent",
            "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
        ])));
        assert!(!started_by_browser(&args(&["metron-agent", "status"])));
    }
}
