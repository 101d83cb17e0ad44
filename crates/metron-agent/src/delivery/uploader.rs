//! The uploader (S4, S5): moves committed intervals from the store to the server, and after
//! them the corrections and manual entries the app queued (`store::requests`), asking now and
//! then what a reviewer decided on those that wait.
//!
//! It runs on a thread of its own with its own store connection, so a slow or dead network
//! never delays a tick. It sends as soon as an interval closes, then every second while
//! unsent ones exist, in batches of up to 100, oldest first. A transient failure (typed
//! [`ClientError`]: no connection, timeout, a broken connection, 5xx, 429, an unreadable
//! answer) backs off from 1 s to a 10 s cap with jitter, honouring Retry-After. Per-item
//! results are applied one by one: accepted or duplicate -> sent; rejected -> kept with the
//! reason and left alone until a manual resend, which also starts the backoff over. One
//! rejection is not final: an interval "ending more than 5 min in the future" (the server's
//! clock is behind ours, or the interval was stamped by a clock running ahead) stays unsent and
//! is offered again after [`FUTURE_RETRY`], since time alone makes it acceptable.
//!
//! A 401 (the token expired or was revoked) signs the uploader out: it keeps every interval,
//! says so once ([`DeliveryEvent::SessionExpired`]) and picks up the token of a new sign-in.
//!
//! Exactly-once in effect comes from the server: an interval whose answer was lost is simply
//! sent again and comes back `duplicate`. The store is updated only after an answer, so a
//! crash at any moment leaves intervals unsent (sent again later), never lost.

use chrono::Utc;
use metron_core::backoff::{Backoff, CAP};
use metron_core::release::Offer;
use metron_core::wire::{ActiveDevice, IngestStatus, Task};
use metron_core::Interval;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

use super::account::{self, Connection, DeliveryState, RESEND_REQUEST};
use super::client::{ClientError, ServerClient, Token};
use super::secret::TokenStore;
use super::{client_version, device_report};
use crate::store::{DeliveryStatus, RequestKind, Store, StoreError};

/// S4: at most this many intervals a request.
pub const BATCH: usize = 100;
/// How often, while online, the uploader asks which other devices of the account track (and
/// at once after an `overlap` rejection, the usual sign of one).
pub const DEVICES_EVERY: Duration = Duration::from_secs(30);
/// How often, while online, the task list is refreshed.
pub const TASKS_EVERY: Duration = Duration::from_secs(300);
/// How long the question about the announced release may take: it runs between deliveries,
/// so a slow server holds them up this long at most, once every few hours.
pub const CLIENT_VERSION_TIMEOUT: Duration = Duration::from_secs(5);
/// How often, while online, the uploader looks whether the device's report changed (a few
/// files and environment reads; sent only when something differs).
pub const WHEREABOUTS_EVERY: Duration = Duration::from_secs(600);
/// How often, while online, the uploader asks what became of requests waiting for a reviewer.
pub const OUTCOMES_EVERY: Duration = Duration::from_secs(60);
/// How long the last try on quit may take.
pub const FINAL_FLUSH: Duration = Duration::from_secs(3);
/// How long an interval the server found ending in the future waits before it is offered again.
pub const FUTURE_RETRY: Duration = Duration::from_secs(60);
/// How often a waiting uploader looks for a `resend` asked by another process.
const RESEND_POLL: Duration = Duration::from_millis(500);

/// What the uploader tells its owner (the CLI prints it, the desktop app pushes it to the UI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryEvent {
    /// The connection state changed; `error` says why when it is not online.
    Connection {
        state: Connection,
        error: Option<String>,
    },
    /// These many intervals reached the server (accepted or already there).
    Delivered {
        sent: usize,
    },
    /// The server refused these for good: (id, reason).
    Rejected(Vec<(Uuid, String)>),
    /// The set of other devices of this account that are tracking changed.
    OtherDevices(Vec<ActiveDevice>),
    TasksRefreshed(Vec<Task>),
    /// The organization's announced release was asked for: the one newer than this program,
    /// or none.
    ClientVersion(Option<Offer>),
    /// The server refused the token (HTTP 401: it expired or was revoked). Intervals are kept
    /// and go after a new sign-in as the same account. Said once per sign-out.
    SessionExpired,
    /// A correction or a manual entry reached the server or was refused, or a reviewer decided
    /// on one: the store's list changed.
    RequestsChanged,
}

