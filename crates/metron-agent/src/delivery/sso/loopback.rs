//! RFC 8252's loopback redirect: a listener on 127.0.0.1 for one sign-in, the PKCE verifier
//! kept here, the browser answered a short page once the code is exchanged.

use metron_core::wire::{LoginResponse, SsoTokenRequest};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{bounded, random_state, PageLanguage, Pkce, SsoError};
use crate::delivery::client::ClientError;
use crate::delivery::signin::Connected;
use crate::error::AgentError;

/// The most of a request to the loopback listener read: a redirect is one GET line with a
/// code and a state (well under 2 KB) plus the browser's headers.
pub(super) const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// How long one connection to the listener may take to send its request.
pub(super) const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the listener looks at its deadline and the cancel flag while nobody connects.
const ACCEPT_POLL: Duration = Duration::from_millis(50);

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
