//! Signing in with the organization's identity provider, the client's side (issue 29): shared
//! by the `metron-agent` CLI and the desktop app. The server is the OpenID Connect relying
//! party; this module only talks to Metron's server (the contract is in
//! `metron_core::wire`, above `SsoProvider`) and ends with the same answer as a password
//! sign-in, which [`super::signin::complete`] saves.
//!
//! Two flows: with a browser at hand, RFC 8252's loopback redirect with PKCE ([`Loopback`],
//! [`sign_in_loopback`]): a one-request listener on 127.0.0.1 receives the browser after the
//! provider, answers it a short page, and the code is exchanged with the PKCE verifier that
//! never left this process. Without one (a server over SSH), RFC 8628's device authorization
//! ([`sign_in_device`]): a URL and a short code to open on another device, and polling.
//!
//! Opening the browser and waiting between polls are the caller's (a callback each), so a
//! test drives the authorization URL itself (an HTTP client, WebDriver) and polls without
//! sleeping.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use metron_core::wire::{
    DeviceAuthorization, DeviceAuthorizationRequest, DeviceTokenRequest, LoginResponse,
    SsoProvider, SsoTokenRequest,
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::client::ClientError;
use super::signin::Connected;
use crate::error::AgentError;

/// How long the loopback listener waits for the browser: long enough to type a password and
/// a second factor at the provider, short enough that a forgotten tab frees the port.
pub const WAIT_FOR_BROWSER: Duration = Duration::from_secs(5 * 60);

/// The most of a request to the loopback listener read: a redirect is one GET line with a
/// code and a state (well under 2 KB) plus the browser's headers.
const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// How long one connection to the listener may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the listener looks at its deadline and the cancel flag while nobody connects.
const ACCEPT_POLL: Duration = Duration::from_millis(50);

/// The longest text taken from a redirect's or a server's refusal: enough for a sentence.
const MAX_REASON_CHARS: usize = 300;

/// Bounds on what a device authorization may ask of the agent (a hostile or broken server
/// must not make it poll in a busy loop or for days).
const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(60);
const MAX_DEVICE_EXPIRY: Duration = Duration::from_secs(30 * 60);
/// RFC 8628 §3.5: each `slow_down` adds five seconds to the interval.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

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

/// How a loopback sign-in runs, beyond the server and the provider.
#[derive(Debug, Clone, Copy)]
pub struct LoopbackOptions<'a> {
    /// This device's id (its store's), so the server revokes the token it held before.
    pub device_id: &'a str,
    pub language: PageLanguage,
    /// How long to wait for the browser ([`WAIT_FOR_BROWSER`]).
    pub timeout: Duration,
    /// Set from another thread to give up (the window started another sign-in, or closed).
    pub cancel: &'a AtomicBool,
}

/// RFC 8252's flow: listens on 127.0.0.1, hands the authorization address to `open` (the
/// system's browser, or a test's client; an error from it ends the sign-in), waits for the
/// redirect, exchanges its code with the PKCE verifier and answers the browser a page that
/// says how it ended. Returns the server's answer, for [`super::signin::complete`].
pub fn sign_in_loopback(
    server: &Connected,
    provider: &str,
    options: &LoopbackOptions<'_>,
    open: &mut dyn FnMut(&str) -> Result<(), String>,
) -> Result<LoginResponse, AgentError> {
    let listener = Loopback::bind().map_err(|e| SsoError::Listen(e.to_string()))?;
    let pkce = Pkce::new();
    let state = random_state();
    let redirect_uri = listener.redirect_uri();
    let url = server
        .client
        .sso_start_url(provider, &redirect_uri, &state, &pkce.challenge);
    open(&url).map_err(SsoError::Browser)?;
    let redirect = listener.wait(
        &state,
        Instant::now() + options.timeout,
        options.cancel,
        options.language,
    )?;
    let exchanged = server.client.sso_token(&SsoTokenRequest {
        code: redirect.code.clone(),
        code_verifier: pkce.verifier,
        redirect_uri,
        device_id: Some(options.device_id.to_string()),
    });
    match exchanged {
        Ok(response) => {
            redirect.answer(Ok(()));
            Ok(response)
        }
        // The server's own refusal (a spent code, a disabled person): said in the tab too.
        Err(ClientError::Refused { message, .. }) => {
            let why = bounded(&message);
            redirect.answer(Err(&why));
            Err(SsoError::Refused(why).into())
        }
        // Not an expired session here: the code itself was not taken.
        Err(ClientError::Unauthorized) => {
            let why = "the server did not accept the sign-in code".to_string();
            redirect.answer(Err(&why));
            Err(SsoError::Refused(why).into())
        }
        Err(e) => {
            redirect.answer(Err(&e.to_string()));
            Err(e.into())
        }
    }
}

