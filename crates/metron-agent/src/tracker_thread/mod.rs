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

mod view;
mod worker;

pub use view::{
    AccountView, AwayAnswer, AwayView, Bar, DeliveryView, ManualEntryInput, Notice, Today,
    TrackerView, Tracking, Undelivered,
};

use metron_core::{Engine, EngineConfig};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::PathBuf;
use std::sync::mpsc::{self, Sender};
use std::time::Duration;
use uuid::Uuid;

use crate::clock::Clock;
use crate::data_dir::OwnedDataDir;
use crate::delivery::{account, DeliveryEvent, TokenStore};
use crate::error::AgentError;
use crate::sensors::Sensors;
use crate::store::NewRequest;
use crate::tracker::Tracker;

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
                let mut worker =
                    worker::Worker::new(tracker, data_dir, device_id, tx, Box::new(on_event));
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
