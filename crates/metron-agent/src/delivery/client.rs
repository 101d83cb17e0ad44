//! The HTTP client of API v1 (SPEC §4), as the agent uses it: sign in, tasks, deliver
//! intervals, active devices, corrections and manual entries.
//!
//! Every failure is a typed [`ClientError`], so the uploader decides on the kind (retry with
//! backoff, honour Retry-After, ask the user to sign in again) and never on message text. An
//! answer the client can't read (not JSON, the wrong content type, a truncated body, a status
//! the API never sends) is a [`ClientError::BadAnswer`]: transient, with a message that says
//! what came back, so a proxy's error page or a server of the wrong kind loses nothing.
//!
//! Transport (issue 11, item 10): redirects are never followed (a redirect could carry the
//! password or the token somewhere the person never named; it is a [`ClientError::Redirected`]
//! instead), TLS trusts the system's roots plus, when given, a private CA from a PEM file
//! (`--ca-cert`), and a failed TLS handshake is a [`ClientError::Tls`] that says so.

use chrono::{DateTime, Utc};
use metron_core::timesheet::Status;
use metron_core::wire::{
    ActiveDevice, ClientVersion, CorrectionView, DeviceAuthorization, DeviceAuthorizationRequest,
    DeviceTokenRequest, ErrorBody, IngestResponse, LoginRequest, LoginResponse, ManualEntryView,
    NewTask, SsoProvider, SsoTokenRequest, Task, User, SECOND_FACTOR_INVALID,
    SECOND_FACTOR_REQUIRED,
};
use metron_core::Interval;
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION, RETRY_AFTER};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::store::{RequestBody, RequestKind};

/// How long to wait for a TCP connection before calling the server unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a whole request may take: a batch of 100 intervals is ~100 KB and the server
/// answers in milliseconds, so 15 s only expires when something is wrong on the way.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The largest `GET /api/v1/client-version` answer read: its fields hold at most about 11 KB
/// (a 64-byte version, a 2,048-byte address, 2,000 characters of notes), so anything longer is
/// not a Metron server's answer and is not read to its end.
pub const MAX_CLIENT_VERSION_BYTES: u64 = 16 * 1024;

/// What `GET /api/v1/tasks` answered to a list asked for with the ETag of the one held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskList {
    /// 304: the list held is the server's.
    Unchanged,
    /// A new list, with its ETag (none from a server older than issue 28).
    Changed {
        tasks: Vec<Task>,
        etag: Option<String>,
    },
}

/// The largest transparency notice read (`GET /api/v1/me/notice`): seven sentences in English
/// and Russian and their structure are about 6 KB.
pub const MAX_NOTICE_BYTES: u64 = 64 * 1024;

/// A bearer token. Its `Debug` hides it, so it can't reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(pub String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<hidden>)")
    }
}

/// What the server says of a correction or a manual entry (the fields the app keeps), read
/// from the server's own view of it (`metron_core::wire`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestAnswer {
    pub id: String,
    /// `approved` (in force), `pending`, `denied`, `withdrawn`.
    pub status: Status,
    pub decision_note: Option<String>,
}

impl From<ManualEntryView> for RequestAnswer {
    fn from(v: ManualEntryView) -> Self {
        RequestAnswer {
            id: v.id,
            status: v.status,
            decision_note: v.decision_note,
        }
    }
}

