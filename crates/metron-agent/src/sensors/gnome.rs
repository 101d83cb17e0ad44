//! GNOME on Wayland: activity from mutter's idle monitor on the session bus.
//!
//! Mutter (GNOME 43 to at least 47) offers neither Wayland idle protocol to clients, but its
//! `org.gnome.Mutter.IdleMonitor` object answers `GetIdletime`: the milliseconds since the
//! last input of the session. One call a tick turns it into E1's flags (see `idle_time.rs`).

use std::time::Duration;

use dbus::blocking::Connection;

use super::idle_time::IdleTime;

pub const MUTTER_IDLE: &str = "org.gnome.Mutter.IdleMonitor";
const PATH: &str = "/org/gnome/Mutter/IdleMonitor/Core";
/// A hung compositor must not hold the tick up.
const CALL_TIMEOUT: Duration = Duration::from_millis(300);

/// The idle time of the GNOME session this process runs in.
pub struct MutterIdle {
    conn: Connection,
    failing: bool,
}

impl MutterIdle {
    /// Connects to the session bus and checks that mutter answers.
    pub fn connect() -> Result<MutterIdle, String> {
        let conn = Connection::new_session().map_err(|e| format!("no session bus: {e}"))?;
        let mut probe = MutterIdle {
            conn,
            failing: false,
        };
        probe
            .read()
            .map_err(|e| format!("{MUTTER_IDLE} does not answer: {e}"))?;
        Ok(probe)
    }

    fn read(&mut self) -> Result<Duration, dbus::Error> {
        let proxy = self.conn.with_proxy(MUTTER_IDLE, PATH, CALL_TIMEOUT);
        let (ms,): (u64,) = proxy.method_call(MUTTER_IDLE, "GetIdletime", ())?;
        Ok(Duration::from_millis(ms))
    }
}

impl IdleTime for MutterIdle {
    fn idle(&mut self) -> Option<Duration> {
        match self.read() {
            Ok(idle) => {
                if self.failing {
                    tracing::info!("{MUTTER_IDLE} answers again");
                    self.failing = false;
                }
                Some(idle)
            }
            Err(e) => {
                if !self.failing {
                    tracing::warn!(
                        "{MUTTER_IDLE} failed ({e}); seconds count as inactive until it answers"
                    );
                    self.failing = true;
                }
                None
            }
        }
    }
}
