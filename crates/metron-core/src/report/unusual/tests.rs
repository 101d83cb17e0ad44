//! Unusual-activity tests: each flag on a day made to show it, and none on ordinary days.

use super::*;
use crate::model::{Counts, EndReason, WindowSegment};
use chrono::TimeZone;
use uuid::Uuid;

/// One synthetic minute: `active` seconds with input (the first ones), `keys` and `moves`
/// in it, the window in front, and `injected` seconds of the active ones from a program.
#[derive(Clone)]
struct Spec {
    active: usize,
    keys: u64,
    moves: u64,
    window: (&'static str, &'static str),
    injected: Option<usize>,
}

fn typing(active: usize) -> Spec {
    Spec {
        active,
        keys: 40,
        moves: 200,
        window: ("code", "main.rs"),
        injected: Some(0),
    }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap()
}

/// Minute-long intervals from `start`, one per spec, back to back (an interval is 60 s
/// here; the engine draws its length at random, which the minutes don't depend on).
fn minutes(start: DateTime<Utc>, specs: impl IntoIterator<Item = Spec>) -> Vec<Interval> {
    specs
        .into_iter()
        .enumerate()
        .map(|(i, spec)| {
            let started_at = start + Duration::minutes(i as i64);
            let flags = |n: usize| "1".repeat(n) + &"0".repeat(60 - n);
            Interval {
                id: Uuid::nil(),
                device_id: Uuid::nil(),
                task_id: "t".into(),
                started_at,
                ended_at: started_at + Duration::seconds(60),
                utc_offset_minutes: 0,
                end_reason: EndReason::Boundary,
                active: flags(spec.active),
                counts: Counts {
                    keys: spec.keys,
                    clicks: 0,
                    scrolls: 0,
                    moves: spec.moves,
                },
                counts_measured: true,
                windows: vec![WindowSegment {
                    offset: 0,
                    seconds: 60,
                    app: spec.window.0.into(),
                    title: spec.window.1.into(),
                    url: None,
                    path: None,
                }],
                injected: spec.injected.map(flags),
                injected_counts: spec.injected.map(|_| Counts::default()),
                passive: None,
                presence: Vec::new(),
                events: Vec::new(),
            }
        })
        .collect()
}

fn kinds(unusual: &Unusual) -> Vec<FlagKind> {
    unusual.flags.iter().map(|f| f.kind).collect()
}

fn assess_default(intervals: &[Interval]) -> Unusual {
    assess(intervals, day(), 0, &Thresholds::default())
}

/// An ordinary working morning: activity between 20 and 85 %, typing most minutes, a new
/// window every few minutes.
fn human_morning() -> Vec<Interval> {
    let windows = [
        ("code", "main.rs"),
        ("firefox", "docs"),
        ("code", "lib.rs"),
        ("slack", "team"),
    ];
    minutes(
        at(9, 0),
        (0..180).map(|i| Spec {
            active: [12, 51, 30, 44, 25, 38, 49][i % 7],
            keys: [0, 80, 35, 5, 60, 20][i % 6],
            moves: 150,
            window: windows[(i / 7) % windows.len()],
            injected: Some(0),
        }),
    )
}

#[test]
fn an_ordinary_day_trips_nothing() {
    let unusual = assess_default(&human_morning());
    assert_eq!(kinds(&unusual), vec![]);
    assert_eq!(unusual.injected_pct, Some(0));
    assert_eq!(unusual.thresholds, Thresholds::default());
}

