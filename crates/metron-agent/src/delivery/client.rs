//! The HTTP client of API v1 (SPEC §4), as the agent uses it: sign in, tasks, deliver
//! intervals, active devices.
//!
//! Every failure is a typed [`ClientError`], so the uploader decides on the kind (retry with
//! backoff, honour Retry-After, ask the user to sign in again) and never on message text. An
//! answer the client can't read (not JSON, the wrong content type, a truncated body, a status
//! the API never sends) is a [`ClientError::BadAnswer`]: transient, with a message that says
//! what came back, so a proxy's error page or a server of the wrong kind loses nothing.

use metron_core::wire::{ActiveDevice, ErrorBody, IngestResponse, LoginRequest, LoginResponse, NewTask, Task, User};
use metron_core::Interval;
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use std::fmt;
use std::time::Duration;

/// How long to wait for a TCP connection before calling the server unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a whole request may take: a batch of 100 intervals is ~100 KB and the server
/// answers in milliseconds, so 15 s only expires when something is wrong on the way.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A bearer token. Its `Debug` hides it, so it can't reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(pub String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<hidden>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("{0} is not a server address; give one like https://metron.example.com")]
    BadUrl(String),
    #[error("cannot connect to {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("{url} did not answer within {} s", REQUEST_TIMEOUT.as_secs())]
    Timeout { url: String },
    #[error("the connection to {url} broke: {detail}")]
    Broken { url: String, detail: String },
    #[error("the server is busy (HTTP 429){}", retry_after.map(|d| format!("; it asked to retry in {} s", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    #[error("the server failed (HTTP {status}): {message}")]
    Server { status: u16, message: String },
    #[error("the server refused the email or password")]
    BadCredentials,
    #[error("the server no longer accepts this sign-in (HTTP 401); run `metron-agent login` again")]
    Unauthorized,
    #[error("the server refused the request (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    #[error("{url} answered something a Metron server does not send ({why}); is it a Metron server?")]
    BadAnswer { url: String, why: String },
}

impl ClientError {
    /// The server's `Retry-After`, when it gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClientError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// True when the server could not be reached at all (as opposed to answering badly).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ClientError::Connect { .. } | ClientError::Timeout { .. } | ClientError::Broken { .. })
    }
}

/// A client of one Metron server.
#[derive(Clone)]
pub struct ServerClient {
    http: Client,
    base: url::Url,
}

impl fmt::Debug for ServerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerClient").field("base", &self.base.as_str()).finish()
    }
}

impl ServerClient {
    /// A client for the server at `base` (`http://` or `https://`, any path prefix kept).
    pub fn new(base: &str) -> Result<ServerClient, ClientError> {
        Self::with_timeout(base, REQUEST_TIMEOUT)
    }

