//! The daily report's tests: figures of hand-made days, then properties over random ones.

use super::*;
use crate::model::{EndReason, WindowSegment};
use crate::report::rules::{PatternKind, Rule, RuleTarget};
use chrono::{Duration, TimeZone};
use rand::{rngs::StdRng, Rng, SeedableRng};
use uuid::Uuid;

fn rule(target: RuleTarget, kind: PatternKind, pattern: &str, class: Class) -> Rule {
    Rule {
        target,
        kind,
        pattern: pattern.into(),
        class,
    }
}

fn segment(offset: u32, seconds: u32, app: &str, title: &str, url: Option<&str>) -> WindowSegment {
    WindowSegment {
        offset,
        seconds,
        app: app.into(),
        title: title.into(),
        url: url.map(str::to_string),
        path: None,
    }
}

fn interval(
    task: &str,
    started_at: DateTime<Utc>,
    active: &str,
    counts: Counts,
    windows: Vec<WindowSegment>,
) -> Interval {
    Interval {
        id: Uuid::nil(),
        device_id: Uuid::nil(),
        task_id: task.into(),
        started_at,
        ended_at: started_at + Duration::seconds(active.len() as i64),
        utc_offset_minutes: 180,
        end_reason: EndReason::Boundary,
        active: active.into(),
        counts,
        counts_measured: true,
        injected: None,
        injected_counts: None,
        passive: None,
        presence: Vec::new(),
        events: Vec::new(),
        windows,
    }
}

fn counts(keys: u64, clicks: u64, scrolls: u64, moves: u64) -> Counts {
    Counts {
        keys,
        clicks,
        scrolls,
        moves,
    }
}

fn utc(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, h, m, s).unwrap()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn assert_classes_sum(report: &DailyReport) {
    assert_eq!(
        report.productive_secs + report.unproductive_secs + report.neutral_secs,
        report.tracked_secs
    );
    assert_eq!(report.idle_secs + report.active_secs, report.tracked_secs);
    assert!(report.active_secs <= report.tracked_secs);
}

#[test]
fn the_local_day_runs_from_local_midnight_to_local_midnight() {
    assert_eq!(
        local_day_bounds(day(), 180),
        Some((utc(0, 0, 0) - Duration::hours(3), utc(21, 0, 0)))
    );
    assert_eq!(
        local_day_bounds(day(), -300),
        Some((utc(5, 0, 0), utc(5, 0, 0) + Duration::days(1)))
    );
    assert_eq!(local_day_bounds(NaiveDate::MAX, 0), None);
    let far = daily_report(&[], NaiveDate::MAX, 0, &Classifier::empty());
    assert_eq!(far.tracked_secs, 0);
}

#[test]
fn intervals_are_clipped_at_local_midnight_in_their_own_offset() {
    // UTC+3: the local day 2026-11-23 is [2026-11-22 21:00Z, 2026-11-23 21:00Z).
    let evening = interval(
        "t",
        utc(20, 59, 56),
        "11110011",
        counts(0, 0, 0, 0),
        vec![segment(0, 8, "code", "a", None)],
    );
    let morning = interval(
        "t",
        utc(0, 0, 0) - Duration::hours(3) - Duration::seconds(2),
        "1101",
        counts(0, 0, 0, 0),
        vec![],
    );
    let outside = interval("t", utc(21, 0, 0), "1111", counts(0, 0, 0, 0), vec![]);
    let report = daily_report(
        &[evening, morning, outside],
        day(),
        180,
        &Classifier::empty(),
    );
    assert_eq!(
        report.tracked_secs,
        4 + 2,
        "4 s before midnight tonight, 2 s after midnight this morning"
    );
    assert_eq!(report.active_secs, 4 + 1);
    assert_eq!(
        report.first_activity,
        Some(utc(21, 0, 0) - Duration::days(1))
    );
    assert_eq!(report.last_activity, Some(utc(21, 0, 0)));
    assert_eq!(report.timeline.len(), 2);
    assert_eq!(
        report.timeline[0].started_at,
        utc(21, 0, 0) - Duration::days(1)
    );
    assert_eq!(
        report.timeline[0].ended_at,
        utc(21, 0, 0) - Duration::days(1) + Duration::seconds(2)
    );
    assert_eq!(report.timeline[1].ended_at, utc(21, 0, 0));
    assert_eq!(report.apps[0].tracked_secs, 4, "the segment is clipped too");
    assert_eq!(report.neutral_secs, 6);
    // The same evening tracked in UTC is a different day: all 8 s fall before midnight UTC,
    // whatever offset the report is asked in.
    let mut in_utc = interval("t", utc(20, 59, 56), "11110011", Counts::default(), vec![]);
    in_utc.utc_offset_minutes = 0;
    let utc_report = daily_report(&[in_utc], day(), 180, &Classifier::empty());
    assert_eq!(utc_report.tracked_secs, 8);
    assert_eq!(utc_report.utc_offset_minutes, 0, "the interval's offset");
}

