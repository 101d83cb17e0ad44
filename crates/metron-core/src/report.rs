//! The daily report of SPEC R1 and the productivity rules of R2, computed from stored intervals.
//!
//! The server loads one user's intervals that overlap the local day ([`local_day_bounds`]) and
//! the organization's rules, and this module does all the arithmetic. Classification happens
//! here, each time a report is computed, and never at ingest: intervals store what the user
//! worked in, not a verdict, so a changed rule re-classifies all history and a mistaken rule
//! leaves nothing to repair. Every figure is defined for managers in docs/REPORTS.md.
//!
//! Intervals reach this function after the server validated them (E4), but the math does not
//! rely on it: a malformed interval is counted as far as it can be and never causes a panic
//! (see [`daily_report`]).

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use globset::{GlobBuilder, GlobMatcher};
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::{Counts, Interval};

/// Longest rule pattern accepted, in characters after trimming.
pub const MAX_PATTERN_CHARS: usize = 500;

/// How many window titles a report lists; the rest are the long tail no manager reads.
pub const MAX_TITLES: usize = 50;
/// How many apps, and how many URL hosts, a report lists (the same long-tail cut as titles:
/// a client inventing thousands of app names can't make a report megabytes long). The day's
/// figures, productive time included, still count every app.
pub const MAX_APPS: usize = 50;
pub const MAX_HOSTS: usize = 50;

/// Memory a compiled rule regex may take. The regex crate never backtracks, so matching time is
/// linear whatever an admin writes; this bounds the other cost, a pattern like `(a{100}){100}`
/// that compiles to megabytes.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// What a second of work counts as (R2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Productive,
    Unproductive,
    /// Matched by no rule.
    Neutral,
}

/// What a rule's pattern is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RuleTarget {
    /// The application name the sensor reported, e.g. `Code` or `firefox`.
    App,
    /// The host of the browser's URL, e.g. `docs.rust-lang.org`.
    Host,
}

/// How a rule's pattern is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    /// Shell-style: `*`, `?`, `[abc]`, `{a,b}`; `\` escapes.
    Glob,
    /// Rust `regex` syntax (no look-around, no back-references).
    Regex,
}

/// A productivity rule as an admin writes it (R2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Rule {
    pub target: RuleTarget,
    pub kind: PatternKind,
    /// Matched case-insensitively against the whole name; surrounding spaces are ignored.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub pattern: String,
    /// `productive` or `unproductive`: neutral is what no rule gives.
    pub class: Class,
}

/// Why a rule can't be used; the text is meant for the admin who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(pub String);

/// Checks a rule: a non-empty pattern of at most [`MAX_PATTERN_CHARS`] characters (after
/// trimming) that compiles as its kind, and a class other than neutral.
pub fn validate_rule(rule: &Rule) -> Result<(), RuleError> {
    compile_rule(rule).map(|_| ())
}

/// A compiled pattern. Both kinds match the whole name, case-insensitively.
#[derive(Debug, Clone)]
enum Matcher {
    Glob(GlobMatcher),
    Regex(Regex),
}

impl Matcher {
    fn is_match(&self, name: &str) -> bool {
        match self {
            Matcher::Glob(glob) => glob.is_match(name),
            Matcher::Regex(regex) => regex.is_match(name),
        }
    }
}

fn compile_rule(rule: &Rule) -> Result<Matcher, RuleError> {
    let fail = |why: String| Err(RuleError(why));
    let pattern = rule.pattern.trim();
    if pattern.is_empty() {
        return fail("the pattern is empty".into());
    }
    let chars = pattern.chars().count();
    if chars > MAX_PATTERN_CHARS {
        return fail(format!("the pattern has {chars} characters; at most {MAX_PATTERN_CHARS} are allowed"));
    }
    if rule.class == Class::Neutral {
        return fail("the class must be productive or unproductive".into());
    }
    match rule.kind {
        PatternKind::Glob => GlobBuilder::new(pattern)
            .case_insensitive(true)
            // Names are not paths: `*` crosses `/` and `.` alike. Escapes are set explicitly
            // because globset's default differs between Unix and Windows servers.
            .literal_separator(false)
            .backslash_escape(true)
            .build()
            .map(|glob| Matcher::Glob(glob.compile_matcher()))
            .map_err(|e| RuleError(format!("invalid glob `{pattern}`: {}", e.kind()))),
        PatternKind::Regex => {
            // Compiled alone first, so the error quotes the admin's text rather than our anchored
            // wrapper, and so that an unbalanced pattern like `a)|(b` cannot break out of the
            // anchors and match part of a name.
            regex_builder(pattern).build().map_err(|e| RuleError(format!("invalid regex `{pattern}`: {}", regex_reason(&e))))?;
            regex_builder(&format!("^(?:{pattern})$"))
                .build()
                .map(Matcher::Regex)
                .map_err(|e| RuleError(format!("invalid regex `{pattern}`: {}", regex_reason(&e))))
        }
    }
}

fn regex_builder(pattern: &str) -> RegexBuilder {
    let mut builder = RegexBuilder::new(pattern);
    builder.case_insensitive(true).size_limit(REGEX_SIZE_LIMIT);
    builder
}

/// The regex crate's syntax errors span several lines (pattern, caret, `error: why`); an admin
/// form shows one line, so keep the why.
fn regex_reason(error: &regex::Error) -> String {
    match error {
        regex::Error::Syntax(text) => {
            text.lines().rev().find_map(|line| line.trim().strip_prefix("error: ")).unwrap_or(text.trim()).to_string()
        }
        regex::Error::CompiledTooBig(_) => "the pattern compiles to more than the 1 MiB allowed".into(),
        other => other.to_string(),
    }
}

/// Compiled rules. Matching is case-insensitive and on the whole name (a glob `*.github.com`
/// matches `api.GitHub.com` but not `github.com`; a regex is anchored as `^(?:pattern)$`, so
/// `git` does not match `digit`).
#[derive(Debug, Clone, Default)]
pub struct Classifier {
    app_rules: Vec<(Matcher, Class)>,
    host_rules: Vec<(Matcher, Class)>,
}