/// How the owner reaches a running uploader: wake it when an interval closes, ask for a
/// resend, stop it.
#[derive(Default)]
pub struct Wake {
    flags: Mutex<Flags>,
    cv: Condvar,
}

#[derive(Default, Clone, Copy)]
struct Flags {
    closed: bool,
    resend: bool,
    stop: bool,
    outcomes: bool,
}

impl Wake {
    fn set(&self, f: impl FnOnce(&mut Flags)) {
        f(&mut self.flags.lock().unwrap_or_else(|p| p.into_inner()));
        self.cv.notify_all();
    }

    /// An interval was committed: send it now (unless backing off after a failure).
    pub fn interval_closed(&self) {
        self.set(|f| f.closed = true);
    }

    /// A manual resend: start the backoff over and send at once.
    pub fn resend(&self) {
        self.set(|f| f.resend = true);
    }

    /// Ask the server now what became of the requests waiting for a reviewer (the window
    /// opened: its person is looking).
    pub fn check_outcomes(&self) {
        self.set(|f| f.outcomes = true);
    }

    /// Make one last short try, then end `run`.
    pub fn stop(&self) {
        self.set(|f| f.stop = true);
    }

    /// Waits until a flag is raised or `timeout` passes; returns and clears the flags.
    fn wait(&self, timeout: Duration) -> Flags {
        let guard = self.flags.lock().unwrap_or_else(|p| p.into_inner());
        let (mut guard, _) = self
            .cv
            .wait_timeout_while(guard, timeout, |f| {
                !(f.closed || f.resend || f.stop || f.outcomes)
            })
            .unwrap_or_else(|p| p.into_inner());
        let flags = *guard;
        guard.closed = false;
        guard.resend = false;
        guard.outcomes = false;
        flags
    }
}

/// The result of one try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Nothing to send.
    Idle,
    /// A batch got its answer; `more` when another batch waits.
    Sent {
        sent: usize,
        rejected: usize,
        more: bool,
    },
    /// Nothing was delivered; try again after `wait`.
    Failed { error: String, wait: Duration },
}

#[derive(Debug, thiserror::Error)]
enum TryError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("not signed in: no token is saved; run `metron-agent login`")]
    NoToken,
}

pub struct Uploader {
    store: Store,
    client: ServerClient,
    tokens: TokenStore,
    token: Option<Token>,
    device_id: Uuid,
    backoff: Backoff,
    rng: StdRng,
    batch_limit: usize,
    state: DeliveryState,
    resend_seen: Option<String>,
    devices_checked: Option<Instant>,
    tasks_refreshed: Option<Instant>,
    whereabouts_checked: Option<Instant>,
    outcomes_checked: Option<Instant>,
    /// Intervals the server found ending in the future, and when to offer each again. In
    /// memory only: after a restart they are simply offered once more.
    deferred: HashMap<Uuid, Instant>,
    future_retry: Duration,
    on_event: Box<dyn FnMut(DeliveryEvent) + Send>,
}

impl Uploader {
    /// An uploader for the data dir of `store`, delivering to `client`.
    pub fn new(
        mut store: Store,
        client: ServerClient,
        tokens: TokenStore,
    ) -> Result<Uploader, StoreError> {
        let device_id = store.device_id()?;
        let token = tokens.load();
        let now = Utc::now();
        let state = DeliveryState {
            connection: Connection::Offline,
            since: now,
            last_error: None,
            last_error_at: None,
            last_delivery_at: None,
            other_devices: Vec::new(),
        };
        let resend_seen = store.meta(RESEND_REQUEST)?;
        Ok(Uploader {
            store,
            client,
            tokens,
            token,
            device_id,
            backoff: Backoff::new(),
            rng: StdRng::from_os_rng(),
            batch_limit: BATCH,
            state,
            resend_seen,
            devices_checked: None,
            tasks_refreshed: None,
            whereabouts_checked: None,
            outcomes_checked: None,
            deferred: HashMap::new(),
            future_retry: FUTURE_RETRY,
            on_event: Box::new(|_| {}),
        })
    }

    /// Where events go (default: nowhere).
    pub fn on_event(mut self, f: impl FnMut(DeliveryEvent) + Send + 'static) -> Self {
        self.on_event = Box::new(f);
        self
    }

