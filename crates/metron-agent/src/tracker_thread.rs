//! The tracker on a thread of its own, for the desktop app: [`TrackerThread`] owns the data
//! dir's store and the tracker, takes commands (start, stop, resend, account changed, quit)
//! from a [`TrackerHandle`] over a channel, ticks once a second while tracking, runs the
//! uploader beside it, and pushes a [`TrackerView`] whenever what a person would see changes.
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
use crate::store::{DeliveryStatus, Store, StoredInterval};
use crate::tracker::Tracker;
use metron_core::release::Offer;

/// How many of today's intervals the activity bars show.
pub const RECENT_BARS: usize = 12;
/// How many undelivered intervals the list carries (the counts are always complete).
pub const UNDELIVERED_SHOWN: usize = 200;

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
    today: Vec<StoredInterval>,
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
                    let was_tracking = self.tracker.engine().is_tracking();
                    events = self.tracker.start(&task);
                    if !was_tracking {
                        next_tick = Instant::now() + Duration::from_secs(1);
                    }
                }
                Ok(Cmd::Stop) => events = self.tracker.stop(),
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
                Ok(Cmd::Refresh) => self.last_state = None,
                Ok(Cmd::Privacy(p)) => self.tracker.engine_mut().set_privacy(p),
                Ok(Cmd::Delivery(event)) => self.on_delivery(event),
                Err(RecvTimeoutError::Timeout) => {}
            }
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

    /// Reacts to the tracker's events: closed intervals go to the uploader, stops notify.
    fn after(&mut self, events: Vec<Event>) {
        let mut closed = false;
        for event in &events {
            match event {
                Event::Closed(_) => closed = true,
                Event::Stopped(StopCause::Idle) => {
                    (self.on_event)(TrackerEvent::Notice(Notice::StoppedIdle))
                }
                Event::Stopped(StopCause::Sleep) => {
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
            self.today = store.intervals_since(midnight_utc)?;
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
            .map(|s| s.interval.duration_secs().max(0) as u64)
            .sum();
        let mut active: u64 = self
            .today
            .iter()
            .map(|s| s.interval.active_secs() as u64)
            .sum();
        // Runs every second: only the last bars are built, not one per interval of the day.
        let closed_bars = RECENT_BARS - usize::from(open.is_some());
        let mut recent: Vec<Bar> = self.today[self.today.len().saturating_sub(closed_bars)..]
            .iter()
            .map(|s| bar(&s.interval, false))
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