#[test]
fn a_zone_change_within_the_day_is_listed_and_each_interval_cut_in_its_own_offset() {
    // 23:30 local in +01:00 (22:30Z) for 1 h: 30 min on the day, 30 min on the next; then
    // the clocks go to +02:00 and 22:00Z (00:00 local the next day) counts on the next day.
    let mut before = interval(
        "t",
        utc(22, 30, 0) - Duration::days(1),
        &"1".repeat(3600),
        Counts::default(),
        vec![],
    );
    before.utc_offset_minutes = 60;
    let mut after = interval(
        "t",
        utc(10, 0, 0),
        &"1".repeat(600),
        Counts::default(),
        vec![],
    );
    after.utc_offset_minutes = 120;
    let mut next_day = interval("t", utc(22, 0, 0), "1111", Counts::default(), vec![]);
    next_day.utc_offset_minutes = 120;
    let all = [before, after, next_day];
    let report = daily_report(&all, day(), 0, &Classifier::empty());
    assert_eq!(report.tracked_secs, 1800 + 600);
    assert_eq!(report.utc_offset_minutes, 120);
    assert_eq!(
        report.zone_changes,
        vec![ZoneChange {
            at: utc(10, 0, 0),
            from_minutes: 60,
            to_minutes: 120
        }]
    );
    assert_eq!(
        report.zone_changes[0].to_string(),
        "time zone changed: +01:00 -> +02:00"
    );
    let tomorrow = daily_report(&all, day().succ_opt().unwrap(), 0, &Classifier::empty());
    assert_eq!(
        tomorrow.tracked_secs, 4,
        "the next day starts at 22:00Z in +02:00"
    );
    assert!(tomorrow.zone_changes.is_empty());
}

/// A day with the intervals of `all` that may touch it, as the server loads them.
fn days_of(all: &[Interval], first: NaiveDate, days: u64) -> Vec<DailyReport> {
    (0..days)
        .map(|d| {
            let date = first + chrono::Days::new(d);
            daily_report(all, date, 0, &Classifier::empty())
        })
        .collect()
}

#[test]
fn every_second_falls_on_exactly_one_local_day_whatever_the_offsets() {
    let mut rng = StdRng::seed_from_u64(27);
    let first = NaiveDate::from_ymd_opt(2026, 3, 23).unwrap();
    let week_start = first.and_hms_opt(0, 0, 0).unwrap().and_utc();
    for case in 0..300 {
        // Non-overlapping intervals over ten days around a week, each in an offset drawn from
        // the whole range, or stepping like DST, or a traveller's, or a liar's.
        let mut offset: i32 = rng.random_range(-840..=840);
        let mut at =
            week_start - Duration::days(2) + Duration::seconds(rng.random_range(0..86_400));
        let mut all = Vec::new();
        while at < week_start + Duration::days(9) {
            let seconds = rng.random_range(1..=7_200usize);
            let mut i = interval("t", at, &"1".repeat(seconds), Counts::default(), vec![]);
            offset = match rng.random_range(0..10) {
                0 => rng.random_range(-840..=840),
                1 => (offset + 60).min(840),
                2 => (offset - 60).max(-840),
                _ => offset,
            };
            i.utc_offset_minutes = offset;
            all.push(i);
            at += Duration::seconds(seconds as i64 + rng.random_range(0..20_000));
        }
        // The stored seconds whose local time (in their own offset) is in the week.
        let (week_from, week_to) = (week_start, week_start + Duration::days(7));
        let expected: u64 = all
            .iter()
            .map(|i| {
                let shift = Duration::minutes(i64::from(i.utc_offset_minutes));
                let from = (i.started_at + shift).max(week_from);
                let to = (i.ended_at + shift).min(week_to);
                (to - from).num_seconds().max(0) as u64
            })
            .sum();
        let days = days_of(&all, first, 7);
        let summed: u64 = days.iter().map(|d| d.tracked_secs).sum();
        assert_eq!(
            summed, expected,
            "case {case}: the week's days add up to its seconds"
        );
        // Over a range that holds every interval, the days add up to every stored second.
        let all_days: u64 = days_of(&all, first - chrono::Days::new(4), 16)
            .iter()
            .map(|d| d.tracked_secs)
            .sum();
        let stored: u64 = all.iter().map(|i| i.duration_secs() as u64).sum();
        assert_eq!(
            all_days, stored,
            "case {case}: no second on two days or on none"
        );
        for d in &days {
            assert_eq!(d.active_secs + d.idle_secs + d.passive_secs, d.tracked_secs);
        }
    }
}

