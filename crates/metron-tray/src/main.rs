//! `metron-tray`: Metron's resident process (tracker, tray, local server). `--hidden` starts
//! it without opening the window (login autostart, or started by a window).

// A tray program: no console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    std::process::exit(metron_tray::gui::run());
}
