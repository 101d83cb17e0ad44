//! Input activity from rdev: X11 RECORD on Linux, low-level keyboard and mouse hooks on
//! Windows, a CGEventTap on macOS.
//!
//! `rdev::listen` blocks forever, can't be stopped and keeps one global callback, so it runs
//! once per process on its own thread, and the callback does nothing but bump atomic counters.
//! rdev hands the callback the typed character in `Event.name`; it is never looked at (E6).

use metron_core::{Counts, Input};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Once;

use super::ActivityProbe;

static KEYS: AtomicU64 = AtomicU64::new(0);
static CLICKS: AtomicU64 = AtomicU64::new(0);
static SCROLLS: AtomicU64 = AtomicU64::new(0);
static MOVES: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicBool = AtomicBool::new(false);
static LISTENER: Once = Once::new();

/// Counts keyboard and mouse events system-wide.
pub struct RdevActivity;

impl RdevActivity {
    /// Starts the listener thread (once per process) and returns a handle to its counts.
    pub fn start() -> RdevActivity {
        LISTENER.call_once(|| {
            let spawned = std::thread::Builder::new().name("metron-input".into()).spawn(|| {
                let result = rdev::listen(|event| {
                    let counter = match event.event_type {
                        rdev::EventType::KeyPress(_) => &KEYS,
                        rdev::EventType::ButtonPress(_) => &CLICKS,
                        rdev::EventType::Wheel { .. } => &SCROLLS,
                        rdev::EventType::MouseMove { .. } => &MOVES,
                        _ => return,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                });
                if let Err(e) = result {
                    FAILED.store(true, Ordering::Relaxed);
                    tracing::warn!("input activity can't be observed ({e:?}); seconds will count as inactive");
                }
            });
            if let Err(e) = spawned {
                FAILED.store(true, Ordering::Relaxed);
                tracing::warn!("could not start the input listener thread: {e}");
            }
        });
        RdevActivity
    }

    /// Whether the listener gave up (no display, no RECORD extension).
    pub fn failed() -> bool {
        FAILED.load(Ordering::Relaxed)
    }
}

impl ActivityProbe for RdevActivity {
    fn take(&mut self) -> Input {
        Input::Counted(Counts {
            keys: KEYS.swap(0, Ordering::Relaxed),
            clicks: CLICKS.swap(0, Ordering::Relaxed),
            scrolls: SCROLLS.swap(0, Ordering::Relaxed),
            moves: MOVES.swap(0, Ordering::Relaxed),
        })
    }
}
