//! Who and where this device is (issue 15): the host name, the OS user, the domain or
//! workgroup, the OS, the session's time zone and this program's version, as the device reports
//! them to its server (`PUT /api/v1/devices/{device_id}`). Read from the OS through well-kept
//! crates (whoami, os_info, iana-time-zone); only the domain needs a per-OS answer.
//!
//! Nothing here is input or window content: it is what an IT department's inventory already
//! knows, and `metron-agent status` shows it to the person exactly as it is sent.

#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

use metron_core::device::DeviceInfo;

#[cfg(unix)]
use unix as os;
#[cfg(windows)]
use windows as os;

/// This device as it is now, at `utc_offset_minutes` (the caller's clock, so tests and the
/// engine agree on the offset).
pub fn current(utc_offset_minutes: i32) -> DeviceInfo {
    let host_name = whoami::hostname().unwrap_or_else(|_| "unknown".into());
    let os = os_info::get();
    let os_name = whoami::distro().unwrap_or_else(|_| os.os_type().to_string());
    DeviceInfo {
        domain: os::domain(&host_name),
        host_name,
        os_user: whoami::username().unwrap_or_else(|_| "unknown".into()),
        os_name,
        os_version: os.version().to_string(),
        time_zone: iana_time_zone::get_timezone().unwrap_or_else(|_| "UTC".into()),
        utc_offset_minutes,
        app_version: env!("CARGO_PKG_VERSION").into(),
    }
}
