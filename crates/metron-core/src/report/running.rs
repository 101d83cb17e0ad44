//! One person's day added up as its intervals arrive: what the team's day shows of a date not
//! yet settled (today, yesterday), kept by the server between reads so a read adds the
//! intervals received since the last one instead of computing 10,000 days again.
//!
//! It holds what a team line needs and no more: the day's figures, its devices, its time per
//! (app, host) pair (split by the rules when read) and its minutes for unusual activity
//! ([`super::unusual::Day`], assessed under the thresholds when read). Every part adds up the
//! same in any order, so a running day fed the intervals in any order and in any number of
//! reads gives what [`super::daily_report_with_usage`] and [`super::assess`] give from all of
//! them at once (the tests below check it on random days). Titles, the timeline and the lists
//! a person's own day shows are not kept: that report is still computed whole.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::daily::{count_active, ranked, segment_seconds, Inside, Usage};
use super::day::percent;
use super::rules::url_host;
use super::unusual::{Day, FlagKind, Thresholds};
use super::{DeviceUsage, WindowUsage};
use crate::model::Interval;

/// What an interval added, remembered for the zone check and the day's offset.
#[derive(Debug, Clone, Copy)]
struct Added {
    utc_offset_minutes: i32,
    device_id: Uuid,
}

/// One person's day of `date` being added up.
#[derive(Debug, Clone)]
pub struct RunningDay {
    date: NaiveDate,
    tracked: u64,
    active: u64,
    passive: u64,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    /// The intervals with time in the day, by start: a person's stored intervals never
    /// overlap, so a start names one, and one received again is not added twice.
    /// By start in seconds (a reader asks before it decodes a stored row).
    added: BTreeMap<i64, Added>,
    devices: HashMap<Uuid, Usage>,
    /// Time per (app, host): a day has a handful of pairs, looked up by a scan.
    pairs: Vec<(String, Option<String>, Usage)>,
    minutes: Day,
}

/// A running day's figures: a team line's, but the manual time and the productive split
/// (which the rules of the moment make from `usage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamFigures {
    /// The offset of the day's latest interval; `None` when none had time in the day.
    pub utc_offset_minutes: Option<i32>,
    pub tracked_secs: u64,
    pub active_secs: u64,
    pub idle_secs: u64,
    pub passive_secs: u64,
    pub activity_pct: u32,
    pub first_activity: Option<DateTime<Utc>>,
    pub last_activity: Option<DateTime<Utc>>,
    pub devices: Vec<DeviceUsage>,
    /// The unusual-activity flags, in the order the day report lists them.
    pub unusual: Vec<FlagKind>,
    pub injected_pct: Option<u32>,
    pub usage: Vec<WindowUsage>,
}

impl RunningDay {
    /// An empty day; `None` for a date out of service.
    pub fn new(date: NaiveDate) -> Option<RunningDay> {
        Some(RunningDay {
            date,
            tracked: 0,
            active: 0,
            passive: 0,
            first: None,
            last: None,
            added: BTreeMap::new(),
            devices: HashMap::new(),
            pairs: Vec::new(),
            minutes: Day::new(date)?,
        })
    }

    /// Whether an interval starting at `started_at` (seconds since the epoch) was added.
    pub fn holds(&self, started_at: i64) -> bool {
        self.added.contains_key(&started_at)
    }

    /// The day's midnight in UTC: a moment to ask a device's zone at.
    fn date_start(&self) -> DateTime<Utc> {
        self.date.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    /// How many intervals with time in the day were added.
    pub fn len(&self) -> usize {
        self.added.len()
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
    }

    /// Adds the seconds of `interval` inside the day, as the day report counts them, unless an
    /// interval of the same start was added; whether it added them.
    pub fn add(&mut self, interval: &Interval) -> bool {
        if self.holds(interval.started_at.timestamp()) {
            return false;
        }
        let Some(Inside {
            from,
            to,
            start,
            end,
        }) = Inside::day(interval, self.date)
        else {
            return false;
        };
        self.added.insert(
            interval.started_at.timestamp(),
            Added {
                utc_offset_minutes: interval.utc_offset_minutes,
                device_id: interval.device_id,
            },
        );
        let active = count_active(interval.active.as_bytes(), from, to);
        self.tracked += to - from;
        self.active += active;
        if let Some(passive) = &interval.passive {
            self.passive += count_active(passive.as_bytes(), from, to);
        }
        self.first = Some(self.first.map_or(start, |first| first.min(start)));
        self.last = Some(self.last.map_or(end, |last| last.max(end)));
        self.devices
            .entry(interval.device_id)
            .or_default()
            .add(to - from, active);
        let pairs = &mut self.pairs;
        segment_seconds(interval, from, to, |segment, seconds, active| {
            let host = segment.url.as_deref().and_then(url_host);
            match pairs
                .iter_mut()
                .find(|(app, h, _)| *app == segment.app && *h == host)
            {
                Some((_, _, usage)) => usage.add(seconds, active),
                None => pairs.push((
                    segment.app.clone(),
                    host,
                    Usage {
                        tracked: seconds,
                        active,
                    },
                )),
            }
        });
        self.minutes.add(interval);
        true
    }

    /// The day's figures, its flags assessed under `thresholds` and its intervals' offsets
    /// checked against `expected(device, start)`, the offset their device's zone had then, as
    /// [`super::zone_mismatch`] checks them. `expected` is `None` for a device whose zone is
    /// not known, at any time: such a device's intervals are not looked at one by one.
    pub fn figures(
        &self,
        thresholds: &Thresholds,
        expected: impl Fn(&Uuid, DateTime<Utc>) -> Option<i32>,
    ) -> TeamFigures {
        let mut flags = self.minutes.flag_kinds(thresholds);
        let zoned: Vec<&Uuid> = self
            .devices
            .keys()
            .filter(|device| expected(device, self.date_start()).is_some())
            .collect();
        if !zoned.is_empty()
            && self.added.iter().any(|(&start, a)| {
                zoned.contains(&&a.device_id)
                    && DateTime::from_timestamp(start, 0)
                        .and_then(|at| expected(&a.device_id, at))
                        .is_some_and(|want| want != a.utc_offset_minutes)
            })
        {
            flags.push(FlagKind::ZoneMismatch);
        }
        // The latest interval's offset, as the day report takes it.
        let utc_offset_minutes = self
            .added
            .last_key_value()
            .map(|(_, a)| a.utc_offset_minutes);
        TeamFigures {
            utc_offset_minutes,
            tracked_secs: self.tracked,
            active_secs: self.active,
            idle_secs: self.tracked.saturating_sub(self.active + self.passive),
            passive_secs: self.passive,
            activity_pct: percent(self.active, self.tracked),
            first_activity: self.first,
            last_activity: self.last,
            devices: ranked(self.devices.clone(), usize::MAX, |device, u| DeviceUsage {
                device_id: device.to_string(),
                tracked_secs: u.tracked,
            }),
            unusual: flags,
            injected_pct: self.minutes.injected_pct(),
            usage: ranked(
                self.pairs
                    .iter()
                    .map(|(app, host, u)| ((app.clone(), host.clone()), *u))
                    .collect(),
                usize::MAX,
                |(app, host), u| WindowUsage {
                    app,
                    host,
                    tracked_secs: u.tracked,
                    active_secs: u.active,
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests;