#[test]
fn counts_of_a_clipped_interval_are_prorated_and_floored() {
    // 10 s, 3 of them before local midnight (UTC+3) of the report's day.
    let start = utc(21, 0, 0) - Duration::days(1) - Duration::seconds(3);
    let crossing = interval("t", start, "1111111111", counts(10, 5, 1, 99), vec![]);
    let whole = interval("t", utc(9, 0, 0), "11", counts(3, 1, 1, 7), vec![]);
    let report = daily_report(&[crossing, whole], day(), 180, &Classifier::empty());
    assert_eq!(
        report.counts,
        counts(7 + 3, 3 + 1, 1, 69 + 7),
        "7/10 of 10, 5, 1, 99 floored, plus the whole interval"
    );
    assert_eq!(report.counts_measured_secs, 7 + 2);
}

#[test]
fn injected_seconds_and_counts_come_from_the_intervals_that_told_origins() {
    let told = Interval {
        injected: Some("0110".into()),
        injected_counts: Some(counts(0, 2, 0, 10)),
        ..interval("t", utc(9, 0, 0), "1111", counts(4, 2, 0, 20), vec![])
    };
    let untold = interval("t", utc(10, 0, 0), "11", counts(3, 1, 0, 7), vec![]);
    let report = daily_report(&[told, untold], day(), 180, &Classifier::empty());
    assert_eq!(report.tracked_secs, 6);
    assert_eq!(report.origin_measured_secs, 4);
    assert_eq!(report.injected_secs, 2);
    assert_eq!(report.injected_counts, counts(0, 2, 0, 10));
    // A day kept before origins were told reads as not measured.
    let mut json = serde_json::to_value(&report).unwrap();
    for key in ["origin_measured_secs", "injected_secs", "injected_counts"] {
        json.as_object_mut().unwrap().remove(key);
    }
    let old: DailyReport = serde_json::from_value(json).unwrap();
    assert_eq!((old.origin_measured_secs, old.injected_secs), (0, 0));
}

#[test]
fn passive_seconds_are_neither_active_nor_idle() {
    let call = Interval {
        passive: Some("0111100".into()),
        ..interval("t", utc(9, 0, 0), "1000001", Counts::default(), vec![])
    };
    let report = daily_report(&[call], day(), 180, &Classifier::empty());
    assert_eq!(
        (
            report.tracked_secs,
            report.active_secs,
            report.passive_secs,
            report.idle_secs
        ),
        (7, 2, 4, 1)
    );
    assert_eq!(report.activity_pct, 29, "activity measures input: 2 of 7");
    // Kept days from before passive presence read as none.
    let mut json = serde_json::to_value(&report).unwrap();
    json.as_object_mut().unwrap().remove("passive_secs");
    let old: DailyReport = serde_json::from_value(json).unwrap();
    assert_eq!(old.passive_secs, 0);
}

#[test]
fn the_devices_of_the_day_are_ranked_by_their_tracked_time() {
    let laptop = Uuid::from_u128(1);
    let desktop = Uuid::from_u128(2);
    let on = |device, at, active: &str| Interval {
        device_id: device,
        ..interval("t", at, active, Counts::default(), vec![])
    };
    let report = daily_report(
        &[
            on(laptop, utc(9, 0, 0), "11"),
            on(desktop, utc(10, 0, 0), "101"),
            on(laptop, utc(11, 0, 0), "1111"),
        ],
        day(),
        180,
        &Classifier::empty(),
    );
    let devices: Vec<_> = report
        .devices
        .iter()
        .map(|d| (d.device_id.as_str(), d.tracked_secs))
        .collect();
    assert_eq!(
        devices,
        [
            (laptop.to_string().as_str(), 6),
            (desktop.to_string().as_str(), 3)
        ]
    );
    // A day kept before devices were counted reads as none.
    let mut json = serde_json::to_value(&report).unwrap();
    json.as_object_mut().unwrap().remove("devices");
    let old: DailyReport = serde_json::from_value(json).unwrap();
    assert!(old.devices.is_empty());
}

