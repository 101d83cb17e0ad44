//! The tracker on a thread of its own, for the desktop app: [`TrackerThread`] owns the data
//! dir's store and the tracker, takes commands (start, stop, resend, account changed, quit)
//! from a [`TrackerHandle`] over a channel, ticks once a second while tracking, runs the
//! uploader beside it, and pushes a [`TrackerView`] whenever what a person would see changes.
//!
//! After an idle or a sleep stop it keeps reading the input sensor once a second: the first
//! input means the person is back, and the view then carries the question of what to do with
//! the time away ([`AwayView`], answered with [`AwayAnswer`]; see `metron_core::timesheet::away`).
//! Every answer queues the corrections that take the idle tail out of tracked time; "keep" adds
//! a manual entry for the whole stretch. The uploader sends them after their intervals.
//!
//! The counters come from one place so they can't disagree: the session counter is the
//! engine's, and today's total is the sum of today's *committed* intervals plus the open one,
//! computed after each tick's commit. At an interval boundary the seconds move from "open" to
//! "committed" in the same step, so the total never jumps or resets there.

use chrono::{DateTime, Duration as Secs, NaiveDate, Utc};
use metron_core::wire::Task;
use metron_core::{Engine, EngineConfig, Event, StopCause};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::clock::Clock;
use crate::data_dir::OwnedDataDir;
use crate::delivery::{
    account, client_version, Connection, DeliveryEvent, TokenStore, Uploader, UploaderThread,
};
use crate::error::AgentError;
use crate::sensors::Sensors;
use crate::store::{DeliveryStatus, NewRequest, RequestKind, RequestRecord, Store};
use crate::tracker::Tracker;
use metron_core::release::Offer;
use metron_core::timesheet::{Away, AwayCause, Tail};

/// How many of today's intervals the activity bars show.
pub const RECENT_BARS: usize = 12;
/// How many undelivered intervals the list carries (the counts are always complete).
pub const UNDELIVERED_SHOWN: usize = 200;
/// How many of the latest corrections and manual entries the window lists.
pub const REQUESTS_SHOWN: usize = 20;
/// The longest note of a manual entry (the server's limit).
pub const MAX_NOTE_CHARS: usize = metron_core::timesheet::MAX_NOTE_CHARS;

pub struct TrackerConfig {
    pub data_dir: PathBuf,
    pub engine: EngineConfig,
    pub sensors: Sensors,
    pub clock: Box<dyn Clock>,
}

/// Everything the employee's window shows, as one value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackerView {
    pub tracking: Option<Tracking>,
    pub today: Today,
    /// Today's latest intervals, oldest first, the open one last.
    pub recent: Vec<Bar>,
    pub account: Option<AccountView>,
    pub delivery: DeliveryView,
    pub undelivered: Vec<Undelivered>,
    pub tasks: Vec<Task>,
    /// A newer release the organization announces: the window says where to download it, and
    /// the desktop notifies once per version.
    pub release: Option<Offer>,
    /// Back after an idle or a sleep stop: what to do with the time away waits for an answer.
    pub away: Option<AwayView>,
    /// The latest corrections and manual entries made here, newest first, with their outcome.
    pub requests: Vec<RequestRecord>,
}

/// The question after an idle or a sleep stop, once the person is back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AwayView {
    pub cause: AwayCause,
    pub task_id: String,
    pub task_name: Option<String>,
    /// The end of the last second with input.
    pub left_at: DateTime<Utc>,
    /// Where tracking stopped.
    pub stopped_at: DateTime<Utc>,
    /// The first input after the stop.
    pub back_at: DateTime<Utc>,
    /// From `left_at` to `back_at`.
    pub away_secs: i64,
    /// The idle seconds tracking counted before it stopped (what "discard" takes out).
    pub tracked_away_secs: i64,
}

