//! Corrections of tracked time: a person moves an interval to another task, removes it, or
//! cuts its tail (the idle minutes before an idle stop). Nothing stored is changed: a
//! correction is a record of its own, and every report applies the corrections in force to
//! the intervals it loads, so the original stays readable in the audit trail and an
//! unapproved or withdrawn correction changes nothing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::{Counts, Interval};

/// What a correction does to its interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    /// The interval counts for another task.
    Move { task_id: String },
    /// The interval is taken out of tracked time.
    Remove,
    /// Only the interval's seconds before `until` count: the rest (the idle tail of an idle
    /// stop, say) is taken out of tracked time.
    Trim { until: DateTime<Utc> },
}

impl Change {
    /// Whether the change can only take time away from the person (never adds or moves it):
    /// such changes need nobody's approval.
    pub fn only_removes(&self) -> bool {
        matches!(self, Change::Remove | Change::Trim { .. })
    }
}

/// The most corrections one interval may hold (pending or in force): a move, a trim and a
/// removal are all a person ever needs; more would only grow the store.
pub const MAX_HELD_PER_INTERVAL: usize = 3;

/// Whether a new `change` may join the corrections an interval already holds (`held`: their
/// ids and changes, pending or in force), and which of them it supersedes: a new move replaces
/// the held moves and a new trim the held trims (repeated edits collapse to the last one), a
/// second removal is refused (the interval is already out), and an interval holds at most
/// [`MAX_HELD_PER_INTERVAL`] corrections.
pub fn admit<'a>(held: &'a [(String, Change)], change: &Change) -> Result<Vec<&'a str>, String> {
    let same_kind = |c: &Change| std::mem::discriminant(c) == std::mem::discriminant(change);
    if matches!(change, Change::Remove) && held.iter().any(|(_, c)| same_kind(c)) {
        return Err("the interval is already removed (or its removal waits for a decision)".into());
    }
    let superseded: Vec<&str> = held
        .iter()
        .filter(|(_, c)| same_kind(c))
        .map(|(id, _)| id.as_str())
        .collect();
    if held.len() - superseded.len() >= MAX_HELD_PER_INTERVAL {
        return Err(format!(
            "an interval holds at most {MAX_HELD_PER_INTERVAL} corrections; withdraw one first"
        ));
    }
    Ok(superseded)
}

/// A correction in force: the interval it applies to and the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub interval_id: Uuid,
    pub change: Change,
}

/// The intervals as the corrections leave them: moved ones carry their new task, removed ones
/// are gone, trimmed ones end earlier. `corrections` apply in the order given (the order they
/// were made), so a later move wins over an earlier one; a correction of an interval not in
/// `intervals` changes nothing.
pub fn apply(intervals: Vec<Interval>, corrections: &[Correction]) -> Vec<Interval> {
    if corrections.is_empty() {
        return intervals;
    }
    let mut by_interval: HashMap<Uuid, Vec<&Change>> = HashMap::new();
    for c in corrections {
        by_interval
            .entry(c.interval_id)
            .or_default()
            .push(&c.change);
    }
    intervals
        .into_iter()
        .filter_map(|interval| match by_interval.get(&interval.id) {
            None => Some(interval),
            Some(changes) => changes
                .iter()
                .try_fold(interval, |interval, change| match change {
                    Change::Move { task_id } => Some(Interval {
                        task_id: task_id.clone(),
                        ..interval
                    }),
                    Change::Remove => None,
                    Change::Trim { until } => trim(interval, *until),
                }),
        })
        .collect()
}

