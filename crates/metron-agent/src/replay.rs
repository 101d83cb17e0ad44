//! `metron-agent replay`: the real engine over a recorded trace, for debugging and tests.
//!
//! A trace is JSON lines, one per second:
//! `{"t":<integer seconds>,"keys":n,"clicks":n,"scrolls":n,"moves":n,"app":"..","title":"..","url":".."}`.
//! A missing count is 0, a missing app is an unknown window, and a jump in `t` of more than 5 s
//! is a sleep. `t` is read as unix time (UTC) for the wall stamps.
//!
//! Replay models a user who presses Start on task "replay" at the first line, and again at the
//! first second with input after tracking stopped (idle or sleep); it quits after the last line.

use chrono::DateTime;
use metron_core::{Counts, Engine, EngineConfig, Event, Interval, Now, Sample, WindowInfo};
use rand::{rngs::StdRng, SeedableRng};
use serde::Deserialize;
use std::io::BufRead;
use std::path::Path;
use std::time::Duration;
use uuid::Uuid;

use crate::error::AgentError;

/// The task every replayed interval is booked on.
pub const REPLAY_TASK: &str = "replay";

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TraceLine {
    pub t: i64,
    #[serde(default)]
    pub keys: u64,
    #[serde(default)]
    pub clicks: u64,
    #[serde(default)]
    pub scrolls: u64,
    #[serde(default)]
    pub moves: u64,
    #[serde(default)]
    pub app: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
}

impl TraceLine {
    fn sample(&self) -> Sample {
        let counts = Counts {
            keys: self.keys,
            clicks: self.clicks,
            scrolls: self.scrolls,
            moves: self.moves,
        };
        let window = self.app.as_ref().map(|app| WindowInfo {
            app: app.clone(),
            title: self.title.clone().unwrap_or_default(),
            url: self.url.clone(),
            path: self.path.clone(),
        });
        Sample {
            input: counts.into(),
            window,
            // Traces record input and windows only: no inhibitors, as before.
            inhibitor: None,
        }
    }
}

/// Reads a trace; any bad line is an error naming its number.
pub fn read_trace(path: &Path) -> Result<Vec<TraceLine>, AgentError> {
    let file = std::fs::File::open(path).map_err(|source| AgentError::TraceIo {
        path: path.to_path_buf(),
        source,
    })?;
    let mut lines: Vec<TraceLine> = Vec::new();
    for (index, text) in std::io::BufReader::new(file).lines().enumerate() {
        let line_no = index + 1;
        let bad = |why: String| AgentError::Trace {
            path: path.to_path_buf(),
            line: line_no,
            why,
        };
        let text = text.map_err(|e| bad(format!("unreadable: {e}")))?;
        if text.trim().is_empty() {
            continue;
        }
        let line: TraceLine =
            serde_json::from_str(&text).map_err(|e| bad(format!("not a trace line ({e})")))?;
        if let Some(prev) = lines.last() {
            if line.t <= prev.t {
                return Err(bad(format!(
                    "t must grow from line to line, but {} follows {}",
                    line.t, prev.t
                )));
            }
        }
        if DateTime::from_timestamp(line.t, 0).is_none() {
            return Err(bad(format!("t = {} is out of range", line.t)));
        }
        lines.push(line);
    }
    Ok(lines)
}

/// Runs the engine over `lines` with a seeded RNG and returns every closed interval.
pub fn replay(
    lines: &[TraceLine],
    config: EngineConfig,
    seed: u64,
) -> Result<Vec<Interval>, AgentError> {
    let mut engine = Engine::new(config, Uuid::nil(), Box::new(StdRng::seed_from_u64(seed)))?;
    let Some(first) = lines.first() else {
        return Ok(Vec::new());
    };
    let origin = first.t - 1;
    let now = |t: i64| Now {
        mono: Duration::from_secs((t - origin) as u64),
        wall: DateTime::from_timestamp(t, 0).unwrap_or(DateTime::UNIX_EPOCH),
        utc_offset_minutes: 0,
    };
    let mut events = engine.start(REPLAY_TASK, &now(origin));
    for line in lines {
        let sample = line.sample();
        if engine.is_tracking() {
            events.extend(engine.tick(&now(line.t), sample.clone()));
        }
        if !engine.is_tracking() && sample.input.active() {
            events.extend(engine.start(REPLAY_TASK, &now(line.t - 1)));
            events.extend(engine.tick(&now(line.t), sample));
        }
    }
    if let Some(last) = lines.last() {
        events.extend(engine.quit(&now(last.t)));
    }
    Ok(events
        .into_iter()
        .filter_map(|e| {
            if let Event::Closed(i) = e {
                Some(i)
            } else {
                None
            }
        })
        .collect())
}