impl From<CorrectionView> for RequestAnswer {
    fn from(v: CorrectionView) -> Self {
        RequestAnswer {
            id: v.id,
            status: v.status,
            decision_note: v.decision_note,
        }
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
    /// The password was right; the account has two-factor codes on and none was given.
    #[error("this account has two-factor codes: give the code your authenticator app shows (or a recovery code)")]
    SecondFactorRequired,
    /// The code given was wrong, out of its window or already used.
    #[error("the server refused the two-factor code: it is wrong, expired or already used")]
    SecondFactorInvalid,
    #[error("signed out: your session expired (the server answered HTTP 401); sign in again as the same account and the intervals kept here are delivered")]
    Unauthorized,
    #[error(
        "{url} is plain http:// to another machine: the password, the token and the tracked time would cross the network \
         unencrypted. Use https://, or confirm with --insecure"
    )]
    InsecureHttp { url: String },
    #[error(
        "{url} answered with a redirect{}; Metron does not follow redirects (they could carry your password elsewhere): \
         give the server's final address",
        location.as_ref().map(|l| format!(" to {l}")).unwrap_or_default()
    )]
    Redirected {
        url: String,
        location: Option<String>,
    },
    #[error(
        "the TLS connection to {url} failed: {detail}. If the server's certificate is not trusted by this system (a \
         private or self-signed CA), give that CA's certificate with --ca-cert FILE (PEM)"
    )]
    Tls { url: String, detail: String },
    #[error("cannot use {} as a CA certificate: {why}", path.display())]
    CaCert { path: PathBuf, why: String },
    #[error("the server refused the request (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    #[error(
        "{url} answered something a Metron server does not send ({why}); is it a Metron server?"
    )]
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
        matches!(
            self,
            ClientError::Connect { .. } | ClientError::Timeout { .. } | ClientError::Broken { .. }
        )
    }
}

/// A client of one Metron server.
#[derive(Clone)]
pub struct ServerClient {
    /// Shared by every client of this process with the same CA (see [`shared_http`]).
    http: Client,
    base: url::Url,
    /// Each request's whole time, connecting included.
    timeout: Duration,
}

