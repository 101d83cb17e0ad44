//! The real clock behind the engine's `Now`.

use chrono::{Local, Utc};
use metron_core::Now;
use std::time::Instant;

/// Something that tells the time; tests script it, production reads the OS.
pub trait Clock: Send {
    fn now(&self) -> Now;
}

/// Monotonic time from `Instant`, wall time and the local offset from the OS.
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    pub fn new() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Now {
        // The offset is read at every tick so a time-zone or DST change reaches the engine,
        // which stamps it on the next interval (E5).
        let offset_minutes = Local::now().offset().local_minus_utc() / 60;
        Now {
            mono: self.origin.elapsed(),
            wall: Utc::now(),
            utc_offset_minutes: offset_minutes,
        }
    }
}
