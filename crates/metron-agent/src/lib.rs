//! metron-agent: Metron's tracker without a window.
//!
//! It owns everything between the pure engine (metron-core) and the outside world: the local
//! SQLite store with its checkpoint and retention rules (S1-S3), the single-instance lock (S7),
//! the real sensors behind small traits (rdev for input counts, active-win-pos-rs for the
//! foreground window), the clock, the once-a-second tick driver, delivery to the server (the
//! account, its token in the OS keyring, the uploader with retry), trace replay, and the
//! `metron-agent` command line (U4), and the tracker as a long-lived service for the desktop app.
//!
//! It must not depend on Tauri: the desktop app builds on this crate, and this crate's tests
//! run without GTK or a display.

pub mod browser;
pub mod clock;
pub mod data_dir;
pub mod delivery;
pub mod error;
pub mod lock;
pub mod paths;
pub mod privacy;
pub mod private;
pub mod process;
pub mod replay;
pub mod sensors;
pub mod store;
pub mod tracker;
pub mod tracker_thread;
pub mod whereabouts;

pub use error::AgentError;