/// What to do with the time away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "choice", rename_all = "snake_case")]
pub enum AwayAnswer {
    /// Take the idle seconds out of tracked time and track the same task again (the default).
    Discard,
    /// Count the time away as manual time on `task_id` (the same task or another) with `note`,
    /// and track that task.
    Keep { task_id: String, note: String },
    /// Take the idle seconds out and stay stopped.
    Stop,
}

/// A manual entry the person adds in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ManualEntryInput {
    pub task_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    #[serde(default)]
    pub note: String,
}

impl ManualEntryInput {
    /// The request for it, checked as far as the app can (the server checks the rest: the
    /// policy, overlaps, locked periods); the error says what is wrong.
    pub fn request(&self, now: DateTime<Utc>) -> Result<NewRequest, String> {
        if self.task_id.trim().is_empty() {
            return Err("choose a task".into());
        }
        if self.ended_at <= self.started_at {
            return Err("the end must come after the start".into());
        }
        if self.ended_at > now {
            return Err("manual time can't end in the future".into());
        }
        if self.note.chars().count() > MAX_NOTE_CHARS {
            return Err(format!(
                "the note is longer than {MAX_NOTE_CHARS} characters"
            ));
        }
        Ok(manual_request(
            &self.task_id,
            self.started_at,
            self.ended_at,
            &self.note,
        ))
    }
}