impl fmt::Debug for ServerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerClient")
            .field("base", &self.base.as_str())
            .finish()
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
        Self::build(base, None, timeout)
    }

    /// A client for `base` that trusts the CA certificates in the PEM file `ca_cert` besides
    /// the system's roots, with this request timeout.
    pub fn build(
        base: &str,
        ca_cert: Option<&Path>,
        timeout: Duration,
    ) -> Result<ServerClient, ClientError> {
        let base = normalize_base(base)?;
        let http = shared_http(ca_cert).map_err(|e| match e {
            SharedError::Client(e) => e,
            SharedError::Build(why) => ClientError::BadUrl(format!("{base} ({why})")),
        })?;
        Ok(ServerClient {
            http,
            base,
            timeout,
        })
    }

    /// The same server and CA with another request timeout.
    pub fn with_request_timeout(&self, timeout: Duration) -> ServerClient {
        ServerClient {
            timeout,
            ..self.clone()
        }
    }

    /// Refuses plain `http://` to anything but this machine unless the person confirmed it
    /// (`insecure`): on the way to another machine anyone on the network reads the password.
    pub fn check_transport(&self, insecure: bool) -> Result<(), ClientError> {
        if self.base.scheme() == "http" && !is_loopback(&self.base) && !insecure {
            return Err(ClientError::InsecureHttp {
                url: self.base().to_string(),
            });
        }
        Ok(())
    }

    /// The server's address as normalized (no trailing slash).
    pub fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// Signs in as this device: the server revokes the token the device held before.
    pub fn login(
        &self,
        email: &str,
        password: &str,
        device_id: &str,
    ) -> Result<LoginResponse, ClientError> {
        self.login_with_code(email, password, device_id, None)
    }

    /// [`Self::login`] with the account's second factor (a code or a recovery code), when it
    /// has two-factor codes on: without one the server answers [`ClientError::SecondFactorRequired`].
    pub fn login_with_code(
        &self,
        email: &str,
        password: &str,
        device_id: &str,
        second_factor: Option<&str>,
    ) -> Result<LoginResponse, ClientError> {
        let body = LoginRequest {
            email: email.to_string(),
            password: password.to_string(),
            device_id: Some(device_id.to_string()),
            second_factor: second_factor.map(str::to_string),
        };
        let answer = self.exchange(self.http.post(self.url("/api/v1/login")).json(&body))?;
        if answer.status == StatusCode::UNAUTHORIZED {
            // Which 401: the error's first word says (metron_core::wire::SECOND_FACTOR_*).
            let error = serde_json::from_slice::<ErrorBody>(&answer.body)
                .map(|e| e.error)
                .unwrap_or_default();
            return Err(if error.starts_with(SECOND_FACTOR_REQUIRED) {
                ClientError::SecondFactorRequired
            } else if error.starts_with(SECOND_FACTOR_INVALID) {
                ClientError::SecondFactorInvalid
            } else {
                ClientError::BadCredentials
            });
        }
        answer.read()
    }

    /// `GET /api/v1/sso/providers`: the identity providers people can sign in with (none
    /// from a server without any, or from one older than issue 29: its 404 reads as none).
    pub fn sso_providers(&self) -> Result<Vec<SsoProvider>, ClientError> {
        let request = self.http.get(self.url("/api/v1/sso/providers"));
        match self
            .exchange_at_most(request, Some(MAX_CLIENT_VERSION_BYTES))?
            .read()
        {
            Err(ClientError::Refused { status: 404, .. }) => Ok(Vec::new()),
            other => other,
        }
    }

    /// The address the browser opens to sign in with `provider` (RFC 8252: the server sends
    /// the browser back to `redirect_uri` with a code for [`Self::sso_token`]).
    pub fn sso_start_url(
        &self,
        provider: &str,
        redirect_uri: &str,
        state: &str,
        code_challenge: &str,
    ) -> String {
        let mut url = self.base.clone();
        url.set_path(&format!(
            "{}/api/v1/sso/start",
            self.base.path().trim_end_matches('/')
        ));
        url.query_pairs_mut()
            .clear()
            .append_pair("provider", provider)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state)
            .append_pair("code_challenge", code_challenge)
            .append_pair("code_challenge_method", "S256");
        url.to_string()
    }

    /// `POST /api/v1/sso/token`: the loopback redirect's code and its PKCE verifier for the
    /// same answer as a password sign-in.
    pub fn sso_token(&self, body: &SsoTokenRequest) -> Result<LoginResponse, ClientError> {
        self.call(self.http.post(self.url("/api/v1/sso/token")).json(body))
    }

    /// `POST /api/v1/sso/device`: a code for a person to enter on another device (RFC 8628).
    pub fn sso_device(
        &self,
        body: &DeviceAuthorizationRequest,
    ) -> Result<DeviceAuthorization, ClientError> {
        self.call(self.http.post(self.url("/api/v1/sso/device")).json(body))
    }

    /// `POST /api/v1/sso/device/token`: one poll. While the person has not finished, a
    /// [`ClientError::Refused`] with status 400 and the RFC 8628 error as its message.
    pub fn sso_device_token(
        &self,
        body: &DeviceTokenRequest,
    ) -> Result<LoginResponse, ClientError> {
        self.call(
            self.http
                .post(self.url("/api/v1/sso/device/token"))
                .json(body),
        )
    }

    pub fn logout(&self, token: &Token) -> Result<(), ClientError> {
        self.call_empty(
            self.http
                .post(self.url("/api/v1/logout"))
                .bearer_auth(&token.0),
        )
    }

    pub fn me(&self, token: &Token) -> Result<User, ClientError> {
        self.call(self.http.get(self.url("/api/v1/me")).bearer_auth(&token.0))
    }

    pub fn tasks(&self, token: &Token) -> Result<Vec<Task>, ClientError> {
        match self.tasks_if_changed(token, None)? {
            TaskList::Changed { tasks, .. } => Ok(tasks),
            // Not asked conditionally, so a 304 is no answer of a Metron server.
            TaskList::Unchanged => Err(ClientError::BadAnswer {
                url: self.url("/api/v1/tasks"),
                why: "304 to a request without If-None-Match".into(),
            }),
        }
    }

    /// `GET /api/v1/tasks` with `If-None-Match: etag` when given: the periodic refresh costs
    /// a 304 and no body while the list is the one held.
    pub fn tasks_if_changed(
        &self,
        token: &Token,
        etag: Option<&str>,
    ) -> Result<TaskList, ClientError> {
        let mut request = self
            .http
            .get(self.url("/api/v1/tasks"))
            .bearer_auth(&token.0);
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let answer = self.exchange(request)?;
        if answer.status == StatusCode::NOT_MODIFIED && etag.is_some() {
            return Ok(TaskList::Unchanged);
        }
        Ok(TaskList::Changed {
            tasks: answer.read()?,
            etag: answer.etag.clone(),
        })
    }

    pub fn create_task(&self, token: &Token, task: &NewTask) -> Result<Task, ClientError> {
        self.call(
            self.http
                .post(self.url("/api/v1/tasks"))
                .bearer_auth(&token.0)
                .json(task),
        )
    }

    /// `POST /api/v1/intervals`: one result per interval, checked to match the batch.
    pub fn send_intervals(
        &self,
        token: &Token,
        batch: &[Interval],
    ) -> Result<IngestResponse, ClientError> {
        let body = serde_json::json!({ "intervals": batch });
        let answer: IngestResponse = self.call(
            self.http
                .post(self.url("/api/v1/intervals"))
                .bearer_auth(&token.0)
                .json(&body),
        )?;
        if answer.results.len() != batch.len() {
            return Err(ClientError::BadAnswer {
                url: self.url("/api/v1/intervals"),
                why: format!(
                    "{} results for {} intervals",
                    answer.results.len(),
                    batch.len()
                ),
            });
        }
        Ok(answer)
    }

    /// `GET /api/v1/reports/daily`: the caller's day (R1) as the server computes it, in the
    /// given UTC offset. Kept as JSON: the window draws it as it comes.
    pub fn daily_report(
        &self,
        token: &Token,
        date: chrono::NaiveDate,
        utc_offset_minutes: i32,
    ) -> Result<serde_json::Value, ClientError> {
        let url = format!(
            "{}?date={date}&utc_offset_minutes={utc_offset_minutes}",
            self.url("/api/v1/reports/daily")
        );
        self.call(self.http.get(url).bearer_auth(&token.0))
    }

    pub fn active_devices(&self, token: &Token) -> Result<Vec<ActiveDevice>, ClientError> {
        self.call(
            self.http
                .get(self.url("/api/v1/devices/active"))
                .bearer_auth(&token.0),
        )
    }

    /// `PUT /api/v1/devices/{device_id}`: tells the server who and where this device is.
    pub fn report_device(
        &self,
        token: &Token,
        device_id: &str,
        info: &metron_core::device::DeviceInfo,
    ) -> Result<metron_core::device::Device, ClientError> {
        self.call(
            self.http
                .put(self.url(&format!("/api/v1/devices/{device_id}")))
                .bearer_auth(&token.0)
                .json(info),
        )
    }

    /// `POST` of a correction or a manual entry the app queued (`store::requests`): the
    /// server's id for it and its status.
    pub fn post_request(
        &self,
        token: &Token,
        body: &RequestBody,
    ) -> Result<RequestAnswer, ClientError> {
        let post = self
            .http
            .post(self.url(body.kind().path()))
            .bearer_auth(&token.0);
        match body {
            RequestBody::Correction(c) => self.call::<CorrectionView>(post.json(c)).map(Into::into),
            RequestBody::ManualEntry(m) => {
                self.call::<ManualEntryView>(post.json(m)).map(Into::into)
            }
        }
    }

    /// The caller's corrections or manual entries about [from, to) (at most 366 days), with
    /// where each stands.
    pub fn list_requests(
        &self,
        token: &Token,
        kind: RequestKind,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RequestAnswer>, ClientError> {
        // RFC 3339 in UTC ("...Z"): nothing in it needs escaping in a query.
        let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let url = format!(
            "{}?from={}&to={}",
            self.url(kind.path()),
            stamp(from),
            stamp(to)
        );
        let get = self.http.get(url).bearer_auth(&token.0);
        let answers = match kind {
            RequestKind::Correction => self
                .call::<Vec<CorrectionView>>(get)?
                .into_iter()
                .map(Into::into)
                .collect(),
            RequestKind::ManualEntry => self
                .call::<Vec<ManualEntryView>>(get)?
                .into_iter()
                .map(Into::into)
                .collect(),
        };
        Ok(answers)
    }

    /// `GET /api/v1/timesheets/policy`: the organization's passive limit, `None` where the
    /// server's policy has none (an older server), its answer read up to
    /// [`MAX_CLIENT_VERSION_BYTES`] (a policy is a few fields).
    pub fn passive_limit(&self, token: &Token) -> Result<Option<u32>, ClientError> {
        #[derive(serde::Deserialize)]
        struct PolicyAnswer {
            passive_limit_secs: Option<u32>,
        }
        let request = self
            .http
            .get(self.url("/api/v1/timesheets/policy"))
            .bearer_auth(&token.0);
        let answer: PolicyAnswer = self
            .exchange_at_most(request, Some(MAX_CLIENT_VERSION_BYTES))?
            .read()?;
        Ok(answer.passive_limit_secs)
    }

    /// `GET /api/v1/client-version`: the release the organization announces, unchecked (see
    /// `metron_core::release`), its answer read up to [`MAX_CLIENT_VERSION_BYTES`].
    pub fn client_version(&self, token: &Token) -> Result<ClientVersion, ClientError> {
        let request = self
            .http
            .get(self.url("/api/v1/client-version"))
            .bearer_auth(&token.0);
        self.exchange_at_most(request, Some(MAX_CLIENT_VERSION_BYTES))?
            .read()
    }

    /// `GET /api/v1/me/notice`: the organization's transparency notice for the person (its
    /// `version`, `text.en` / `text.ru` sentences, `acknowledged_at`), as the server words it.
    pub fn notice(&self, token: &Token) -> Result<serde_json::Value, ClientError> {
        let request = self
            .http
            .get(self.url("/api/v1/me/notice"))
            .bearer_auth(&token.0);
        self.exchange_at_most(request, Some(MAX_NOTICE_BYTES))?
            .read()
    }

    /// `POST /api/v1/me/notice/ack`: the person read this `version` of the notice; the server
    /// answers the notice, now acknowledged (a conflict when it changed meanwhile).
    pub fn acknowledge_notice(
        &self,
        token: &Token,
        version: &str,
    ) -> Result<serde_json::Value, ClientError> {
        let request = self
            .http
            .post(self.url("/api/v1/me/notice/ack"))
            .bearer_auth(&token.0)
            .json(&serde_json::json!({ "version": version }));
        self.exchange_at_most(request, Some(MAX_NOTICE_BYTES))?
            .read()
    }

    fn call<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ClientError> {
        self.exchange(request)?.read()
    }

    fn call_empty(&self, request: RequestBuilder) -> Result<(), ClientError> {
        let answer = self.exchange(request)?;
        if answer.status.is_success() {
            return Ok(());
        }
        answer.read::<serde_json::Value>().map(drop)
    }

    /// Sends the request and reads the whole answer; transport failures are typed here.
    fn exchange(&self, request: RequestBuilder) -> Result<Answer, ClientError> {
        self.exchange_at_most(request, None)
    }

    /// [`Self::exchange`], refusing an answer longer than `limit` bytes (if given) before
    /// reading past it.
    fn exchange_at_most(
        &self,
        request: RequestBuilder,
        limit: Option<u64>,
    ) -> Result<Answer, ClientError> {
        let request = request
            .timeout(self.timeout)
            .build()
            .map_err(|e| ClientError::BadUrl(format!("{} ({e})", self.base())))?;
        let url = request.url().to_string();
        let response = self
            .http
            .execute(request)
            .map_err(|e| transport_error(&url, &e))?;
        let status = response.status();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let (content_type, retry_after, location, etag) = (
            header(CONTENT_TYPE),
            header(RETRY_AFTER),
            header(LOCATION),
            header(ETAG),
        );
        // A body cut short (the connection dropped mid-answer) fails here, as a broken connection.
        let body = match limit {
            None => response
                .bytes()
                .map_err(|e| transport_error(&url, &e))?
                .to_vec(),
            Some(limit) => {
                let mut body = Vec::new();
                std::io::Read::read_to_end(
                    &mut std::io::Read::take(response, limit + 1),
                    &mut body,
                )
                .map_err(|e| ClientError::Broken {
                    url: url.clone(),
                    detail: e.to_string(),
                })?;
                if body.len() as u64 > limit {
                    return Err(ClientError::BadAnswer {
                        url,
                        why: format!("an answer of more than {limit} bytes"),
                    });
                }
                body
            }
        };
        Ok(Answer {
            url,
            status,
            content_type,
            retry_after,
            location,
            etag,
            body,
        })
    }
}

