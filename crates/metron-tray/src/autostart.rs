//! Start at login (U4), as tauri-plugin-autostart does it (the auto-launch crate): an XDG
//! autostart entry on Linux, the per-user Run key (HKCU) on Windows, a LaunchAgent on macOS.
//! Each starts this binary to the tray (`--hidden`).

/// Turns start-at-login on or off; a failure is logged (the setting stays as chosen).
pub fn apply(on: bool) {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return tracing::warn!("autostart: no path to this program: {e}"),
    };
    let launcher = auto_launch::AutoLaunchBuilder::new()
        .set_app_name("Metron")
        .set_app_path(&exe.display().to_string())
        .set_args(&["--hidden"])
        .set_linux_launch_mode(auto_launch::LinuxLaunchMode::XdgAutostart)
        // No admin rights asked, ever: the user's own Run key.
        .set_windows_enable_mode(auto_launch::WindowsEnableMode::CurrentUser)
        .set_macos_launch_mode(auto_launch::MacOSLaunchMode::LaunchAgent)
        .build();
    let result = launcher.and_then(|l| if on { l.enable() } else { l.disable() });
    if let Err(e) = result {
        tracing::warn!("autostart: {e}");
    }
}