#[test]
fn unmeasured_counts_stay_out_of_the_totals() {
    let counted = interval("t", utc(9, 0, 0), "11", counts(3, 1, 0, 7), vec![]);
    let wayland = Interval {
        counts_measured: false,
        ..interval("t", utc(10, 0, 0), "1101", Counts::default(), vec![])
    };
    let report = daily_report(
        &[counted, wayland.clone()],
        day(),
        180,
        &Classifier::empty(),
    );
    assert_eq!(report.tracked_secs, 6);
    assert_eq!(report.active_secs, 2 + 3, "activity is measured either way");
    assert_eq!(report.counts, counts(3, 1, 0, 7));
    assert_eq!(report.counts_measured_secs, 2);
    let only_wayland = daily_report(&[wayland], day(), 180, &Classifier::empty());
    assert_eq!(only_wayland.active_secs, 3);
    assert_eq!(
        only_wayland.counts_measured_secs, 0,
        "0 keys would be a lie: not measured"
    );
}

#[test]
fn away_time_is_the_untracked_gaps_between_first_and_last_activity() {
    let a = interval("t", utc(8, 0, 0), "1111", Counts::default(), vec![]);
    let b = interval("t", utc(8, 0, 4), "11", Counts::default(), vec![]);
    let c = interval("u", utc(8, 1, 0), "111", Counts::default(), vec![]);
    let report = daily_report(&[c, a, b], day(), 0, &Classifier::empty());
    assert_eq!(report.first_activity, Some(utc(8, 0, 0)));
    assert_eq!(report.last_activity, Some(utc(8, 1, 3)));
    assert_eq!(report.tracked_secs, 9);
    assert_eq!(report.away_secs, 63 - 9);
}

#[test]
fn the_three_classes_sum_to_tracked_time_even_with_uncovered_seconds() {
    let classifier = Classifier::new(&[
        rule(
            RuleTarget::App,
            PatternKind::Glob,
            "code",
            Class::Productive,
        ),
        rule(
            RuleTarget::Host,
            PatternKind::Glob,
            "youtube.com",
            Class::Unproductive,
        ),
    ])
    .unwrap();
    let i = interval(
        "t",
        utc(10, 0, 0),
        "1111100000",
        Counts::default(),
        vec![
            segment(1, 3, "code", "x", None),
            segment(5, 2, "firefox", "v", Some("https://youtube.com/watch")),
        ],
    );
    let report = daily_report(&[i], day(), 0, &classifier);
    assert_eq!(
        (
            report.productive_secs,
            report.unproductive_secs,
            report.neutral_secs
        ),
        (3, 2, 5)
    );
    assert_classes_sum(&report);
}

#[test]
fn the_per_second_class_uses_the_app_and_the_url_host() {
    let classifier = Classifier::new(&[
        rule(
            RuleTarget::App,
            PatternKind::Glob,
            "firefox",
            Class::Productive,
        ),
        rule(
            RuleTarget::Host,
            PatternKind::Glob,
            "youtube.com",
            Class::Unproductive,
        ),
    ])
    .unwrap();
    let i = interval(
        "t",
        utc(10, 0, 0),
        "111111",
        Counts::default(),
        vec![
            segment(0, 2, "firefox", "docs", Some("https://docs.rs/")),
            segment(2, 3, "Firefox", "cats", Some("https://YouTube.com/x")),
            segment(5, 1, "firefox", "cats", Some("youtube.com")),
        ],
    );
    let report = daily_report(&[i], day(), 0, &classifier);
    assert_eq!((report.productive_secs, report.unproductive_secs), (2, 4));
    assert_eq!(
        report.hosts[0],
        HostUsage {
            host: "youtube.com".into(),
            class: Class::Unproductive,
            tracked_secs: 4,
            active_secs: 4
        }
    );
    assert_eq!(
        report.hosts[1].class,
        Class::Neutral,
        "docs.rs has no host rule; the app rule doesn't apply to hosts"
    );
    assert!(
        report.apps.iter().all(|a| a.class == Class::Productive),
        "apps are classified by app rules alone"
    );
    assert_eq!(report.apps.len(), 2, "app names are grouped as recorded");
}

