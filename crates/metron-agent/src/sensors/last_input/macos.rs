//! macOS: the session's idle time from Quartz Event Services
//! (`CGEventSourceSecondsSinceLastEventType`, documented in Apple's CoreGraphics reference).
//! Compile-checked on Linux only; see docs/WINDOWS.md.

/// `kCGEventSourceStateCombinedSessionState`: every source of the login session.
const COMBINED_SESSION_STATE: i32 = 0;
/// `kCGAnyInputEventType`: keyboard, mouse and tablet events alike.
const ANY_INPUT_EVENT_TYPE: u32 = !0;

#[link(name = "CoreGraphics", kind = "framework")]
extern "C" {
    fn CGEventSourceSecondsSinceLastEventType(state: i32, event_type: u32) -> f64;
}

/// Seconds since the session's last keyboard or mouse input.
pub fn idle_secs() -> Option<f64> {
    // SAFETY: a pure query of two constants Apple documents for it.
    let secs = unsafe {
        CGEventSourceSecondsSinceLastEventType(COMBINED_SESSION_STATE, ANY_INPUT_EVENT_TYPE)
    };
    secs.is_finite().then_some(secs)
}