/// The loopback listener: one redirect, on 127.0.0.1 (not `localhost`, which may resolve to
/// another interface; RFC 8252 §8.3) and a port the OS picks.
#[derive(Debug)]
pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

/// The browser's redirect with the code, its connection still open: [`Redirect::answer`]
/// tells the browser how the exchange went.
#[derive(Debug)]
pub struct Redirect {
    pub code: String,
    stream: TcpStream,
    language: PageLanguage,
}

/// What one request to the listener was (pure, from its head).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// The redirect this sign-in waits for.
    Code(String),
    /// The server's refusal for this sign-in (`error=` with the right state).
    Refused(String),
    /// Not this sign-in's redirect: a wrong or missing state, a malformed request. Answered
    /// 400, and the wait goes on (the right redirect may still come; a stray request from
    /// another program must not end the sign-in).
    Foreign(&'static str),
    /// Another path (a browser's favicon request): 404, the wait goes on.
    NotFound,
}

impl Loopback {
    pub fn bind() -> std::io::Result<Loopback> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        // Accepted in a loop that also watches the deadline and the cancel flag.
        listener.set_nonblocking(true)?;
        Ok(Loopback { listener, port })
    }

    /// The `redirect_uri` of this listener.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    /// Waits for the redirect carrying `state` until `deadline` or `cancel`; other requests
    /// are answered and the wait goes on. A refusal with this state ends it.
    pub fn wait(
        &self,
        state: &str,
        deadline: Instant,
        cancel: &AtomicBool,
        language: PageLanguage,
    ) -> Result<Redirect, SsoError> {
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(SsoError::Cancelled);
            }
            if Instant::now() >= deadline {
                return Err(SsoError::TimedOut);
            }
            let mut stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(ACCEPT_POLL);
                    continue;
                }
                Err(e) => {
                    tracing::debug!("the loopback listener: {e}");
                    std::thread::sleep(ACCEPT_POLL);
                    continue;
                }
            };
            let judged = match read_head(&mut stream) {
                Some(head) => judge(&head, state),
                None => Callback::Foreign("the request was not complete"),
            };
            match judged {
                Callback::Code(code) => {
                    return Ok(Redirect {
                        code,
                        stream,
                        language,
                    })
                }
                Callback::Refused(why) => {
                    respond(&mut stream, 403, &refusal_page(language, &why), language);
                    return Err(SsoError::Refused(why));
                }
                Callback::Foreign(why) => {
                    respond(&mut stream, 400, &refusal_page(language, why), language)
                }
                Callback::NotFound => respond(&mut stream, 404, "", language),
            }
        }
    }
}

impl Redirect {
    /// Answers the browser: signed in, or the reason it was not.
    pub fn answer(mut self, outcome: Result<(), &str>) {
        let language = self.language;
        match outcome {
            Ok(()) => respond(&mut self.stream, 200, language.signed_in(), language),
            Err(why) => respond(
                &mut self.stream,
                403,
                &refusal_page(language, why),
                language,
            ),
        }
    }
}

fn refusal_page(language: PageLanguage, why: &str) -> String {
    format!("{} {why}", language.refused())
}

/// The request's head (up to the blank line), at most [`MAX_REQUEST_BYTES`], within
/// [`READ_TIMEOUT`]; `None` when it is longer, slower, or not text.
fn read_head(stream: &mut TcpStream) -> Option<String> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(READ_TIMEOUT)).ok()?;
    let _ = stream.set_write_timeout(Some(READ_TIMEOUT));
    let started = Instant::now();
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_REQUEST_BYTES || started.elapsed() > READ_TIMEOUT {
            return None;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8(head).ok()
}

