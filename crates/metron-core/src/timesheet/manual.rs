//! Manual time and the organization's policy for it: what a person may add (time they forgot
//! to track, a kept stretch away from the computer) and change, checked the same way in the
//! app, on the web page and by the server. Manual time is counted apart from tracked time and
//! never enters activity %: nobody measured input while it ran.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::engine::MAX_PASSIVE_LIMIT_SECS;
use crate::model::Interval;

/// The longest note kept with an entry, a correction or a decision, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;
/// The longest a manual entry may be under any policy: a day.
pub const MAX_ENTRY_SECS: u64 = 86_400;
/// The longest edit window a policy may set.
pub const MAX_EDIT_WINDOW_DAYS: u32 = 366;

/// A stretch of time a person says they worked, not tracked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ManualEntry {
    pub id: Uuid,
    pub task_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub note: String,
    /// Minutes east of UTC of the person when they added it (the client says so; else their
    /// latest interval's): its seconds fall on local days in this offset, as an interval's do
    /// in its own.
    #[serde(default)]
    pub utc_offset_minutes: i32,
}

impl ManualEntry {
    pub fn duration_secs(&self) -> u64 {
        u64::try_from((self.ended_at - self.started_at).num_seconds()).unwrap_or(0)
    }
}

/// Whether people may do something themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// In force at once.
    Allowed,
    /// In force once an admin or the person's manager approves it.
    Approval,
    /// Refused.
    Forbidden,
}

/// Where a manual entry or a correction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for an admin or the person's manager.
    Pending,
    /// In force: reports count it.
    Approved,
    /// Refused by a reviewer; kept for the record.
    Denied,
    /// Taken back by its author (or an admin); kept for the record.
    Withdrawn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        [
            Status::Pending,
            Status::Approved,
            Status::Denied,
            Status::Withdrawn,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether it holds time: in force, or waiting (manual time waiting for approval already
    /// keeps its stretch from other entries).
    pub fn holds_time(self) -> bool {
        matches!(self, Status::Pending | Status::Approved)
    }
}

/// What an organization lets people add and change (admins set it; admins themselves are
/// held to the same overlap and length rules but not to the window or approval).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct Policy {
    /// Manual time: allowed, allowed with approval (the default), or not allowed.
    pub manual: Permission,
    /// The longest manual entry, in seconds (60..=86400; default 8 hours).
    pub max_manual_secs: u64,
    /// Moving a tracked interval to another task: allowed (the default), with approval, or
    /// not allowed. Removing tracked time, or its idle tail, only ever takes time away and is
    /// always allowed inside the window.
    pub moves: Permission,
    /// How many days back a person may add or change time (0..=366; default 7).
    pub edit_window_days: u32,
    /// The longest stretch without input that an idle inhibitor (a call, a video) may keep
    /// tracking going, in seconds: 0..=7200 ([`MAX_PASSIVE_LIMIT_SECS`], the default), 0
    /// turning passive presence off. Agents apply the lower of this and their own limit.
    pub passive_limit_secs: u32,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            manual: Permission::Approval,
            max_manual_secs: 8 * 3600,
            moves: Permission::Allowed,
            edit_window_days: 7,
            passive_limit_secs: MAX_PASSIVE_LIMIT_SECS,
        }
    }
}

impl Policy {
    pub fn validate(&self) -> Result<(), String> {
        if !(60..=MAX_ENTRY_SECS).contains(&self.max_manual_secs) {
            return Err(format!(
                "max_manual_secs must be from 60 to {MAX_ENTRY_SECS}, not {}",
                self.max_manual_secs
            ));
        }
        if self.edit_window_days > MAX_EDIT_WINDOW_DAYS {
            return Err(format!(
                "edit_window_days must be from 0 to {MAX_EDIT_WINDOW_DAYS}, not {}",
                self.edit_window_days
            ));
        }
        if self.passive_limit_secs > MAX_PASSIVE_LIMIT_SECS {
            return Err(format!(
                "passive_limit_secs must be from 0 to {MAX_PASSIVE_LIMIT_SECS}, not {}",
                self.passive_limit_secs
            ));
        }
        Ok(())
    }

    /// The earliest time a person may still add or change, at `now`.
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::days(i64::from(self.edit_window_days))
    }
}