    /// How long an interval the server found ending in the future waits (default
    /// [`FUTURE_RETRY`]; tests shorten it).
    pub fn future_retry(mut self, wait: Duration) -> Self {
        self.future_retry = wait;
        self
    }

    pub fn state(&self) -> &DeliveryState {
        &self.state
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// One try: the oldest unsent batch, sent and its results applied.
    pub fn attempt(&mut self) -> Attempt {
        match self.try_batch() {
            Ok(None) => Attempt::Idle,
            Ok(Some((sent, rejected, more))) => {
                self.backoff.reset();
                self.batch_limit = BATCH;
                Attempt::Sent {
                    sent,
                    rejected,
                    more,
                }
            }
            Err(e) => {
                if matches!(e, TryError::Client(ClientError::Unauthorized)) {
                    self.session_expired();
                }
                let wait = match &e {
                    TryError::Client(ClientError::Unauthorized) | TryError::NoToken => {
                        // Another process may sign in again: look for a fresh token next time.
                        self.token = None;
                        self.backoff.fail(&mut self.rng, None);
                        CAP
                    }
                    TryError::Client(c) => self.backoff.fail(&mut self.rng, c.retry_after()),
                    TryError::Store(_) => self.backoff.fail(&mut self.rng, None),
                };
                let connection = match &e {
                    TryError::Client(ClientError::Unauthorized) | TryError::NoToken => {
                        Connection::SignedOut
                    }
                    TryError::Client(_) => Connection::Offline,
                    // The store failed, not the network: the connection state stays as it was.
                    TryError::Store(_) => self.state.connection,
                };
                let error = e.to_string();
                self.set_state(connection, Some(error.clone()));
                Attempt::Failed { error, wait }
            }
        }
    }

    /// The server refused the token: say so once (before the state turns `SignedOut`).
    fn session_expired(&mut self) {
        self.token = None;
        if self.state.connection != Connection::SignedOut {
            (self.on_event)(DeliveryEvent::SessionExpired);
        }
    }

    fn token(&mut self) -> Result<Token, TryError> {
        if self.token.is_none() {
            self.token = self.tokens.load();
        }
        self.token.clone().ok_or(TryError::NoToken)
    }

    fn try_batch(&mut self) -> Result<Option<(usize, usize, bool)>, TryError> {
        let now = Instant::now();
        self.deferred.retain(|_, due| *due > now);
        // Deferred intervals are skipped, not counted against the batch.
        let mut batch = self
            .store
            .unsent_batch(self.batch_limit + 1 + self.deferred.len())?;
        batch.retain(|i| !self.deferred.contains_key(&i.id));
        if batch.is_empty() {
            // Nothing to send: still say whether the server is there (a person looks at the
            // connection state before the first interval closes).
            if self.state.connection != Connection::Online {
                let token = self.token()?;
                let devices = self.client.active_devices(&token)?;
                self.note_devices(devices);
                self.set_state(Connection::Online, None);
            }
            return Ok(None);
        }
        let more = batch.len() > self.batch_limit;
        let batch = &batch[..batch.len().min(self.batch_limit)];
        let token = self.token()?;
        let answer = match self.client.send_intervals(&token, batch) {
            Err(ClientError::Refused {
                status: 413,
                message,
            }) => return self.too_large(batch, message).map(|()| Some((0, 0, true))),
            other => other?,
        };
        let now = Utc::now();
        let (mut sent, mut rejected, mut later) = (Vec::new(), Vec::new(), Vec::new());
        for (interval, result) in batch.iter().zip(&answer.results) {
            if result.id.as_deref() != Some(interval.id.to_string().as_str()) {
                return Err(ClientError::BadAnswer {
                    url: self.client.base().to_string(),
                    why: format!(
                        "a result for {:?} where {} was expected",
                        result.id, interval.id
                    ),
                }
                .into());
            }
            match result.status {
                IngestStatus::Accepted | IngestStatus::Duplicate => sent.push(interval.id),
                IngestStatus::Rejected if result.is_rejected_for_now() => later.push(interval.id),
                IngestStatus::Rejected => {
                    let mut reason = result.reason.clone().unwrap_or_else(|| "rejected".into());
                    if let Some(other) = &result.conflicts_with {
                        reason = format!("{reason} (with interval {other})");
                    }
                    rejected.push((interval.id, reason));
                }
            }
        }
        self.store.mark_sent(&sent, now)?;
        for (id, reason) in &rejected {
            tracing::warn!(%id, %reason, "the server rejected an interval; it is kept until resent by hand");
            self.store.mark_rejected(*id, reason)?;
        }
        let retry_at = Instant::now() + self.future_retry;
        for id in &later {
            self.deferred.insert(*id, retry_at);
        }
        self.state.last_delivery_at = Some(now);
        let note = (!later.is_empty()).then(|| {
            format!(
                "the server says {} interval(s) end more than 5 min in the future by its clock; they stay unsent and go again in {} s \
                 (is this computer's clock ahead?)",
                later.len(),
                self.future_retry.as_secs()
            )
        });
        self.set_state(Connection::Online, note);
        if !sent.is_empty() {
            (self.on_event)(DeliveryEvent::Delivered { sent: sent.len() });
        }
        if !rejected.is_empty() {
            if rejected
                .iter()
                .any(|(_, reason)| reason.starts_with("overlap"))
            {
                self.devices_checked = None;
            }
            (self.on_event)(DeliveryEvent::Rejected(rejected.clone()));
        }
        Ok(Some((sent.len(), rejected.len(), more)))
    }

    /// HTTP 413: halve the batch; a single interval too large for the server is rejected.
    fn too_large(&mut self, batch: &[Interval], message: String) -> Result<(), TryError> {
        if batch.len() > 1 {
            self.batch_limit = (batch.len() / 2).max(1);
            return Ok(());
        }
        let reason = format!("too large for the server (HTTP 413: {message})");
        self.store.mark_rejected(batch[0].id, &reason)?;
        (self.on_event)(DeliveryEvent::Rejected(vec![(batch[0].id, reason)]));
        Ok(())
    }

    fn set_state(&mut self, connection: Connection, error: Option<String>) {
        let now = Utc::now();
        let changed = connection != self.state.connection
            || (error.is_some() && error != self.state.last_error);
        if connection != self.state.connection {
            self.state.since = now;
        }
        self.state.connection = connection;
        if let Some(e) = &error {
            if Some(e) != self.state.last_error.as_ref() {
                tracing::warn!("delivery: {e}");
            }
            self.state.last_error = error.clone();
            self.state.last_error_at = Some(now);
        }
        if let Err(e) = account::save_delivery_state(&mut self.store, &self.state) {
            tracing::debug!("cannot save the delivery state: {e}");
        }
        if changed {
            (self.on_event)(DeliveryEvent::Connection {
                state: connection,
                error,
            });
        }
    }

    /// Sends until nothing is unsent or a try fails. Returns how many reached the server.
    pub fn drain(&mut self) -> Result<usize, String> {
        let mut total = 0;
        loop {
            match self.attempt() {
                Attempt::Idle => return Ok(total),
                Attempt::Sent { sent, more, .. } => {
                    total += sent;
                    if !more {
                        return Ok(total);
                    }
                }
                Attempt::Failed { error, .. } => return Err(error),
            }
        }
    }

    /// While online: which other devices track, a fresh task list and the announced release,
    /// each on its period.
    fn housekeeping(&mut self) {
        if self.state.connection != Connection::Online {
            return;
        }
        let due = |last: Option<Instant>, every| last.is_none_or(|t: Instant| t.elapsed() >= every);
        let Some(token) = self.token.clone() else {
            return;
        };
        if due(self.devices_checked, DEVICES_EVERY) {
            self.devices_checked = Some(Instant::now());
            match self.client.active_devices(&token) {
                Ok(devices) => self.note_devices(devices),
                Err(e) => tracing::debug!("active devices: {e}"),
            }
        }
        if due(self.tasks_refreshed, TASKS_EVERY) {
            self.tasks_refreshed = Some(Instant::now());
            // Asked with the cached list's ETag: while nothing changed the server answers 304
            // and the list stays as it is.
            match account::refresh_task_list(&mut self.store, &self.client, &token) {
                Ok((tasks, true)) => (self.on_event)(DeliveryEvent::TasksRefreshed(tasks)),
                Ok((_, false)) => {}
                Err(ClientError::Unauthorized) => {
                    self.session_expired();
                    self.set_state(
                        Connection::SignedOut,
                        Some(ClientError::Unauthorized.to_string()),
                    );
                }
                Err(e) => tracing::debug!("tasks: {e}"),
            }
            // The organization's passive limit changes as rarely as its tasks; a failure
            // keeps the limit last kept.
            if let Err(e) = super::org_policy::refresh(&mut self.store, &self.client, &token) {
                tracing::debug!("the organization's passive limit: {e}");
            }
        }
        self.ask_client_version(&token);
        self.deliver_requests(&token);
        if due(self.outcomes_checked, OUTCOMES_EVERY) {
            self.outcomes_checked = Some(Instant::now());
            self.check_outcomes(&token);
        }
        if due(self.whereabouts_checked, WHEREABOUTS_EVERY) {
            self.whereabouts_checked = Some(Instant::now());
            self.report_device(&token);
        }
    }

    /// Sends the queued corrections and manual entries, oldest first, each once the interval
    /// it names is delivered. A refusal (4xx) is kept with the server's reason and the next one
    /// goes; anything transient leaves the rest for the next round.
    fn deliver_requests(&mut self, token: &Token) {
        let mut changed = false;
        loop {
            let next = match self.store.next_request() {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("the queued requests: {e}");
                    break;
                }
            };
            let ready = match next.after.map(|id| self.store.status_of(id)) {
                // Not in the store any more: delivered long ago (only sent ones are dropped).
                None | Some(Ok(None | Some(DeliveryStatus::Sent))) => Ok(()),
                Some(Ok(Some(DeliveryStatus::Unsent))) => break,
                Some(Ok(Some(DeliveryStatus::Rejected))) => {
                    Err("its interval was refused by the server".to_string())
                }
                Some(Err(e)) => {
                    tracing::warn!("the queued requests: {e}");
                    break;
                }
            };
            let result = match ready {
                Ok(()) => match self.client.post_request(token, &next.body) {
                    Ok(answer) => {
                        self.store
                            .request_delivered(next.id, &answer.id, answer.status.as_str())
                    }
                    Err(ClientError::Refused { message, .. }) => {
                        self.store.request_refused(next.id, &message)
                    }
                    Err(ClientError::Unauthorized) => {
                        self.session_expired();
                        break;
                    }
                    Err(e) => {
                        tracing::debug!("a queued request: {e}");
                        break;
                    }
                },
                Err(why) => self.store.request_refused(next.id, &why),
            };
            if let Err(e) = result {
                tracing::warn!("the queued requests: {e}");
                break;
            }
            changed = true;
        }
        if changed {
            (self.on_event)(DeliveryEvent::RequestsChanged);
        }
    }

