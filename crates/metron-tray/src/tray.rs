//! The tray icon (U2): its picture says idle, tracking, or offline with a backlog; its menu
//! shows the current task and offers Start/Stop, Show window, Resend unsent and Quit.
//! Linux sends no clicks on the icon itself, so everything is in the menu (on every OS, so
//! they all work alike).
//!
//! The tray's objects live on the main thread only (GTK's and Win32's rules alike): the tray
//! sits in a thread-local there, and other threads post their updates to the event loop
//! ([`post_update`]).

use metron_agent::tracker_thread::TrackerView;
use std::cell::RefCell;
use std::sync::Arc;
use tray_icon::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};

use crate::resident::{tray_state, Resident};
use crate::settings::Speaks;

struct Tray {
    icon: TrayIcon,
    current: MenuItem,
    toggle: MenuItem,
    show: MenuItem,
    resend: MenuItem,
    quit: MenuItem,
    shown: Shown,
}

/// What the tray shows now, so only changes cross D-Bus (not one update a second).
#[derive(Default, Clone, PartialEq)]
struct Shown {
    icon: &'static str,
    /// (tracking task name, something to start, anything to resend, language)
    menu: Option<(Option<String>, bool, bool, Speaks)>,
}

thread_local! {
    static TRAY: RefCell<Option<Tray>> = const { RefCell::new(None) };
}

fn icon(state: &str) -> Icon {
    let bytes: &'static [u8] = match state {
        "tracking" => include_bytes!("../../../icons/tray-tracking.png"),
        "offline" => include_bytes!("../../../icons/tray-offline.png"),
        _ => include_bytes!("../../../icons/tray-idle.png"),
    };
    let (rgba, width, height) = decode_rgba(bytes).expect("the tray icons are 8-bit RGBA PNGs");
    Icon::from_rgba(rgba, width, height).expect("the tray icons have a valid size")
}

/// The pixels of an 8-bit RGBA PNG.
fn decode_rgba(bytes: &[u8]) -> Result<(Vec<u8>, u32, u32), String> {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0; reader.output_buffer_size().ok_or("too large")?];
    let info = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    if info.color_type != png::ColorType::Rgba || info.bit_depth != png::BitDepth::Eight {
        return Err(format!(
            "{:?} {:?}, not 8-bit RGBA",
            info.color_type, info.bit_depth
        ));
    }
    buf.truncate(info.buffer_size());
    Ok((buf, info.width, info.height))
}

struct Labels {
    not_tracking: &'static str,
    tracking: &'static str,
    start: &'static str,
    stop: &'static str,
    show: &'static str,
    resend: &'static str,
    quit: &'static str,
}

fn labels(speaks: Speaks) -> Labels {
    if speaks == Speaks::Russian {
        Labels {
            not_tracking: "Учёт не идёт",
            tracking: "Учёт",
            start: "Начать",
            stop: "Остановить",
            show: "Показать окно",
            resend: "Отправить неотправленное",
            quit: "Выйти",
        }
    } else {
        Labels {
            not_tracking: "Not tracking",
            tracking: "Tracking",
            start: "Start",
            stop: "Stop",
            show: "Show window",
            resend: "Resend unsent",
            quit: "Quit",
        }
    }
}

/// Creates the tray icon and its menu (on the main thread, after `event_loop::init`).
pub fn create(core: &Arc<Resident>) -> Result<(), String> {
    let l = labels(core.speaks());
    let current = MenuItem::with_id("current", l.not_tracking, false, None);
    let toggle = MenuItem::with_id("toggle", l.start, false, None);
    let show = MenuItem::with_id("show", l.show, true, None);
    let resend = MenuItem::with_id("resend", l.resend, false, None);
    let quit = MenuItem::with_id("quit", l.quit, true, None);
    let menu = Menu::with_items(&[
        &current,
        &PredefinedMenuItem::separator(),
        &toggle,
        &show,
        &resend,
        &PredefinedMenuItem::separator(),
        &quit,
    ])
    .map_err(|e| e.to_string())?;
    let icon = TrayIconBuilder::new()
        .with_icon(icon("idle"))
        .with_tooltip("Metron")
        // libayatana reads the picture from a file: one dir per process, so two users (or two
        // test runs) never overwrite each other's icons.
        .with_temp_dir_path(
            std::env::temp_dir().join(format!("metron-tray-{}", std::process::id())),
        )
        .with_menu(Box::new(menu))
        .build()
        .map_err(|e| e.to_string())?;
    let handler_core = Arc::downgrade(core);
    MenuEvent::set_event_handler(Some(move |event: MenuEvent| {
        let Some(core) = handler_core.upgrade() else {
            return;
        };
        match event.id.as_ref() {
            "toggle" => core.toggle(),
            "show" => core.show_window(),
            "resend" => core.resend_all(),
            "quit" => core.request_quit(),
            _ => {}
        }
    }));
    TRAY.with(|t| {
        *t.borrow_mut() = Some(Tray {
            icon,
            current,
            toggle,
            show,
            resend,
            quit,
            shown: Shown::default(),
        })
    });
    if let Some(state) = core.latest() {
        update(&state, core.last_task().is_some(), core.speaks());
    }
    Ok(())
}

/// From any thread: the tray follows `state` on the main loop's next turn.
pub fn post_update(state: TrackerView, can_start: bool, speaks: Speaks) {
    crate::event_loop::post(move || update(&state, can_start, speaks));
}

/// Follows the service's state: the icon, the current task, the menu's language.
fn update(state: &TrackerView, can_start: bool, speaks: Speaks) {
    TRAY.with(|t| {
        let mut t = t.borrow_mut();
        let Some(tray) = t.as_mut() else { return };
        let wanted_icon = tray_state(state);
        if tray.shown.icon != wanted_icon {
            let _ = tray.icon.set_icon(Some(icon(wanted_icon)));
            tray.shown.icon = wanted_icon;
        }
        let tracking = state
            .tracking
            .as_ref()
            .map(|t| t.task_name.clone().unwrap_or_else(|| t.task_id.clone()));
        let menu = (
            tracking,
            can_start,
            state.delivery.unsent + state.delivery.rejected > 0,
            speaks,
        );
        if tray.shown.menu.as_ref() == Some(&menu) {
            return;
        }
        let l = labels(speaks);
        let current = match &menu.0 {
            Some(name) => format!("{}: {name}", l.tracking),
            None => l.not_tracking.to_string(),
        };
        tray.current.set_text(current);
        tray.toggle
            .set_text(if menu.0.is_some() { l.stop } else { l.start });
        tray.toggle.set_enabled(menu.0.is_some() || can_start);
        tray.resend.set_enabled(menu.2);
        tray.show.set_text(l.show);
        tray.resend.set_text(l.resend);
        tray.quit.set_text(l.quit);
        tray.shown.menu = Some(menu);
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tray_icons_decode_to_32_by_32_rgba() {
        for bytes in [
            &include_bytes!("../../../icons/tray-idle.png")[..],
            include_bytes!("../../../icons/tray-tracking.png"),
            include_bytes!("../../../icons/tray-offline.png"),
        ] {
            let (rgba, w, h) = super::decode_rgba(bytes).unwrap();
            assert_eq!((w, h, rgba.len()), (32, 32, 32 * 32 * 4));
        }
    }
}