fn manual_request(
    task_id: &str,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    note: &str,
) -> NewRequest {
    NewRequest {
        kind: RequestKind::ManualEntry,
        body: serde_json::json!({
            "task_id": task_id,
            "started_at": started_at,
            "ended_at": ended_at,
            "note": note,
        }),
        after: None,
        at: started_at,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tracking {
    pub task_id: String,
    pub task_name: Option<String>,
    pub session_secs: u64,
    pub interval_secs: u32,
    pub interval_active_pct: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Today {
    /// The local date the totals are for.
    pub date: NaiveDate,
    pub tracked_secs: u64,
    pub active_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bar {
    pub started_at: DateTime<Utc>,
    pub secs: u32,
    pub active_pct: u32,
    pub task_id: String,
    pub open: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountView {
    pub server: String,
    pub email: String,
    pub name: String,
    pub local: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryView {
    /// None when not signed in.
    pub connection: Option<Connection>,
    pub last_error: Option<String>,
    pub unsent: usize,
    pub rejected: usize,
    pub other_devices: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Undelivered {
    pub id: Uuid,
    pub started_at: DateTime<Utc>,
    pub secs: i64,
    pub task_id: String,
    pub status: DeliveryStatus,
    pub reason: Option<String>,
}

/// Something worth a desktop notification (U3).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    StoppedIdle,
    StoppedSleep,
    Rejected {
        count: usize,
        reason: String,
    },
    OtherDevice,
    /// The server refused the token (it expired or was revoked): signed out, with every unsent
    /// interval kept for the next sign-in as the same account.
    SessionExpired,
    /// The first input after an idle or a sleep stop: the view carries the question.
    Back {
        cause: AwayCause,
        away_secs: i64,
        /// The task tracked when tracking stopped.
        task_id: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum TrackerEvent {
    State(Box<TrackerView>),
    Notice(Notice),
}

enum Cmd {
    Start(String),
    Stop,
    Resend(Option<Uuid>),
    AccountChanged,
    Refresh,
    Delivery(DeliveryEvent),
    Privacy(metron_core::PrivacyPolicy),
    Answer(AwayAnswer),
    AddManual(NewRequest),
    Quit,
}

/// The handle: cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct TrackerHandle {
    tx: Sender<Cmd>,
}

impl TrackerHandle {
    fn send(&self, cmd: Cmd) {
        // The thread only ends on Quit; a send after that has nothing left to do.
        let _ = self.tx.send(cmd);
    }

    /// Starts tracking `task_id`, or switches to it.
    pub fn start(&self, task_id: &str) {
        self.send(Cmd::Start(task_id.to_string()));
    }

    pub fn stop(&self) {
        self.send(Cmd::Stop);
    }

    /// Resends one undelivered interval, or all (unsent and rejected), now.
    pub fn resend(&self, id: Option<Uuid>) {
        self.send(Cmd::Resend(id));
    }

    /// The account was signed in or out elsewhere (same store): restart delivery.
    pub fn account_changed(&self) {
        self.send(Cmd::AccountChanged);
    }

    /// E6: a new privacy policy, applied from the next second on.
    pub fn set_privacy(&self, privacy: metron_core::PrivacyPolicy) {
        self.send(Cmd::Privacy(privacy));
    }

    /// Answers the question after an idle or a sleep stop (nothing happens if none waits).
    pub fn answer_away(&self, answer: AwayAnswer) {
        self.send(Cmd::Answer(answer));
    }

    /// Queues a manual entry (checked with [`ManualEntryInput::request`]).
    pub fn add_manual_entry(&self, request: NewRequest) {
        self.send(Cmd::AddManual(request));
    }

    /// Push the state again (e.g. for a window that just opened).
    pub fn refresh(&self) {
        self.send(Cmd::Refresh);
    }
}

/// The running service; `quit` closes the open interval as `quit` and stops both threads.
pub struct TrackerThread {
    handle: TrackerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    /// What a crashed predecessor left open, committed as `recovered` at start.
    pub recovered: Option<metron_core::Interval>,
}

impl TrackerThread {
    /// Takes the data dir (S7: fails if another tracker has it), recovers a crashed session,
    /// and starts the service thread. `on_event` is called on that thread.
    pub fn start(
        config: TrackerConfig,
        on_event: impl Fn(TrackerEvent) + Send + 'static,
    ) -> Result<TrackerThread, AgentError> {
        let owned = OwnedDataDir::open(&config.data_dir, Duration::from_secs(3))?;
        let recovered = owned.recovered.clone();
        let (mut store, lock) = owned.into_parts();
        let device_id = store.device_id()?;
        if account::account(&store)?.is_some_and(|a| a.local) {
            // Local mode's server gets a new port at every start, and the old one may be another
            // user's listener by now: the last start's token is dropped before anything could
            // send it there. The app's local sign-in brings a new one (and the server, seeing the
            // same device sign in, revokes the old one).
            TokenStore::new(&config.data_dir, device_id).delete();
        }
        let engine = Engine::new(config.engine, device_id, Box::new(StdRng::from_os_rng()))?;
        let (tx, rx) = mpsc::channel();
        let handle = TrackerHandle { tx: tx.clone() };
        let data_dir = config.data_dir.clone();
        // Everything that might fail is checked before the thread starts, so the caller hears it.
        let tracker = Tracker::new(engine, store, config.sensors, config.clock)?;
        let thread = std::thread::Builder::new()
            .name("metron-tracker".into())
            .spawn(move || {
                let _lock = lock;
                let mut worker = Worker::new(tracker, data_dir, device_id, tx, Box::new(on_event));
                worker.run(rx);
            })
            .map_err(|source| AgentError::Thread {
                what: "tracker thread",
                source,
            })?;
        Ok(TrackerThread {
            handle,
            thread: Some(thread),
            recovered,
        })
    }

    pub fn handle(&self) -> TrackerHandle {
        self.handle.clone()
    }

    /// Closes the open interval as `quit`, lets the uploader make a last short try, and waits.
    pub fn quit(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(t) = self.thread.take() {
            self.handle.send(Cmd::Quit);
            let _ = t.join();
        }
    }
}

impl Drop for TrackerThread {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Worker {
    tracker: Tracker,
    data_dir: PathBuf,
    device_id: Uuid,
    tx: Sender<Cmd>,
    on_event: Box<dyn Fn(TrackerEvent) + Send>,
    uploader: Option<UploaderThread>,
    /// Today's committed intervals (local day), refreshed when the store changes.
    /// As the corrections made here leave them (an idle tail discarded is not counted).
    today: Vec<metron_core::Interval>,
    today_date: Option<NaiveDate>,
    undelivered: Vec<Undelivered>,
    counts: crate::store::StoreCounts,
    account: Option<account::Account>,
    tasks: Vec<Task>,
    connection: Option<Connection>,
    last_error: Option<String>,
    other_devices: usize,
    release: Option<Offer>,
    last_state: Option<TrackerView>,
    /// The session's intervals since the last input (what an idle stop leaves).
    tail: Tail,
    /// After an idle or a sleep stop: when the person left, and since their first input the
    /// time they came back.
    away: Option<(Away, Option<DateTime<Utc>>)>,
    requests: Vec<RequestRecord>,
}

impl Worker {
    fn new(
        tracker: Tracker,
        data_dir: PathBuf,
        device_id: Uuid,
        tx: Sender<Cmd>,
        on_event: Box<dyn Fn(TrackerEvent) + Send>,
    ) -> Worker {
        let mut w = Worker {
            tracker,
            data_dir,
            device_id,
            tx,
            on_event,
            uploader: None,
            today: Vec::new(),
            today_date: None,
            undelivered: Vec::new(),
            counts: Default::default(),
            account: None,
            tasks: Vec::new(),
            connection: None,
            last_error: None,
            other_devices: 0,
            release: None,
            last_state: None,
            tail: Tail::default(),
            away: None,
            requests: Vec::new(),
        };
        w.restart_uploader();
        w.reload();
        w
    }

    fn run(&mut self, rx: Receiver<Cmd>) {
        let mut next_tick = Instant::now() + Duration::from_secs(1);
        loop {
            let wait = if self.tracker.engine().is_tracking() {
                next_tick.saturating_duration_since(Instant::now())
            } else if self.watching_for_return() {
                Duration::from_secs(1)
            } else {
                // Idle: wake now and then only to notice a new day.
                Duration::from_secs(30)
            };
            let mut events = Vec::new();
            match rx.recv_timeout(wait) {
                Ok(Cmd::Quit) | Err(RecvTimeoutError::Disconnected) => {
                    let events = self.tracker.quit();
                    self.after(events);
                    if let Some(u) = self.uploader.take() {
                        u.stop();
                    }
                    self.reload();
                    self.publish();
                    return;
                }
                Ok(Cmd::Start(task)) => {
                    // Starting while the question waits answers it with the default.
                    self.settle_away(&AwayAnswer::Discard);
                    events = self.start(&task, &mut next_tick);
                }
                Ok(Cmd::Stop) => {
                    self.settle_away(&AwayAnswer::Stop);
                    events = self.tracker.stop();
                }
                Ok(Cmd::Answer(answer)) => {
                    if let Some(task) = self.settle_away(&answer) {
                        events = self.start(&task, &mut next_tick);
                    }
                }
                Ok(Cmd::AddManual(request)) => self.queue(&[request]),
                Ok(Cmd::Resend(id)) => {
                    if let Err(e) = self.tracker.store_mut().mark_for_resend(id) {
                        tracing::error!("resend: {e}");
                    }
                    if let Some(u) = &self.uploader {
                        u.wake.resend();
                    }
                    self.reload();
                }
                Ok(Cmd::AccountChanged) => {
                    self.restart_uploader();
                    self.reload();
                }
                Ok(Cmd::Refresh) => {
                    self.last_state = None;
                    // Someone is looking: what the reviewers decided should be current.
                    if let Some(u) = &self.uploader {
                        u.wake.check_outcomes();
                    }
                }
                Ok(Cmd::Privacy(p)) => self.tracker.engine_mut().set_privacy(p),
                Ok(Cmd::Delivery(event)) => self.on_delivery(event),
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.look_for_return();
            if self.tracker.engine().is_tracking() && Instant::now() >= next_tick {
                events.extend(self.tracker.tick());
                // After a stall, one tick accounts the missed seconds (the engine reads the
                // monotonic clock); no burst of catch-up ticks.
                next_tick = (next_tick + Duration::from_secs(1))
                    .max(Instant::now() + Duration::from_millis(200));
            }
            self.after(events);
            if self.today_date != Some(self.local_today()) {
                self.reload();
            }
            self.publish();
        }
    }

    /// Starts tracking `task` (or switches to it); a new session's seconds start a second on.
    fn start(&mut self, task: &str, next_tick: &mut Instant) -> Vec<Event> {
        if !self.tracker.engine().is_tracking() {
            self.tail.clear();
            *next_tick = Instant::now() + Duration::from_secs(1);
        }
        self.tracker.start(task)
    }

    /// The wall clock in whole seconds, as the server takes manual time.
    fn whole_second_now(&self) -> DateTime<Utc> {
        let now = self.tracker.now().wall;
        DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
    }

    /// Whether tracking stopped while the person was away and they haven't been seen since.
    fn watching_for_return(&self) -> bool {
        matches!(self.away, Some((_, None))) && !self.tracker.engine().is_tracking()
    }

    /// While away, the first input is the person coming back: ask what to do with the time.
    fn look_for_return(&mut self) {
        if !self.watching_for_return() || !self.tracker.take_input().active() {
            return;
        }
        let now = self.whole_second_now();
        if let Some((away, back)) = &mut self.away {
            tracing::info!(left_at = %away.left_at, "back after an idle or a sleep stop");
            *back = Some(now);
            let away_secs = (now - away.left_at).num_seconds().max(0);
            (self.on_event)(TrackerEvent::Notice(Notice::Back {
                cause: away.cause,
                away_secs,
                task_id: away.task_id.clone(),
            }));
        }
    }

    /// Applies `answer` to the time away, if a stop left any: queues the corrections that take
    /// the idle tail out and, to keep it, a manual entry for the stretch. Returns the task to
    /// track now (none for "stop").
    fn settle_away(&mut self, answer: &AwayAnswer) -> Option<String> {
        let (away, back) = self.away.take()?;
        let back = back.unwrap_or_else(|| self.whole_second_now());
        let reason = match answer {
            AwayAnswer::Discard => "away: discarded",
            AwayAnswer::Keep { .. } => "away: kept as manual time",
            AwayAnswer::Stop => "away: discarded, tracking stopped",
        };
        let mut requests: Vec<NewRequest> = away
            .cuts
            .iter()
            .map(|cut| NewRequest {
                kind: RequestKind::Correction,
                body: serde_json::json!({
                    "interval_id": cut.correction.interval_id,
                    "change": cut.correction.change,
                    "reason": reason,
                }),
                after: Some(cut.correction.interval_id),
                at: cut.interval_started_at,
            })
            .collect();
        if let AwayAnswer::Keep { task_id, note } = answer {
            if back > away.left_at {
                requests.push(manual_request(task_id, away.left_at, back, note));
            }
        }
        self.queue(&requests);
        match answer {
            AwayAnswer::Discard => Some(away.task_id),
            AwayAnswer::Keep { task_id, .. } => Some(task_id.clone()),
            AwayAnswer::Stop => None,
        }
    }

    /// Queues requests for the uploader, which sends them after their intervals.
    fn queue(&mut self, requests: &[NewRequest]) {
        if requests.is_empty() {
            return;
        }
        let now = self.tracker.now().wall;
        if let Err(e) = self.tracker.store_mut().queue_requests(requests, now) {
            tracing::error!("cannot queue the corrections and manual time: {e}");
            self.last_error = Some(e.to_string());
        }
        if let Some(u) = &self.uploader {
            u.wake.interval_closed();
        }
        self.reload();
    }

    /// Reacts to the tracker's events: closed intervals go to the uploader, stops notify.
    fn after(&mut self, events: Vec<Event>) {
        let mut closed = false;
        for event in &events {
            match event {
                Event::Closed(interval) => {
                    closed = true;
                    self.tail.push(interval);
                }
                Event::Stopped(StopCause::Idle) => {
                    self.away = self.tail.away(AwayCause::Idle).map(|a| (a, None));
                    tracing::info!(
                        left_at = ?self.away.as_ref().map(|a| a.0.left_at),
                        "tracking stopped for idle; the first input will ask about the time away"
                    );
                    (self.on_event)(TrackerEvent::Notice(Notice::StoppedIdle))
                }
                Event::Stopped(StopCause::Sleep) => {
                    self.away = self.tail.away(AwayCause::Sleep).map(|a| (a, None));
                    (self.on_event)(TrackerEvent::Notice(Notice::StoppedSleep))
                }
                _ => {}
            }
        }
        if closed {
            if let Some(u) = &self.uploader {
                u.wake.interval_closed();
            }
            self.reload();
        }
    }

    fn on_delivery(&mut self, event: DeliveryEvent) {
        match event {
            DeliveryEvent::Connection { state, error } => {
                self.connection = Some(state);
                if error.is_some() {
                    self.last_error = error;
                }
            }
            DeliveryEvent::Delivered { .. } => self.reload(),
            DeliveryEvent::Rejected(items) => {
                let reason = items.first().map(|(_, r)| r.clone()).unwrap_or_default();
                (self.on_event)(TrackerEvent::Notice(Notice::Rejected {
                    count: items.len(),
                    reason,
                }));
                self.reload();
            }
            DeliveryEvent::OtherDevices(devices) => {
                if !devices.is_empty() && self.other_devices == 0 {
                    (self.on_event)(TrackerEvent::Notice(Notice::OtherDevice));
                }
                self.other_devices = devices.len();
            }
            DeliveryEvent::TasksRefreshed(tasks) => self.tasks = tasks,
            DeliveryEvent::SessionExpired => {
                (self.on_event)(TrackerEvent::Notice(Notice::SessionExpired))
            }
            // In the view: the desktop tells its person once per version (metron-tray).
            DeliveryEvent::ClientVersion(offer) => self.release = offer,
            DeliveryEvent::RequestsChanged => self.reload(),
        }
    }

    /// Whether this start's local sign-in happened (it saved a token; the last start's was
    /// deleted at start).
    fn local_signed_in(&self) -> bool {
        TokenStore::new(&self.data_dir, self.device_id)
            .load()
            .is_some()
    }

    fn restart_uploader(&mut self) {
        if let Some(u) = self.uploader.take() {
            u.stop();
        }
        self.connection = None;
        self.last_error = None;
        self.other_devices = 0;
        let store = self.tracker.store();
        // What this account's server announced before (a sign-in forgot it).
        self.release = client_version::offer(store);
        let Ok(Some(acct)) = account::account(store) else {
            return;
        };
        if acct.local && !self.local_signed_in() {
            // Until the app signs in to its local server of this start, there is nowhere to go.
            return;
        }
        let started = (|| -> Result<UploaderThread, AgentError> {
            let mut own = Store::open(store.path())?;
            let tokens = TokenStore::new(&self.data_dir, own.device_id()?);
            let tx = self.tx.clone();
            let uploader =
                Uploader::new(own, acct.client(crate::delivery::REQUEST_TIMEOUT)?, tokens)?
                    .on_event(move |e| {
                        let _ = tx.send(Cmd::Delivery(e));
                    });
            Ok(UploaderThread::spawn(uploader))
        })();
        match started {
            Ok(u) => {
                self.connection = Some(Connection::Offline);
                self.uploader = Some(u);
            }
            Err(e) => {
                tracing::error!("cannot start delivery: {e}");
                self.last_error = Some(e.to_string());
            }
        }
    }

    fn local_today(&self) -> NaiveDate {
        let now = self.tracker.now();
        (now.wall + Secs::minutes(now.utc_offset_minutes as i64)).date_naive()
    }

    /// Re-reads what the store knows: today's intervals, the undelivered list, counts, account.
    fn reload(&mut self) {
        let now = self.tracker.now();
        let today = self.local_today();
        let midnight_utc = today
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            - Secs::minutes(now.utc_offset_minutes as i64);
        let store = self.tracker.store();
        let result = (|| -> Result<(), crate::store::StoreError> {
            let intervals = store.intervals_since(midnight_utc)?;
            self.today = metron_core::timesheet::apply(
                intervals.into_iter().map(|s| s.interval).collect(),
                &store.corrections_in_force()?,
            );
            self.counts = store.counts()?;
            let all = store.intervals(true)?;
            self.undelivered = all
                .iter()
                .rev()
                .take(UNDELIVERED_SHOWN)
                .map(|s| Undelivered {
                    id: s.interval.id,
                    started_at: s.interval.started_at,
                    secs: s.interval.duration_secs(),
                    task_id: s.interval.task_id.clone(),
                    status: s.status,
                    reason: s.reason.clone(),
                })
                .collect();
            self.account = account::account(store)?;
            self.requests = store.requests(REQUESTS_SHOWN)?;
            self.tasks = account::tasks(store)?.tasks;
            Ok(())
        })();
        if let Err(e) = result {
            tracing::error!("cannot read the store: {e}");
            self.last_error = Some(e.to_string());
        }
        self.today_date = Some(today);
    }

    fn state(&self) -> TrackerView {
        let progress = self.tracker.engine().progress();
        let open = self.tracker.engine().snapshot();
        let mut tracked: u64 = self
            .today
            .iter()
            .map(|i| i.duration_secs().max(0) as u64)
            .sum();
        let mut active: u64 = self.today.iter().map(|i| i.active_secs() as u64).sum();
        // Runs every second: only the last bars are built, not one per interval of the day.
        let closed_bars = RECENT_BARS - usize::from(open.is_some());
        let mut recent: Vec<Bar> = self.today[self.today.len().saturating_sub(closed_bars)..]
            .iter()
            .map(|i| bar(i, false))
            .collect();
        if let Some(open) = &open {
            tracked += open.duration_secs().max(0) as u64;
            active += open.active_secs() as u64;
            recent.push(bar(open, true));
        }
        let task_name = |id: &str| {
            self.tasks
                .iter()
                .find(|t| t.id == id)
                .map(|t| t.name.clone())
        };
        TrackerView {
            tracking: progress.map(|p| Tracking {
                task_name: task_name(&p.task_id),
                interval_active_pct: p.interval_active_secs * 100 / p.interval_secs.max(1),
                task_id: p.task_id,
                session_secs: p.session_secs,
                interval_secs: p.interval_secs,
            }),
            today: Today {
                date: self.today_date.unwrap_or_else(|| self.local_today()),
                tracked_secs: tracked,
                active_secs: active,
            },
            recent,
            account: self.account.as_ref().map(|a| AccountView {
                server: a.server.clone(),
                email: a.user.email.clone(),
                name: a.user.name.clone(),
                local: a.local,
            }),
            delivery: DeliveryView {
                connection: self.account.as_ref().and(self.connection),
                last_error: self.last_error.clone(),
                unsent: self.counts.unsent,
                rejected: self.counts.rejected,
                other_devices: self.other_devices,
            },
            undelivered: self.undelivered.clone(),
            tasks: self.tasks.clone(),
            release: self.release.clone(),
            away: match &self.away {
                Some((away, Some(back))) => Some(AwayView {
                    cause: away.cause,
                    task_name: task_name(&away.task_id),
                    task_id: away.task_id.clone(),
                    left_at: away.left_at,
                    stopped_at: away.stopped_at,
                    back_at: *back,
                    away_secs: (*back - away.left_at).num_seconds().max(0),
                    tracked_away_secs: away.tracked_away_secs(),
                }),
                _ => None,
            },
            requests: self.requests.clone(),
        }
    }

    fn publish(&mut self) {
        let state = self.state();
        if self.last_state.as_ref() != Some(&state) {
            (self.on_event)(TrackerEvent::State(Box::new(state.clone())));
            self.last_state = Some(state);
        }
    }
}

fn bar(i: &metron_core::Interval, open: bool) -> Bar {
    let secs = i.duration_secs().max(0) as u32;
    Bar {
        started_at: i.started_at,
        secs,
        active_pct: i.active_secs() * 100 / secs.max(1),
        task_id: i.task_id.clone(),
        open,
    }
}
