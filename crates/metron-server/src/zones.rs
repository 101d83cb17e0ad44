//! The time zones a person's devices report (`PUT /api/v1/devices/{id}`), as the offsets an
//! interval of theirs should carry: what the `zone_mismatch` flag compares each interval's
//! own offset with. Only the latest report of each device is kept, so an interval is checked
//! against the zone its device reports now: a trip the device reported afterwards can flag
//! the days before it (the flag's evidence names both offsets; docs/REPORTS.md says so).

use std::collections::HashMap;

use metron_core::device::DeviceInfo;
use metron_core::Interval;

use crate::db::reports::DeviceRow;

/// Device id -> its reported zone, for one or many people.
#[derive(Default)]
pub struct DeviceZones {
    zones: HashMap<uuid::Uuid, jiff::tz::TimeZone>,
    /// Person id -> their devices' zones as text (`device=zone;`, by device): what a kept
    /// team line's flags were assessed under (`reports::TeamLine::stamp`).
    by_person: HashMap<String, String>,
}

impl DeviceZones {
    /// The zones of the devices among `rows` that reported one the zone database knows.
    pub fn from_rows(rows: &[DeviceRow]) -> DeviceZones {
        let mut known: Vec<(&DeviceRow, jiff::tz::TimeZone, String)> = rows
            .iter()
            .filter_map(|row| {
                let info: DeviceInfo = serde_json::from_str(row.info.as_deref()?).ok()?;
                let zone = jiff::tz::TimeZone::get(&info.time_zone).ok()?;
                Some((row, zone, info.time_zone))
            })
            .collect();
        known.sort_by(|a, b| a.0.device_id.cmp(&b.0.device_id));
        let mut by_person: HashMap<String, String> = HashMap::new();
        for (row, _, name) in &known {
            let text = by_person.entry(row.user_id.clone()).or_default();
            text.push_str(&format!("{}={name};", row.device_id));
        }
        // Intervals name their device by UUID; a device row whose id is not one has none.
        let zones = known
            .into_iter()
            .filter_map(|(row, zone, _)| Some((uuid::Uuid::parse_str(&row.device_id).ok()?, zone)))
            .collect();
        DeviceZones { zones, by_person }
    }

    /// The zones of `person`'s devices as text (empty when none reported a known zone): the
    /// same text while none of them reports another zone.
    pub fn of_person(&self, person: &str) -> &str {
        self.by_person.get(person).map_or("", String::as_str)
    }

    /// The offset `interval`'s device's zone had at its start, in minutes east of UTC; `None`
    /// when the device never reported a known zone.
    pub fn expected(&self, interval: &Interval) -> Option<i32> {
        self.expected_at(&interval.device_id, interval.started_at)
    }

    /// The offset `device`'s zone had `at`, in minutes east of UTC; `None` when it never
    /// reported a known zone.
    pub fn expected_at(
        &self,
        device: &uuid::Uuid,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Option<i32> {
        let zone = self.zones.get(device)?;
        let at = jiff::Timestamp::from_second(at.timestamp()).ok()?;
        Some(zone.to_offset(at).seconds() / 60)
    }
}