#[test]
fn near_constant_input_without_a_break_trips_high_activity() {
    // 58 of 60 s active (97 %) for 50 minutes.
    let mut specs = vec![typing(58); 50];
    for (i, s) in specs.iter_mut().enumerate() {
        s.window = [("code", "a"), ("code", "b"), ("term", "c")][i % 3];
        s.active = 57 + i % 3;
    }
    let unusual = assess_default(&minutes(at(10, 0), specs));
    assert_eq!(kinds(&unusual), vec![FlagKind::HighActivity]);
    let span = &unusual.flags[0].spans[0];
    assert_eq!((span.started_at, span.ended_at), (at(10, 0), at(10, 50)));
    assert_eq!(span.tracked_secs, 3000);
    assert_eq!(span.activity_pct, 97);
    assert_eq!((span.min_minute_pct, span.max_minute_pct), (95, 98));
    assert_eq!(span.keys, Some(40 * 50));
    assert_eq!(
        unusual.flags[0].rule,
        "at least 95 % activity for 45 min without a break"
    );
}

#[test]
fn high_activity_needs_the_share_and_the_length_and_no_break() {
    // Around `mean` seconds a minute, 5 s apart at most: not steady.
    let varied = |mean: usize, n: usize| {
        (0..n)
            .map(|i| Spec {
                window: [("code", "a"), ("term", "b")][i % 2],
                ..typing(mean + [0, 2, 1, 0, 0][i % 5] - [0, 0, 0, 3, 0][i % 5])
            })
            .collect::<Vec<_>>()
    };
    // 93 %: below the share.
    assert_eq!(
        kinds(&assess_default(&minutes(at(10, 0), varied(56, 60)))),
        vec![]
    );
    // 44 minutes: too short.
    assert_eq!(
        kinds(&assess_default(&minutes(at(10, 0), varied(58, 44)))),
        vec![]
    );
    // 40 + 40 minutes with a 10-second gap between them: a break.
    let mut both = minutes(at(10, 0), varied(58, 40));
    let mut after = minutes(at(10, 40), varied(58, 40));
    after[0].started_at += Duration::seconds(10);
    after[0].active.truncate(50);
    both.append(&mut after);
    assert_eq!(kinds(&assess_default(&both)), vec![]);
    // The same 93 % under a 90 % threshold is flagged.
    let lower = Thresholds {
        high_activity_pct: 90,
        ..Thresholds::default()
    };
    let unusual = assess(&minutes(at(10, 0), varied(56, 60)), day(), 0, &lower);
    assert_eq!(kinds(&unusual), vec![FlagKind::HighActivity]);
    assert_eq!(unusual.thresholds.high_activity_pct, 90);
}

#[test]
fn the_same_activity_every_minute_for_an_hour_trips_steady_activity() {
    // A jiggler's rhythm: 30 or 32 s of every minute (3.3 points apart), for 70 minutes.
    let specs: Vec<Spec> = (0..70)
        .map(|i| Spec {
            window: [("code", "a"), ("term", "b")][i % 2],
            ..typing(30 + 2 * (i % 2))
        })
        .collect();
    let unusual = assess_default(&minutes(at(13, 0), specs));
    assert_eq!(kinds(&unusual), vec![FlagKind::SteadyActivity]);
    let span = &unusual.flags[0].spans[0];
    assert_eq!((span.started_at, span.ended_at), (at(13, 0), at(14, 10)));
    assert_eq!((span.min_minute_pct, span.max_minute_pct), (50, 53));
    // 30 or 33 s: 5 points apart, more than 4.
    let specs: Vec<Spec> = (0..70)
        .map(|i| Spec {
            window: [("code", "a"), ("term", "b")][i % 2],
            ..typing(30 + 3 * (i % 2))
        })
        .collect();
    assert_eq!(kinds(&assess_default(&minutes(at(13, 0), specs))), vec![]);
}

