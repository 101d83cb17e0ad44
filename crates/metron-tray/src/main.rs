//! `metron-tray`: Metron's resident process (tracker, tray, local server). `--hidden` starts
//! it without opening the window (login autostart, or started by a window).

fn main() {
    std::process::exit(metron_tray::gui::run());
}
