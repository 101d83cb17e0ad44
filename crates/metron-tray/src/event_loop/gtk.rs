//! The event loop on Linux: GTK's main loop (tray-icon's libayatana backend runs on it).

/// Opens the display; fails when there is no desktop to show a tray on.
pub fn init() -> Result<(), String> {
    gtk::init().map_err(|e| e.to_string())
}

/// Runs `job` on the main loop's next turn (from any thread).
pub fn post(job: impl FnOnce() + Send + 'static) {
    glib::idle_add_once(job);
}

/// Ends [`run`] (from any thread).
pub fn quit() {
    glib::idle_add_once(gtk::main_quit);
}

/// Calls `handler` on the main loop when SIGTERM, SIGINT or SIGHUP arrives (a session's end
/// or a Ctrl-C), instead of dying with the open interval unsaved.
pub fn on_termination(handler: impl Fn() + Send + Sync + 'static) {
    let handler = std::sync::Arc::new(handler);
    for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        let handler = std::sync::Arc::clone(&handler);
        glib::unix_signal_add(signal, move || {
            handler();
            glib::ControlFlow::Continue
        });
    }
}

/// Runs the main loop until [`quit`].
pub fn run() {
    gtk::main();
}
