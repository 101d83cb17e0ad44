//! The daily report (R1) of one user's 8-hour day: 480 intervals of 60 s, each with 2-3 window
//! segments (a third of them browser pages), classified by 20 rules. Target: under 50 ms.
//! Run: cargo bench -p metron-core --bench report

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use metron_core::report::{daily_report, Class, Classifier, PatternKind, Rule, RuleTarget};
use metron_core::{Counts, EndReason, Interval, WindowSegment};
use std::hint::black_box;

const APPS: [&str; 6] = [
    "Code",
    "Terminal",
    "Slack",
    "Firefox",
    "Thunderbird",
    "LibreOffice Writer",
];
const URLS: [&str; 5] = [
    "https://docs.rust-lang.org/std/index.html",
    "https://github.com/metron/metron/pull/42",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://news.ycombinator.com/item?id=1",
    "stackoverflow.com",
];

fn rules() -> Vec<Rule> {
    let rule = |target, kind, pattern: &str, class| Rule {
        target,
        kind,
        pattern: pattern.into(),
        class,
    };
    let mut rules = vec![
        rule(
            RuleTarget::Host,
            PatternKind::Regex,
            r"(www\.)?youtube\.com",
            Class::Unproductive,
        ),
        rule(
            RuleTarget::Host,
            PatternKind::Glob,
            "*.ycombinator.com",
            Class::Unproductive,
        ),
        rule(
            RuleTarget::Host,
            PatternKind::Glob,
            "{github.com,*.github.com}",
            Class::Productive,
        ),
        rule(
            RuleTarget::Host,
            PatternKind::Regex,
            r"docs\.(rs|rust-lang\.org)",
            Class::Productive,
        ),
        rule(
            RuleTarget::Host,
            PatternKind::Glob,
            "stackoverflow.com",
            Class::Productive,
        ),
        rule(
            RuleTarget::App,
            PatternKind::Glob,
            "code*",
            Class::Productive,
        ),
        rule(
            RuleTarget::App,
            PatternKind::Regex,
            "(gnome-)?terminal|konsole|alacritty",
            Class::Productive,
        ),
        rule(
            RuleTarget::App,
            PatternKind::Glob,
            "libreoffice*",
            Class::Productive,
        ),
    ];
    // Rules that match nothing here still cost a test each, as they would in an organization.
    for k in 0..6 {
        rules.push(rule(
            RuleTarget::Host,
            PatternKind::Glob,
            &format!("*.social{k}.example"),
            Class::Unproductive,
        ));
        rules.push(rule(
            RuleTarget::App,
            PatternKind::Regex,
            &format!("game{k}.*"),
            Class::Unproductive,
        ));
    }
    assert_eq!(rules.len(), 20);
    rules
}

fn working_day() -> Vec<Interval> {
    let start = Utc.with_ymd_and_hms(2026, 11, 23, 6, 0, 0).unwrap();
    (0..480u32)
        .map(|n| {
            let segment = |offset: u32, seconds: u32, k: u32| {
                let app = APPS[(k % APPS.len() as u32) as usize];
                WindowSegment {
                    offset,
                    seconds,
                    app: app.to_string(),
                    title: format!("{app} document {}", k % 40),
                    url: (app == "Firefox")
                        .then(|| URLS[(k / 6 % URLS.len() as u32) as usize].to_string()),
                    path: None,
                }
            };
            let windows = if n % 2 == 0 {
                vec![segment(0, 25, n), segment(25, 35, n + 3)]
            } else {
                vec![
                    segment(0, 20, n),
                    segment(20, 15, n + 1),
                    segment(35, 25, n + 3),
                ]
            };
            let active: String = (0..60)
                .map(|s| if (s + n) % 7 == 0 { '0' } else { '1' })
                .collect();
            Interval {
                id: uuid::Uuid::nil(),
                device_id: uuid::Uuid::nil(),
                task_id: format!("task-{}", n / 60),
                started_at: start + Duration::seconds(i64::from(n) * 60),
                ended_at: start + Duration::seconds(i64::from(n) * 60 + 60),
                utc_offset_minutes: 180,
                end_reason: EndReason::Boundary,
                active,
                counts: Counts {
                    keys: 120,
                    clicks: 9,
                    scrolls: 14,
                    moves: 800,
                },
                counts_measured: true,
                injected: None,
                injected_counts: None,
                passive: None,
                presence: Vec::new(),
                events: Vec::new(),
                windows,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let intervals = working_day();
    let classifier = Classifier::new(&rules()).unwrap();
    let date = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let report = daily_report(&intervals, date, 180, &classifier);
    assert_eq!(report.tracked_secs, 8 * 3600);
    assert!(report.productive_secs > 0 && report.unproductive_secs > 0 && !report.hosts.is_empty());
    c.bench_function(
        "report: daily report of 8 h (480 intervals, 20 rules)",
        |b| b.iter(|| black_box(daily_report(black_box(&intervals), date, 180, &classifier))),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
