//! Windows' own last-input time (GetLastInputInfo) as a cross-check of rdev's low-level hooks.
//! Windows silently removes a hook that answers too slowly (LowLevelHooksTimeout), and hooks
//! of a normal process don't see input into a window of an elevated one; the system's
//! last-input tick sees both. A second in which Windows saw input and the hooks counted none
//! is recorded active, as one mouse move (the kind of input is unknown; the count is the
//! least that is true).

use metron_core::Counts;
use windows_sys::Win32::UI::Input::KeyboardAndMouse::{GetLastInputInfo, LASTINPUTINFO};

use super::ActivityProbe;

/// The system's tick count at the last input of this session, if Windows answers.
fn last_input_tick() -> Option<u32> {
    let mut info = LASTINPUTINFO {
        cbSize: std::mem::size_of::<LASTINPUTINFO>() as u32,
        dwTime: 0,
    };
    // SAFETY: `info` is a valid LASTINPUTINFO with its size set, as the call requires.
    (unsafe { GetLastInputInfo(&mut info) } != 0).then_some(info.dwTime)
}

/// An activity probe with the last-input cross-check around it.
pub struct CrossChecked<P> {
    hooks: P,
    last_tick: Option<u32>,
}

impl<P: ActivityProbe> CrossChecked<P> {
    pub fn new(hooks: P) -> Self {
        CrossChecked {
            hooks,
            last_tick: last_input_tick(),
        }
    }
}

impl<P: ActivityProbe> ActivityProbe for CrossChecked<P> {
    fn take(&mut self) -> Counts {
        let mut counts = self.hooks.take();
        let tick = last_input_tick();
        if !counts.any() && tick.is_some() && self.last_tick.is_some() && tick != self.last_tick {
            counts.moves = 1;
        }
        self.last_tick = tick.or(self.last_tick);
        counts
    }
}
