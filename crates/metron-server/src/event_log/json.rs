//! The event log as JSON, `metron_core::wire::EventExport`, written a day at a time: each
//! element is the wire type serialized on its own, so the document is what a client
//! deserializes, and only its frame (the braces and the keys around `days`) is written here.

use chrono::{DateTime, Utc};
use metron_core::wire::{ExportEvent, ExportWindow};
use serde::Serialize;

use super::day::DayLog;
use super::LogWriter;
use crate::export::{ExportError, ExportSink};

pub struct JsonLog {
    head: String,
    first_day: bool,
}

impl JsonLog {
    pub fn new(user_id: &str, from: DateTime<Utc>, to: DateTime<Utc>, offset: i32) -> Self {
        let head = format!(
            "{{\"user_id\":{},\"from\":{},\"to\":{},\"utc_offset_minutes\":{offset},\"days\":[",
            json(&user_id),
            json(&from),
            json(&to)
        );
        JsonLog {
            head,
            first_day: true,
        }
    }
}

impl LogWriter for JsonLog {
    fn head(&mut self, sink: &mut ExportSink) -> Result<(), ExportError> {
        sink.push(&self.head)
    }

    fn day(
        &mut self,
        log: &DayLog<'_>,
        sink: &mut ExportSink,
    ) -> Result<Option<DateTime<Utc>>, ExportError> {
        let day = log.day;
        sink.push(&format!(
            "{}{{\"date\":{},\"from\":{},\"to\":{},\"windows\":[",
            if self.first_day { "" } else { "," },
            json(&day.date),
            json(&day.from),
            json(&day.to)
        ))?;
        self.first_day = false;
        for (n, w) in log.windows.iter().enumerate() {
            let window = ExportWindow {
                app: w.app.to_string(),
                title: w.title.to_string(),
                url: w.url.map(str::to_string),
                path: w.path.map(str::to_string),
            };
            sink.push(if n == 0 { "" } else { "," })?;
            sink.push(&json(&window))?;
        }
        sink.push("],\"events\":[")?;
        let mut cut_at = None;
        let mut last: Option<DateTime<Utc>> = None;
        for e in log.events() {
            // Past the budget, stop between two seconds: `resume_from` then names a second
            // none of whose events were sent.
            if sink.over_budget() && last.is_some_and(|last| last < e.at) {
                cut_at = Some(e.at);
                break;
            }
            let event = ExportEvent {
                at: e.at,
                kind: e.kind,
                window: e.window,
                task_id: log.task_id(&e).to_string(),
                interval_id: log.interval_id(&e).to_string(),
            };
            sink.push(if last.is_none() { "" } else { "," })?;
            sink.push(&json(&event))?;
            last = Some(e.at);
        }
        sink.push("]}")?;
        Ok(cut_at)
    }

    fn end(
        &mut self,
        cut_at: Option<DateTime<Utc>>,
        sink: &mut ExportSink,
    ) -> Result<(), ExportError> {
        match cut_at {
            None => sink.push("],\"complete\":true}"),
            Some(at) => sink.push(&format!(
                "],\"complete\":false,\"resume_from\":{}}}",
                json(&at)
            )),
        }
    }
}

/// A value as JSON (the wire types and chrono's values always serialize).
fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
