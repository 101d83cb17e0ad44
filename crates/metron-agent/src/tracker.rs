//! The tick driver: once a second it reads the sensors, advances the engine, commits closed
//! intervals (S1) and checkpoints the open one (S2).
//!
//! A store error never loses time: an interval that could not be committed (disk full, a lock
//! held by another program) stays in memory and is retried on every tick, and the failure is
//! reported once per kind rather than every second.

use metron_core::{Engine, Event, Interval};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::sensors::Sensors;
use crate::store::{Store, StoreError};

/// S2 asks for a checkpoint at least every 5 s; every 2 s bounds the loss on a crash to 2-3 s
/// at the cost of one tiny write every other second.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);
/// How often the organization's passive limit is read again from the store, where the
/// uploader keeps it (`delivery::org_policy`): a change applies within this much.
pub const POLICY_EVERY: Duration = Duration::from_secs(30);

pub struct Tracker {
    engine: Engine,
    store: Store,
    sensors: Sensors,
    clock: Box<dyn Clock>,
    /// Closed intervals the store refused for now; retried every tick, oldest first.
    uncommitted: Vec<Interval>,
    /// When the checkpoint was last written, and of which interval.
    last_checkpoint: Option<(Duration, uuid::Uuid)>,
    last_error: Option<String>,
    /// The agent's own passive limit (its configuration); the organization's may lower it.
    own_passive_limit: u32,
    policy_read: Option<Instant>,
}

/// The store's meta key holding what the running tracker's sensors read.
pub const SENSORS_META: &str = "sensors";

impl Tracker {
    /// Builds a tracker; the engine's floor is set from the store so a clock set back while
    /// Metron was closed can't make new intervals overlap stored ones (E5).
    pub fn new(
        mut engine: Engine,
        mut store: Store,
        sensors: Sensors,
        clock: Box<dyn Clock>,
    ) -> Result<Tracker, StoreError> {
        if let Some(end) = store.last_ended_at()? {
            engine.set_floor(end);
        }
        // For `status` and the app's settings, which run in other processes or threads.
        store.set_meta(SENSORS_META, &sensors.sources.to_string())?;
        let own_passive_limit = engine.passive_limit();
        Ok(Tracker {
            engine,
            store,
            sensors,
            clock,
            uncommitted: Vec::new(),
            last_checkpoint: None,
            last_error: None,
            own_passive_limit,
            policy_read: None,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The tracker's clock reading now.
    pub fn now(&self) -> metron_core::Now {
        self.clock.now()
    }

    /// Intervals closed but not yet in the store (non-empty only while the store fails).
    pub fn uncommitted(&self) -> &[Interval] {
        &self.uncommitted
    }

    pub fn start(&mut self, task_id: &str) -> Vec<Event> {
        let now = self.clock.now();
        // Input before Start doesn't belong to the session.
        let _ = self.sensors.activity.take();
        let events = self.engine.start(task_id, &now);
        self.persist(events)
    }

    /// The input since the last read, outside a session (to see the person come back).
    pub fn take_input(&mut self) -> metron_core::Input {
        self.sensors.activity.take()
    }

    pub fn stop(&mut self) -> Vec<Event> {
        let now = self.clock.now();
        let events = self.engine.stop(&now);
        self.persist(events)
    }

    pub fn quit(&mut self) -> Vec<Event> {
        let now = self.clock.now();
        let events = self.engine.quit(&now);
        self.persist(events)
    }

    /// One second: sample, advance, persist.
    pub fn tick(&mut self) -> Vec<Event> {
        self.apply_org_policy();
        let sample = self.sensors.sample();
        let now = self.clock.now();
        let events = self.engine.tick(&now, sample);
        self.persist(events)
    }

    /// Applies the organization's passive limit as the uploader last kept it, at most every
    /// [`POLICY_EVERY`] (a read of the store).
    fn apply_org_policy(&mut self) {
        if self.policy_read.is_some_and(|t| t.elapsed() < POLICY_EVERY) {
            return;
        }
        self.policy_read = Some(Instant::now());
        let org = crate::delivery::org_policy::passive_limit(&self.store);
        let limit = crate::delivery::org_policy::effective(self.own_passive_limit, org);
        if limit != self.engine.passive_limit() {
            tracing::info!(limit, "passive limit (the organization's policy applies)");
            self.engine.set_passive_limit(limit);
        }
    }

    fn persist(&mut self, events: Vec<Event>) -> Vec<Event> {
        for event in &events {
            match event {
                Event::Closed(interval) => self.uncommitted.push(interval.clone()),
                Event::FloorIgnored { floor, wall } => tracing::warn!(
                    %floor,
                    %wall,
                    "the last stored interval ends more than 5 minutes after the clock's time now; \
                     stamping from the clock instead (the clock was set back, or it ran ahead before)"
                ),
                _ => {}
            }
        }
        while let Some(interval) = self.uncommitted.first() {
            match self.store.commit(interval) {
                Ok(()) => {
                    self.uncommitted.remove(0);
                }
                Err(e) => {
                    self.report(e);
                    break;
                }
            }
        }
        self.checkpoint();
        events
    }

    fn checkpoint(&mut self) {
        let now = self.clock.now();
        let snapshot = self.engine.snapshot();
        // Due every CHECKPOINT_EVERY, and at once for a new interval: a boundary's commit
        // removed the previous checkpoint, and the new interval should not wait 2 s for its own.
        let due = |open: &Interval| {
            self.last_checkpoint.is_none_or(|(at, id)| {
                id != open.id || now.mono.saturating_sub(at) >= CHECKPOINT_EVERY
            })
        };
        let result = match &snapshot {
            Some(open) if due(open) => self
                .store
                .save_checkpoint(open, now.wall)
                .map(|()| Some((now.mono, open.id))),
            Some(_) => return,
            None if self.last_checkpoint.is_some() && !self.engine.is_tracking() => {
                self.store.clear_checkpoint().map(|()| None)
            }
            None => return,
        };
        match result {
            Ok(state) => self.last_checkpoint = state,
            Err(e) => self.report(e),
        }
    }

    fn report(&mut self, e: StoreError) {
        let text = e.to_string();
        if self.last_error.as_deref() != Some(&text) {
            tracing::error!("{text}");
            self.last_error = Some(text);
        }
    }

    /// Tracks until `stop` is raised (then closes as `quit`) or the engine stops by itself
    /// (idle, sleep). `on_event` sees every event, e.g. to print closed intervals.
    pub fn run(&mut self, stop: &AtomicBool, mut on_event: impl FnMut(&Event)) {
        let origin = Instant::now();
        let mut next = 1u64;
        loop {
            let due = origin + Duration::from_secs(next);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if stop.load(Ordering::Relaxed) {
                self.quit().iter().for_each(&mut on_event);
                break;
            }
            self.tick().iter().for_each(&mut on_event);
            if !self.engine.is_tracking() {
                break;
            }
            // After a stall, don't fire a burst of catch-up ticks: the engine accounts the
            // missed seconds from the monotonic clock.
            next = next.max(origin.elapsed().as_secs()) + 1;
        }
        // Whatever the store refused stays in memory only until here: try hard once more.
        if !self.uncommitted.is_empty() {
            self.persist(Vec::new());
        }
    }
}
