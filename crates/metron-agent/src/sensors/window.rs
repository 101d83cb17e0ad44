//! The foreground window from active-win-pos-rs.
//!
//! It needs an EWMH window manager (on bare X it returns an error), titles can be empty and
//! the pid 0. It also has `unwrap`s on X geometry inside, so calls run under `catch_unwind`:
//! a sensor glitch must cost one unknown second, not the tracker. A read can also fail for a
//! moment while the window manager starts or hands focus over; only a failure that lasts
//! [`WARN_AFTER`] reads is worth a warning (each failed second is recorded 'unknown' either way).

use metron_core::WindowInfo;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::WindowProbe;

/// Failed reads in a row (one a second) before the failure is logged as a warning.
const WARN_AFTER: u32 = 3;

#[derive(Default)]
pub struct ActiveWindowProbe {
    /// Failed reads in a row.
    failures: u32,
}

impl WindowProbe for ActiveWindowProbe {
    fn current(&mut self) -> Option<WindowInfo> {
        let result = catch_unwind(AssertUnwindSafe(active_win_pos_rs::get_active_window));
        match result {
            Ok(Ok(w)) => {
                if self.failures >= WARN_AFTER {
                    tracing::info!("the foreground window is visible again");
                }
                self.failures = 0;
                let path = (!w.process_path.as_os_str().is_empty())
                    .then(|| w.process_path.display().to_string());
                let app = if w.app_name.is_empty() {
                    w.process_path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| WindowInfo::UNKNOWN_APP.into())
                } else {
                    w.app_name
                };
                Some(WindowInfo {
                    app,
                    title: w.title,
                    url: None,
                    path,
                })
            }
            Ok(Err(())) | Err(_) => {
                self.failures = self.failures.saturating_add(1);
                if self.failures == WARN_AFTER {
                    tracing::warn!("the foreground window can't be read (no display or no EWMH window manager?); recording 'unknown'");
                } else if self.failures < WARN_AFTER {
                    tracing::debug!("the foreground window can't be read this second");
                }
                None
            }
        }
    }
}