/// Judges one request's head against the `state` this sign-in sent.
pub fn judge(head: &str, state: &str) -> Callback {
    let Some(line) = head.lines().next() else {
        return Callback::Foreign("an empty request");
    };
    let mut parts = line.split(' ');
    let (Some("GET"), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Callback::Foreign("not a browser's redirect");
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Callback::Foreign("not a browser's redirect");
    }
    let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else {
        return Callback::Foreign("not a browser's redirect");
    };
    if url.path() != "/callback" {
        return Callback::NotFound;
    }
    let (mut code, mut got_state, mut error, mut description) = (None, None, None, None);
    for (key, value) in url.query_pairs() {
        let slot = match key.as_ref() {
            "code" => &mut code,
            "state" => &mut got_state,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => continue,
        };
        // A parameter given twice is not a redirect any server sends.
        if slot.replace(value.into_owned()).is_some() {
            return Callback::Foreign("a parameter given twice");
        }
    }
    // Compared in full before anything else is believed: a stale tab or another program
    // cannot hand this sign-in a code or a refusal.
    if got_state.as_deref() != Some(state) {
        return Callback::Foreign(
            "this is not the sign-in Metron is waiting for (its state differs)",
        );
    }
    match (code, error) {
        (_, Some(error)) => Callback::Refused(bounded(&description.unwrap_or(error))),
        (Some(code), None) if !code.is_empty() && code.len() <= 128 => Callback::Code(code),
        _ => Callback::Foreign("the redirect carries no usable code"),
    }
}

/// A reason as shown to a person: one line, at most [`MAX_REASON_CHARS`] characters.
fn bounded(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(MAX_REASON_CHARS).collect();
    if cut.len() < one_line.len() {
        cut.push('…');
    }
    cut
}

/// Writes a short plain page and closes; the text escaped (it may carry a server's words).
fn respond(stream: &mut TcpStream, status: u16, text: &str, language: PageLanguage) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        _ => "Not Found",
    };
    let body = format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>Metron</title></head>\
         <body><p>{}</p></body></html>\n",
        language.code(),
        escape_html(text)
    );
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'none'\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
    // A lingering close: closing with unread input (a request past the bound) would reset
    // the connection and the client might lose the answer; drain a little first.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = std::io::copy(
        &mut Read::take(&mut *stream, 4 * MAX_REQUEST_BYTES as u64),
        &mut std::io::sink(),
    );
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// RFC 8628's flow: asks the server for a code, hands it to `show` (print the URL and the
/// code), then polls until the person finished on another device, the code expired or the
/// sign-in was refused. `pause` waits between polls (a test's records instead).
pub fn sign_in_device(
    server: &Connected,
    provider: &str,
    device_id: &str,
    show: &mut dyn FnMut(&DeviceAuthorization),
    pause: &mut dyn FnMut(Duration),
) -> Result<LoginResponse, AgentError> {
    let authorization = server
        .client
        .sso_device(&DeviceAuthorizationRequest {
            provider: provider.to_string(),
            device_id: Some(device_id.to_string()),
        })
        .map_err(refusal)?;
    show(&authorization);
    poll_device(server, &authorization, pause)
}

/// Polls `POST /api/v1/sso/device/token` every `interval` (five seconds more after each
/// `slow_down`) until an answer, `expired_token`, a refusal or `expires_in` spent waiting.
/// An unreachable or failing server is asked again at the next interval.
pub fn poll_device(
    server: &Connected,
    authorization: &DeviceAuthorization,
    pause: &mut dyn FnMut(Duration),
) -> Result<LoginResponse, AgentError> {
    let mut interval =
        Duration::from_secs(authorization.interval).clamp(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL);
    let expiry = Duration::from_secs(authorization.expires_in).min(MAX_DEVICE_EXPIRY);
    let request = DeviceTokenRequest {
        device_code: authorization.device_code.clone(),
    };
    let mut waited = Duration::ZERO;
    loop {
        if waited >= expiry {
            return Err(SsoError::Expired.into());
        }
        pause(interval);
        waited += interval;
        match server.client.sso_device_token(&request) {
            Ok(response) => return Ok(response),
            Err(ClientError::Refused {
                status: 400,
                message,
            }) => match message.as_str() {
                "authorization_pending" => {}
                "slow_down" => interval = (interval + SLOW_DOWN_STEP).min(MAX_POLL_INTERVAL),
                "expired_token" => return Err(SsoError::Expired.into()),
                other => return Err(SsoError::Refused(bounded(other)).into()),
            },
            Err(e @ ClientError::Refused { .. }) => return Err(refusal(e)),
            Err(ClientError::RateLimited { retry_after }) => {
                let extra = retry_after.unwrap_or(interval).min(MAX_POLL_INTERVAL);
                pause(extra);
                waited += extra;
            }
            Err(e) if e.is_unreachable() || matches!(e, ClientError::Server { .. }) => {
                tracing::debug!("polling for the device sign-in: {e}");
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// A 403 (the sign-in refused) as [`SsoError::Refused`] with the server's reason.
fn refusal(e: ClientError) -> AgentError {
    match e {
        ClientError::Refused {
            status: 403,
            message,
        } => SsoError::Refused(bounded(&message)).into(),
        e => e.into(),
    }
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