#[test]
fn steady_activity_is_found_inside_a_longer_varied_stretch() {
    // 20 varied minutes, then 65 steady ones, then 20 varied: the span is the steady part.
    let varied = |i: usize| Spec {
        window: [("code", "a"), ("term", "b")][i % 2],
        ..typing([10, 40, 25][i % 3])
    };
    let specs: Vec<Spec> = (0..20)
        .map(varied)
        .chain((0..65).map(|i| Spec {
            window: [("code", "a"), ("term", "b")][i % 2],
            ..typing(20)
        }))
        .chain((0..20).map(varied))
        .collect();
    let unusual = assess_default(&minutes(at(8, 0), specs));
    assert_eq!(kinds(&unusual), vec![FlagKind::SteadyActivity]);
    let spans = &unusual.flags[0].spans;
    assert_eq!(spans.len(), 1);
    // The 65 steady minutes; a neighbour at 25 s is 8 points away, at 10 s 17.
    assert_eq!(
        (spans[0].started_at, spans[0].ended_at),
        (at(8, 20), at(9, 25))
    );
}

#[test]
fn mouse_moves_with_almost_no_typing_trip_mouse_only() {
    let mouse = |keys: u64, n: usize| {
        (0..n)
            .map(|i| Spec {
                keys,
                moves: 300,
                window: [("firefox", "a"), ("files", "b")][i % 2],
                ..typing([20, 45, 33][i % 3])
            })
            .collect::<Vec<_>>()
    };
    let unusual = assess_default(&minutes(at(15, 0), mouse(2, 35)));
    assert_eq!(kinds(&unusual), vec![FlagKind::MouseOnly]);
    let span = &unusual.flags[0].spans[0];
    assert_eq!((span.keys, span.moves), (Some(70), Some(300 * 35)));
    // Typing a few words a minute, or only 29 minutes of it: nothing.
    assert_eq!(
        kinds(&assess_default(&minutes(at(15, 0), mouse(10, 35)))),
        vec![]
    );
    assert_eq!(
        kinds(&assess_default(&minutes(at(15, 0), mouse(0, 29)))),
        vec![]
    );
    // Uncounted input (Wayland) can't be judged.
    let mut uncounted = minutes(at(15, 0), mouse(0, 35));
    for i in &mut uncounted {
        i.counts_measured = false;
    }
    assert_eq!(kinds(&assess_default(&uncounted)), vec![]);
}

#[test]
fn one_window_with_input_for_half_an_hour_trips_same_window() {
    let specs: Vec<Spec> = (0..31)
        .map(|i| Spec {
            window: ("libreoffice", "report.odt"),
            ..typing([20, 45, 33][i % 3])
        })
        .collect();
    let unusual = assess_default(&minutes(at(11, 0), specs.clone()));
    assert_eq!(kinds(&unusual), vec![FlagKind::SameWindow]);
    let span = &unusual.flags[0].spans[0];
    assert_eq!(span.app.as_deref(), Some("libreoffice"));
    assert_eq!(span.title.as_deref(), Some("report.odt"));
    assert_eq!((span.started_at, span.ended_at), (at(11, 0), at(11, 31)));
    // A title change halfway, or a minute without input: nothing.
    let mut retitled = specs.clone();
    retitled[15].window = ("libreoffice", "report (2).odt");
    assert_eq!(
        kinds(&assess_default(&minutes(at(11, 0), retitled))),
        vec![]
    );
    let mut paused = specs;
    paused[15].active = 0;
    assert_eq!(kinds(&assess_default(&minutes(at(11, 0), paused))), vec![]);
    // A second switch inside a minute breaks it too.
    let mut switched = minutes(
        at(11, 0),
        (0..31).map(|i| Spec {
            window: ("libreoffice", "report.odt"),
            ..typing([20, 45, 33][i % 3])
        }),
    );
    switched[10].windows[0].seconds = 30;
    switched[10].windows.push(WindowSegment {
        offset: 30,
        seconds: 30,
        app: "slack".into(),
        title: "team".into(),
        url: None,
        path: None,
    });
    assert_eq!(kinds(&assess_default(&switched)), vec![]);
}

