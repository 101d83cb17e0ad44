//! Signing in with the organization's identity provider, the client's side (issue 29): shared
//! by the `metron-agent` CLI and the desktop app. The server is the OpenID Connect relying
//! party; this module only talks to Metron's server (the contract is in
//! `metron_core::wire`, above `SsoProvider`) and ends with the same answer as a password
//! sign-in, which [`super::signin::complete`] saves.
//!
//! Two flows: with a browser at hand, RFC 8252's loopback redirect with PKCE
//! ([`loopback`]): a one-request listener on 127.0.0.1 receives the browser after the
//! provider, answers it a short page, and the code is exchanged with the PKCE verifier that
//! never left this process. Without one (a server over SSH), RFC 8628's device authorization
//! ([`device`]): a URL and a short code to open on another device, and polling. Here: what
//! both share (errors, PKCE, the provider's choice, the browser).
//!
//! Opening the browser and waiting between polls are the caller's (a callback each), so a
//! test drives the authorization URL itself (an HTTP client, WebDriver) and polls without
//! sleeping.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use metron_core::wire::SsoProvider;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::time::Duration;

use super::signin::Connected;
use crate::error::AgentError;

pub mod device;
pub mod loopback;

pub use device::{poll_device, sign_in_device};
pub use loopback::{judge, sign_in_loopback, Callback, Loopback, LoopbackOptions, Redirect};

/// How long the loopback listener waits for the browser: long enough to type a password and
/// a second factor at the provider, short enough that a forgotten tab frees the port.
pub const WAIT_FOR_BROWSER: Duration = Duration::from_secs(5 * 60);

/// The longest text taken from a redirect's or a server's refusal: enough for a sentence.
const MAX_REASON_CHARS: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsoError {
    #[error("this server offers no sign-in with an identity provider; sign in with your email and password")]
    NoProvider,
    #[error("this server has no identity provider \"{wanted}\"; it offers: {}", list(.offered))]
    UnknownProvider {
        wanted: String,
        offered: Vec<SsoProvider>,
    },
    #[error("this server offers several identity providers; choose one with --provider: {}", list(.offered))]
    SeveralProviders { offered: Vec<SsoProvider> },
    /// The provider or Metron's server refused the sign-in; the reason as they gave it.
    #[error("the sign-in was refused: {0}")]
    Refused(String),
    #[error("no answer came from the browser within {} minutes; sign in again", WAIT_FOR_BROWSER.as_secs() / 60)]
    TimedOut,
    #[error("the code expired before the sign-in was finished; sign in again")]
    Expired,
    #[error("the sign-in was cancelled")]
    Cancelled,
    #[error("cannot open the browser: {0}")]
    Browser(String),
    #[error("cannot listen on 127.0.0.1 for the browser's answer: {0}")]
    Listen(String),
}

fn list(providers: &[SsoProvider]) -> String {
    providers
        .iter()
        .map(|p| format!("{} ({})", p.id, p.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A PKCE pair (RFC 7636, S256): the verifier stays in this process, the challenge goes in
/// the browser's address.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

impl Pkce {
    /// A fresh verifier: 32 random bytes as base64url, 43 characters of RFC 7636's alphabet.
    pub fn new() -> Pkce {
        let verifier = random_token(32);
        let challenge = Pkce::challenge_of(&verifier);
        Pkce {
            verifier,
            challenge,
        }
    }

    /// BASE64URL(SHA256(verifier)) without padding.
    pub fn challenge_of(verifier: &str) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Pkce::new()
    }
}

/// `bytes` from the thread's CSPRNG (rand's ChaCha, seeded by the OS), base64url.
fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A fresh `state` for one sign-in: 128 random bits.
pub fn random_state() -> String {
    random_token(16)
}

/// The language of the page the browser is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PageLanguage {
    #[default]
    English,
    Russian,
}

impl PageLanguage {
    fn signed_in(self) -> &'static str {
        match self {
            PageLanguage::English => "Signed in to Metron. You can close this tab.",
            PageLanguage::Russian => "Вход в Metron выполнен. Эту вкладку можно закрыть.",
        }
    }

    fn refused(self) -> &'static str {
        match self {
            PageLanguage::English => "Metron's sign-in was refused:",
            PageLanguage::Russian => "Вход в Metron отклонён:",
        }
    }

    fn code(self) -> &'static str {
        match self {
            PageLanguage::English => "en",
            PageLanguage::Russian => "ru",
        }
    }
}

/// The identity providers `server` offers (none from a server without them).
pub fn providers(server: &Connected) -> Result<Vec<SsoProvider>, AgentError> {
    Ok(server.client.sso_providers()?)
}

/// The provider to sign in with: `wanted` if the server offers it, else the only one offered.
pub fn choose_provider(
    offered: &[SsoProvider],
    wanted: Option<&str>,
) -> Result<SsoProvider, SsoError> {
    match (wanted, offered) {
        (_, []) => Err(SsoError::NoProvider),
        (Some(id), _) => {
            offered
                .iter()
                .find(|p| p.id == id)
                .cloned()
                .ok_or_else(|| SsoError::UnknownProvider {
                    wanted: id.to_string(),
                    offered: offered.to_vec(),
                })
        }
        (None, [only]) => Ok(only.clone()),
        (None, _) => Err(SsoError::SeveralProviders {
            offered: offered.to_vec(),
        }),
    }
}

/// A reason as shown to a person: one line, at most [`MAX_REASON_CHARS`] characters.
pub(crate) fn bounded(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(MAX_REASON_CHARS).collect();
    if cut.len() < one_line.len() {
        cut.push('…');
    }
    cut
}

/// Whether this session can show a browser: a graphical session on Linux and the BSDs
/// (`DISPLAY` or `WAYLAND_DISPLAY`), always on Windows and macOS.
pub fn browser_available() -> bool {
    if cfg!(any(windows, target_os = "macos")) {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// Opens `url` in the person's browser: the program named by `METRON_SSO_BROWSER` when set
/// (run with the address as its one argument: a test's client, or a browser of one's choice),
/// else the system's handler for http(s).
pub fn open_browser(url: &str) -> Result<(), String> {
    match std::env::var_os("METRON_SSO_BROWSER").filter(|s| !s.is_empty()) {
        Some(program) => {
            let mut child = std::process::Command::new(&program)
                .arg(url)
                .spawn()
                .map_err(|e| format!("{}: {e}", program.to_string_lossy()))?;
            // Reaped when it ends, so a long-running app keeps no zombie.
            std::thread::spawn(move || child.wait());
            Ok(())
        }
        None => open::that_detached(url).map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests;
