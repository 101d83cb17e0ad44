//! The daily report of SPEC R1 and the productivity rules of R2, computed from stored intervals.
//!
//! The server loads one user's intervals that overlap the local day ([`local_day_bounds`]) and
//! the organization's rules, and this module does all the arithmetic: [`rules`] compiles the
//! rules into a [`Classifier`], [`daily`] adds a day up. Classification happens here, each time
//! a report is computed, and never at ingest: intervals store what the user worked in, not a
//! verdict, so a changed rule re-classifies all history and a mistaken rule leaves nothing to
//! repair. [`unusual`] assesses a day for the patterns of jigglers and macros the same way,
//! under thresholds an organization sets. Every figure is defined for managers in
//! docs/REPORTS.md.
//!
//! Intervals reach this module after the server validated them (E4), but the math does not
//! rely on it: a malformed interval is counted as far as it can be and never causes a panic
//! (see [`daily_report`]).

pub mod daily;
pub mod day;
pub mod rules;
pub mod running;
pub mod unusual;

pub use daily::{
    class_split, daily_report, daily_report_with_usage, reclassify, AppUsage, DailyReport,
    DeviceUsage, HostUsage, TaskUsage, TimelineEntry, TitleUsage, WindowUsage, ZoneChange,
    MAX_APPS, MAX_HOSTS, MAX_TITLES,
};
pub use day::{in_service, local_day_bounds, widest_day_bounds, FIRST_DATE, LAST_DATE};
pub use rules::{
    url_host, validate_rule, Class, Classifier, PatternKind, Rule, RuleError, RuleTarget,
    MAX_PATTERN_CHARS,
};
pub use unusual::{assess, zone_mismatch, Flag, FlagKind, Span, Thresholds, Unusual};
