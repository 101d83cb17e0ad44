//! Input activity from XInput 2 raw events (X11), told apart by where it came from.
//!
//! Each raw event names its source: the slave device that produced it. The X server gives
//! every master device an XTEST slave (`Virtual core XTEST pointer`, `Virtual core XTEST
//! keyboard`) through which the XTEST extension injects input; xdotool, most mouse jigglers
//! and remote-control tools use it. Input from an XTEST device is *injected*, input from any
//! other slave (a keyboard, a touchpad, a USB mouse) is *hardware*. The device list is read at
//! start and again whenever the server reports a hierarchy change (a device plugged in).
//!
//! Raw events carry key codes and button numbers; only their kind is counted (E6). The
//! listener runs on its own thread with its own connection and bumps atomic counters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use metron_core::events::Origin;
use metron_core::{Counts, Input};
use x11rb::connection::Connection;
use x11rb::protocol::xinput::{self, ConnectionExt as _};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

use super::ActivityProbe;

/// The name of this source in `metron-agent status` and the app's settings.
pub const XINPUT2: &str = "XInput 2 raw events";

/// A device as the X server lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: u16,
    pub name: String,
    /// Master devices produce no raw events of their own; only slaves are sources.
    pub master: bool,
}

/// Where each slave device's input comes from: XTEST devices inject, the rest are hardware.
pub fn origins(devices: &[Device]) -> HashMap<u16, Origin> {
    devices
        .iter()
        .filter(|d| !d.master)
        .map(|d| {
            let origin = if d.name.contains("XTEST") {
                Origin::Injected
            } else {
                Origin::Hardware
            };
            (d.id, origin)
        })
        .collect()
}

#[derive(Default)]
struct Counters {
    keys: AtomicU64,
    clicks: AtomicU64,
    scrolls: AtomicU64,
    moves: AtomicU64,
}

impl Counters {
    fn take(&self) -> Counts {
        Counts {
            keys: self.keys.swap(0, Ordering::Relaxed),
            clicks: self.clicks.swap(0, Ordering::Relaxed),
            scrolls: self.scrolls.swap(0, Ordering::Relaxed),
            moves: self.moves.swap(0, Ordering::Relaxed),
        }
    }
}

#[derive(Default)]
struct Shared {
    hardware: Counters,
    injected: Counters,
    origins: Mutex<HashMap<u16, Origin>>,
    stopped: AtomicBool,
}

impl Shared {
    /// The counters of a source device; an unknown one (the list is being re-read) counts as
    /// hardware, the origin that claims nothing about a program.
    fn counters(&self, source: u16) -> &Counters {
        let origins = super::lock(&self.origins);
        match origins.get(&source) {
            Some(Origin::Injected) => &self.injected,
            _ => &self.hardware,
        }
    }
}

/// Counts keyboard and mouse events by origin through XInput 2.2 raw events.
pub struct XInputActivity {
    shared: Arc<Shared>,
}

impl XInputActivity {
    /// Connects to `$DISPLAY` and starts listening; an error when the server lacks XInput 2.2
    /// (the caller then falls back to RECORD, which can't tell origins).
    pub fn start() -> Result<Self, String> {
        let (conn, screen) = x11rb::connect(None).map_err(|e| format!("no X display: {e}"))?;
        let version = conn
            .xinput_xi_query_version(2, 2)
            .map_err(|e| e.to_string())?
            .reply()
            .map_err(|e| format!("no XInput extension: {e}"))?;
        if (version.major_version, version.minor_version) < (2, 2) {
            return Err(format!(
                "XInput {}.{} (2.2 needed)",
                version.major_version, version.minor_version
            ));
        }
        let root = conn.setup().roots[screen].root;
        let raw = xinput::XIEventMask::RAW_KEY_PRESS
            | xinput::XIEventMask::RAW_BUTTON_PRESS
            | xinput::XIEventMask::RAW_MOTION;
        conn.xinput_xi_select_events(
            root,
            &[
                xinput::EventMask {
                    deviceid: xinput::Device::ALL_MASTER.into(),
                    mask: vec![raw],
                },
                xinput::EventMask {
                    deviceid: xinput::Device::ALL.into(),
                    mask: vec![xinput::XIEventMask::HIERARCHY],
                },
            ],
        )
        .map_err(|e| e.to_string())?
        .check()
        .map_err(|e| format!("selecting raw events: {e}"))?;
        let shared = Arc::new(Shared::default());
        *super::lock(&shared.origins) = origins(&list_devices(&conn)?);
        let listener = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("metron-xinput".into())
            .spawn(move || listen(conn, &listener))
            .map_err(|e| format!("cannot start the listener thread: {e}"))?;
        Ok(XInputActivity { shared })
    }
}

impl Drop for XInputActivity {
    fn drop(&mut self) {
        // The thread notices at its next event; it holds nothing but its connection.
        self.shared.stopped.store(true, Ordering::Relaxed);
    }
}

impl ActivityProbe for XInputActivity {
    fn take(&mut self) -> Input {
        Input::Split {
            hardware: self.shared.hardware.take(),
            injected: self.shared.injected.take(),
        }
    }
}