#[test]
fn malformed_intervals_are_counted_as_far_as_they_can_be() {
    let short_flags = interval(
        "t",
        utc(10, 0, 0),
        "11",
        Counts::default(),
        vec![segment(0, 2, "a", "", None)],
    );
    let short_flags = Interval {
        ended_at: utc(10, 0, 5),
        ..short_flags
    };
    let long_flags = Interval {
        ended_at: utc(10, 1, 2),
        ..interval("t", utc(10, 1, 0), "1x111", Counts::default(), vec![])
    };
    let wild_segments = interval(
        "t",
        utc(10, 2, 0),
        "1111",
        Counts::default(),
        vec![
            segment(2, 10, "late", "", None),
            segment(0, 3, "overlapping", "", None),
            segment(u32::MAX, u32::MAX, "beyond", "", None),
            segment(3, 0, "empty", "", None),
        ],
    );
    let backwards = Interval {
        ended_at: utc(9, 0, 0),
        ..interval("t", utc(10, 3, 0), "1", Counts::default(), vec![])
    };
    let report = daily_report(
        &[short_flags, long_flags, wild_segments, backwards],
        day(),
        0,
        &Classifier::empty(),
    );
    assert_eq!(report.tracked_secs, 5 + 2 + 4);
    assert_eq!(
        report.active_secs,
        2 + 1 + 4,
        "missing flags are idle, surplus flags ignored, 'x' is not '1'"
    );
    let app = |name: &str| {
        report
            .apps
            .iter()
            .find(|a| a.app == name)
            .map(|a| a.tracked_secs)
    };
    assert_eq!(app("late"), Some(2), "clipped to the interval's 4 s");
    assert_eq!(
        app("overlapping"),
        None,
        "its seconds were already counted and it lies before them"
    );
    assert_eq!(app("beyond"), None);
    assert_eq!(report.timeline.len(), 3);
    assert_classes_sum(&report);
}

#[test]
fn random_malformed_intervals_never_break_the_invariants() {
    let mut rng = StdRng::seed_from_u64(7);
    let classifier = Classifier::new(&[rule(
        RuleTarget::App,
        PatternKind::Glob,
        "a*",
        Class::Productive,
    )])
    .unwrap();
    for _ in 0..200 {
        let intervals: Vec<Interval> = (0..rng.random_range(0..6))
            .map(|_| {
                let start = utc(0, 0, 0) + Duration::seconds(rng.random_range(-200..86_600));
                let flags: String = (0..rng.random_range(0..40))
                    .map(|_| if rng.random_bool(0.5) { '1' } else { '0' })
                    .collect();
                let windows = (0..rng.random_range(0..4))
                    .map(|_| {
                        segment(
                            rng.random_range(0..40),
                            rng.random_range(0..40),
                            if rng.random_bool(0.5) { "ab" } else { "b" },
                            "",
                            None,
                        )
                    })
                    .collect();
                let mut i = interval(
                    "t",
                    start,
                    &flags,
                    counts(rng.random_range(0..100), 0, 0, 0),
                    windows,
                );
                i.ended_at = start + Duration::seconds(rng.random_range(-5..40));
                i
            })
            .collect();
        let report = daily_report(&intervals, day(), 0, &classifier);
        assert_classes_sum(&report);
        assert!(report.apps.iter().map(|a| a.tracked_secs).sum::<u64>() <= report.tracked_secs);
        assert_eq!(
            report.tasks.iter().map(|t| t.tracked_secs).sum::<u64>(),
            report.tracked_secs
        );
    }
}

#[test]
fn an_empty_day_reports_zeros_and_no_times() {
    let report = daily_report(&[], day(), 180, &Classifier::empty());
    assert_eq!(report, DailyReport::empty(day(), 180));
    assert_eq!((report.activity_pct, report.away_secs), (0, 0));
    assert_eq!(report.first_activity, None);
}

#[test]
fn intervals_in_any_order_give_the_same_report() {
    let (intervals, classifier) = worked_example();
    let mut reversed = intervals.clone();
    reversed.reverse();
    assert_eq!(
        daily_report(&intervals, day(), 180, &classifier),
        daily_report(&reversed, day(), 180, &classifier)
    );
}

#[test]
fn the_apps_and_hosts_lists_keep_the_top_fifty_and_the_figures_count_all() {
    let windows: Vec<WindowSegment> = (0..80)
        .map(|k| {
            segment(
                k,
                1,
                &format!("app {k}"),
                "",
                Some(&format!("https://h{k}.example/")),
            )
        })
        .collect();
    let i = interval(
        "t",
        utc(10, 0, 0),
        &"1".repeat(80),
        Counts::default(),
        windows,
    );
    let report = daily_report(&[i], day(), 0, &Classifier::empty());
    assert_eq!(
        (report.apps.len(), report.hosts.len()),
        (MAX_APPS, MAX_HOSTS)
    );
    assert_eq!(report.tracked_secs, 80);
    assert_eq!(report.neutral_secs, 80);
}