/// Checks an entry's own shape against the policy: whole seconds, a start before its end, no
/// longer than the policy allows, not in the future, a bounded note; and, unless `admin`,
/// inside the edit window. The overlap rule needs other data: [`overlap`].
pub fn check_entry(
    entry: &ManualEntry,
    policy: &Policy,
    now: DateTime<Utc>,
    admin: bool,
) -> Result<(), String> {
    if entry.started_at.timestamp_subsec_nanos() != 0
        || entry.ended_at.timestamp_subsec_nanos() != 0
    {
        return Err("times must be whole seconds".into());
    }
    // 2000-01-01: nobody tracked time before Metron existed, and far-off dates stay clear of
    // the calendar's edges in the arithmetic that follows.
    if entry.started_at.timestamp() < 946_684_800 {
        return Err("started_at must be after 2000-01-01".into());
    }
    if entry.ended_at <= entry.started_at {
        return Err("ended_at must be after started_at".into());
    }
    if entry.duration_secs() > policy.max_manual_secs {
        return Err(format!(
            "a manual entry may be at most {} s long under the organization's policy; this one is {} s",
            policy.max_manual_secs,
            entry.duration_secs()
        ));
    }
    if entry.ended_at > now {
        return Err("a manual entry can't end in the future".into());
    }
    if entry.note.chars().count() > MAX_NOTE_CHARS {
        return Err(format!("note is longer than {MAX_NOTE_CHARS} characters"));
    }
    if entry.task_id.is_empty() {
        return Err("task_id is required".into());
    }
    if !admin && entry.started_at < policy.window_start(now) {
        return Err(format!(
            "time more than {} days back can't be added or changed (the organization's edit window)",
            policy.edit_window_days
        ));
    }
    Ok(())
}

/// What a stretch of time collides with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Overlap {
    /// A tracked interval (as the corrections in force leave it).
    Tracked {
        id: Uuid,
        started_at: DateTime<Utc>,
        ended_at: DateTime<Utc>,
    },
    /// Another manual entry that is in force or waiting for approval.
    Manual {
        id: Uuid,
        started_at: DateTime<Utc>,
        ended_at: DateTime<Utc>,
    },
}

/// The first tracked interval or other entry that [start, end) overlaps, if any: a person's
/// time is counted once, so manual time may only fill gaps (the same rule the server applies
/// between intervals). `entries` may hold the entry itself (same id): it is skipped.
pub fn overlap(
    id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tracked: &[Interval],
    entries: &[ManualEntry],
) -> Option<Overlap> {
    let hits = |a: DateTime<Utc>, b: DateTime<Utc>| a < end && start < b;
    if let Some(i) = tracked.iter().find(|i| hits(i.started_at, i.ended_at)) {
        return Some(Overlap::Tracked {
            id: i.id,
            started_at: i.started_at,
            ended_at: i.ended_at,
        });
    }
    entries
        .iter()
        .find(|e| e.id != id && hits(e.started_at, e.ended_at))
        .map(|e| Overlap::Manual {
            id: e.id,
            started_at: e.started_at,
            ended_at: e.ended_at,
        })
}

