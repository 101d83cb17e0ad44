//! The privacy filter of SPEC E6, applied to every window sample before it is recorded.
//!
//! Key identities never reach this crate at all (the sensors count events); this module
//! handles what a window can reveal: titles can be dropped, URLs reduced to their host or
//! dropped, and listed apps excluded entirely (their time still counts, under a neutral name,
//! so no tracked second disappears). Whatever the policy, a URL's credentials, query string and
//! fragment are never kept: they carry passwords, session tokens and search terms.

use serde::{Deserialize, Serialize};

use crate::window::WindowInfo;

/// What is kept of a browser URL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UrlPolicy {
    Full,
    /// The default: which site, not which page (a page's path names documents, searches and
    /// people); the person or an admin can choose the full address.
    #[default]
    HostOnly,
    Drop,
}

impl UrlPolicy {
    /// What this policy keeps of `url`: all of it without secrets, its host, or nothing.
    pub fn keep(self, url: &str) -> Option<String> {
        match self {
            UrlPolicy::Full => Some(url_without_secrets(url)),
            UrlPolicy::HostOnly => url_host(url).map(str::to_string),
            UrlPolicy::Drop => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrivacyPolicy {
    pub record_titles: bool,
    pub urls: UrlPolicy,
    /// App names (matched case-insensitively) whose windows are never recorded.
    pub excluded_apps: Vec<String>,
}

impl Default for PrivacyPolicy {
    fn default() -> Self {
        PrivacyPolicy {
            record_titles: true,
            urls: UrlPolicy::HostOnly,
            excluded_apps: Vec::new(),
        }
    }
}

impl PrivacyPolicy {
    /// The most private policy: no titles, no URLs. What a damaged or unreadable settings file
    /// falls back to, since a guess that records more than the person chose is worse.
    pub fn most_private() -> Self {
        PrivacyPolicy {
            record_titles: false,
            urls: UrlPolicy::Drop,
            excluded_apps: Vec::new(),
        }
    }

    /// App name recorded in place of an excluded app.
    pub const EXCLUDED_APP: &'static str = "excluded";

    pub fn apply(&self, window: WindowInfo) -> WindowInfo {
        if self
            .excluded_apps
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&window.app))
        {
            return WindowInfo {
                app: Self::EXCLUDED_APP.to_string(),
                ..Default::default()
            };
        }
        let title = if self.record_titles {
            window.title
        } else {
            String::new()
        };
        let url = window.url.as_deref().and_then(|u| self.urls.keep(u));
        WindowInfo {
            app: window.app,
            title,
            url,
            path: window.path,
        }
    }
}

/// A URL without its credentials (`user:password@`), query string and fragment: scheme,
/// host, port and path stay.
pub fn url_without_secrets(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match scheme {
        Some(scheme) => format!("{scheme}://{host}{path}"),
        None => format!("{host}{path}"),
    }
}

/// The host of a URL: no scheme, credentials, port, path, query or fragment.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        // IPv6 literal: keep the brackets, drop the port after them.
        host_port.split_inclusive(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn browser() -> WindowInfo {
        WindowInfo {
            app: "Firefox".into(),
            title: "Salary review - Mail".into(),
            url: Some("https://bob:pw@mail.example.com:8443/inbox?id=7#top".into()),
            path: Some("/usr/bin/firefox".into()),
        }
    }

    #[test]
    fn default_policy_keeps_titles_and_the_sites_host() {
        let kept = PrivacyPolicy::default().apply(browser());
        assert_eq!(kept.url.as_deref(), Some("mail.example.com"));
        assert_eq!(
            WindowInfo {
                url: browser().url,
                ..kept
            },
            browser()
        );
    }

    #[test]
    fn the_full_address_keeps_everything_but_a_urls_secrets() {
        let full = PrivacyPolicy {
            urls: UrlPolicy::Full,
            ..PrivacyPolicy::default()
        };
        let kept = full.apply(browser());
        assert_eq!(
            kept.url.as_deref(),
            Some("https://mail.example.com:8443/inbox")
        );
        assert_eq!(
            WindowInfo {
                url: browser().url,
                ..kept
            },
            browser()
        );
    }

    #[test]
    fn credentials_queries_and_fragments_never_stay_in_a_url() {
        for (url, kept) in [
            (
                "https://bob:hunter2@example.com/a/b?token=abc#frag",
                "https://example.com/a/b",
            ),
            (
                "https://example.com/search?q=salary+review",
                "https://example.com/search",
            ),
            ("http://user@[::1]:8080/x#y", "http://[::1]:8080/x"),
            ("example.com/path?x=1", "example.com/path"),
            ("https://example.com", "https://example.com"),
            ("file:///home/ann/notes.txt", "file:///home/ann/notes.txt"),
            // An @ in the path is not a credential.
            (
                "https://example.com/@ann/post",
                "https://example.com/@ann/post",
            ),
        ] {
            assert_eq!(url_without_secrets(url), kept, "{url}");
        }
    }

    #[test]
    fn the_most_private_policy_keeps_no_title_and_no_url() {
        let w = PrivacyPolicy::most_private().apply(browser());
        assert_eq!((w.title.as_str(), w.url), ("", None));
        assert_eq!(w.app, "Firefox");
    }

    #[test]
    fn titles_can_be_dropped_and_urls_reduced_to_host() {
        let p = PrivacyPolicy {
            record_titles: false,
            urls: UrlPolicy::HostOnly,
            excluded_apps: vec![],
        };
        let w = p.apply(browser());
        assert_eq!(w.title, "");
        assert_eq!(w.url.as_deref(), Some("mail.example.com"));
        assert_eq!(w.app, "Firefox");
    }

    #[test]
    fn excluded_apps_leave_no_name_title_url_or_path() {
        let p = PrivacyPolicy {
            excluded_apps: vec!["firefox".into()],
            ..Default::default()
        };
        let w = p.apply(browser());
        assert_eq!(
            w,
            WindowInfo {
                app: "excluded".into(),
                ..Default::default()
            }
        );
    }

    #[test]
    fn url_host_handles_odd_shapes() {
        assert_eq!(url_host("example.com/a"), Some("example.com"));
        assert_eq!(url_host("http://[::1]:8080/x"), Some("[::1]"));
        assert_eq!(url_host("https://"), None);
    }
}
