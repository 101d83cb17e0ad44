//! `replay`: trace parsing and the engine over a trace.

use super::*;
use metron_agent::replay::{read_trace, replay};
use metron_core::EngineConfig;
use std::io::Write;

fn trace(lines: &[String]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    f
}

fn busy(t: i64) -> String {
    format!(r#"{{"t":{t},"keys":2,"moves":5,"app":"code","title":"main.rs"}}"#)
}

#[test]
fn a_trace_with_a_sleep_gap_replays_without_the_gap() {
    let start = 1_795_000_000;
    let mut lines: Vec<String> = (0..300).map(|k| busy(start + k)).collect();
    lines.extend((0..120).map(|k| busy(start + 300 + 3600 + k)));
    let f = trace(&lines);
    let parsed = read_trace(f.path()).unwrap();
    let intervals = replay(&parsed, EngineConfig::default(), 3).unwrap();
    assert_eq!(
        intervals.iter().map(Interval::duration_secs).sum::<i64>(),
        420
    );
    assert!(intervals.iter().any(|i| i.end_reason == EndReason::Sleep));
    assert_eq!(intervals.last().unwrap().end_reason, EndReason::Quit);
    assert_eq!(intervals[0].started_at.timestamp(), start - 1);
    assert_no_overlap(&intervals);
    assert!(intervals
        .iter()
        .all(|i| i.task_id == "replay" && i.validate().is_ok()));
}

#[test]
fn missing_fields_mean_zero_counts_and_an_unknown_window() {
    let f = trace(&[r#"{"t":10}"#.into(), r#"{"t":11,"clicks":1}"#.into()]);
    let parsed = read_trace(f.path()).unwrap();
    let intervals = replay(&parsed, EngineConfig::default(), 1).unwrap();
    assert_eq!(intervals.len(), 1);
    assert_eq!(intervals[0].active, "01");
    assert_eq!(intervals[0].windows[0].app, "unknown");
}

#[test]
fn a_bad_line_is_reported_with_its_number() {
    let f = trace(&[busy(1), busy(2), "{\"t\": \"three\"}".into(), busy(4)]);
    let err = read_trace(f.path()).unwrap_err().to_string();
    assert!(err.contains(":3:"), "{err}");
    let f = trace(&[busy(5), busy(4)]);
    let err = read_trace(f.path()).unwrap_err().to_string();
    assert!(err.contains(":2:") && err.contains("t must grow"), "{err}");
}
