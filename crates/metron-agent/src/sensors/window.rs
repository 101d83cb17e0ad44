//! The foreground window from active-win-pos-rs.
//!
//! It needs an EWMH window manager (on bare X it returns an error), titles can be empty and
//! the pid 0. It also has `unwrap`s on X geometry inside, so calls run under `catch_unwind`:
//! a sensor glitch must cost one unknown second, not the tracker.

use metron_core::WindowInfo;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::WindowProbe;

#[derive(Default)]
pub struct ActiveWindowProbe {
    failing: bool,
}

impl WindowProbe for ActiveWindowProbe {
    fn current(&mut self) -> Option<WindowInfo> {
        let result = catch_unwind(AssertUnwindSafe(active_win_pos_rs::get_active_window));
        match result {
            Ok(Ok(w)) => {
                if self.failing {
                    tracing::info!("the foreground window is visible again");
                    self.failing = false;
                }
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
                if !self.failing {
                    tracing::warn!("the foreground window can't be read (no display or no EWMH window manager?); recording 'unknown'");
                    self.failing = true;
                }
                None
            }
        }
    }
}