impl Classifier {
    /// Compiles `rules`, given in priority order. The error names the first bad rule by its
    /// 1-based position.
    pub fn new(rules: &[Rule]) -> Result<Classifier, RuleError> {
        let mut classifier = Classifier::empty();
        for (index, rule) in rules.iter().enumerate() {
            let matcher = compile_rule(rule).map_err(|e| RuleError(format!("rule {}: {}", index + 1, e.0)))?;
            match rule.target {
                RuleTarget::App => classifier.app_rules.push((matcher, rule.class)),
                RuleTarget::Host => classifier.host_rules.push((matcher, rule.class)),
            }
        }
        Ok(classifier)
    }

    /// No rules: everything is neutral.
    pub fn empty() -> Classifier {
        Classifier::default()
    }

    /// The class of a second spent in `app` on a page of `host`. Host rules are tried first when
    /// a host is known (a browser's page says more than the browser), then app rules; within
    /// each, the first matching rule in the given order wins; nothing matches -> neutral.
    pub fn classify(&self, app: &str, host: Option<&str>) -> Class {
        host.filter(|h| !h.is_empty())
            .and_then(|h| first_match(&self.host_rules, h))
            .or_else(|| first_match(&self.app_rules, app))
            .unwrap_or(Class::Neutral)
    }

    /// The class host rules alone give `host` (neutral when none matches): the class of the
    /// report's per-host rows, which mix time from several browsers.
    pub fn classify_host(&self, host: &str) -> Class {
        first_match(&self.host_rules, host).unwrap_or(Class::Neutral)
    }
}

fn first_match(rules: &[(Matcher, Class)], name: &str) -> Option<Class> {
    rules.iter().find(|(matcher, _)| matcher.is_match(name)).map(|(_, class)| *class)
}

/// The host of a segment's URL, lowercased: `https://Docs.Rust-Lang.org:443/std` ->
/// `docs.rust-lang.org`. A bare host (URLs reduced to their host by E6 privacy) is returned
/// lowercased. Empty or unparseable (`about:blank`, `file:///x`) -> `None`.
///
/// Hand-written rather than the `url` crate: a report needs only the host, must accept the bare
/// hosts E6 leaves, and must never fail on the odd strings browsers report.
pub fn url_host(url: &str) -> Option<String> {
    let url = url.trim();
    let rest = match url.split_once("://") {
        // Only a real scheme counts: `example.com/?next=https://x` has none.
        Some((scheme, rest)) if is_scheme(scheme) => rest,
        _ => url,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host_port)| host_port);
    let (host, port) = if host_port.starts_with('[') {
        // IPv6 literal: the colons inside the brackets are not a port.
        let close = host_port.find(']')?;
        let (host, after) = host_port.split_at(close + 1);
        let valid = host[1..close].chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        if !valid || close == 1 {
            return None;
        }
        (host, if after.is_empty() { "" } else { after.strip_prefix(':')? })
    } else {
        let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, ""));
        if host.is_empty() || !host.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_')) {
            return None;
        }
        (host, port)
    };
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(host.to_lowercase())
}

fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The UTC instants a local day covers: [`date` 00:00, next day 00:00) at `utc_offset_minutes`
/// east of UTC. The server loads the intervals overlapping this range. `None` only for dates
/// at the edge of what chrono can represent.
pub fn local_day_bounds(date: NaiveDate, utc_offset_minutes: i32) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let local_midnight_as_utc = date.and_time(NaiveTime::MIN).and_utc();
    let start = local_midnight_as_utc.checked_sub_signed(Duration::minutes(i64::from(utc_offset_minutes)))?;
    let end = start.checked_add_signed(Duration::days(1))?;
    Some((start, end))
}