/// The parts of `entries` that no tracked interval covers. Manual time is made to fill gaps,
/// but tracked time can arrive later (a computer that was offline delivers its backlog after
/// the person added the same hours by hand): tracked time is never refused for it, and
/// reports count the manual time only where nothing was tracked, so no second counts twice.
pub fn uncovered(entries: &[ManualEntry], tracked: &[Interval]) -> Vec<ManualEntry> {
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> =
        tracked.iter().map(|i| (i.started_at, i.ended_at)).collect();
    spans.sort();
    let mut out = Vec::new();
    for entry in entries {
        let mut from = entry.started_at;
        for &(a, b) in spans
            .iter()
            .filter(|(a, b)| *a < entry.ended_at && entry.started_at < *b)
        {
            if a > from {
                out.push(ManualEntry {
                    started_at: from,
                    ended_at: a,
                    ..entry.clone()
                });
            }
            from = from.max(b);
        }
        if from < entry.ended_at {
            out.push(ManualEntry {
                started_at: from,
                ..entry.clone()
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, h, m, 0).unwrap()
    }

    fn entry(n: u128, from: DateTime<Utc>, to: DateTime<Utc>) -> ManualEntry {
        ManualEntry {
            id: Uuid::from_u128(n),
            task_id: "t".into(),
            started_at: from,
            ended_at: to,
            note: "call with a client".into(),
            utc_offset_minutes: 0,
        }
    }

    #[test]
    fn the_passive_limit_defaults_to_the_engines_and_goes_no_higher() {
        let old: Policy = serde_json::from_str(r#"{"edit_window_days": 3}"#).unwrap();
        assert_eq!(old.passive_limit_secs, MAX_PASSIVE_LIMIT_SECS);
        let off = Policy {
            passive_limit_secs: 0,
            ..Policy::default()
        };
        assert_eq!(off.validate(), Ok(()));
        let above = Policy {
            passive_limit_secs: MAX_PASSIVE_LIMIT_SECS + 1,
            ..Policy::default()
        };
        assert!(above.validate().unwrap_err().contains("passive_limit_secs"));
    }

    #[test]
    fn an_entry_is_checked_against_the_policy() {
        let policy = Policy::default();
        let now = at(18, 0);
        assert_eq!(
            check_entry(&entry(1, at(9, 0), at(10, 0)), &policy, now, false),
            Ok(())
        );
        let err = |e: ManualEntry| check_entry(&e, &policy, now, false).unwrap_err();
        assert!(err(entry(1, at(10, 0), at(10, 0))).contains("after started_at"));
        assert!(err(entry(1, at(8, 0), at(17, 0))).contains("at most 28800 s"));
        assert!(err(entry(1, at(17, 30), at(18, 30))).contains("future"));
        let old = entry(
            1,
            at(9, 0) - Duration::days(8),
            at(10, 0) - Duration::days(8),
        );
        assert!(err(old.clone()).contains("edit window"));
        assert_eq!(
            check_entry(&old, &policy, now, true),
            Ok(()),
            "admins are not held to it"
        );
        let mut long_note = entry(1, at(9, 0), at(10, 0));
        long_note.note = "x".repeat(MAX_NOTE_CHARS + 1);
        assert!(err(long_note).contains("note"));
        let ancient = entry(1, DateTime::<Utc>::MIN_UTC, at(9, 0));
        assert!(check_entry(&ancient, &policy, now, true)
            .unwrap_err()
            .contains("2000"));
    }

    #[test]
    fn a_policy_outside_its_bounds_is_refused() {
        assert!(Policy::default().validate().is_ok());
        let p = Policy {
            max_manual_secs: 10,
            ..Policy::default()
        };
        assert!(p.validate().unwrap_err().contains("max_manual_secs"));
        let p = Policy {
            edit_window_days: 400,
            ..Policy::default()
        };
        assert!(p.validate().unwrap_err().contains("edit_window_days"));
        // Fields left out read as their defaults.
        let p: Policy = serde_json::from_str(r#"{"manual":"forbidden"}"#).unwrap();
        assert_eq!((p.manual, p.edit_window_days), (Permission::Forbidden, 7));
    }

    #[test]
    fn tracked_time_that_arrives_later_wins_over_manual_time() {
        let e = entry(1, at(9, 0), at(11, 0));
        let tracked = |n: u128, from: DateTime<Utc>, to: DateTime<Utc>| Interval {
            id: Uuid::from_u128(n),
            device_id: Uuid::from_u128(9),
            task_id: "t".into(),
            started_at: from,
            ended_at: to,
            utc_offset_minutes: 0,
            end_reason: crate::model::EndReason::Boundary,
            active: "0".repeat((to - from).num_seconds() as usize),
            counts: Default::default(),
            counts_measured: true,
            windows: Vec::new(),
            injected: None,
            injected_counts: None,
            passive: None,
            presence: Vec::new(),
            events: Vec::new(),
        };
        let pieces = uncovered(
            std::slice::from_ref(&e),
            &[
                tracked(2, at(10, 0), at(10, 1)),
                tracked(3, at(8, 0), at(9, 30)),
                tracked(4, at(10, 1), at(10, 15)),
            ],
        );
        let spans: Vec<_> = pieces.iter().map(|p| (p.started_at, p.ended_at)).collect();
        assert_eq!(spans, [(at(9, 30), at(10, 0)), (at(10, 15), at(11, 0))]);
        assert!(pieces
            .iter()
            .all(|p| p.id == e.id && p.task_id == e.task_id));
        assert_eq!(uncovered(std::slice::from_ref(&e), &[]), [e]);
    }

    #[test]
    fn manual_time_only_fills_gaps() {
        let others = [entry(1, at(9, 0), at(10, 0))];
        // Touching ends are not an overlap.
        assert_eq!(
            overlap(Uuid::from_u128(2), at(10, 0), at(11, 0), &[], &others),
            None
        );
        assert!(matches!(
            overlap(Uuid::from_u128(2), at(9, 30), at(10, 30), &[], &others),
            Some(Overlap::Manual { .. })
        ));
        // An entry doesn't collide with itself (an edit of it).
        assert_eq!(
            overlap(Uuid::from_u128(1), at(9, 0), at(10, 0), &[], &others),
            None
        );
    }
}
