//! The Wayland side: binds the idle and toplevel globals and turns their events into
//! [`Observed`] state, on a thread of its own that sleeps until the compositor speaks.
//!
//! Idle, in order of preference: `ext_idle_notifier_v1` (its input-only notification from
//! version 2, which media players' idle inhibitors can't hold back), then `org_kde_kwin_idle`
//! (KWin before 6, wlroots up to 0.16). From version 2 the notification that inhibitors hold
//! back is asked for as well: input-idle but not idle is passive presence. Window: `zwlr_foreign_toplevel_manager_v1` (wlroots
//! compositors: sway, Hyprland, river, labwc...), whose activated toplevel is the window in
//! front. Only the app id and the title are read; the protocol has no process id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use metron_core::WindowInfo;
use wayland_client::backend::ObjectId;
use wayland_client::globals::{registry_queue_init, GlobalListContents};
use wayland_client::protocol::{wl_registry, wl_seat};
use wayland_client::{event_created_child, Connection, Dispatch, EventQueue, Proxy, QueueHandle};
use wayland_protocols::ext::idle_notify::v1::client::{
    ext_idle_notification_v1::{self, ExtIdleNotificationV1},
    ext_idle_notifier_v1::ExtIdleNotifierV1,
};
use wayland_protocols_plasma::idle::client::{
    org_kde_kwin_idle::OrgKdeKwinIdle,
    org_kde_kwin_idle_timeout::{self, OrgKdeKwinIdleTimeout},
};
use wayland_protocols_wlr::foreign_toplevel::v1::client::{
    zwlr_foreign_toplevel_handle_v1::{self, ZwlrForeignToplevelHandleV1},
    zwlr_foreign_toplevel_manager_v1::{self, ZwlrForeignToplevelManagerV1},
};

use super::idle::{IdleTracker, TIMEOUT};
use crate::sensors::lock;

/// What the compositor told us, read by the probes once a second.
#[derive(Debug)]
pub struct Observed {
    pub idle: IdleTracker,
    pub window: Option<WindowInfo>,
    /// False once the connection broke (the compositor quit or dropped us).
    pub connected: bool,
    /// From ext-idle-notify version 2: the seat's idleness as inhibitors see it (`Some(true)`
    /// once the inhibitor-respecting notification said idle). None where only one kind of
    /// notification exists, so passive presence can't be told from it.
    pub idle_respecting_inhibitors: Option<bool>,
    /// When the input-only notification last said idle (no input since a timeout before).
    pub input_idle_since: Option<Instant>,
}

/// Which of ext-idle-notify's two notifications an event is from: input only (version 2:
/// idle inhibitors can't hold it back), or the one inhibitors hold back (a video playing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleKind {
    InputOnly,
    RespectingInhibitors,
}

/// Which sources the compositor offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offered {
    pub idle: Option<&'static str>,
    pub toplevels: Option<&'static str>,
}

pub const EXT_IDLE: &str = "ext-idle-notify-v1";
pub const KWIN_IDLE: &str = "org_kde_kwin_idle";
pub const WLR_TOPLEVELS: &str = "wlr-foreign-toplevel-management";

/// Connects to `$WAYLAND_DISPLAY`, binds what is offered and starts the event thread.
pub fn start(shared: Arc<Mutex<Observed>>) -> Result<Offered, String> {
    let conn = Connection::connect_to_env().map_err(|e| format!("no Wayland connection: {e}"))?;
    let (globals, mut queue): (_, EventQueue<Session>) =
        registry_queue_init(&conn).map_err(|e| format!("the Wayland registry failed: {e}"))?;
    let qh = queue.handle();
    let mut offered = Offered {
        idle: None,
        toplevels: None,
    };
    // The first seat: desktops have one, and idle is per seat.
    let seat: Option<wl_seat::WlSeat> = globals.bind(&qh, 1..=1, ()).ok();
    if let Some(seat) = &seat {
        let ms = TIMEOUT.as_millis() as u32;
        if let Ok(notifier) = globals.bind::<ExtIdleNotifierV1, _, _>(&qh, 1..=2, ()) {
            if notifier.version() >= 2 {
                // Activity from input alone; and the difference from the notification that
                // inhibitors hold back is passive presence (issue 15).
                notifier.get_input_idle_notification(ms, seat, &qh, IdleKind::InputOnly);
                notifier.get_idle_notification(ms, seat, &qh, IdleKind::RespectingInhibitors);
                lock(&shared).idle_respecting_inhibitors = Some(false);
            } else {
                notifier.get_idle_notification(ms, seat, &qh, IdleKind::InputOnly);
            }
            offered.idle = Some(EXT_IDLE);
        } else if let Ok(idle) = globals.bind::<OrgKdeKwinIdle, _, _>(&qh, 1..=1, ()) {
            idle.get_idle_timeout(seat, ms, &qh, ());
            offered.idle = Some(KWIN_IDLE);
        }
    }
    if globals
        .bind::<ZwlrForeignToplevelManagerV1, _, _>(&qh, 1..=3, ())
        .is_ok()
    {
        offered.toplevels = Some(WLR_TOPLEVELS);
    }
    if offered
        == (Offered {
            idle: None,
            toplevels: None,
        })
    {
        return Err("the compositor offers neither idle notifications nor a toplevel list".into());
    }
    let mut session = Session {
        shared,
        toplevels: HashMap::new(),
        front: None,
    };
    // Bind replies and the current toplevels arrive before the thread starts.
    queue
        .roundtrip(&mut session)
        .map_err(|e| format!("the Wayland compositor did not answer: {e}"))?;
    std::thread::Builder::new()
        .name("metron-wayland".into())
        .spawn(move || {
            let _keep = (conn, seat);
            loop {
                if let Err(e) = queue.blocking_dispatch(&mut session) {
                    tracing::warn!("the Wayland connection ended ({e}); activity and windows are unknown from now on");
                    lock(&session.shared).connected = false;
                    return;
                }
            }
        })
        .map_err(|e| format!("could not start the Wayland thread: {e}"))?;
    Ok(offered)
}

