//! A running day fed a day's intervals in any order, in any number of reads and with some
//! received twice, gives what the day computed at once gives: random days, seeded.

use super::*;
use crate::model::{Counts, EndReason, PresenceStretch, WindowSegment};
use crate::report::{assess, daily_report_with_usage, zone_mismatch, Classifier};
use chrono::{Duration, TimeZone};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

const APPS: [(&str, &str, Option<&str>); 5] = [
    ("code", "main.rs", None),
    ("code", "lib.rs", None),
    ("firefox", "Docs", Some("https://docs.rs/chrono")),
    ("firefox", "Video", Some("https://youtube.com/watch")),
    ("slack", "general", None),
];

/// Seconds of `n` flags, each '1' with probability `p`.
fn flags(rng: &mut StdRng, n: usize, p: f64) -> String {
    (0..n)
        .map(|_| if rng.random_bool(p) { '1' } else { '0' })
        .collect()
}

/// A person's day: intervals of 20-180 s back to back in stretches of a kind (typing, a
/// jiggler, a call, idle), with gaps, a second device, an offset that changes, and the first
/// and last stretches across the local midnights.
fn random_day(rng: &mut StdRng, devices: [Uuid; 2]) -> Vec<Interval> {
    let offset = [0, 60, -300, 330][rng.random_range(0..4)];
    let midnight = Utc.from_utc_datetime(&date().and_hms_opt(0, 0, 0).unwrap())
        - Duration::minutes(i64::from(offset));
    let mut at = midnight - Duration::minutes(rng.random_range(0..90));
    let end = midnight + Duration::hours(24) + Duration::minutes(rng.random_range(0..90));
    let mut intervals = Vec::new();
    while at < end {
        let kind = rng.random_range(0..5);
        let (p_active, keys, moves, injected, passive) = match kind {
            0 => (0.7, 120, 400, false, false),
            1 => (1.0, 0, 300, true, false),
            2 => (0.0, 0, 0, false, true),
            3 => (0.05, 3, 20, false, false),
            _ => (0.98, 1, 500, rng.random_bool(0.5), false),
        };
        let app = APPS[rng.random_range(0..APPS.len())];
        let device = devices[usize::from(rng.random_bool(0.2))];
        let this_offset = if rng.random_bool(0.05) {
            offset + 60
        } else {
            offset
        };
        for _ in 0..rng.random_range(1..40) {
            let seconds: u32 = rng.random_range(20..=180);
            let n = seconds as usize;
            let split = rng.random_range(0..=seconds);
            let other = APPS[rng.random_range(0..APPS.len())];
            let segment =
                |offset: u32, seconds: u32, (app, title, url): (&str, &str, Option<&str>)| {
                    WindowSegment {
                        offset,
                        seconds,
                        app: app.into(),
                        title: title.into(),
                        url: url.map(str::to_string),
                        path: None,
                    }
                };
            let windows = if kind == 2 || rng.random_bool(0.7) {
                vec![segment(0, seconds, app)]
            } else {
                vec![
                    segment(0, split, app),
                    segment(split, seconds - split, other),
                ]
            };
            let passive_flags = passive.then(|| "1".repeat(n));
            intervals.push(Interval {
                id: Uuid::from_u128(rng.random()),
                device_id: device,
                task_id: ["t1", "t2"][rng.random_range(0..2)].into(),
                started_at: at,
                ended_at: at + Duration::seconds(i64::from(seconds)),
                utc_offset_minutes: this_offset,
                end_reason: EndReason::Boundary,
                active: flags(rng, n, p_active),
                counts: Counts {
                    keys: rng.random_range(0..=keys),
                    clicks: 0,
                    scrolls: 0,
                    moves: rng.random_range(0..=moves),
                },
                counts_measured: rng.random_bool(0.9),
                windows,
                injected: injected.then(|| flags(rng, n, 0.5)),
                injected_counts: injected.then(Counts::default),
                passive: passive_flags,
                presence: if passive {
                    vec![PresenceStretch {
                        offset: 0,
                        seconds: split.max(1),
                        held_by: ["zoom", "firefox"][rng.random_range(0..2)].into(),
                    }]
                } else {
                    Vec::new()
                },
                events: Vec::new(),
            });
            at += Duration::seconds(i64::from(seconds));
        }
        if rng.random_bool(0.5) {
            at += Duration::seconds(rng.random_range(1..3600));
        }
    }
    intervals
}