#[test]
fn any_injected_input_trips_injected_input_with_its_minutes() {
    let mut day_ = human_morning();
    // 5 injected seconds at 09:30 and 3 at 09:31, 9 at 11:00.
    day_[30].injected = Some("1".repeat(5) + &"0".repeat(55));
    day_[31].injected = Some("1".repeat(3) + &"0".repeat(57));
    day_[120].injected = Some("1".repeat(9) + &"0".repeat(51));
    let unusual = assess_default(&day_);
    assert_eq!(kinds(&unusual), vec![FlagKind::InjectedInput]);
    let spans = &unusual.flags[0].spans;
    assert_eq!(spans.len(), 2);
    assert_eq!(
        (spans[0].started_at, spans[0].ended_at),
        (at(9, 30), at(9, 32))
    );
    assert_eq!(spans[0].injected_secs, 8);
    assert_eq!(spans[1].injected_secs, 9);
    let active: u64 = day_.iter().map(|i| u64::from(i.active_secs())).sum();
    assert_eq!(
        unusual.injected_pct,
        Some(super::super::day::percent(17, active))
    );
    // Under a threshold of 20 s, 17 s are not flagged; the share is still given.
    let lenient = Thresholds {
        injected_min_secs: 20,
        ..Thresholds::default()
    };
    let unusual = assess(&day_, day(), 0, &lenient);
    assert_eq!(kinds(&unusual), vec![]);
    assert!(unusual.injected_pct.is_some());
}

#[test]
fn days_without_origins_have_no_injected_share() {
    let mut day_ = human_morning();
    for i in &mut day_ {
        i.injected = None;
        i.injected_counts = None;
    }
    let unusual = assess_default(&day_);
    assert_eq!(unusual.injected_pct, None);
    assert_eq!(kinds(&unusual), vec![]);
}

#[test]
fn a_jiggler_day_trips_every_rule_it_should() {
    // XTEST moves every 30 s in one window for 90 minutes: steady, mouse only, same window
    // and injected; its 2 s a minute are far from high activity.
    let specs: Vec<Spec> = (0..90)
        .map(|_| Spec {
            active: 2,
            keys: 0,
            moves: 2,
            window: ("firefox", "news"),
            injected: Some(2),
        })
        .collect();
    let unusual = assess_default(&minutes(at(14, 0), specs));
    assert_eq!(
        kinds(&unusual),
        vec![
            FlagKind::SteadyActivity,
            FlagKind::MouseOnly,
            FlagKind::SameWindow,
            FlagKind::InjectedInput
        ]
    );
    assert_eq!(unusual.injected_pct, Some(100));
    for flag in &unusual.flags {
        assert_eq!(
            (flag.spans[0].started_at, flag.spans[0].ended_at),
            (at(14, 0), at(15, 30)),
            "{:?}",
            flag.kind
        );
    }
}

#[test]
fn spans_are_cut_at_the_local_day_and_listed_up_to_the_cap() {
    // Injected input every other minute all day: 720 spans, 20 listed.
    let specs: Vec<Spec> = (0..1440)
        .map(|i| Spec {
            injected: Some(i % 2),
            ..typing(30 + (i % 7))
        })
        .collect();
    let unusual = assess_default(&minutes(at(0, 0) - Duration::minutes(5), specs));
    let injected = unusual
        .flags
        .iter()
        .find(|f| f.kind == FlagKind::InjectedInput)
        .unwrap();
    assert_eq!(injected.spans.len(), MAX_SPANS);
    assert_eq!(injected.more_spans as usize, 1435 / 2 + 1 - MAX_SPANS);
    assert!(injected.spans[0].started_at >= at(0, 0));
}

