//! The productivity rules of R2: an organization's rules, each a glob or a regex over an app
//! name or a URL host, and the [`Classifier`] that says what a second in a window counts as.
//! Rules are checked before they are stored ([`validate_rule`]) and compiled once per report.

use globset::{GlobBuilder, GlobMatcher};
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Longest rule pattern accepted, in characters after trimming.
pub const MAX_PATTERN_CHARS: usize = 500;

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
        return fail(format!(
            "the pattern has {chars} characters; at most {MAX_PATTERN_CHARS} are allowed"
        ));
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
            regex_builder(pattern).build().map_err(|e| {
                RuleError(format!("invalid regex `{pattern}`: {}", regex_reason(&e)))
            })?;
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
        regex::Error::Syntax(text) => text
            .lines()
            .rev()
            .find_map(|line| line.trim().strip_prefix("error: "))
            .unwrap_or(text.trim())
            .to_string(),
        regex::Error::CompiledTooBig(_) => {
            "the pattern compiles to more than the 1 MiB allowed".into()
        }
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
            let matcher = compile_rule(rule)
                .map_err(|e| RuleError(format!("rule {}: {}", index + 1, e.0)))?;
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
    rules
        .iter()
        .find(|(matcher, _)| matcher.is_match(name))
        .map(|(_, class)| *class)
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
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host_port)| host_port);
    let (host, port) = if host_port.starts_with('[') {
        // IPv6 literal: the colons inside the brackets are not a port.
        let close = host_port.find(']')?;
        let (host, after) = host_port.split_at(close + 1);
        let valid = host[1..close]
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        if !valid || close == 1 {
            return None;
        }
        (
            host,
            if after.is_empty() {
                ""
            } else {
                after.strip_prefix(':')?
            },
        )
    } else {
        let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, ""));
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
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
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(target: RuleTarget, kind: PatternKind, pattern: &str, class: Class) -> Rule {
        Rule {
            target,
            kind,
            pattern: pattern.into(),
            class,
        }
    }

    #[test]
    fn host_rules_win_over_app_rules_and_the_first_matching_rule_wins() {
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
                "*youtube.com",
                Class::Unproductive,
            ),
            rule(
                RuleTarget::Host,
                PatternKind::Glob,
                "music.youtube.com",
                Class::Productive,
            ),
            rule(
                RuleTarget::App,
                PatternKind::Glob,
                "fire*",
                Class::Unproductive,
            ),
        ])
        .unwrap();
        assert_eq!(
            classifier.classify("firefox", Some("www.youtube.com")),
            Class::Unproductive
        );
        assert_eq!(
            classifier.classify("firefox", Some("music.youtube.com")),
            Class::Unproductive,
            "the earlier rule wins"
        );
        assert_eq!(
            classifier.classify("firefox", Some("docs.rs")),
            Class::Productive,
            "no host rule: app rules decide"
        );
        assert_eq!(classifier.classify("firefox", None), Class::Productive);
        assert_eq!(
            classifier.classify("firefox", Some("")),
            Class::Productive,
            "an empty host is no host"
        );
        assert_eq!(classifier.classify("firebird", None), Class::Unproductive);
        assert_eq!(
            classifier.classify("slack", Some("slack.com")),
            Class::Neutral
        );
        assert_eq!(
            classifier.classify_host("www.youtube.com"),
            Class::Unproductive
        );
        assert_eq!(
            classifier.classify_host("firefox"),
            Class::Neutral,
            "host rows ignore app rules"
        );
    }

    #[test]
    fn matching_ignores_case_for_globs_and_regexes() {
        let classifier = Classifier::new(&[
            rule(
                RuleTarget::App,
                PatternKind::Glob,
                "CODE*",
                Class::Productive,
            ),
            rule(
                RuleTarget::Host,
                PatternKind::Regex,
                r"(www\.)?YouTube\.com",
                Class::Unproductive,
            ),
        ])
        .unwrap();
        assert_eq!(classifier.classify("code", None), Class::Productive);
        assert_eq!(classifier.classify("Code - OSS", None), Class::Productive);
        assert_eq!(
            classifier.classify("x", Some("WWW.youtube.COM")),
            Class::Unproductive
        );
        assert_eq!(
            classifier.classify("x", Some("youtube.com")),
            Class::Unproductive
        );
    }

    #[test]
    fn globs_and_regexes_match_the_whole_name_only() {
        let classifier = Classifier::new(&[
            rule(
                RuleTarget::App,
                PatternKind::Regex,
                "git",
                Class::Productive,
            ),
            rule(
                RuleTarget::Host,
                PatternKind::Glob,
                "*.github.com",
                Class::Productive,
            ),
            rule(
                RuleTarget::Host,
                PatternKind::Regex,
                r"[a-z]+\.slack\.com",
                Class::Unproductive,
            ),
            rule(
                RuleTarget::App,
                PatternKind::Glob,
                "term?",
                Class::Productive,
            ),
        ])
        .unwrap();
        assert_eq!(classifier.classify("git", None), Class::Productive);
        assert_eq!(classifier.classify("digit", None), Class::Neutral);
        assert_eq!(classifier.classify("github desktop", None), Class::Neutral);
        assert_eq!(
            classifier.classify("x", Some("api.github.com")),
            Class::Productive
        );
        assert_eq!(
            classifier.classify("x", Some("github.com")),
            Class::Neutral,
            "`*.` needs a subdomain"
        );
        assert_eq!(
            classifier.classify("x", Some("api.github.com.evil.org")),
            Class::Neutral
        );
        assert_eq!(
            classifier.classify("x", Some("team.slack.com")),
            Class::Unproductive
        );
        assert_eq!(
            classifier.classify("x", Some("a.b.slack.com")),
            Class::Neutral
        );
        assert_eq!(classifier.classify("terms", None), Class::Productive);
        assert_eq!(classifier.classify("terminal", None), Class::Neutral);
    }

    #[test]
    fn glob_metacharacters_are_not_regex_ones_and_vice_versa() {
        let glob = Classifier::new(&[rule(
            RuleTarget::Host,
            PatternKind::Glob,
            "{docs.rs,crates.io}",
            Class::Productive,
        )])
        .unwrap();
        assert_eq!(glob.classify_host("crates.io"), Class::Productive);
        assert_eq!(
            glob.classify_host("docsxrs"),
            Class::Neutral,
            "a glob's `.` is literal"
        );
        let regex = Classifier::new(&[rule(
            RuleTarget::Host,
            PatternKind::Regex,
            "docs.rs",
            Class::Productive,
        )])
        .unwrap();
        assert_eq!(
            regex.classify_host("docsxrs"),
            Class::Productive,
            "a regex's `.` is any character"
        );
    }

    #[test]
    fn a_regex_cannot_break_out_of_its_anchors() {
        let error = validate_rule(&rule(
            RuleTarget::App,
            PatternKind::Regex,
            "a)|(b",
            Class::Productive,
        ))
        .unwrap_err();
        assert!(error.0.starts_with("invalid regex `a)|(b`: "), "{error}");
        let classifier = Classifier::new(&[rule(
            RuleTarget::App,
            PatternKind::Regex,
            "a|b",
            Class::Productive,
        )])
        .unwrap();
        assert_eq!(classifier.classify("b", None), Class::Productive);
        assert_eq!(
            classifier.classify("ab", None),
            Class::Neutral,
            "the alternation is inside the anchors"
        );
    }

    #[test]
    fn validate_rule_explains_what_is_wrong_in_one_line() {
        let check = |kind, pattern: &str, class| {
            validate_rule(&rule(RuleTarget::App, kind, pattern, class)).map_err(|e| e.0)
        };
        assert_eq!(check(PatternKind::Glob, "code*", Class::Productive), Ok(()));
        assert_eq!(
            check(
                PatternKind::Regex,
                r"(www\.)?youtube\.com",
                Class::Unproductive
            ),
            Ok(())
        );
        assert_eq!(
            check(PatternKind::Regex, "(", Class::Productive),
            Err("invalid regex `(`: unclosed group".into())
        );
        assert_eq!(
            check(PatternKind::Glob, "[ab", Class::Productive),
            Err("invalid glob `[ab`: unclosed character class; missing ']'".into())
        );
        assert_eq!(
            check(PatternKind::Glob, "   ", Class::Productive),
            Err("the pattern is empty".into())
        );
        assert_eq!(
            check(PatternKind::Glob, &"a".repeat(501), Class::Productive),
            Err("the pattern has 501 characters; at most 500 are allowed".into())
        );
        assert_eq!(
            check(
                PatternKind::Glob,
                &format!("  {}  ", "é".repeat(500)),
                Class::Productive
            ),
            Ok(()),
            "characters, trimmed"
        );
        assert_eq!(
            check(PatternKind::Glob, "code", Class::Neutral),
            Err("the class must be productive or unproductive".into())
        );
        let huge = check(PatternKind::Regex, "(a{1000}){1000}", Class::Productive).unwrap_err();
        assert!(
            huge.ends_with("the pattern compiles to more than the 1 MiB allowed"),
            "{huge}"
        );
        for message in [
            check(PatternKind::Regex, "a{2,1}", Class::Productive).unwrap_err(),
            huge,
        ] {
            assert!(!message.contains('\n'), "{message}");
        }
    }

    #[test]
    fn the_classifier_names_the_rule_that_does_not_compile() {
        let error = Classifier::new(&[
            rule(
                RuleTarget::App,
                PatternKind::Glob,
                "code",
                Class::Productive,
            ),
            rule(RuleTarget::Host, PatternKind::Regex, "(", Class::Productive),
        ])
        .unwrap_err();
        assert_eq!(error.0, "rule 2: invalid regex `(`: unclosed group");
    }

    #[test]
    fn patterns_are_trimmed_before_matching() {
        let classifier = Classifier::new(&[rule(
            RuleTarget::App,
            PatternKind::Glob,
            " slack ",
            Class::Unproductive,
        )])
        .unwrap();
        assert_eq!(classifier.classify("Slack", None), Class::Unproductive);
    }

    #[test]
    fn an_empty_classifier_calls_everything_neutral() {
        assert_eq!(
            Classifier::empty().classify("code", Some("youtube.com")),
            Class::Neutral
        );
        assert_eq!(
            Classifier::new(&[]).unwrap().classify_host("youtube.com"),
            Class::Neutral
        );
    }

    #[test]
    fn url_host_keeps_only_the_lowercased_host() {
        let host = |url: &str| url_host(url);
        assert_eq!(
            host("https://Docs.Rust-Lang.org:443/std"),
            Some("docs.rust-lang.org".into())
        );
        assert_eq!(
            host("http://user:secret@Example.com:8080/a?b#c"),
            Some("example.com".into())
        );
        assert_eq!(host("https://example.com?q=1"), Some("example.com".into()));
        assert_eq!(host("https://example.com#top"), Some("example.com".into()));
        assert_eq!(
            host("YouTube.com"),
            Some("youtube.com".into()),
            "a bare host left by E6"
        );
        assert_eq!(host("  youtube.com  "), Some("youtube.com".into()));
        assert_eq!(
            host("example.com/next?to=https://evil.org"),
            Some("example.com".into())
        );
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
}