    /// Like [`ServerClient::new`] with a shorter request timeout, for a last try on quit or a
    /// quick look from `status`.
    pub fn with_timeout(base: &str, timeout: Duration) -> Result<ServerClient, ClientError> {
        let base = normalize_base(base)?;
        let http = Client::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .user_agent(concat!("metron-agent/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::BadUrl(format!("{base} ({e})")))?;
        Ok(ServerClient { http, base })
    }

    /// The server's address as normalized (no trailing slash).
    pub fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    pub fn login(&self, email: &str, password: &str) -> Result<LoginResponse, ClientError> {
        let body = LoginRequest { email: email.to_string(), password: password.to_string(), device_id: None };
        match self.call(self.http.post(self.url("/api/v1/login")).json(&body)) {
            Err(ClientError::Unauthorized) => Err(ClientError::BadCredentials),
            other => other,
        }
    }

    pub fn logout(&self, token: &Token) -> Result<(), ClientError> {
        self.call_empty(self.http.post(self.url("/api/v1/logout")).bearer_auth(&token.0))
    }

    pub fn me(&self, token: &Token) -> Result<User, ClientError> {
        self.call(self.http.get(self.url("/api/v1/me")).bearer_auth(&token.0))
    }

    pub fn tasks(&self, token: &Token) -> Result<Vec<Task>, ClientError> {
        self.call(self.http.get(self.url("/api/v1/tasks")).bearer_auth(&token.0))
    }

    pub fn create_task(&self, token: &Token, task: &NewTask) -> Result<Task, ClientError> {
        self.call(self.http.post(self.url("/api/v1/tasks")).bearer_auth(&token.0).json(task))
    }

    /// `POST /api/v1/intervals`: one result per interval, checked to match the batch.
    pub fn send_intervals(&self, token: &Token, batch: &[Interval]) -> Result<IngestResponse, ClientError> {
        let body = serde_json::json!({ "intervals": batch });
        let answer: IngestResponse = self.call(self.http.post(self.url("/api/v1/intervals")).bearer_auth(&token.0).json(&body))?;
        if answer.results.len() != batch.len() {
            return Err(ClientError::BadAnswer {
                url: self.url("/api/v1/intervals"),
                why: format!("{} results for {} intervals", answer.results.len(), batch.len()),
            });
        }
        Ok(answer)
    }

    /// `GET /api/v1/reports/daily`: the caller's day (R1) as the server computes it, in the
    /// given UTC offset. Kept as JSON: the window draws it as it comes.
    pub fn daily_report(&self, token: &Token, date: chrono::NaiveDate, utc_offset_minutes: i32) -> Result<serde_json::Value, ClientError> {
        let url = format!("{}?date={date}&utc_offset_minutes={utc_offset_minutes}", self.url("/api/v1/reports/daily"));
        self.call(self.http.get(url).bearer_auth(&token.0))
    }

    pub fn active_devices(&self, token: &Token) -> Result<Vec<ActiveDevice>, ClientError> {
        self.call(self.http.get(self.url("/api/v1/devices/active")).bearer_auth(&token.0))
    }

    fn call<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ClientError> {
        let (url, status, content_type, retry_after, body) = self.exchange(request)?;
        read_answer(&url, status, content_type.as_deref(), retry_after.as_deref(), &body)
    }

    fn call_empty(&self, request: RequestBuilder) -> Result<(), ClientError> {
        let (url, status, content_type, retry_after, body) = self.exchange(request)?;
        if status.is_success() {
            return Ok(());
        }
        read_answer::<serde_json::Value>(&url, status, content_type.as_deref(), retry_after.as_deref(), &body).map(drop)
    }

    /// Sends the request and reads the whole answer; transport failures are typed here.
    #[allow(clippy::type_complexity)]
    fn exchange(&self, request: RequestBuilder) -> Result<(String, StatusCode, Option<String>, Option<String>, Vec<u8>), ClientError> {
        let request = request.build().map_err(|e| ClientError::BadUrl(format!("{} ({e})", self.base())))?;
        let url = request.url().to_string();
        let response = self.http.execute(request).map_err(|e| transport_error(&url, &e))?;
        let status = response.status();
        let header = |name| response.headers().get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok()).map(str::to_string);
        let (content_type, retry_after) = (header(CONTENT_TYPE), header(RETRY_AFTER));
        // A body cut short (the connection dropped mid-answer) fails here, as a broken connection.
        let body = response.bytes().map_err(|e| transport_error(&url, &e))?.to_vec();
        Ok((url, status, content_type, retry_after, body))
    }
}

/// Checks and normalizes a server address given by a person.
fn normalize_base(base: &str) -> Result<url::Url, ClientError> {
    let trimmed = base.trim();
    let parsed = url::Url::parse(trimmed).map_err(|_| ClientError::BadUrl(trimmed.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ClientError::BadUrl(trimmed.to_string()));
    }
    Ok(parsed)
}

fn transport_error(url: &str, e: &reqwest::Error) -> ClientError {
    let detail = error_chain(e);
    if e.is_timeout() {
        ClientError::Timeout { url: url.to_string() }
    } else if e.is_connect() {
        ClientError::Connect { url: url.to_string(), detail }
    } else {
        ClientError::Broken { url: url.to_string(), detail }
    }
}

/// reqwest's own message is "error sending request"; the cause ("connection reset by peer")
/// is what a person needs.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Turns a complete HTTP answer into the expected value or a typed error. Pure, so every odd
/// answer a proxy or a wrong server can give is unit-tested without a network.
pub fn read_answer<T: DeserializeOwned>(
    url: &str,
    status: StatusCode,
    content_type: Option<&str>,
    retry_after: Option<&str>,
    body: &[u8],
) -> Result<T, ClientError> {
    let bad = |why: String| ClientError::BadAnswer { url: url.to_string(), why };
    let is_json = content_type.is_some_and(|t| t.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    let message = || -> String {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(e) if is_json => e.error,
            _ => snippet(body),
        }
    };
    match status.as_u16() {
        200..=299 => {
            if !is_json {
                return Err(bad(format!("HTTP {status} with content type {}", content_type.unwrap_or("none"))));
            }
            serde_json::from_slice(body).map_err(|e| bad(format!("HTTP {status} with a body that does not parse: {e}")))
        }
        401 => Err(ClientError::Unauthorized),
        429 => Err(ClientError::RateLimited { retry_after: retry_after.and_then(parse_retry_after) }),
        400 | 403 | 404 | 405 | 409 | 413 | 422 => {
            if !is_json {
                return Err(bad(format!("HTTP {status} with content type {}: {}", content_type.unwrap_or("none"), snippet(body))));
            }
            Err(ClientError::Refused { status: status.as_u16(), message: message() })
        }
        500..=599 => Err(ClientError::Server { status: status.as_u16(), message: message() }),
        _ => Err(bad(format!("HTTP {status}: {}", snippet(body)))),
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare from APIs; it counts as absent).
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The start of a body, printable, for a message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return "an empty body".into();
    }
    let cut: String = one_line.chars().take(120).collect();
    if cut.len() < one_line.len() {
        format!("\"{cut}...\"")
    } else {
        format!("\"{cut}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:1/api/v1/intervals";

    fn answer(status: u16, content_type: Option<&str>, retry_after: Option<&str>, body: &str) -> Result<IngestResponse, ClientError> {
        read_answer(URL, StatusCode::from_u16(status).unwrap(), content_type, retry_after, body.as_bytes())
    }

    #[test]
    fn a_good_answer_parses() {
        let ok = answer(200, Some("application/json; charset=utf-8"), None, r#"{"results":[{"id":"a","status":"accepted"}]}"#).unwrap();
        assert_eq!(ok.results.len(), 1);
    }

    #[test]
    fn garbage_a_wrong_content_type_and_a_truncated_body_are_bad_answers() {
        for (ct, body) in [
            (Some("application/json"), "<html>oops</html>"),
            (Some("text/html"), r#"{"results":[]}"#),
            (None, r#"{"results":[]}"#),
            (Some("application/json"), r#"{"results":[{"id":"a","sta"#),
            (Some("application/json"), ""),
        ] {
            let e = answer(200, ct, None, body).unwrap_err();
            assert!(matches!(e, ClientError::BadAnswer { .. }), "{ct:?} {body:?}: {e:?}");
            assert!(e.to_string().contains("is it a Metron server?"), "{e}");
        }
    }

    #[test]
    fn statuses_map_to_kinds() {
        let e = answer(429, Some("application/json"), Some("7"), r#"{"error":"slow down"}"#).unwrap_err();
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(answer(429, None, Some("Wed, 21 Oct 2026 07:28:00 GMT"), "").unwrap_err().retry_after(), None);
        assert_eq!(answer(401, Some("application/json"), None, r#"{"error":"no"}"#).unwrap_err(), ClientError::Unauthorized);
        assert_eq!(
            answer(502, Some("text/html"), None, "<h1>Bad Gateway</h1>").unwrap_err(),
            ClientError::Server { status: 502, message: "\"<h1>Bad Gateway</h1>\"".into() }
        );
        assert_eq!(
            answer(500, Some("application/json"), None, r#"{"error":"database is down"}"#).unwrap_err(),
            ClientError::Server { status: 500, message: "database is down".into() }
        );
        assert_eq!(
            answer(413, Some("application/json"), None, r#"{"error":"too big"}"#).unwrap_err(),
            ClientError::Refused { status: 413, message: "too big".into() }
        );
        // A 404 page from some other web server: not a Metron server.
        assert!(matches!(answer(404, Some("text/html"), None, "<html>Not Found</html>").unwrap_err(), ClientError::BadAnswer { .. }));
        // A status the API never sends.
        assert!(matches!(answer(302, None, None, "").unwrap_err(), ClientError::BadAnswer { .. }));
        assert!(matches!(answer(418, Some("application/json"), None, "{}").unwrap_err(), ClientError::BadAnswer { .. }));
    }

    #[test]
    fn addresses_are_checked() {
        assert!(ServerClient::new("http://127.0.0.1:8750/").is_ok());
        assert_eq!(ServerClient::new("https://m.example.com/metron/").unwrap().base(), "https://m.example.com/metron");
        for bad in ["", "127.0.0.1:8750", "ftp://x", "http://"] {
            assert!(matches!(ServerClient::new(bad), Err(ClientError::BadUrl(_))), "{bad}");
        }
    }

    #[test]
    fn a_token_never_prints() {
        let t = Token("secret-token-value".into());
        assert!(!format!("{t:?}").contains("secret"));
    }
}
