//! Time away: what an idle or a sleep stop leaves for the person to decide when they come back.
//!
//! An idle stop comes 300 s after the last input, so the session's last intervals hold those
//! idle seconds as tracked time; a sleep stop may follow idle seconds too. [`Tail`] keeps the
//! session's closed intervals since the last second anyone was there (input, or passive
//! presence under an idle inhibitor), and [`Tail::away`] says when the person left and which
//! [`Correction`]s take the time since then out of tracked time: whole intervals removed, the
//! one the person left in trimmed. The app sends those corrections for every answer ("Discard"
//! is the default); "Keep" adds a manual entry from `left_at` to the return on top, so the
//! stretch counts as manual time (never in activity %) instead of idle seconds.

use chrono::{DateTime, Duration, Utc};

use super::corrections::{Change, Correction};
use crate::model::Interval;

/// Why tracking stopped while the person was away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AwayCause {
    Idle,
    Sleep,
}

/// The session's closed intervals since its last second with someone there.
#[derive(Debug, Clone, Default)]
pub struct Tail {
    intervals: Vec<Interval>,
}

/// The last second of `interval` with input or passive presence, from its start.
fn last_present(interval: &Interval) -> Option<usize> {
    let active = interval.active.rfind('1');
    let passive = interval.passive.as_deref().and_then(|p| p.rfind('1'));
    active.max(passive)
}

impl Tail {
    /// A new session: nothing before it is the person's absence.
    pub fn clear(&mut self) {
        self.intervals.clear();
    }

    /// An interval of the session closed. One with someone there starts the tail over, so it
    /// holds at most the idle limit's worth of intervals (and the one before).
    pub fn push(&mut self, interval: &Interval) {
        if last_present(interval).is_some() {
            self.intervals.clear();
        }
        self.intervals.push(interval.clone());
    }

    /// When the person left and what takes the time since out of tracked time; `None` when the
    /// session closed nothing.
    pub fn away(&self, cause: AwayCause) -> Option<Away> {
        let first = self.intervals.first()?;
        let last = self.intervals.last()?;
        // A session that never saw anyone was left at its start.
        let left_at = match last_present(first) {
            Some(second) => first.started_at + Duration::seconds(second as i64 + 1),
            None => first.started_at,
        };
        let cuts = self
            .intervals
            .iter()
            .filter(|i| i.ended_at > left_at)
            .map(|i| Cut {
                interval_started_at: i.started_at,
                correction: Correction {
                    interval_id: i.id,
                    change: if i.started_at >= left_at {
                        Change::Remove
                    } else {
                        Change::Trim { until: left_at }
                    },
                },
            })
            .collect();
        Some(Away {
            cause,
            task_id: last.task_id.clone(),
            left_at,
            stopped_at: last.ended_at,
            cuts,
        })
    }
}

/// A stop while the person was away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Away {
    pub cause: AwayCause,
    /// The task tracked when tracking stopped.
    pub task_id: String,
    /// The end of the last second with someone there.
    pub left_at: DateTime<Utc>,
    /// Where tracking stopped (the end of the last interval).
    pub stopped_at: DateTime<Utc>,
    /// One per interval with tracked seconds after `left_at`, oldest first: they take those
    /// seconds out of tracked time.
    pub cuts: Vec<Cut>,
}

/// A correction of the away time, with the start of its interval (where the server files it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    pub correction: Correction,
    pub interval_started_at: DateTime<Utc>,
}

impl Away {
    /// Tracked seconds after the person left (what "Discard" takes away).
    pub fn tracked_away_secs(&self) -> i64 {
        (self.stopped_at - self.left_at).num_seconds().max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Counts, EndReason};
    use uuid::Uuid;

    fn interval(start: i64, active: &str, passive: Option<&str>) -> Interval {
        let at = |s: i64| DateTime::from_timestamp(1_780_000_000 + s, 0).unwrap();
        Interval {
            id: Uuid::now_v7(),
            device_id: Uuid::nil(),
            task_id: "t".into(),
            started_at: at(start),
            ended_at: at(start + active.len() as i64),
            utc_offset_minutes: 0,
            end_reason: EndReason::Boundary,
            active: active.into(),
            counts: Counts::default(),
            counts_measured: true,
            windows: vec![],
            injected: None,
            injected_counts: None,
            passive: passive.map(str::to_string),
            presence: Vec::new(),
            events: vec![],
        }
    }

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + s, 0).unwrap()
    }

    #[test]
    fn the_idle_tail_is_trimmed_where_input_ended_and_removed_after() {
        let mut tail = Tail::default();
        // Work, then input until second 3 of the third interval, then idle to the stop.
        let a = interval(0, "1111", None);
        let b = interval(4, "0110", None);
        let c = interval(8, "00100000", None);
        let d = interval(16, "000000", None);
        let e = interval(22, "0000", None);
        for i in [&a, &b, &c, &d, &e] {
            tail.push(i);
        }
        let away = tail.away(AwayCause::Idle).unwrap();
        assert_eq!(away.left_at, t(11));
        assert_eq!(away.stopped_at, t(26));
        assert_eq!(away.tracked_away_secs(), 15);
        assert_eq!(away.task_id, "t");
        assert_eq!(
            away.cuts
                .iter()
                .map(|c| c.correction.clone())
                .collect::<Vec<_>>(),
            vec![
                Correction {
                    interval_id: c.id,
                    change: Change::Trim { until: t(11) }
                },
                Correction {
                    interval_id: d.id,
                    change: Change::Remove
                },
                Correction {
                    interval_id: e.id,
                    change: Change::Remove
                },
            ]
        );
    }

    #[test]
    fn passive_presence_counts_as_there_and_input_to_the_last_second_cuts_nothing() {
        let mut tail = Tail::default();
        tail.push(&interval(0, "1000", Some("0110")));
        tail.push(&interval(4, "0000", None));
        let away = tail.away(AwayCause::Idle).unwrap();
        assert_eq!(away.left_at, t(3));
        assert_eq!(away.cuts.len(), 2);
        // A sleep right after typing: nothing tracked to take away.
        let mut tail = Tail::default();
        tail.push(&interval(0, "0001", None));
        let away = tail.away(AwayCause::Sleep).unwrap();
        assert_eq!((away.left_at, away.tracked_away_secs()), (t(4), 0));
        assert!(away.cuts.is_empty());
    }

    #[test]
    fn a_session_without_input_was_left_at_its_start_and_a_new_one_forgets_the_old() {
        let mut tail = Tail::default();
        assert!(tail.away(AwayCause::Idle).is_none());
        let a = interval(0, "000", None);
        tail.push(&a);
        tail.push(&interval(3, "000", None));
        let away = tail.away(AwayCause::Idle).unwrap();
        assert_eq!(away.left_at, t(0));
        assert_eq!(away.cuts[0].correction.change, Change::Remove);
        assert_eq!(away.cuts[0].interval_started_at, a.started_at);
        tail.clear();
        assert!(tail.away(AwayCause::Sleep).is_none());
    }
}
