//! The tray icon (U2): its picture says idle, tracking, or offline with a backlog; its menu
//! shows the current task and offers Start/Stop, Show window, Resend unsent and Quit.
//! Linux sends no clicks on the icon itself, so everything is in the menu.

use metron_agent::service::AgentState;
use std::sync::Mutex;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use crate::desktop::{lock, tray_state, Desktop};

pub const TRAY_ID: &str = "main";

/// The menu items whose text or state changes, and what they last showed.
pub struct TrayItems<R: Runtime> {
    current: MenuItem<R>,
    toggle: MenuItem<R>,
    show: MenuItem<R>,
    resend: MenuItem<R>,
    quit: MenuItem<R>,
    shown: Mutex<Shown>,
}

#[derive(Default, Clone, PartialEq)]
struct Shown {
    icon: &'static str,
    /// (tracking task name, last task id to start, anything to resend)
    menu: Option<(Option<String>, Option<String>, bool)>,
}

fn icon(state: &str) -> Image<'static> {
    let bytes: &'static [u8] = match state {
        "tracking" => include_bytes!("../icons/tray-tracking.png"),
        "offline" => include_bytes!("../icons/tray-offline.png"),
        _ => include_bytes!("../icons/tray-idle.png"),
    };
    Image::from_bytes(bytes).expect("the tray icons are valid PNGs")
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

fn labels<R: Runtime>(app: &AppHandle<R>) -> Labels {
    if crate::is_russian(&lock(&app.state::<Desktop>().settings).language) {
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

/// Creates the tray icon and its menu.
pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let l = labels(app);
    let current = MenuItem::with_id(app, "current", l.not_tracking, false, None::<&str>)?;
    let toggle = MenuItem::with_id(app, "toggle", l.start, false, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", l.show, true, None::<&str>)?;
    let resend = MenuItem::with_id(app, "resend", l.resend, false, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", l.quit, true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[&current, &PredefinedMenuItem::separator(app)?, &toggle, &show, &resend, &PredefinedMenuItem::separator(app)?, &quit],
    )?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon("idle"))
        .tooltip("Metron")
        .menu(&menu)
        .on_menu_event(|app, event| on_menu(app, event.id.as_ref()))
        .build(app)?;
    app.manage(TrayItems { current, toggle, show, resend, quit, shown: Mutex::new(Shown::default()) });
    if let Some(state) = lock(&app.state::<Desktop>().latest).clone() {
        update(app, &state);
    }
    Ok(())
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, id: &str) {
    let desktop = app.state::<Desktop>();
    match id {
        "toggle" => {
            let Ok(handle) = desktop.handle() else { return };
            let latest = lock(&desktop.latest).clone();
            match latest.as_ref().and_then(|s| s.tracking.as_ref()) {
                Some(_) => handle.stop(),
                None => {
                    if let Some(task) = last_task(app) {
                        handle.start(&task);
                    }
                }
            }
        }
        "show" => crate::show_window(app),
        "resend" => {
            if let Ok(h) = desktop.handle() {
                h.resend(None);
            }
        }
        "quit" => app.exit(0),
        _ => {}
    }
}

/// The task to start from the tray: the one tracked last, else the first of the list.
fn last_task<R: Runtime>(app: &AppHandle<R>) -> Option<String> {
    let items = app.try_state::<TrayItems<R>>()?;
    let shown = lock(&items.shown).clone();
    shown.menu.and_then(|(_, last, _)| last)
}

/// Follows the service's state: the icon, the current task, what Start would start.
pub fn update<R: Runtime>(app: &AppHandle<R>, state: &AgentState) {
    let Some(items) = app.try_state::<TrayItems<R>>() else { return };
    let mut shown = lock(&items.shown);
    let wanted_icon = tray_state(state);
    if shown.icon != wanted_icon {
        if let Some(tray) = app.tray_by_id(TRAY_ID) {
            let _ = tray.set_icon(Some(icon(wanted_icon)));
        }
        shown.icon = wanted_icon;
    }
    let tracking = state.tracking.as_ref().map(|t| t.task_name.clone().unwrap_or_else(|| t.task_id.clone()));
    let last = state
        .tracking
        .as_ref()
        .map(|t| t.task_id.clone())
        .or_else(|| shown.menu.as_ref().and_then(|m| m.1.clone()))
        .or_else(|| state.recent.last().map(|b| b.task_id.clone()))
        .or_else(|| state.tasks.first().map(|t| t.id.clone()));
    let menu = (tracking, last, state.delivery.unsent + state.delivery.rejected > 0);
    // Menu changes cross D-Bus on Linux: only when something shown changes, not every second.
    if shown.menu.as_ref() != Some(&menu) {
        shown.menu = Some(menu);
        drop(shown);
        relabel(app);
    }
}

/// Writes the menu's texts (after a state change or a language change).
pub fn relabel<R: Runtime>(app: &AppHandle<R>) {
    let Some(items) = app.try_state::<TrayItems<R>>() else { return };
    let l = labels(app);
    let (tracking, last, resendable) = lock(&items.shown).menu.clone().unwrap_or_default();
    let current = match &tracking {
        Some(name) => format!("{}: {name}", l.tracking),
        None => l.not_tracking.to_string(),
    };
    let _ = items.current.set_text(current);
    let _ = items.toggle.set_text(if tracking.is_some() { l.stop } else { l.start });
    let _ = items.toggle.set_enabled(tracking.is_some() || last.is_some());
    let _ = items.resend.set_enabled(resendable);
    let _ = items.show.set_text(l.show);
    let _ = items.resend.set_text(l.resend);
    let _ = items.quit.set_text(l.quit);
}