    /// Asks what became of the requests waiting for a reviewer.
    fn check_outcomes(&mut self, token: &Token) {
        let Ok(pending) = self.store.pending_requests() else {
            return;
        };
        let mut changed = false;
        for kind in [RequestKind::Correction, RequestKind::ManualEntry] {
            let of_kind: Vec<_> = pending.iter().filter(|r| r.kind == kind).collect();
            let (Some(from), Some(last)) = (
                of_kind.iter().map(|r| r.at).min(),
                of_kind.iter().map(|r| r.at).max(),
            ) else {
                continue;
            };
            // The server lists what lies in [from, to), at most 366 days of it.
            let to = (last + chrono::Duration::seconds(1)).min(from + chrono::Duration::days(366));
            match self.client.list_requests(token, kind, from, to) {
                Ok(answers) => {
                    for a in answers {
                        match self.store.set_request_outcome(
                            &a.id,
                            a.status.as_str(),
                            a.decision_note.as_deref(),
                        ) {
                            Ok(c) => changed |= c,
                            Err(e) => tracing::warn!("the queued requests: {e}"),
                        }
                    }
                }
                Err(e) => tracing::debug!("the outcome of requests: {e}"),
            }
        }
        if changed {
            (self.on_event)(DeliveryEvent::RequestsChanged);
        }
    }