/// How long an idle connection stays in the shared client's pool.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);

/// A CA file by path, modification time and length; `None` for the system's roots alone.
type ClientKey = Option<(PathBuf, Option<std::time::SystemTime>, u64)>;
static CLIENTS: std::sync::OnceLock<std::sync::Mutex<Vec<(ClientKey, Client)>>> =
    std::sync::OnceLock::new();

enum SharedError {
    Client(ClientError),
    Build(String),
}

/// The HTTP client for servers trusted through `ca_cert` (or the system's roots alone): one per
/// CA file (and its version) for the whole process. Building a client makes OpenSSL parse the
/// system's whole root store, a megabyte or two that glibc seldom gives back; the desktop app
/// asks for a client on every task refresh and report, and its memory grew by that much each
/// time. A blocking client also runs a thread of its own. Timeouts are set per request.
fn shared_http(ca_cert: Option<&Path>) -> Result<Client, SharedError> {
    // A CA file replaced in place (a renewed private CA) is a new key: read again.
    let key: ClientKey = ca_cert.map(|p| {
        let meta = std::fs::metadata(p).ok();
        (
            p.to_path_buf(),
            meta.as_ref().and_then(|m| m.modified().ok()),
            meta.map_or(0, |m| m.len()),
        )
    });
    let mut clients = CLIENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some((_, client)) = clients.iter().find(|(k, _)| *k == key) {
        return Ok(client.clone());
    }
    let mut builder = Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        // A shared client keeps connections for the next request. A server ends an idle one
        // after a while (metron-server after its 10 s header timeout, nginx after 75 s); one
        // picked from the pool as the server closes it fails the request. Four idle seconds
        // stay clear of that, and a tracker's requests a minute apart open a fresh one anyway.
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("metron-agent/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = ca_cert {
        for cert in read_ca_certs(path).map_err(SharedError::Client)? {
            builder = builder.add_root_certificate(cert);
        }
    }
    let client = builder
        .build()
        .map_err(|e| SharedError::Build(e.to_string()))?;
    clients.push((key, client.clone()));
    Ok(client)
}