/// The interval's seconds before `until`; `None` when none is left. Per-second flags, window
/// segments and events past the cut are dropped; input counts are prorated by the share kept
/// (the interval stores totals, not counts per second).
pub fn trim(mut interval: Interval, until: DateTime<Utc>) -> Option<Interval> {
    if until >= interval.ended_at {
        return Some(interval);
    }
    if until <= interval.started_at {
        return None;
    }
    let old = u64::try_from(interval.duration_secs()).unwrap_or(0);
    let kept = u64::try_from((until - interval.started_at).num_seconds()).unwrap_or(0);
    let keep = usize::try_from(kept).unwrap_or(usize::MAX);
    let cut = |flags: &mut String| flags.truncate(keep.min(flags.len()));
    cut(&mut interval.active);
    if let Some(flags) = interval.injected.as_mut() {
        cut(flags);
    }
    if let Some(flags) = interval.passive.as_mut() {
        cut(flags);
    }
    let kept32 = u32::try_from(kept).unwrap_or(u32::MAX);
    interval.windows.retain(|s| s.offset < kept32);
    for segment in &mut interval.windows {
        segment.seconds = segment.seconds.min(kept32 - segment.offset);
    }
    interval.presence.retain(|s| s.offset < kept32);
    for stretch in &mut interval.presence {
        stretch.seconds = stretch.seconds.min(kept32 - stretch.offset);
    }
    interval
        .events
        .retain(|e| i64::from(e.offset) < i64::try_from(kept).unwrap_or(i64::MAX));
    interval.counts = prorate(&interval.counts, kept, old);
    if let Some(c) = interval.injected_counts.as_mut() {
        *c = prorate(c, kept, old);
    }
    interval.ended_at = until;
    Some(interval)
}