    /// Tells the server who and where this device is, if that changed since it was last told.
    /// A failure waits for the next check; delivery goes on either way.
    fn report_device(&mut self, token: &Token) {
        let offset = chrono::Local::now().offset().local_minus_utc() / 60;
        let info = crate::whereabouts::current(offset);
        let client = self.client.with_request_timeout(CLIENT_VERSION_TIMEOUT);
        let device = self.device_id.to_string();
        match device_report::report_if_changed(&mut self.store, &client, token, &device, &info) {
            Ok(true) => {
                tracing::info!(host = %info.host_name, "reported this device to the server")
            }
            Ok(false) => {}
            Err(e) => tracing::debug!("the device report: {e}"),
        }
    }

    /// Asks for the organization's announced release when it is due. A failure changes nothing
    /// but the debug log: the next try is a period later, and delivery goes on either way.
    fn ask_client_version(&mut self, token: &Token) {
        let now = Utc::now();
        if !client_version::due(&self.store, now) {
            return;
        }
        let client = self.client.with_request_timeout(CLIENT_VERSION_TIMEOUT);
        match client_version::check(&mut self.store, &client, token, now) {
            Ok(offer) => (self.on_event)(DeliveryEvent::ClientVersion(offer)),
            Err(e) => tracing::debug!("the announced client version: {e}"),
        }
    }

