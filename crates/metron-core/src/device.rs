//! Who and where: what a device says about itself (`PUT /api/v1/devices/{device_id}`) and how
//! the server checks it. A device is one agent's store (its `device_id`), so two people on one
//! computer are two devices, and a person's laptop and desktop are two as well. The agent
//! reports once after each sign-in and again whenever something here changes (a renamed host,
//! an upgraded OS, a trip across time zones); the server keeps the latest report beside when the
//! device was first and last seen tracking.
//!
//! Every field is text the OS gave the agent, so each is bounded and stripped of control
//! characters before it is stored or shown: a hostile client gets a clear 400, never a page
//! that renders its bytes.

use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The longest host name, OS user, domain or OS field, in characters.
pub const MAX_FIELD_CHARS: usize = 255;
/// The longest IANA time zone name (`America/Argentina/ComodRivadavia` is 32).
pub const MAX_TIME_ZONE_CHARS: usize = 64;
/// UTC offsets run from -12:00 to +14:00; anything beyond ±15 h is not a clock's.
pub const MAX_OFFSET_MINUTES: i32 = 15 * 60;

/// What a device reports about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceInfo {
    /// The computer's name (`hostname`; on Windows the NetBIOS/DNS name).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 255, example = "ann-laptop")
    )]
    pub host_name: String,
    /// The login of the OS account the agent runs as.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 255, example = "ann")
    )]
    pub os_user: String,
    /// The Windows domain or workgroup; on Linux the DNS domain of the host, if it has one.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 255, example = "corp.example.com")
    )]
    pub domain: Option<String>,
    /// The OS by name and release, as the OS says it (`Debian GNU/Linux 12 (bookworm)`).
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 255,
            example = "Debian GNU/Linux 12 (bookworm)"
        )
    )]
    pub os_name: String,
    /// The OS's version (the kernel's on Linux, the build on Windows).
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 255, example = "6.1.0-28-amd64")
    )]
    pub os_version: String,
    /// The session's IANA time zone (`Europe/Berlin`); `UTC` when the OS names none.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, example = "Europe/Berlin")
    )]
    pub time_zone: String,
    /// The zone's offset from UTC when the report was made, in minutes.
    #[cfg_attr(feature = "openapi", schema(minimum = -900, maximum = 900, example = 60))]
    pub utc_offset_minutes: i32,
    /// The Metron version the device runs.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, example = "0.2.0")
    )]
    pub app_version: String,
}

/// A person's device as the server knows it (`GET /api/v1/devices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Device {
    pub device_id: String,
    pub user_id: String,
    /// Its latest report; null for a device that tracked but never reported (an agent older
    /// than 0.2.0).
    pub info: Option<DeviceInfo>,
    /// When it was first seen: its first report or the start of its first interval.
    pub first_seen: chrono::DateTime<chrono::Utc>,
    /// When it was last seen: its latest report or the end of its latest interval.
    pub last_seen: chrono::DateTime<chrono::Utc>,
    /// When it last reported; null if never.
    pub reported_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceInfoError {
    #[error("{0} must be 1 to {MAX_FIELD_CHARS} characters without control characters")]
    BadField(&'static str),
    #[error("time_zone must be an IANA name such as Europe/Berlin, of at most {MAX_TIME_ZONE_CHARS} characters")]
    BadTimeZone,
    #[error("utc_offset_minutes must be within ±{MAX_OFFSET_MINUTES}")]
    BadOffset,
}

impl DeviceInfo {
    /// The report trimmed and checked: every field bounded and free of control characters
    /// (format characters such as bidi controls dropped: the names are shown to admins), an
    /// empty domain or OS version read as none, the zone a plausible IANA name.
    pub fn checked(self) -> Result<DeviceInfo, DeviceInfoError> {
        fn field(name: &'static str, value: String, max: usize) -> Result<String, DeviceInfoError> {
            let value = crate::limits::plain_text(name, value.trim())
                .map_err(|_| DeviceInfoError::BadField(name))?
                .trim()
                .to_string();
            if value.is_empty()
                || value.chars().count() > max
                || value.chars().any(char::is_control)
            {
                return Err(DeviceInfoError::BadField(name));
            }
            Ok(value)
        }
        let optional = |name, value: Option<String>| match value.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => field(name, v.to_string(), MAX_FIELD_CHARS).map(Some),
        };
        let time_zone = self.time_zone.trim().to_string();
        let zone_ok = !time_zone.is_empty()
            && time_zone.len() <= MAX_TIME_ZONE_CHARS
            && time_zone
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
        if !zone_ok {
            return Err(DeviceInfoError::BadTimeZone);
        }
        if self.utc_offset_minutes.abs() > MAX_OFFSET_MINUTES {
            return Err(DeviceInfoError::BadOffset);
        }
        Ok(DeviceInfo {
            host_name: field("host_name", self.host_name, MAX_FIELD_CHARS)?,
            os_user: field("os_user", self.os_user, MAX_FIELD_CHARS)?,
            domain: optional("domain", self.domain)?,
            os_name: field("os_name", self.os_name, MAX_FIELD_CHARS)?,
            os_version: optional("os_version", Some(self.os_version))?.unwrap_or_default(),
            time_zone,
            utc_offset_minutes: self.utc_offset_minutes,
            app_version: field("app_version", self.app_version, 64)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn laptop() -> DeviceInfo {
        DeviceInfo {
            host_name: " ann-laptop ".into(),
            os_user: "ann".into(),
            domain: Some("".into()),
            os_name: "Debian GNU/Linux 12 (bookworm)".into(),
            os_version: "6.1.0-28-amd64".into(),
            time_zone: "Europe/Berlin".into(),
            utc_offset_minutes: 60,
            app_version: "0.2.0".into(),
        }
    }

    #[test]
    fn a_real_report_is_trimmed_and_an_empty_domain_is_none() {
        let info = laptop().checked().unwrap();
        assert_eq!(info.host_name, "ann-laptop");
        assert_eq!(info.domain, None);
    }

    #[test]
    fn hostile_fields_are_refused_with_the_field_named() {
        let mut long = laptop();
        long.host_name = "h".repeat(MAX_FIELD_CHARS + 1);
        assert_eq!(long.checked(), Err(DeviceInfoError::BadField("host_name")));
        let mut escape = laptop();
        escape.os_user = "ann\u{1b}[31m".into();
        assert_eq!(escape.checked(), Err(DeviceInfoError::BadField("os_user")));
        let mut empty = laptop();
        empty.os_name = "  ".into();
        assert_eq!(empty.checked(), Err(DeviceInfoError::BadField("os_name")));
        let mut domain = laptop();
        domain.domain = Some("corp\nexample".into());
        assert_eq!(domain.checked(), Err(DeviceInfoError::BadField("domain")));
    }

    #[test]
    fn the_zone_and_offset_are_bounded() {
        let mut zone = laptop();
        zone.time_zone = "Europe/Berlin; DROP".into();
        assert_eq!(zone.checked(), Err(DeviceInfoError::BadTimeZone));
        let mut offset = laptop();
        offset.utc_offset_minutes = 16 * 60;
        assert_eq!(offset.checked(), Err(DeviceInfoError::BadOffset));
        let mut west = laptop();
        west.time_zone = "Etc/GMT+12".into();
        west.utc_offset_minutes = -720;
        assert!(west.checked().is_ok());
    }
}
