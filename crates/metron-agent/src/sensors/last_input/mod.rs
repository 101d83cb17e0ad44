//! The OS's own idle time as a cross-check of rdev's input events, on Windows and macOS.
//!
//! rdev's listeners can miss input the OS saw: Windows silently removes a low-level hook
//! that answers too slowly (LowLevelHooksTimeout), and a normal process's hooks don't see
//! input into an elevated window; on macOS an event tap is disabled after a timeout, or sees
//! nothing until Accessibility is granted. The OS's idle counter (GetLastInputInfo,
//! CGEventSourceSecondsSinceLastEventType) sees every input of the session. A second in
//! which the OS saw input and rdev counted none is recorded active, as one mouse move: the
//! kind of input is unknown, and one event is the least that is true.

use metron_core::{Counts, Input};
use std::time::Instant;

use super::ActivityProbe;

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
use macos as os;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as os;

/// An activity probe with the OS's idle time checked around it.
pub struct CrossChecked<P> {
    events: P,
    last_take: Instant,
}

impl<P: ActivityProbe> CrossChecked<P> {
    pub fn new(events: P) -> Self {
        CrossChecked {
            events,
            last_take: Instant::now(),
        }
    }
}

impl<P: ActivityProbe> ActivityProbe for CrossChecked<P> {
    fn take(&mut self) -> Input {
        let input = self.events.take();
        let since_last_take = self.last_take.elapsed().as_secs_f64();
        self.last_take = Instant::now();
        if !input.active() && os::idle_secs().is_some_and(|idle| idle < since_last_take) {
            return Input::Counted(Counts {
                moves: 1,
                ..Counts::default()
            });
        }
        input
    }
}