/// A complete HTTP answer, as [`read_answer`] judges it.
struct Answer {
    url: String,
    status: StatusCode,
    content_type: Option<String>,
    retry_after: Option<String>,
    location: Option<String>,
    etag: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn read<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        if self.status.is_redirection() {
            return Err(ClientError::Redirected {
                url: self.url.clone(),
                location: self.location.clone(),
            });
        }
        read_answer(
            &self.url,
            self.status,
            self.content_type.as_deref(),
            self.retry_after.as_deref(),
            &self.body,
        )
    }
}

/// True for an address that never leaves this machine: 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The certificates of a PEM file (one CA, or a bundle).
fn read_ca_certs(path: &Path) -> Result<Vec<reqwest::Certificate>, ClientError> {
    let bad = |why: String| ClientError::CaCert {
        path: path.to_path_buf(),
        why,
    };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(error_chain(&e)))?;
    if certs.is_empty() {
        return Err(bad(
            "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    Ok(certs)
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
    if let Some(tls) = tls_failure(e) {
        // The TLS library's own words ("certificate verify failed (self-signed certificate)")
        // are what a person, or their admin, needs.
        ClientError::Tls {
            url: url.to_string(),
            detail: tls,
        }
    } else if e.is_timeout() {
        ClientError::Timeout {
            url: url.to_string(),
        }
    } else if e.is_connect() {
        ClientError::Connect {
            url: url.to_string(),
            detail,
        }
    } else {
        ClientError::Broken {
            url: url.to_string(),
            detail,
        }
    }
}

/// The TLS library's error in the chain of `e`, if the handshake is what failed: found by its
/// type, not by its text.
fn tls_failure(e: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(tls) = s.downcast_ref::<native_tls::Error>() {
            return Some(tls.to_string());
        }
        source = s.source();
    }
    None
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
    let bad = |why: String| ClientError::BadAnswer {
        url: url.to_string(),
        why,
    };
    let is_json = content_type.is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    let message = || -> String {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(e) if is_json => e.error,
            _ => snippet(body),
        }
    };
    match status.as_u16() {
        200..=299 => {
            if !is_json {
                return Err(bad(format!(
                    "HTTP {status} with content type {}",
                    content_type.unwrap_or("none")
                )));
            }
            serde_json::from_slice(body).map_err(|e| {
                bad(format!(
                    "HTTP {status} with a body that does not parse: {e}"
                ))
            })
        }
        401 => Err(ClientError::Unauthorized),
        429 => Err(ClientError::RateLimited {
            retry_after: retry_after.and_then(parse_retry_after),
        }),
        400 | 403 | 404 | 405 | 409 | 413 | 422 => {
            if !is_json {
                return Err(bad(format!(
                    "HTTP {status} with content type {}: {}",
                    content_type.unwrap_or("none"),
                    snippet(body)
                )));
            }
            Err(ClientError::Refused {
                status: status.as_u16(),
                message: message(),
            })
        }
        500..=599 => Err(ClientError::Server {
            status: status.as_u16(),
            message: message(),
        }),
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
    #[test]
    fn clients_share_one_http_client_per_ca_whatever_their_timeouts() {
        for (i, base) in [
            "http://127.0.0.1:1",
            "http://127.0.0.1:2/x",
            "https://metron.example.com",
        ]
        .iter()
        .enumerate()
        {
            let a = ServerClient::build(base, None, Duration::from_secs(i as u64 + 1)).unwrap();
            let b = a.with_request_timeout(Duration::from_millis(10));
            assert_eq!(
                (a.timeout, b.timeout),
                (Duration::from_secs(i as u64 + 1), Duration::from_millis(10))
            );
            assert_eq!(a.base(), b.base());
        }
        let shared = CLIENTS
            .get()
            .unwrap()
            .lock()
            .unwrap()
            .iter()
            .filter(|(key, _)| key.is_none())
            .count();
        assert_eq!(
            shared, 1,
            "one HTTP client for the system's roots, however many server clients"
        );
    }

    use super::*;

    const URL: &str = "http://127.0.0.1:1/api/v1/intervals";

    fn answer(
        status: u16,
        content_type: Option<&str>,
        retry_after: Option<&str>,
        body: &str,
    ) -> Result<IngestResponse, ClientError> {
        read_answer(
            URL,
            StatusCode::from_u16(status).unwrap(),
            content_type,
            retry_after,
            body.as_bytes(),
        )
    }

    #[test]
    fn a_good_answer_parses() {
        let ok = answer(
            200,
            Some("application/json; charset=utf-8"),
            None,
            r#"{"results":[{"id":"a","status":"accepted"}]}"#,
        )
        .unwrap();
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
            assert!(
                matches!(e, ClientError::BadAnswer { .. }),
                "{ct:?} {body:?}: {e:?}"
            );
            assert!(e.to_string().contains("is it a Metron server?"), "{e}");
        }
    }

    #[test]
    fn statuses_map_to_kinds() {
        let e = answer(
            429,
            Some("application/json"),
            Some("7"),
            r#"{"error":"slow down"}"#,
        )
        .unwrap_err();
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(
            answer(429, None, Some("Wed, 21 Oct 2026 07:28:00 GMT"), "")
                .unwrap_err()
                .retry_after(),
            None
        );
        assert_eq!(
            answer(401, Some("application/json"), None, r#"{"error":"no"}"#).unwrap_err(),
            ClientError::Unauthorized
        );
        assert_eq!(
            answer(502, Some("text/html"), None, "<h1>Bad Gateway</h1>").unwrap_err(),
            ClientError::Server {
                status: 502,
                message: "\"<h1>Bad Gateway</h1>\"".into()
            }
        );
        assert_eq!(
            answer(
                500,
                Some("application/json"),
                None,
                r#"{"error":"database is down"}"#
            )
            .unwrap_err(),
            ClientError::Server {
                status: 500,
                message: "database is down".into()
            }
        );
        assert_eq!(
            answer(
                413,
                Some("application/json"),
                None,
                r#"{"error":"too big"}"#
            )
            .unwrap_err(),
            ClientError::Refused {
                status: 413,
                message: "too big".into()
            }
        );
        // A 404 page from some other web server: not a Metron server.
        assert!(matches!(
            answer(404, Some("text/html"), None, "<html>Not Found</html>").unwrap_err(),
            ClientError::BadAnswer { .. }
        ));
        // A status the API never sends.
        assert!(matches!(
            answer(302, None, None, "").unwrap_err(),
            ClientError::BadAnswer { .. }
        ));
        assert!(matches!(
            answer(418, Some("application/json"), None, "{}").unwrap_err(),
            ClientError::BadAnswer { .. }
        ));
    }

    #[test]
    fn addresses_are_checked() {
        assert!(ServerClient::new("http://127.0.0.1:8750/").is_ok());
        assert_eq!(
            ServerClient::new("https://m.example.com/metron/")
                .unwrap()
                .base(),
            "https://m.example.com/metron"
        );
        for bad in ["", "127.0.0.1:8750", "ftp://x", "http://"] {
            assert!(
                matches!(ServerClient::new(bad), Err(ClientError::BadUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn plain_http_is_for_this_machine_only_unless_confirmed() {
        let fine = [
            "http://127.0.0.1:8750",
            "http://127.8.9.10",
            "http://[::1]:8750",
            "http://localhost:8750",
            "http://LOCALHOST/metron",
        ];
        for ok in fine
            .into_iter()
            .chain(["https://m.example.com", "https://10.0.0.5:8443"])
        {
            assert_eq!(
                ServerClient::new(ok).unwrap().check_transport(false),
                Ok(()),
                "{ok}"
            );
        }
        for refused in [
            "http://m.example.com",
            "http://10.0.0.5:8750",
            "http://[fd00::2]",
            "http://localhost.example.com",
            "http://128.0.0.1",
        ] {
            let client = ServerClient::new(refused).unwrap();
            assert!(
                matches!(
                    client.check_transport(false),
                    Err(ClientError::InsecureHttp { .. })
                ),
                "{refused}"
            );
            assert_eq!(client.check_transport(true), Ok(()), "{refused} confirmed");
        }
    }

    #[test]
    fn a_redirect_is_an_error_naming_where_it_points() {
        let answer = Answer {
            url: URL.into(),
            status: StatusCode::PERMANENT_REDIRECT,
            content_type: None,
            retry_after: None,
            location: Some("https://elsewhere.example/login".into()),
            etag: None,
            body: Vec::new(),
        };
        let e = answer.read::<IngestResponse>().unwrap_err();
        assert_eq!(
            e,
            ClientError::Redirected {
                url: URL.into(),
                location: Some("https://elsewhere.example/login".into())
            }
        );
        assert!(
            e.to_string()
                .contains("redirect to https://elsewhere.example/login"),
            "{e}"
        );
    }

    #[test]
    fn a_ca_file_that_is_missing_or_holds_no_certificate_is_refused() {
        let dir = std::env::temp_dir().join(format!("metron-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        for path in [junk.clone(), dir.join("missing.pem")] {
            let e = ServerClient::build("https://m.example.com", Some(&path), REQUEST_TIMEOUT)
                .unwrap_err();
            assert!(matches!(e, ClientError::CaCert { .. }), "{path:?}: {e:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_token_never_prints() {
        let t = Token("secret-token-value".into());
        assert!(!format!("{t:?}").contains("secret"));
    }
}