/// The R1 report of one user's local day. All durations are whole seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DailyReport {
    /// The local date covered.
    pub date: NaiveDate,
    /// Minutes east of UTC the local day was taken in.
    pub utc_offset_minutes: i32,
    /// Seconds covered by intervals, clipped to the local day.
    pub tracked_secs: u64,
    /// Tracked seconds with any input (keys, clicks, scrolls or moves).
    pub active_secs: u64,
    /// Tracked seconds without input: `tracked_secs - active_secs`.
    pub idle_secs: u64,
    /// `round(100 * active / tracked)`; 0 when nothing was tracked.
    pub activity_pct: u32,
    /// Tracked seconds by the class of the window in front; the three sum to `tracked_secs`.
    pub productive_secs: u64,
    pub unproductive_secs: u64,
    pub neutral_secs: u64,
    /// Start of the earliest tracked second of the day.
    pub first_activity: Option<DateTime<Utc>>,
    /// End of the latest tracked second of the day.
    pub last_activity: Option<DateTime<Utc>>,
    /// Untracked seconds between `first_activity` and `last_activity`.
    pub away_secs: u64,
    /// Input totals; an interval crossing the day's edge adds its share (floored).
    pub counts: Counts,
    /// By tracked time, largest first.
    pub tasks: Vec<TaskUsage>,
    /// By tracked time, largest first.
    pub apps: Vec<AppUsage>,
    /// By tracked time, largest first; at most [`MAX_TITLES`].
    pub titles: Vec<TitleUsage>,
    /// By tracked time, largest first; only segments whose URL has a host.
    pub hosts: Vec<HostUsage>,
    /// One entry per interval with time in the day, in time order.
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TaskUsage {
    pub task_id: String,
    pub tracked_secs: u64,
    pub active_secs: u64,
    pub activity_pct: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AppUsage {
    pub app: String,
    /// What app rules alone say of this app; time on pages of classified hosts may have counted
    /// otherwise in the day's productive / unproductive totals.
    pub class: Class,
    pub tracked_secs: u64,
    pub active_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TitleUsage {
    pub app: String,
    /// Empty when privacy settings withheld titles (E6); those seconds group as one row per app.
    pub title: String,
    pub tracked_secs: u64,
    pub active_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HostUsage {
    /// Lowercased, without port (see [`url_host`]).
    pub host: String,
    /// What host rules alone say of this host.
    pub class: Class,
    pub tracked_secs: u64,
    pub active_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TimelineEntry {
    /// The interval's start, or the day's start if it began the day before.
    pub started_at: DateTime<Utc>,
    /// The interval's end, or the day's end if it ran into the next day.
    pub ended_at: DateTime<Utc>,
    pub task_id: String,
    pub tracked_secs: u64,
    pub active_secs: u64,
    pub activity_pct: u32,
}

impl DailyReport {
    fn empty(date: NaiveDate, utc_offset_minutes: i32) -> DailyReport {
        DailyReport {
            date,
            utc_offset_minutes,
            tracked_secs: 0,
            active_secs: 0,
            idle_secs: 0,
            activity_pct: 0,
            productive_secs: 0,
            unproductive_secs: 0,
            neutral_secs: 0,
            first_activity: None,
            last_activity: None,
            away_secs: 0,
            counts: Counts::default(),
            tasks: Vec::new(),
            apps: Vec::new(),
            titles: Vec::new(),
            hosts: Vec::new(),
            timeline: Vec::new(),
        }
    }
}

/// Tracked and active seconds of one group (task, app, title, host).
#[derive(Debug, Clone, Copy, Default)]
struct Usage {
    tracked: u64,
    active: u64,
}

impl Usage {
    fn add(&mut self, tracked: u64, active: u64) {
        self.tracked += tracked;
        self.active += active;
    }
}

/// The R1 report of the local day `date` ([date 00:00, next day 00:00) at `utc_offset_minutes`)
/// from one user's `intervals`, in any order, classified by `classifier`.
///
/// Intervals partly outside the day count only their seconds inside it, and add their input
/// counts prorated by that share. Each second takes the class of the window segment covering
/// it (its app and its URL's host); a second no segment covers is neutral.
///
/// Malformed intervals are tolerated rather than trusted: tracked time comes from the
/// timestamps; a missing activity flag (or anything but `'1'`) counts as idle and surplus flags
/// are ignored; segments are clipped to the interval, and a segment overlapping an earlier one
/// only adds its seconds past it, so no second is counted twice within an interval. An interval
/// that ends before it starts adds nothing. Intervals are assumed not to overlap each other (the
/// server refuses overlaps per user); if they do, their seconds add up and `away_secs` floors
/// at 0.
pub fn daily_report(intervals: &[Interval], date: NaiveDate, utc_offset_minutes: i32, classifier: &Classifier) -> DailyReport {
    daily_report_with_usage(intervals, date, utc_offset_minutes, classifier).0
}

/// Tracked and active seconds of one (app, URL host) pair over a day: what the productive /
/// unproductive / neutral split is made of. Kept with a day's aggregate once its raw intervals
/// are deleted (retention), so changed rules still re-classify that day ([`reclassify`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WindowUsage {
    pub app: String,
    pub host: Option<String>,
    pub tracked_secs: u64,
    pub active_secs: u64,
}

/// [`daily_report`], and the day's time per (app, host) pair, largest first.
pub fn daily_report_with_usage(
    intervals: &[Interval],
    date: NaiveDate,
    utc_offset_minutes: i32,
    classifier: &Classifier,
) -> (DailyReport, Vec<WindowUsage>) {
    let mut report = DailyReport::empty(date, utc_offset_minutes);
    let Some((day_start, day_end)) = local_day_bounds(date, utc_offset_minutes) else {
        return (report, Vec::new());
    };
    let mut pairs: HashMap<(&str, Option<String>), Usage> = HashMap::new();

    let mut tasks: HashMap<&str, Usage> = HashMap::new();
    let mut apps: HashMap<&str, Usage> = HashMap::new();
    let mut titles: HashMap<(&str, &str), Usage> = HashMap::new();
    let mut hosts: HashMap<String, Usage> = HashMap::new();
    // A day has a few hundred intervals but only a handful of distinct (app, host) pairs, so each
    // pair goes through the rules once.
    let mut classes: HashMap<(&str, Option<String>), Class> = HashMap::new();

    for interval in intervals {
        let start = interval.started_at.max(day_start);
        let end = interval.ended_at.min(day_end);
        // Seconds [from, to) of the interval lie inside the day.
        let (Ok(from), Ok(to)) =
            (u64::try_from((start - interval.started_at).num_seconds()), u64::try_from((end - interval.started_at).num_seconds()))
        else {
            continue;
        };
        if to <= from {
            continue;
        }
        let inside = to - from;
        let duration = interval.duration_secs().max(0) as u64;
        let flags = interval.active.as_bytes();
        let active = count_active(flags, from, to);

        report.tracked_secs += inside;
        report.active_secs += active;
        add_prorated(&mut report.counts, &interval.counts, inside, duration);
        tasks.entry(interval.task_id.as_str()).or_default().add(inside, active);
        report.first_activity = Some(report.first_activity.map_or(start, |first| first.min(start)));
        report.last_activity = Some(report.last_activity.map_or(end, |last| last.max(end)));
        report.timeline.push(TimelineEntry {
            started_at: start,
            ended_at: end,
            task_id: interval.task_id.clone(),
            tracked_secs: inside,
            active_secs: active,
            activity_pct: percent(active, inside),
        });

        // Seconds before `cursor` are attributed already: this keeps overlapping segments from
        // counting a second twice, so the three classes always sum to the tracked time.
        let mut cursor = from;
        let mut covered = 0;
        for segment in &interval.windows {
            let seg_from = u64::from(segment.offset).max(cursor);
            let seg_to = (u64::from(segment.offset) + u64::from(segment.seconds)).min(to);
            if seg_to <= seg_from {
                continue;
            }
            cursor = seg_to;
            let seconds = seg_to - seg_from;
            let seg_active = count_active(flags, seg_from, seg_to);
            covered += seconds;

            let host = segment.url.as_deref().and_then(url_host);
            let class = match classes.get(&(segment.app.as_str(), host.clone())) {
                Some(class) => *class,
                None => {
                    let class = classifier.classify(&segment.app, host.as_deref());
                    classes.insert((segment.app.as_str(), host.clone()), class);
                    class
                }
            };
            match class {
                Class::Productive => report.productive_secs += seconds,
                Class::Unproductive => report.unproductive_secs += seconds,
                Class::Neutral => report.neutral_secs += seconds,
            }
            pairs.entry((segment.app.as_str(), host.clone())).or_default().add(seconds, seg_active);
            apps.entry(segment.app.as_str()).or_default().add(seconds, seg_active);
            titles.entry((segment.app.as_str(), segment.title.as_str())).or_default().add(seconds, seg_active);
            if let Some(host) = host {
                hosts.entry(host).or_default().add(seconds, seg_active);
            }
        }
        report.neutral_secs += inside - covered;
    }

    report.idle_secs = report.tracked_secs - report.active_secs;
    report.activity_pct = percent(report.active_secs, report.tracked_secs);
    if let (Some(first), Some(last)) = (report.first_activity, report.last_activity) {
        let span = u64::try_from((last - first).num_seconds()).unwrap_or(0);
        report.away_secs = span.saturating_sub(report.tracked_secs);
    }

    report.tasks = tasks
        .into_iter()
        .map(|(task_id, u)| TaskUsage {
            task_id: task_id.to_string(),
            tracked_secs: u.tracked,
            active_secs: u.active,
            activity_pct: percent(u.active, u.tracked),
        })
        .collect();
    report.tasks.sort_by(|a, b| b.tracked_secs.cmp(&a.tracked_secs).then_with(|| a.task_id.cmp(&b.task_id)));

    report.apps = apps
        .into_iter()
        .map(|(app, u)| AppUsage {
            app: app.to_string(),
            class: classifier.classify(app, None),
            tracked_secs: u.tracked,
            active_secs: u.active,
        })
        .collect();
    report.apps.sort_by(|a, b| b.tracked_secs.cmp(&a.tracked_secs).then_with(|| a.app.cmp(&b.app)));
    report.apps.truncate(MAX_APPS);

    let mut titles: Vec<TitleUsage> = titles
        .into_iter()
        .map(|((app, title), u)| TitleUsage {
            app: app.to_string(),
            title: title.to_string(),
            tracked_secs: u.tracked,
            active_secs: u.active,
        })
        .collect();
    titles.sort_by(|a, b| b.tracked_secs.cmp(&a.tracked_secs).then_with(|| a.app.cmp(&b.app)).then_with(|| a.title.cmp(&b.title)));
    titles.truncate(MAX_TITLES);
    report.titles = titles;

    report.hosts = hosts
        .into_iter()
        .map(|(host, u)| HostUsage { class: classifier.classify_host(&host), host, tracked_secs: u.tracked, active_secs: u.active })
        .collect();
    report.hosts.sort_by(|a, b| b.tracked_secs.cmp(&a.tracked_secs).then_with(|| a.host.cmp(&b.host)));
    report.hosts.truncate(MAX_HOSTS);

    report
        .timeline
        .sort_by(|a, b| a.started_at.cmp(&b.started_at).then_with(|| a.ended_at.cmp(&b.ended_at)).then_with(|| a.task_id.cmp(&b.task_id)));
    let mut usage: Vec<WindowUsage> = pairs
        .into_iter()
        .map(|((app, host), u)| WindowUsage { app: app.to_string(), host, tracked_secs: u.tracked, active_secs: u.active })
        .collect();
    usage.sort_by(|a, b| b.tracked_secs.cmp(&a.tracked_secs).then_with(|| a.app.cmp(&b.app)).then_with(|| a.host.cmp(&b.host)));
    (report, usage)
}

/// Applies `classifier` to a report kept as an aggregate: the productive / unproductive /
/// neutral split (from `usage`; seconds no window covered stay neutral) and the class of each
/// app and host. Gives what [`daily_report`] gives from the raw intervals under the same rules.
pub fn reclassify(report: &mut DailyReport, usage: &[WindowUsage], classifier: &Classifier) {
    let (mut productive, mut unproductive) = (0, 0);
    for u in usage {
        match classifier.classify(&u.app, u.host.as_deref()) {
            Class::Productive => productive += u.tracked_secs,
            Class::Unproductive => unproductive += u.tracked_secs,
            Class::Neutral => {}
        }
    }
    report.productive_secs = productive;
    report.unproductive_secs = unproductive;
    report.neutral_secs = report.tracked_secs.saturating_sub(productive + unproductive);
    for app in &mut report.apps {
        app.class = classifier.classify(&app.app, None);
    }
    for host in &mut report.hosts {
        host.class = classifier.classify_host(&host.host);
    }
}

/// Seconds marked `'1'` among flags [from, to); flags past the end of a short string are idle.
fn count_active(flags: &[u8], from: u64, to: u64) -> u64 {
    let clamp = |i: u64| usize::try_from(i).unwrap_or(usize::MAX).min(flags.len());
    flags[clamp(from)..clamp(to)].iter().filter(|&&b| b == b'1').count() as u64
}

/// Adds `counts * inside / duration`, floored per counter, so a day never claims input that
/// happened in the neighbouring day. An interval wholly inside adds its counts exactly.
fn add_prorated(total: &mut Counts, counts: &Counts, inside: u64, duration: u64) {
    if inside >= duration {
        total.add(counts);
        return;
    }
    let share = |count: u64| (u128::from(count) * u128::from(inside) / u128::from(duration)) as u64;
    total.add(&Counts {
        keys: share(counts.keys),
        clicks: share(counts.clicks),
        scrolls: share(counts.scrolls),
        moves: share(counts.moves),
    });
}

/// `round(100 * part / whole)` with halves rounded up; 0 for an empty whole.
fn percent(part: u64, whole: u64) -> u32 {
    if whole == 0 {
        return 0;
    }
    ((200 * u128::from(part) + u128::from(whole)) / (2 * u128::from(whole))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EndReason, WindowSegment};
    use chrono::TimeZone;
    use rand::{rngs::StdRng, Rng, SeedableRng};
    use uuid::Uuid;

    fn rule(target: RuleTarget, kind: PatternKind, pattern: &str, class: Class) -> Rule {
        Rule { target, kind, pattern: pattern.into(), class }
    }

    fn segment(offset: u32, seconds: u32, app: &str, title: &str, url: Option<&str>) -> WindowSegment {
        WindowSegment { offset, seconds, app: app.into(), title: title.into(), url: url.map(str::to_string), path: None }
    }

    fn interval(task: &str, started_at: DateTime<Utc>, active: &str, counts: Counts, windows: Vec<WindowSegment>) -> Interval {
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
            windows,
        }
    }

    fn counts(keys: u64, clicks: u64, scrolls: u64, moves: u64) -> Counts {
        Counts { keys, clicks, scrolls, moves }
    }

    fn utc(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, m, s).unwrap()
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn assert_classes_sum(report: &DailyReport) {
        assert_eq!(report.productive_secs + report.unproductive_secs + report.neutral_secs, report.tracked_secs);
        assert_eq!(report.idle_secs + report.active_secs, report.tracked_secs);
        assert!(report.active_secs <= report.tracked_secs);
    }

    #[test]
    fn host_rules_win_over_app_rules_and_the_first_matching_rule_wins() {
        let classifier = Classifier::new(&[
            rule(RuleTarget::App, PatternKind::Glob, "firefox", Class::Productive),
            rule(RuleTarget::Host, PatternKind::Glob, "*youtube.com", Class::Unproductive),
            rule(RuleTarget::Host, PatternKind::Glob, "music.youtube.com", Class::Productive),
            rule(RuleTarget::App, PatternKind::Glob, "fire*", Class::Unproductive),
        ])
        .unwrap();
        assert_eq!(classifier.classify("firefox", Some("www.youtube.com")), Class::Unproductive);
        assert_eq!(classifier.classify("firefox", Some("music.youtube.com")), Class::Unproductive, "the earlier rule wins");
        assert_eq!(classifier.classify("firefox", Some("docs.rs")), Class::Productive, "no host rule: app rules decide");
        assert_eq!(classifier.classify("firefox", None), Class::Productive);
        assert_eq!(classifier.classify("firefox", Some("")), Class::Productive, "an empty host is no host");
        assert_eq!(classifier.classify("firebird", None), Class::Unproductive);
        assert_eq!(classifier.classify("slack", Some("slack.com")), Class::Neutral);
        assert_eq!(classifier.classify_host("www.youtube.com"), Class::Unproductive);
        assert_eq!(classifier.classify_host("firefox"), Class::Neutral, "host rows ignore app rules");
    }

    #[test]
    fn matching_ignores_case_for_globs_and_regexes() {
        let classifier = Classifier::new(&[
            rule(RuleTarget::App, PatternKind::Glob, "CODE*", Class::Productive),
            rule(RuleTarget::Host, PatternKind::Regex, r"(www\.)?YouTube\.com", Class::Unproductive),
        ])
        .unwrap();
        assert_eq!(classifier.classify("code", None), Class::Productive);
        assert_eq!(classifier.classify("Code - OSS", None), Class::Productive);
        assert_eq!(classifier.classify("x", Some("WWW.youtube.COM")), Class::Unproductive);
        assert_eq!(classifier.classify("x", Some("youtube.com")), Class::Unproductive);
    }

    #[test]
    fn globs_and_regexes_match_the_whole_name_only() {
        let classifier = Classifier::new(&[
            rule(RuleTarget::App, PatternKind::Regex, "git", Class::Productive),
            rule(RuleTarget::Host, PatternKind::Glob, "*.github.com", Class::Productive),
            rule(RuleTarget::Host, PatternKind::Regex, r"[a-z]+\.slack\.com", Class::Unproductive),
            rule(RuleTarget::App, PatternKind::Glob, "term?", Class::Productive),
        ])
        .unwrap();
        assert_eq!(classifier.classify("git", None), Class::Productive);
        assert_eq!(classifier.classify("digit", None), Class::Neutral);
        assert_eq!(classifier.classify("github desktop", None), Class::Neutral);
        assert_eq!(classifier.classify("x", Some("api.github.com")), Class::Productive);
        assert_eq!(classifier.classify("x", Some("github.com")), Class::Neutral, "`*.` needs a subdomain");
        assert_eq!(classifier.classify("x", Some("api.github.com.evil.org")), Class::Neutral);
        assert_eq!(classifier.classify("x", Some("team.slack.com")), Class::Unproductive);
        assert_eq!(classifier.classify("x", Some("a.b.slack.com")), Class::Neutral);
        assert_eq!(classifier.classify("terms", None), Class::Productive);
        assert_eq!(classifier.classify("terminal", None), Class::Neutral);
    }

    #[test]
    fn glob_metacharacters_are_not_regex_ones_and_vice_versa() {
        let glob = Classifier::new(&[rule(RuleTarget::Host, PatternKind::Glob, "{docs.rs,crates.io}", Class::Productive)]).unwrap();
        assert_eq!(glob.classify_host("crates.io"), Class::Productive);
        assert_eq!(glob.classify_host("docsxrs"), Class::Neutral, "a glob's `.` is literal");
        let regex = Classifier::new(&[rule(RuleTarget::Host, PatternKind::Regex, "docs.rs", Class::Productive)]).unwrap();
        assert_eq!(regex.classify_host("docsxrs"), Class::Productive, "a regex's `.` is any character");
    }

    #[test]
    fn a_regex_cannot_break_out_of_its_anchors() {
        let error = validate_rule(&rule(RuleTarget::App, PatternKind::Regex, "a)|(b", Class::Productive)).unwrap_err();
        assert!(error.0.starts_with("invalid regex `a)|(b`: "), "{error}");
        let classifier = Classifier::new(&[rule(RuleTarget::App, PatternKind::Regex, "a|b", Class::Productive)]).unwrap();
        assert_eq!(classifier.classify("b", None), Class::Productive);
        assert_eq!(classifier.classify("ab", None), Class::Neutral, "the alternation is inside the anchors");
    }

    #[test]
    fn validate_rule_explains_what_is_wrong_in_one_line() {
        let check = |kind, pattern: &str, class| validate_rule(&rule(RuleTarget::App, kind, pattern, class)).map_err(|e| e.0);
        assert_eq!(check(PatternKind::Glob, "code*", Class::Productive), Ok(()));
        assert_eq!(check(PatternKind::Regex, r"(www\.)?youtube\.com", Class::Unproductive), Ok(()));
        assert_eq!(check(PatternKind::Regex, "(", Class::Productive), Err("invalid regex `(`: unclosed group".into()));
        assert_eq!(
            check(PatternKind::Glob, "[ab", Class::Productive),
            Err("invalid glob `[ab`: unclosed character class; missing ']'".into())
        );
        assert_eq!(check(PatternKind::Glob, "   ", Class::Productive), Err("the pattern is empty".into()));
        assert_eq!(
            check(PatternKind::Glob, &"a".repeat(501), Class::Productive),
            Err("the pattern has 501 characters; at most 500 are allowed".into())
        );
        assert_eq!(check(PatternKind::Glob, &format!("  {}  ", "é".repeat(500)), Class::Productive), Ok(()), "characters, trimmed");
        assert_eq!(check(PatternKind::Glob, "code", Class::Neutral), Err("the class must be productive or unproductive".into()));
        let huge = check(PatternKind::Regex, "(a{1000}){1000}", Class::Productive).unwrap_err();
        assert!(huge.ends_with("the pattern compiles to more than the 1 MiB allowed"), "{huge}");
        for message in [check(PatternKind::Regex, "a{2,1}", Class::Productive).unwrap_err(), huge] {
            assert!(!message.contains('\n'), "{message}");
        }
    }

    #[test]
    fn the_classifier_names_the_rule_that_does_not_compile() {
        let error = Classifier::new(&[
            rule(RuleTarget::App, PatternKind::Glob, "code", Class::Productive),
            rule(RuleTarget::Host, PatternKind::Regex, "(", Class::Productive),
        ])
        .unwrap_err();
        assert_eq!(error.0, "rule 2: invalid regex `(`: unclosed group");
    }

    #[test]
    fn patterns_are_trimmed_before_matching() {
        let classifier = Classifier::new(&[rule(RuleTarget::App, PatternKind::Glob, " slack ", Class::Unproductive)]).unwrap();
        assert_eq!(classifier.classify("Slack", None), Class::Unproductive);
    }

    #[test]
    fn an_empty_classifier_calls_everything_neutral() {
        assert_eq!(Classifier::empty().classify("code", Some("youtube.com")), Class::Neutral);
        assert_eq!(Classifier::new(&[]).unwrap().classify_host("youtube.com"), Class::Neutral);
    }

    #[test]
    fn url_host_keeps_only_the_lowercased_host() {
        let host = |url: &str| url_host(url);
        assert_eq!(host("https://Docs.Rust-Lang.org:443/std"), Some("docs.rust-lang.org".into()));
        assert_eq!(host("http://user:secret@Example.com:8080/a?b#c"), Some("example.com".into()));
        assert_eq!(host("https://example.com?q=1"), Some("example.com".into()));
        assert_eq!(host("https://example.com#top"), Some("example.com".into()));
        assert_eq!(host("YouTube.com"), Some("youtube.com".into()), "a bare host left by E6");
        assert_eq!(host("  youtube.com  "), Some("youtube.com".into()));
        assert_eq!(host("example.com/next?to=https://evil.org"), Some("example.com".into()));
        assert_eq!(host("localhost:3000"), Some("localhost".into()));
        assert_eq!(host("http://[::1]:8080/x"), Some("[::1]".into()));
        assert_eq!(host("https://Bücher.DE/"), Some("bücher.de".into()));
        assert_eq!(host(""), None);
        assert_eq!(host("https://"), None);
        assert_eq!(host("file:///home/me/notes.txt"), None);
        assert_eq!(host("about:blank"), None);
        assert_eq!(host("not a url"), None);
        assert_eq!(host("http://[::1"), None);
        assert_eq!(host("http://[]/"), None);
    }

    #[test]
    fn the_local_day_runs_from_local_midnight_to_local_midnight() {
        assert_eq!(local_day_bounds(day(), 180), Some((utc(0, 0, 0) - Duration::hours(3), utc(21, 0, 0))));
        assert_eq!(local_day_bounds(day(), -300), Some((utc(5, 0, 0), utc(5, 0, 0) + Duration::days(1))));
        assert_eq!(local_day_bounds(NaiveDate::MAX, 0), None);
        let far = daily_report(&[], NaiveDate::MAX, 0, &Classifier::empty());
        assert_eq!(far.tracked_secs, 0);
    }

    #[test]
    fn intervals_are_clipped_at_local_midnight_in_the_report_offset() {
        // UTC+3: the local day 2026-11-23 is [2026-11-22 21:00Z, 2026-11-23 21:00Z).
        let evening = interval("t", utc(20, 59, 56), "11110011", counts(0, 0, 0, 0), vec![segment(0, 8, "code", "a", None)]);
        let morning = interval("t", utc(0, 0, 0) - Duration::hours(3) - Duration::seconds(2), "1101", counts(0, 0, 0, 0), vec![]);
        let outside = interval("t", utc(21, 0, 0), "1111", counts(0, 0, 0, 0), vec![]);
        let report = daily_report(&[evening, morning, outside], day(), 180, &Classifier::empty());
        assert_eq!(report.tracked_secs, 4 + 2, "4 s before midnight tonight, 2 s after midnight this morning");
        assert_eq!(report.active_secs, 4 + 1);
        assert_eq!(report.first_activity, Some(utc(21, 0, 0) - Duration::days(1)));
        assert_eq!(report.last_activity, Some(utc(21, 0, 0)));
        assert_eq!(report.timeline.len(), 2);
        assert_eq!(report.timeline[0].started_at, utc(21, 0, 0) - Duration::days(1));
        assert_eq!(report.timeline[0].ended_at, utc(21, 0, 0) - Duration::days(1) + Duration::seconds(2));
        assert_eq!(report.timeline[1].ended_at, utc(21, 0, 0));
        assert_eq!(report.apps[0].tracked_secs, 4, "the segment is clipped too");
        assert_eq!(report.neutral_secs, 6);
        // The same evening in UTC is a different day: all 8 s fall before midnight UTC.
        let utc_report =
            daily_report(&[interval("t", utc(20, 59, 56), "11110011", Counts::default(), vec![])], day(), 0, &Classifier::empty());
        assert_eq!(utc_report.tracked_secs, 8);
    }

    #[test]
    fn counts_of_a_clipped_interval_are_prorated_and_floored() {
        // 10 s, 3 of them before local midnight (UTC+3) of the report's day.
        let start = utc(21, 0, 0) - Duration::days(1) - Duration::seconds(3);
        let crossing = interval("t", start, "1111111111", counts(10, 5, 1, 99), vec![]);
        let whole = interval("t", utc(9, 0, 0), "11", counts(3, 1, 1, 7), vec![]);
        let report = daily_report(&[crossing, whole], day(), 180, &Classifier::empty());
        assert_eq!(report.counts, counts(7 + 3, 3 + 1, 1, 69 + 7), "7/10 of 10, 5, 1, 99 floored, plus the whole interval");
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
            rule(RuleTarget::App, PatternKind::Glob, "code", Class::Productive),
            rule(RuleTarget::Host, PatternKind::Glob, "youtube.com", Class::Unproductive),
        ])
        .unwrap();
        let i = interval(
            "t",
            utc(10, 0, 0),
            "1111100000",
            Counts::default(),
            vec![segment(1, 3, "code", "x", None), segment(5, 2, "firefox", "v", Some("https://youtube.com/watch"))],
        );
        let report = daily_report(&[i], day(), 0, &classifier);
        assert_eq!((report.productive_secs, report.unproductive_secs, report.neutral_secs), (3, 2, 5));
        assert_classes_sum(&report);
    }

    #[test]
    fn the_per_second_class_uses_the_app_and_the_url_host() {
        let classifier = Classifier::new(&[
            rule(RuleTarget::App, PatternKind::Glob, "firefox", Class::Productive),
            rule(RuleTarget::Host, PatternKind::Glob, "youtube.com", Class::Unproductive),
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
        assert_eq!(report.hosts[0], HostUsage { host: "youtube.com".into(), class: Class::Unproductive, tracked_secs: 4, active_secs: 4 });
        assert_eq!(report.hosts[1].class, Class::Neutral, "docs.rs has no host rule; the app rule doesn't apply to hosts");
        assert!(report.apps.iter().all(|a| a.class == Class::Productive), "apps are classified by app rules alone");
        assert_eq!(report.apps.len(), 2, "app names are grouped as recorded");
    }

    #[test]
    fn malformed_intervals_are_counted_as_far_as_they_can_be() {
        let short_flags = interval("t", utc(10, 0, 0), "11", Counts::default(), vec![segment(0, 2, "a", "", None)]);
        let short_flags = Interval { ended_at: utc(10, 0, 5), ..short_flags };
        let long_flags = Interval { ended_at: utc(10, 1, 2), ..interval("t", utc(10, 1, 0), "1x111", Counts::default(), vec![]) };
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
        let backwards = Interval { ended_at: utc(9, 0, 0), ..interval("t", utc(10, 3, 0), "1", Counts::default(), vec![]) };
        let report = daily_report(&[short_flags, long_flags, wild_segments, backwards], day(), 0, &Classifier::empty());
        assert_eq!(report.tracked_secs, 5 + 2 + 4);
        assert_eq!(report.active_secs, 2 + 1 + 4, "missing flags are idle, surplus flags ignored, 'x' is not '1'");
        let app = |name: &str| report.apps.iter().find(|a| a.app == name).map(|a| a.tracked_secs);
        assert_eq!(app("late"), Some(2), "clipped to the interval's 4 s");
        assert_eq!(app("overlapping"), None, "its seconds were already counted and it lies before them");
        assert_eq!(app("beyond"), None);
        assert_eq!(report.timeline.len(), 3);
        assert_classes_sum(&report);
    }

    #[test]
    fn random_malformed_intervals_never_break_the_invariants() {
        let mut rng = StdRng::seed_from_u64(7);
        let classifier = Classifier::new(&[rule(RuleTarget::App, PatternKind::Glob, "a*", Class::Productive)]).unwrap();
        for _ in 0..200 {
            let intervals: Vec<Interval> = (0..rng.random_range(0..6))
                .map(|_| {
                    let start = utc(0, 0, 0) + Duration::seconds(rng.random_range(-200..86_600));
                    let flags: String = (0..rng.random_range(0..40)).map(|_| if rng.random_bool(0.5) { '1' } else { '0' }).collect();
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
                    let mut i = interval("t", start, &flags, counts(rng.random_range(0..100), 0, 0, 0), windows);
                    i.ended_at = start + Duration::seconds(rng.random_range(-5..40));
                    i
                })
                .collect();
            let report = daily_report(&intervals, day(), 0, &classifier);
            assert_classes_sum(&report);
            assert!(report.apps.iter().map(|a| a.tracked_secs).sum::<u64>() <= report.tracked_secs);
            assert_eq!(report.tasks.iter().map(|t| t.tracked_secs).sum::<u64>(), report.tracked_secs);
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
        assert_eq!(daily_report(&intervals, day(), 180, &classifier), daily_report(&reversed, day(), 180, &classifier));
    }

    #[test]
    fn the_apps_and_hosts_lists_keep_the_top_fifty_and_the_figures_count_all() {
        let windows: Vec<WindowSegment> =
            (0..80).map(|k| segment(k, 1, &format!("app {k}"), "", Some(&format!("https://h{k}.example/")))).collect();
        let i = interval("t", utc(10, 0, 0), &"1".repeat(80), Counts::default(), windows);
        let report = daily_report(&[i], day(), 0, &Classifier::empty());
        assert_eq!((report.apps.len(), report.hosts.len()), (MAX_APPS, MAX_HOSTS));
        assert_eq!(report.tracked_secs, 80);
        assert_eq!(report.neutral_secs, 80);
    }

    #[test]
    fn withheld_titles_group_as_one_and_the_list_keeps_the_top_fifty() {
        let mut windows: Vec<WindowSegment> = (0..60).map(|k| segment(k, 1, "editor", &format!("file {k}"), None)).collect();
        windows.push(segment(60, 2, "editor", "", None));
        windows.push(segment(62, 3, "editor", "", None));
        let i = interval("t", utc(10, 0, 0), &"1".repeat(65), Counts::default(), windows);
        let report = daily_report(&[i], day(), 0, &Classifier::empty());
        assert_eq!(report.titles.len(), MAX_TITLES);
        assert_eq!(report.titles[0], TitleUsage { app: "editor".into(), title: String::new(), tracked_secs: 5, active_secs: 5 });
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
        let parsed: Rule = serde_json::from_str(r#"{"target":"host","kind":"regex","pattern":"x","class":"unproductive"}"#).unwrap();
        assert_eq!(parsed, rule(RuleTarget::Host, PatternKind::Regex, "x", Class::Unproductive));
    }

    /// The intervals and rules of docs/REPORTS.md, "Worked example". Local day 2026-11-23 at
    /// UTC+3, i.e. [2026-11-22 21:00Z, 2026-11-23 21:00Z); local 23:59 is 20:59Z.
    fn worked_example() -> (Vec<Interval>, Classifier) {
        let classifier = Classifier::new(&[
            rule(RuleTarget::App, PatternKind::Glob, "code*", Class::Productive),
            rule(RuleTarget::Host, PatternKind::Regex, r"(www\.)?youtube\.com", Class::Unproductive),
        ])
        .unwrap();
        let b = interval(
            "design",
            utc(20, 59, 0),
            "111111111100011",
            counts(30, 2, 1, 40),
            vec![
                segment(0, 10, "Code", "report.rs", None),
                segment(10, 5, "Firefox", "std - Rust", Some("https://doc.rust-lang.org/std/")),
            ],
        );
        let c = interval(
            "support",
            utc(20, 59, 30),
            "100000000001",
            counts(0, 1, 3, 12),
            vec![segment(0, 12, "Firefox", "Funny cats - YouTube", Some("https://www.YouTube.com/watch?v=x"))],
        );
        let d = interval(
            "support",
            utc(20, 59, 42),
            "11000111",
            counts(5, 1, 0, 8),
            vec![segment(0, 4, "Slack", "", None), segment(4, 4, "Firefox", "", Some("youtube.com"))],
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
            Rule { target: RuleTarget::Host, kind: PatternKind::Glob, pattern: "*youtube.com".into(), class: Class::Productive },
            Rule { target: RuleTarget::App, kind: PatternKind::Glob, pattern: "code*".into(), class: Class::Unproductive },
        ])
        .unwrap();
        reclassify(&mut kept, &usage, &new_rules);
        assert_eq!(kept, daily_report(&intervals, date, offset, &new_rules));
        assert_ne!(kept, daily_report(&intervals, date, offset, &old_rules), "the new rules changed something");
    }

    #[test]
    fn the_worked_example_in_docs_reports_md_holds() {
        let (intervals, classifier) = worked_example();
        let r = daily_report(&intervals, day(), 180, &classifier);
        assert_eq!((r.tracked_secs, r.active_secs, r.idle_secs, r.activity_pct), (45, 27, 18, 60));
        assert_eq!((r.productive_secs, r.unproductive_secs, r.neutral_secs), (20, 16, 9));
        assert_eq!(r.first_activity, Some(utc(20, 59, 0)));
        assert_eq!(r.last_activity, Some(utc(21, 0, 0)));
        assert_eq!(r.away_secs, 15);
        assert_eq!(r.counts, counts(47, 4, 4, 64));

        let tasks: Vec<_> = r.tasks.iter().map(|t| (t.task_id.as_str(), t.tracked_secs, t.active_secs, t.activity_pct)).collect();
        assert_eq!(tasks, [("design", 25, 20, 80), ("support", 20, 7, 35)]);
        let apps: Vec<_> = r.apps.iter().map(|a| (a.app.as_str(), a.class, a.tracked_secs, a.active_secs)).collect();
        assert_eq!(apps, [("Firefox", Class::Neutral, 21, 7), ("Code", Class::Productive, 20, 18), ("Slack", Class::Neutral, 4, 2)]);
        let titles: Vec<_> = r.titles.iter().map(|t| (t.app.as_str(), t.title.as_str(), t.tracked_secs, t.active_secs)).collect();
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
        let hosts: Vec<_> = r.hosts.iter().map(|h| (h.host.as_str(), h.class, h.tracked_secs, h.active_secs)).collect();
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
            .map(|t| (t.started_at, t.ended_at, t.task_id.as_str(), t.tracked_secs, t.active_secs, t.activity_pct))
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
        assert_eq!((next.tracked_secs, next.active_secs, next.productive_secs), (10, 5, 10));
        assert_eq!(next.counts, counts(12, 0, 0, 4));

        // The doc's tables carry the same numbers: every row is printed from the report itself.
        let doc = include_str!("../../../docs/REPORTS.md");
        let local = |t: DateTime<Utc>| (t + Duration::minutes(180)).format("%H:%M:%S").to_string();
        let zulu = |t: DateTime<Utc>| t.format("%H:%M:%SZ").to_string();
        let class = |c: Class| serde_json::to_value(c).unwrap().as_str().unwrap().to_string();
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
        rows.extend(
            r.tasks.iter().map(|t| format!("| {} | {} s | {} s | {} % |", t.task_id, t.tracked_secs, t.active_secs, t.activity_pct)),
        );
        rows.extend(r.apps.iter().map(|a| format!("| {} | {} | {} s | {} s |", a.app, class(a.class), a.tracked_secs, a.active_secs)));
        rows.extend(r.titles.iter().map(|t| {
            let title = if t.title.is_empty() { "(withheld)" } else { &t.title };
            format!("| {} | {} | {} s | {} s |", t.app, title, t.tracked_secs, t.active_secs)
        }));
        rows.extend(r.hosts.iter().map(|h| format!("| {} | {} | {} s | {} s |", h.host, class(h.class), h.tracked_secs, h.active_secs)));
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
}
