//! The main thread's event loop, which the tray icon needs on every OS: GTK's main loop on
//! Linux ([`gtk`]), a Win32 message loop (or Cocoa's run loop) through tao elsewhere
//! ([`tao`]). The tray's objects live on that thread; other threads hand it work with
//! [`post`]. Each module offers the same five functions, so `gui` is written once.

#[cfg(target_os = "linux")]
mod gtk;
#[cfg(target_os = "linux")]
pub use self::gtk::{init, on_termination, post, quit, run};

#[cfg(not(target_os = "linux"))]
mod tao;
#[cfg(not(target_os = "linux"))]
pub use self::tao::{init, on_termination, post, quit, run};