#[test]
fn withheld_titles_group_as_one_and_the_list_keeps_the_top_fifty() {
    let mut windows: Vec<WindowSegment> = (0..60)
        .map(|k| segment(k, 1, "editor", &format!("file {k}"), None))
        .collect();
    windows.push(segment(60, 2, "editor", "", None));
    windows.push(segment(62, 3, "editor", "", None));
    let i = interval(
        "t",
        utc(10, 0, 0),
        &"1".repeat(65),
        Counts::default(),
        windows,
    );
    let report = daily_report(&[i], day(), 0, &Classifier::empty());
    assert_eq!(report.titles.len(), MAX_TITLES);
    assert_eq!(
        report.titles[0],
        TitleUsage {
            app: "editor".into(),
            title: String::new(),
            tracked_secs: 5,
            active_secs: 5
        }
    );
    assert_eq!(report.titles[1].title, "file 0", "ties are broken by name");
}

#[test]
fn the_report_speaks_snake_case_json_and_round_trips() {
    let (intervals, classifier) = worked_example();
    let report = daily_report(&intervals, day(), 180, &classifier);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["date"], "2026-11-23");
    assert_eq!(json["first_activity"], "2026-11-23T20:59:00Z");
    assert_eq!(json["apps"][1]["class"], "productive");
    assert_eq!(serde_json::from_value::<DailyReport>(json).unwrap(), report);
    let parsed: Rule = serde_json::from_str(
        r#"{"target":"host","kind":"regex","pattern":"x","class":"unproductive"}"#,
    )
    .unwrap();
    assert_eq!(
        parsed,
        rule(
            RuleTarget::Host,
            PatternKind::Regex,
            "x",
            Class::Unproductive
        )
    );
}

/// The intervals and rules of docs/REPORTS.md, "Worked example". Local day 2026-11-23 at
/// UTC+3, i.e. [2026-11-22 21:00Z, 2026-11-23 21:00Z); local 23:59 is 20:59Z.
fn worked_example() -> (Vec<Interval>, Classifier) {
    let classifier = Classifier::new(&[
        rule(
            RuleTarget::App,
            PatternKind::Glob,
            "code*",
            Class::Productive,
        ),
        rule(
            RuleTarget::Host,
            PatternKind::Regex,
            r"(www\.)?youtube\.com",
            Class::Unproductive,
        ),
    ])
    .unwrap();
    let b = interval(
        "design",
        utc(20, 59, 0),
        "111111111100011",
        counts(30, 2, 1, 40),
        vec![
            segment(0, 10, "Code", "report.rs", None),
            segment(
                10,
                5,
                "Firefox",
                "std - Rust",
                Some("https://doc.rust-lang.org/std/"),
            ),
        ],
    );
    let c = interval(
        "support",
        utc(20, 59, 30),
        "100000000001",
        counts(0, 1, 3, 12),
        vec![segment(
            0,
            12,
            "Firefox",
            "Funny cats - YouTube",
            Some("https://www.YouTube.com/watch?v=x"),
        )],
    );
    let d = interval(
        "support",
        utc(20, 59, 42),
        "11000111",
        counts(5, 1, 0, 8),
        vec![
            segment(0, 4, "Slack", "", None),
            segment(4, 4, "Firefox", "", Some("youtube.com")),
        ],
    );
    let a = interval(
        "design",
        utc(20, 59, 50),
        "11011110111111100000",
        counts(25, 0, 0, 9),
        vec![segment(0, 20, "Code", "report.rs", None)],
    );
    (vec![a, c, b, d], classifier)
}

#[test]
fn a_kept_report_reclassified_under_new_rules_equals_one_computed_afresh() {
    let (intervals, old_rules) = worked_example();
    let (date, offset) = (day(), 180);
    let (mut kept, usage) = daily_report_with_usage(&intervals, date, offset, &old_rules);
    assert!(!usage.is_empty());
    let new_rules = Classifier::new(&[
        Rule {
            target: RuleTarget::Host,
            kind: PatternKind::Glob,
            pattern: "*youtube.com".into(),
            class: Class::Productive,
        },
        Rule {
            target: RuleTarget::App,
            kind: PatternKind::Glob,
            pattern: "code*".into(),
            class: Class::Unproductive,
        },
    ])
    .unwrap();
    reclassify(&mut kept, &usage, &new_rules);
    assert_eq!(kept, daily_report(&intervals, date, offset, &new_rules));
    assert_ne!(
        kept,
        daily_report(&intervals, date, offset, &old_rules),
        "the new rules changed something"
    );
}