/// Thresholds low enough for random days to trip them.
fn thresholds(rng: &mut StdRng) -> Thresholds {
    Thresholds {
        high_activity_pct: rng.random_range(80..=100),
        high_activity_minutes: rng.random_range(2..=20),
        steady_spread_pct: rng.random_range(0..=10),
        steady_minutes: rng.random_range(2..=10),
        mouse_only_max_keys_per_minute: rng.random_range(0..=3),
        mouse_only_minutes: rng.random_range(2..=10),
        same_window_minutes: rng.random_range(2..=30),
        injected_min_secs: rng.random_range(1..=100),
        long_passive_minutes: rng.random_range(2..=20),
    }
}

/// What the day computed at once says, as a running day's figures.
fn computed_at_once(
    intervals: &[Interval],
    thresholds: &Thresholds,
    expected: &impl Fn(&Uuid, DateTime<Utc>) -> Option<i32>,
) -> TeamFigures {
    let (report, usage) = daily_report_with_usage(intervals, date(), 0, &Classifier::empty());
    let unusual = assess(intervals, date(), 0, thresholds);
    let mut kinds: Vec<FlagKind> = unusual.flags.iter().map(|f| f.kind).collect();
    if let Some(flag) = zone_mismatch(intervals, date(), |i| expected(&i.device_id, i.started_at)) {
        kinds.push(flag.kind);
    }
    TeamFigures {
        utc_offset_minutes: (report.tracked_secs > 0).then_some(report.utc_offset_minutes),
        tracked_secs: report.tracked_secs,
        active_secs: report.active_secs,
        idle_secs: report.idle_secs,
        passive_secs: report.passive_secs,
        activity_pct: report.activity_pct,
        first_activity: report.first_activity,
        last_activity: report.last_activity,
        devices: report.devices,
        unusual: kinds,
        injected_pct: unusual.injected_pct,
        usage,
    }
}

#[test]
fn a_running_day_fed_in_any_order_and_any_reads_is_the_day_computed_at_once() {
    let mut rng = StdRng::seed_from_u64(30);
    let devices = [Uuid::from_u128(1), Uuid::from_u128(2)];
    // The first device's zone is UTC+01:00; the second never said.
    let expected = |device: &Uuid, _: DateTime<Utc>| (*device == devices[0]).then_some(60);
    let mut flagged = std::collections::BTreeSet::new();
    for _ in 0..60 {
        let intervals = random_day(&mut rng, devices);
        let thresholds = thresholds(&mut rng);
        let want = computed_at_once(&intervals, &thresholds, &expected);
        flagged.extend(want.unusual.iter().copied());

        let mut arriving = intervals.clone();
        arriving.shuffle(&mut rng);
        let mut running = RunningDay::new(date()).unwrap();
        let mut reads = Vec::new();
        for chunk in arriving.chunks(rng.random_range(1..=arriving.len().max(1))) {
            for interval in chunk {
                running.add(interval);
            }
            // A read between deliveries, and some of them delivered again.
            reads.push(running.figures(&thresholds, expected));
            for interval in chunk.iter().filter(|_| rng.random_bool(0.3)) {
                assert!(
                    !running.add(interval),
                    "an interval received again is not added"
                );
            }
        }
        assert_eq!(running.figures(&thresholds, expected), want);
        // Reading changes nothing: a read then is the read now.
        assert_eq!(running.figures(&thresholds, expected), want);
        assert!(!reads.is_empty());
    }
    // The random days trip every rule somewhere, so every rule's minutes were compared.
    assert_eq!(flagged.len(), 7, "flags tripped: {flagged:?}");
}

#[test]
fn an_interval_with_no_second_in_the_day_adds_nothing() {
    let mut rng = StdRng::seed_from_u64(7);
    let devices = [Uuid::from_u128(1), Uuid::from_u128(2)];
    // The same kind of day two days before.
    let mut before = random_day(&mut rng, devices);
    for interval in &mut before {
        interval.started_at -= Duration::days(2);
        interval.ended_at -= Duration::days(2);
    }
    assert!(!before.is_empty());
    let mut running = RunningDay::new(date()).unwrap();
    for interval in &before {
        assert!(!running.add(interval));
    }
    assert!(running.is_empty());
    let figures = running.figures(&Thresholds::default(), |_, _| Some(0));
    assert_eq!(
        (figures.tracked_secs, figures.utc_offset_minutes),
        (0, None)
    );
    assert!(figures.unusual.is_empty());
}