/// A toplevel's properties, applied on its `done` event (the protocol's atomic update).
#[derive(Debug, Default)]
struct Toplevel {
    app_id: String,
    title: String,
    activated: bool,
}

struct Session {
    shared: Arc<Mutex<Observed>>,
    toplevels: HashMap<ObjectId, Toplevel>,
    /// The activated toplevel, if any.
    front: Option<ObjectId>,
}

impl Session {
    fn publish(&mut self) {
        let window = self
            .front
            .as_ref()
            .and_then(|id| self.toplevels.get(id))
            .map(|t| WindowInfo {
                app: if t.app_id.is_empty() {
                    WindowInfo::UNKNOWN_APP.into()
                } else {
                    t.app_id.clone()
                },
                title: t.title.clone(),
                url: None,
                path: None,
            });
        lock(&self.shared).window = window;
    }
}

impl Dispatch<wl_registry::WlRegistry, GlobalListContents> for Session {
    fn event(
        _: &mut Self,
        _: &wl_registry::WlRegistry,
        _: wl_registry::Event,
        _: &GlobalListContents,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        // Globals that come later (a second seat, a restarted toplevel manager) are not
        // followed: the sources are chosen at start.
    }
}

impl Dispatch<wl_seat::WlSeat, ()> for Session {
    fn event(
        _: &mut Self,
        _: &wl_seat::WlSeat,
        _: wl_seat::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

impl Dispatch<ExtIdleNotifierV1, ()> for Session {
    fn event(
        _: &mut Self,
        _: &ExtIdleNotifierV1,
        _: <ExtIdleNotifierV1 as Proxy>::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

impl Dispatch<ExtIdleNotificationV1, IdleKind> for Session {
    fn event(
        state: &mut Self,
        _: &ExtIdleNotificationV1,
        event: ext_idle_notification_v1::Event,
        kind: &IdleKind,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        let now = Instant::now();
        let mut observed = lock(&state.shared);
        match (kind, event) {
            (IdleKind::InputOnly, ext_idle_notification_v1::Event::Idled) => {
                observed.idle.idled(now);
                observed.input_idle_since = Some(now);
            }
            (IdleKind::InputOnly, ext_idle_notification_v1::Event::Resumed) => {
                observed.idle.resumed(now);
                observed.input_idle_since = None;
            }
            (IdleKind::RespectingInhibitors, ext_idle_notification_v1::Event::Idled) => {
                observed.idle_respecting_inhibitors = Some(true)
            }
            (IdleKind::RespectingInhibitors, ext_idle_notification_v1::Event::Resumed) => {
                observed.idle_respecting_inhibitors = Some(false)
            }
            _ => {}
        }
    }
}

impl Dispatch<OrgKdeKwinIdle, ()> for Session {
    fn event(
        _: &mut Self,
        _: &OrgKdeKwinIdle,
        _: <OrgKdeKwinIdle as Proxy>::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

impl Dispatch<OrgKdeKwinIdleTimeout, ()> for Session {
    fn event(
        state: &mut Self,
        _: &OrgKdeKwinIdleTimeout,
        event: org_kde_kwin_idle_timeout::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        let now = Instant::now();
        match event {
            org_kde_kwin_idle_timeout::Event::Idle => lock(&state.shared).idle.idled(now),
            org_kde_kwin_idle_timeout::Event::Resumed => lock(&state.shared).idle.resumed(now),
            _ => {}
        }
    }
}

impl Dispatch<ZwlrForeignToplevelManagerV1, ()> for Session {
    fn event(
        state: &mut Self,
        _: &ZwlrForeignToplevelManagerV1,
        event: zwlr_foreign_toplevel_manager_v1::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let zwlr_foreign_toplevel_manager_v1::Event::Toplevel { toplevel } = event {
            state.toplevels.insert(toplevel.id(), Toplevel::default());
        }
    }

    event_created_child!(Session, ZwlrForeignToplevelManagerV1, [
        zwlr_foreign_toplevel_manager_v1::EVT_TOPLEVEL_OPCODE => (ZwlrForeignToplevelHandleV1, ()),
    ]);
}

/// `zwlr_foreign_toplevel_handle_v1.state` value of the focused toplevel.
const ACTIVATED: u32 = 2;

impl Dispatch<ZwlrForeignToplevelHandleV1, ()> for Session {
    fn event(
        state: &mut Self,
        handle: &ZwlrForeignToplevelHandleV1,
        event: zwlr_foreign_toplevel_handle_v1::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        use zwlr_foreign_toplevel_handle_v1::Event;
        let id = handle.id();
        let toplevel = state.toplevels.entry(id.clone()).or_default();
        match event {
            Event::Title { title } => toplevel.title = title,
            Event::AppId { app_id } => toplevel.app_id = app_id,
            Event::State { state: states } => {
                toplevel.activated = states
                    .chunks_exact(4)
                    .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                    .any(|s| s == ACTIVATED);
            }
            Event::Done => {
                if toplevel.activated {
                    state.front = Some(id);
                } else if state.front.as_ref() == Some(&id) {
                    state.front = None;
                }
                state.publish();
            }
            Event::Closed => {
                state.toplevels.remove(&id);
                handle.destroy();
                if state.front.as_ref() == Some(&id) {
                    state.front = None;
                    state.publish();
                }
            }
            _ => {}
        }
    }
}