#[test]
fn the_worked_example_in_docs_reports_md_holds() {
    let (intervals, classifier) = worked_example();
    let r = daily_report(&intervals, day(), 180, &classifier);
    assert_eq!(
        (r.tracked_secs, r.active_secs, r.idle_secs, r.activity_pct),
        (45, 27, 18, 60)
    );
    assert_eq!(
        (r.productive_secs, r.unproductive_secs, r.neutral_secs),
        (20, 16, 9)
    );
    assert_eq!(r.first_activity, Some(utc(20, 59, 0)));
    assert_eq!(r.last_activity, Some(utc(21, 0, 0)));
    assert_eq!(r.away_secs, 15);
    assert_eq!(r.counts, counts(47, 4, 4, 64));

    let tasks: Vec<_> = r
        .tasks
        .iter()
        .map(|t| {
            (
                t.task_id.as_str(),
                t.tracked_secs,
                t.active_secs,
                t.activity_pct,
            )
        })
        .collect();
    assert_eq!(tasks, [("design", 25, 20, 80), ("support", 20, 7, 35)]);
    let apps: Vec<_> = r
        .apps
        .iter()
        .map(|a| (a.app.as_str(), a.class, a.tracked_secs, a.active_secs))
        .collect();
    assert_eq!(
        apps,
        [
            ("Firefox", Class::Neutral, 21, 7),
            ("Code", Class::Productive, 20, 18),
            ("Slack", Class::Neutral, 4, 2)
        ]
    );
    let titles: Vec<_> = r
        .titles
        .iter()
        .map(|t| {
            (
                t.app.as_str(),
                t.title.as_str(),
                t.tracked_secs,
                t.active_secs,
            )
        })
        .collect();
    assert_eq!(
        titles,
        [
            ("Code", "report.rs", 20, 18),
            ("Firefox", "Funny cats - YouTube", 12, 2),
            ("Firefox", "std - Rust", 5, 2),
            ("Firefox", "", 4, 3),
            ("Slack", "", 4, 2),
        ]
    );
    let hosts: Vec<_> = r
        .hosts
        .iter()
        .map(|h| (h.host.as_str(), h.class, h.tracked_secs, h.active_secs))
        .collect();
    assert_eq!(
        hosts,
        [
            ("www.youtube.com", Class::Unproductive, 12, 2),
            ("doc.rust-lang.org", Class::Neutral, 5, 2),
            ("youtube.com", Class::Unproductive, 4, 3)
        ]
    );
    let timeline: Vec<_> = r
        .timeline
        .iter()
        .map(|t| {
            (
                t.started_at,
                t.ended_at,
                t.task_id.as_str(),
                t.tracked_secs,
                t.active_secs,
                t.activity_pct,
            )
        })
        .collect();
    assert_eq!(
        timeline,
        [
            (utc(20, 59, 0), utc(20, 59, 15), "design", 15, 12, 80),
            (utc(20, 59, 30), utc(20, 59, 42), "support", 12, 2, 17),
            (utc(20, 59, 42), utc(20, 59, 50), "support", 8, 5, 63),
            (utc(20, 59, 50), utc(21, 0, 0), "design", 10, 8, 80),
        ]
    );

    // The next local day gets the rest of the interval that crossed midnight.
    let next = daily_report(&intervals, day().succ_opt().unwrap(), 180, &classifier);
    assert_eq!(
        (next.tracked_secs, next.active_secs, next.productive_secs),
        (10, 5, 10)
    );
    assert_eq!(next.counts, counts(12, 0, 0, 4));

    // The doc's tables carry the same numbers: every row is printed from the report itself.
    let doc = include_str!("../../../../../docs/REPORTS.md");
    let local = |t: DateTime<Utc>| (t + Duration::minutes(180)).format("%H:%M:%S").to_string();
    let zulu = |t: DateTime<Utc>| t.format("%H:%M:%SZ").to_string();
    let class = |c: Class| {
        serde_json::to_value(c)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    };
    let (first, last) = (r.first_activity.unwrap(), r.last_activity.unwrap());
    let mut rows = vec![
        format!("| tracked | {} s |", r.tracked_secs),
        format!("| active | {} s |", r.active_secs),
        format!("| idle | {} s |", r.idle_secs),
        format!("| activity | {} % |", r.activity_pct),
        format!("| productive | {} s |", r.productive_secs),
        format!("| unproductive | {} s |", r.unproductive_secs),
        format!("| neutral | {} s |", r.neutral_secs),
        format!("| first activity | {} ({}) |", local(first), zulu(first)),
        format!("| last activity | {} ({}) |", local(last), zulu(last)),
        format!("| away | {} s |", r.away_secs),
        format!(
            "| keys / clicks / scrolls / moves | {} / {} / {} / {} |",
            r.counts.keys, r.counts.clicks, r.counts.scrolls, r.counts.moves
        ),
        format!(
            "gets the rest of A: {} s tracked, {} s active, {} s productive,\n{} keys and {} moves.",
            next.tracked_secs, next.active_secs, next.productive_secs, next.counts.keys, next.counts.moves
        ),
    ];
    rows.extend(r.tasks.iter().map(|t| {
        format!(
            "| {} | {} s | {} s | {} % |",
            t.task_id, t.tracked_secs, t.active_secs, t.activity_pct
        )
    }));
    rows.extend(r.apps.iter().map(|a| {
        format!(
            "| {} | {} | {} s | {} s |",
            a.app,
            class(a.class),
            a.tracked_secs,
            a.active_secs
        )
    }));
    rows.extend(r.titles.iter().map(|t| {
        let title = if t.title.is_empty() {
            "(withheld)"
        } else {
            &t.title
        };
        format!(
            "| {} | {} | {} s | {} s |",
            t.app, title, t.tracked_secs, t.active_secs
        )
    }));
    rows.extend(r.hosts.iter().map(|h| {
        format!(
            "| {} | {} | {} s | {} s |",
            h.host,
            class(h.class),
            h.tracked_secs,
            h.active_secs
        )
    }));
    rows.extend(r.timeline.iter().map(|t| {
        format!(
            "| {}-{} | {} | {} s | {} s | {} % |",
            local(t.started_at),
            local(t.ended_at),
            t.task_id,
            t.tracked_secs,
            t.active_secs,
            t.activity_pct
        )
    }));
    for row in rows {
        assert!(doc.contains(&row), "docs/REPORTS.md lacks `{row}`");
    }
}