    /// Records which other devices of the account track, telling the owner when that changes.
    fn note_devices(&mut self, devices: Vec<ActiveDevice>) {
        self.devices_checked = Some(Instant::now());
        let mut others: Vec<ActiveDevice> = devices
            .into_iter()
            .filter(|d| d.device_id != self.device_id.to_string())
            .collect();
        others.sort_by(|a, b| a.device_id.cmp(&b.device_id));
        let ids = |d: &[ActiveDevice]| d.iter().map(|d| d.device_id.clone()).collect::<Vec<_>>();
        if ids(&others) != ids(&self.state.other_devices) {
            (self.on_event)(DeliveryEvent::OtherDevices(others.clone()));
        }
        self.state.other_devices = others;
        let _ = account::save_delivery_state(&mut self.store, &self.state);
    }

    /// True when another process asked for a resend since last looked.
    fn resend_requested(&mut self) -> bool {
        let now = self.store.meta(RESEND_REQUEST).ok().flatten();
        if now != self.resend_seen {
            self.resend_seen = now;
            return true;
        }
        false
    }

    /// Delivers until `wake.stop()`, then makes one last short try.
    pub fn run(mut self, wake: &Wake) -> Uploader {
        let mut due = Instant::now();
        loop {
            let wait = due
                .saturating_duration_since(Instant::now())
                .min(RESEND_POLL);
            let flags = wake.wait(wait);
            if flags.stop {
                self.final_flush();
                return self;
            }
            if flags.outcomes {
                self.outcomes_checked = None;
            }
            if flags.resend || self.resend_requested() {
                self.backoff.reset();
                self.deferred.clear();
                due = Instant::now();
            }
            // A closed interval goes at once, unless a failure asked to wait.
            if flags.closed && self.backoff.failures() == 0 {
                due = Instant::now();
            }
            if Instant::now() < due {
                continue;
            }
            due = match self.attempt() {
                Attempt::Sent { more: true, .. } => Instant::now(),
                Attempt::Idle | Attempt::Sent { .. } => Instant::now() + Duration::from_secs(1),
                Attempt::Failed { wait, .. } => Instant::now() + wait,
            };
            self.housekeeping();
        }
    }

    /// On quit: a short try, so a closing `quit` interval usually leaves delivered.
    fn final_flush(&mut self) {
        let quick = self.client.with_request_timeout(FINAL_FLUSH);
        let slow = std::mem::replace(&mut self.client, quick);
        let start = Instant::now();
        while start.elapsed() < FINAL_FLUSH {
            if !matches!(self.attempt(), Attempt::Sent { more: true, .. }) {
                break;
            }
        }
        self.client = slow;
    }
}

/// Starts an uploader on its own thread; the returned handle wakes and stops it.
pub struct UploaderThread {
    pub wake: Arc<Wake>,
    thread: Option<std::thread::JoinHandle<Uploader>>,
}

impl UploaderThread {
    pub fn spawn(uploader: Uploader) -> UploaderThread {
        let wake = Arc::new(Wake::default());
        let w = Arc::clone(&wake);
        let thread = std::thread::Builder::new()
            .name("metron-uploader".into())
            .spawn(move || uploader.run(&w))
            .expect("spawn a thread");
        UploaderThread {
            wake,
            thread: Some(thread),
        }
    }

    /// Stops after a last short try; returns the uploader (for its final state).
    pub fn stop(mut self) -> Option<Uploader> {
        self.wake.stop();
        self.thread.take().and_then(|t| t.join().ok())
    }
}