fn list_devices(conn: &RustConnection) -> Result<Vec<Device>, String> {
    let reply = conn
        .xinput_xi_query_device(xinput::Device::ALL)
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| format!("listing input devices: {e}"))?;
    Ok(reply
        .infos
        .into_iter()
        .map(|info| Device {
            id: info.deviceid,
            name: String::from_utf8_lossy(&info.name).into_owned(),
            master: info.type_ == xinput::DeviceType::MASTER_POINTER
                || info.type_ == xinput::DeviceType::MASTER_KEYBOARD,
        })
        .collect())
}

fn listen(conn: RustConnection, shared: &Shared) {
    while !shared.stopped.load(Ordering::Relaxed) {
        let event = match conn.wait_for_event() {
            Ok(event) => event,
            Err(e) => {
                tracing::warn!("the X connection of the input listener ended ({e}); seconds will count as inactive");
                return;
            }
        };
        let (source, counter) = match &event {
            Event::XinputRawKeyPress(e) => (e.sourceid, Kind::Key),
            // Buttons 4-7 are the wheel (up, down, left, right); the rest are clicks.
            Event::XinputRawButtonPress(e) if (4..=7).contains(&e.detail) => {
                (e.sourceid, Kind::Scroll)
            }
            Event::XinputRawButtonPress(e) => (e.sourceid, Kind::Click),
            Event::XinputRawMotion(e) => (e.sourceid, Kind::Move),
            Event::XinputHierarchy(_) => {
                match list_devices(&conn) {
                    Ok(devices) => *super::lock(&shared.origins) = origins(&devices),
                    Err(e) => tracing::warn!("input devices changed but can't be listed: {e}"),
                }
                continue;
            }
            _ => continue,
        };
        let counters = shared.counters(source);
        let n = match counter {
            Kind::Key => &counters.keys,
            Kind::Click => &counters.clicks,
            Kind::Scroll => &counters.scrolls,
            Kind::Move => &counters.moves,
        };
        n.fetch_add(1, Ordering::Relaxed);
    }
}

enum Kind {
    Key,
    Click,
    Scroll,
    Move,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `xinput list` on a laptop running Xorg (Debian 12, a ThinkPad with a USB mouse plugged
    /// in), as the X server lists its devices.
    const LAPTOP: &str = "\
⎡ Virtual core pointer                    \tid=2\t[master pointer  (3)]
⎜   ↳ Virtual core XTEST pointer              \tid=4\t[slave  pointer  (2)]
⎜   ↳ Logitech USB Optical Mouse              \tid=9\t[slave  pointer  (2)]
⎜   ↳ SynPS/2 Synaptics TouchPad              \tid=13\t[slave  pointer  (2)]
⎜   ↳ TPPS/2 IBM TrackPoint                   \tid=14\t[slave  pointer  (2)]
⎣ Virtual core keyboard                   \tid=3\t[master keyboard (2)]
    ↳ Virtual core XTEST keyboard             \tid=5\t[slave  keyboard (3)]
    ↳ Power Button                            \tid=6\t[slave  keyboard (3)]
    ↳ Video Bus                               \tid=7\t[slave  keyboard (3)]
    ↳ Sleep Button                            \tid=8\t[slave  keyboard (3)]
    ↳ Integrated Camera: Integrated C         \tid=10\t[slave  keyboard (3)]
    ↳ AT Translated Set 2 keyboard            \tid=12\t[slave  keyboard (3)]
    ↳ ThinkPad Extra Buttons                  \tid=15\t[slave  keyboard (3)]";

    fn parse(list: &str) -> Vec<Device> {
        list.lines()
            .map(|line| {
                let mut parts = line.split('\t');
                let name = parts.next().unwrap();
                let name = name.trim_start_matches(['⎡', '⎜', '⎣', ' ', '↳']).trim();
                let id = parts
                    .next()
                    .unwrap()
                    .trim_start_matches("id=")
                    .parse()
                    .unwrap();
                let master = parts.next().unwrap().starts_with("[master");
                Device {
                    id,
                    name: name.to_string(),
                    master,
                }
            })
            .collect()
    }

    #[test]
    fn xtest_slaves_inject_every_other_slave_is_hardware_and_masters_are_no_source() {
        let devices = parse(LAPTOP);
        assert_eq!(devices.len(), 13);
        let origins = origins(&devices);
        assert_eq!(origins.len(), 11, "two masters are not sources");
        assert_eq!(origins[&4], Origin::Injected, "Virtual core XTEST pointer");
        assert_eq!(origins[&5], Origin::Injected, "Virtual core XTEST keyboard");
        for hardware in [9, 12, 13, 14, 6] {
            assert_eq!(origins[&hardware], Origin::Hardware, "device {hardware}");
        }
        assert!(!origins.contains_key(&2) && !origins.contains_key(&3));
    }

    #[test]
    fn an_unknown_source_counts_as_hardware() {
        let shared = Shared::default();
        *super::super::lock(&shared.origins) = origins(&parse(LAPTOP));
        shared.counters(5).keys.fetch_add(2, Ordering::Relaxed);
        shared.counters(99).keys.fetch_add(1, Ordering::Relaxed);
        assert_eq!(shared.injected.take().keys, 2);
        assert_eq!(shared.hardware.take().keys, 1);
    }
}