/// `counts` × kept / whole, rounded down.
fn prorate(counts: &Counts, kept: u64, whole: u64) -> Counts {
    if whole == 0 {
        return Counts::default();
    }
    let part = |n: u64| (u128::from(n) * u128::from(kept) / u128::from(whole)) as u64;
    Counts {
        keys: part(counts.keys),
        clicks: part(counts.clicks),
        scrolls: part(counts.scrolls),
        moves: part(counts.moves),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_edits_collapse_and_a_second_removal_is_refused() {
        let mv = |t: &str| Change::Move { task_id: t.into() };
        let held = vec![
            ("a".to_string(), mv("x")),
            ("b".to_string(), Change::Remove),
        ];
        assert_eq!(admit(&held, &mv("y")), Ok(vec!["a"]));
        assert!(admit(&held, &Change::Remove)
            .unwrap_err()
            .contains("already removed"));
        let until = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let trimmed = vec![
            ("a".to_string(), mv("x")),
            ("b".to_string(), Change::Trim { until }),
            ("c".to_string(), Change::Remove),
        ];
        assert_eq!(admit(&trimmed, &Change::Trim { until }), Ok(vec!["b"]));
        assert_eq!(admit(&[], &Change::Remove), Ok(vec![]));
        // Three held of kinds the new one doesn't replace: full (a malformed store, say).
        let full = vec![
            ("a".to_string(), Change::Remove),
            ("b".to_string(), Change::Trim { until }),
            ("c".to_string(), Change::Trim { until }),
        ];
        assert!(admit(&full, &mv("y")).unwrap_err().contains("at most 3"));
    }
    use crate::model::{EndReason, IntervalEvent, WindowSegment};
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, h, m, s).unwrap()
    }

    fn interval(n: u128, start: DateTime<Utc>, secs: usize, task: &str) -> Interval {
        Interval {
            id: Uuid::from_u128(n),
            device_id: Uuid::from_u128(99),
            task_id: task.into(),
            started_at: start,
            ended_at: start + chrono::Duration::seconds(secs as i64),
            utc_offset_minutes: 0,
            end_reason: EndReason::Boundary,
            active: "1".repeat(secs / 2) + &"0".repeat(secs - secs / 2),
            counts: Counts {
                keys: 100,
                clicks: 10,
                scrolls: 0,
                moves: 7,
            },
            counts_measured: true,
            windows: vec![
                WindowSegment {
                    offset: 0,
                    seconds: 20,
                    app: "editor".into(),
                    title: "a".into(),
                    url: None,
                    path: None,
                },
                WindowSegment {
                    offset: 20,
                    seconds: secs as u32 - 20,
                    app: "browser".into(),
                    title: "b".into(),
                    url: None,
                    path: None,
                },
            ],
            injected: Some("0".repeat(secs)),
            injected_counts: Some(Counts::default()),
            passive: None,
            presence: Vec::new(),
            events: vec![
                IntervalEvent {
                    offset: 5,
                    kind: crate::events::EventType::WindowOpen,
                },
                IntervalEvent {
                    offset: 50,
                    kind: crate::events::EventType::WindowSwitch,
                },
            ],
        }
    }

    #[test]
    fn a_trim_keeps_the_seconds_before_the_cut_and_their_share_of_the_counts() {
        let i = interval(1, at(9, 0, 0), 60, "t");
        let t = trim(i.clone(), at(9, 0, 25)).unwrap();
        assert_eq!(t.ended_at, at(9, 0, 25));
        assert_eq!(t.duration_secs(), 25);
        assert_eq!(t.active.len(), 25);
        assert_eq!(t.active_secs(), 25, "the first half was active");
        assert_eq!(t.injected.as_deref().map(str::len), Some(25));
        assert_eq!(
            t.windows
                .iter()
                .map(|s| (s.offset, s.seconds))
                .collect::<Vec<_>>(),
            [(0, 20), (20, 5)]
        );
        assert_eq!(t.events.len(), 1);
        // 100 × 25 / 60 = 41.67 → 41; 10 × 25 / 60 = 4.17 → 4; 7 × 25 / 60 = 2.9 → 2.
        assert_eq!((t.counts.keys, t.counts.clicks, t.counts.moves), (41, 4, 2));
        t.validate()
            .expect("a trimmed interval is still a valid interval");
        assert!(trim(i.clone(), at(9, 0, 0)).is_none(), "nothing left");
        assert_eq!(trim(i.clone(), at(9, 5, 0)), Some(i), "a cut past the end");
    }

    #[test]
    fn a_trim_cuts_the_presence_stretches_with_the_passive_flags() {
        let mut i = interval(1, at(9, 0, 0), 60, "t");
        // Passive over the idle second half: zoom until 0:45, then firefox.
        i.passive = Some("0".repeat(30) + &"1".repeat(30));
        i.presence = vec![
            crate::model::PresenceStretch {
                offset: 30,
                seconds: 15,
                held_by: "zoom".into(),
            },
            crate::model::PresenceStretch {
                offset: 45,
                seconds: 15,
                held_by: "firefox".into(),
            },
        ];
        i.validate().unwrap();
        let t = trim(i, at(9, 0, 40)).unwrap();
        t.validate()
            .expect("a trimmed interval is still a valid interval");
        assert_eq!(t.presence.len(), 1);
        assert_eq!((t.presence[0].offset, t.presence[0].seconds), (30, 10));
    }

    #[test]
    fn corrections_move_remove_and_trim_in_the_order_they_were_made() {
        let a = interval(1, at(9, 0, 0), 60, "design");
        let b = interval(2, at(9, 1, 0), 60, "design");
        let c = interval(3, at(9, 2, 0), 60, "design");
        let corrections = [
            Correction {
                interval_id: a.id,
                change: Change::Move {
                    task_id: "support".into(),
                },
            },
            Correction {
                interval_id: a.id,
                change: Change::Move {
                    task_id: "meetings".into(),
                },
            },
            Correction {
                interval_id: b.id,
                change: Change::Remove,
            },
            Correction {
                interval_id: c.id,
                change: Change::Trim {
                    until: at(9, 2, 30),
                },
            },
            // An interval not loaded: nothing happens.
            Correction {
                interval_id: Uuid::from_u128(42),
                change: Change::Remove,
            },
        ];
        let out = apply(vec![a, b, c], &corrections);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].task_id, "meetings", "the later move wins");
        assert_eq!(
            (out[1].task_id.as_str(), out[1].duration_secs()),
            ("design", 30)
        );
    }

    #[test]
    fn only_removals_and_trims_take_time_away() {
        assert!(Change::Remove.only_removes());
        assert!(Change::Trim { until: at(1, 0, 0) }.only_removes());
        assert!(!Change::Move {
            task_id: "x".into()
        }
        .only_removes());
    }
}