#[test]
fn the_day_names_who_held_presence_largest_first() {
    let stretch = |offset, seconds, held_by: &str| crate::model::PresenceStretch {
        offset,
        seconds,
        held_by: held_by.into(),
    };
    let call = Interval {
        passive: Some("0111111".into()),
        presence: vec![stretch(1, 2, "firefox"), stretch(3, 4, "zoom")],
        ..interval("t", utc(9, 0, 0), "1000000", Counts::default(), vec![])
    };
    // An older client's passive seconds name nobody.
    let old = Interval {
        passive: Some("01".into()),
        ..interval("t", utc(10, 0, 0), "10", Counts::default(), vec![])
    };
    let video = Interval {
        passive: Some("0111".into()),
        presence: vec![stretch(1, 3, "firefox")],
        ..interval("t", utc(11, 0, 0), "1000", Counts::default(), vec![])
    };
    let report = daily_report(&[call, old, video], day(), 180, &Classifier::empty());
    let rows: Vec<(&str, u64)> = report
        .presence
        .iter()
        .map(|p| (p.held_by.as_str(), p.passive_secs))
        .collect();
    assert_eq!(rows, [("firefox", 5), ("zoom", 4), ("", 1)]);
    assert_eq!(report.passive_secs, 10);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["presence"][0]["held_by"], "firefox");
}

#[test]
fn a_kept_timeline_is_its_runs_of_a_task_with_the_same_seconds() {
    let at =
        |secs: i64| Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap() + Duration::seconds(secs);
    let none = counts(0, 0, 0, 0);
    let all = vec![
        interval("a", at(0), &"1".repeat(60), none, vec![]),
        interval("a", at(60), &"0".repeat(60), none, vec![]),
        interval("b", at(120), &"1".repeat(30), none, vec![]),
        // A gap, then task b again: a run of its own.
        interval("b", at(200), &"1".repeat(10), none, vec![]),
    ];
    let mut report = daily_report(&all, day(), 0, &Classifier::empty());
    assert_eq!(report.timeline.len(), 4);
    let before: (u64, u64) = report
        .timeline
        .iter()
        .fold((0, 0), |(t, a), e| (t + e.tracked_secs, a + e.active_secs));
    report.merge_timeline_runs();
    let runs: Vec<(&str, i64, i64, u64, u64, u32)> = report
        .timeline
        .iter()
        .map(|e| {
            let offset = |t: DateTime<Utc>| (t - at(0)).num_seconds();
            (
                e.task_id.as_str(),
                offset(e.started_at),
                offset(e.ended_at),
                e.tracked_secs,
                e.active_secs,
                e.activity_pct,
            )
        })
        .collect();
    assert_eq!(
        runs,
        vec![
            ("a", 0, 120, 120, 60, 50),
            ("b", 120, 150, 30, 30, 100),
            ("b", 200, 210, 10, 10, 100)
        ]
    );
    let after = report
        .timeline
        .iter()
        .fold((0, 0), |(t, a), e| (t + e.tracked_secs, a + e.active_secs));
    assert_eq!(after, before);
}
