//! The tracker thread's loop: it ticks the tracker once a second while tracking (and reads the
//! input sensor while a stopped person may come back), takes the handle's commands, runs the
//! uploader beside it, keeps the counters, and pushes the view when it changed.

use chrono::{DateTime, Duration as Secs, NaiveDate, Utc};
use metron_core::release::Offer;
use metron_core::timesheet::{Away, AwayCause, Tail};
use metron_core::wire::{NewCorrection, Task};
use metron_core::{Event, StopCause};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::delivery::{
    account, client_version, Connection, DeliveryEvent, TokenStore, Uploader, UploaderThread,
};
use crate::error::AgentError;
use crate::store::{NewRequest, RequestBody, RequestRecord, Store};
use crate::tracker::Tracker;

/// How many of today's intervals the activity bars show.
use super::view::*;
use super::{Cmd, TrackerEvent, RECENT_BARS, REQUESTS_SHOWN, UNDELIVERED_SHOWN};

pub(super) struct Worker {
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
    pub(super) fn new(
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

    pub(super) fn run(&mut self, rx: Receiver<Cmd>) {
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
                body: RequestBody::Correction(NewCorrection {
                    user_id: None,
                    interval_id: cut.correction.interval_id,
                    change: cut.correction.change.clone(),
                    reason: reason.into(),
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