#[test]
fn thresholds_are_checked() {
    assert_eq!(Thresholds::default().validate(), Ok(()));
    let bad = [
        Thresholds {
            high_activity_pct: 101,
            ..Thresholds::default()
        },
        Thresholds {
            steady_minutes: 0,
            ..Thresholds::default()
        },
        Thresholds {
            same_window_minutes: MAX_RULE_MINUTES + 1,
            ..Thresholds::default()
        },
        Thresholds {
            injected_min_secs: 0,
            ..Thresholds::default()
        },
        Thresholds {
            long_passive_minutes: 0,
            ..Thresholds::default()
        },
    ];
    for t in bad {
        assert!(t.validate().is_err(), "{t:?}");
    }
    // A partial update keeps the other defaults; unknown fields are refused.
    let t: Thresholds = serde_json::from_str(r#"{"same_window_minutes": 60}"#).unwrap();
    assert_eq!(t.same_window_minutes, 60);
    assert_eq!(t.high_activity_pct, 95);
    assert!(serde_json::from_str::<Thresholds>(r#"{"same_window": 60}"#).is_err());
}

#[test]
fn malformed_intervals_count_as_far_as_they_can() {
    let mut broken = minutes(at(9, 0), vec![typing(30); 3]);
    broken[0].active.truncate(10);
    broken[1].ended_at = broken[1].started_at - Duration::seconds(5);
    broken[2].windows[0].offset = 90;
    let unusual = assess_default(&broken);
    assert_eq!(kinds(&unusual), vec![]);
}

/// Minute-long intervals without input from `start`, every second passive, each minute held
/// by the name `held_by` gives for it.
fn passive_minutes(
    start: DateTime<Utc>,
    n: usize,
    held_by: impl Fn(usize) -> &'static str,
) -> Vec<Interval> {
    let mut intervals = minutes(
        start,
        (0..n).map(|_| Spec {
            keys: 0,
            moves: 0,
            ..typing(0)
        }),
    );
    for (i, interval) in intervals.iter_mut().enumerate() {
        interval.passive = Some("1".repeat(60));
        interval.presence = vec![crate::model::PresenceStretch {
            offset: 0,
            seconds: 60,
            held_by: held_by(i).into(),
        }];
        interval.validate().unwrap();
    }
    intervals
}

#[test]
fn a_long_passive_stretch_is_flagged_with_who_held_the_inhibitor() {
    // 100 minutes of a "call" with no input at all: 60 held by zoom, then 40 by a program
    // that holds the inhibitor to keep tracking going.
    let mut day = human_morning();
    day.extend(passive_minutes(at(12, 0), 100, |i| {
        if i < 60 {
            "zoom"
        } else {
            "keepawake"
        }
    }));
    let unusual = assess_default(&day);
    assert_eq!(kinds(&unusual), [FlagKind::LongPassive]);
    let flag = &unusual.flags[0];
    assert_eq!(
        flag.rule,
        "90 min without input kept tracked by an idle inhibitor"
    );
    let span = &flag.spans[0];
    assert_eq!((span.started_at, span.ended_at), (at(12, 0), at(13, 40)));
    assert_eq!(span.activity_pct, 0);
    assert_eq!(span.held_by, ["zoom", "keepawake"]);
    let json = serde_json::to_value(&unusual).unwrap();
    assert_eq!(json["flags"][0]["kind"], "long_passive");
    assert_eq!(json["flags"][0]["spans"][0]["held_by"][1], "keepawake");
}

#[test]
fn a_passive_stretch_shorter_than_the_threshold_or_broken_by_input_is_not_flagged() {
    let mut day = passive_minutes(at(9, 0), 89, |_| "zoom");
    // A word typed in the middle of a long call breaks the stretch.
    day.extend(passive_minutes(at(11, 0), 60, |_| "zoom"));
    day.extend(minutes(at(12, 0), [typing(5)]));
    day.extend(passive_minutes(at(12, 1), 60, |_| "zoom"));
    assert!(kinds(&assess_default(&day)).is_empty());
    let lower = Thresholds {
        long_passive_minutes: 60,
        ..Thresholds::default()
    };
    let unusual = assess(&day, super::tests::day(), 0, &lower);
    assert_eq!(kinds(&unusual), [FlagKind::LongPassive]);
    assert_eq!(unusual.flags[0].spans.len(), 3);
}
