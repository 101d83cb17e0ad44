//! The event log as XES (IEEE 1849-2016), the format process-mining tools (pm4py, ProM,
//! Celonis, Disco) read. One trace per task and local day of a person: a case is "working on
//! this task that day"; each event's activity is its type and the app it happened in
//! ("WindowSwitch code"), so a discovered model shows how work moves between programs.
//!
//! Written a day at a time: a day's traces are complete in that day, found by their task in a
//! map (never by scanning the traces so far). XES has no way to refer to a window, so each
//! event carries its window's strings: the byte budget bounds the document instead.
//!
//! Past the budget the log stops after an event with an XML comment that says where to ask
//! again, and without its closing `</log>`: an XES reader refuses it rather than mining a
//! part of the range as if it were the whole.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::day::{DayEvent, DayLog};
use super::LogWriter;
use crate::export::{ExportError, ExportSink};

pub struct XesLog {
    person: String,
    title: String,
    /// The organization's task names by id (a trace is named for its task and day).
    task_names: HashMap<String, String>,
}

impl XesLog {
    /// `person` names the resource (org:resource) of every event.
    pub fn new(
        person: &str,
        task_names: HashMap<String, String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Self {
        XesLog {
            person: person.to_string(),
            title: format!(
                "Metron events of {person} from {} to {}",
                from.to_rfc3339(),
                to.to_rfc3339()
            ),
            task_names,
        }
    }

    fn event(&self, out: &mut String, e: &DayEvent, log: &DayLog<'_>) {
        let window = log.windows[e.window as usize];
        out.push_str("    <event>\n");
        string(
            out,
            3,
            "concept:name",
            &format!("{:?} {}", e.kind, window.app),
        );
        string(out, 3, "lifecycle:transition", "complete");
        string(out, 3, "org:resource", &self.person);
        let _ = writeln!(
            out,
            "      <date key=\"time:timestamp\" value=\"{}\"/>",
            e.at.format("%Y-%m-%dT%H:%M:%S%.3f+00:00")
        );
        string(out, 3, "metron:type", &format!("{:?}", e.kind));
        string(out, 3, "metron:app", window.app);
        if let Some(path) = window.path {
            string(out, 3, "metron:path", path);
        }
        if !window.title.is_empty() {
            string(out, 3, "metron:title", window.title);
        }
        if let Some(url) = window.url {
            string(out, 3, "metron:url", url);
        }
        string(out, 3, "metron:task", log.task_id(e));
        out.push_str("    </event>\n");
    }
}

impl LogWriter for XesLog {
    fn head(&mut self, sink: &mut ExportSink) -> Result<(), ExportError> {
        let mut out = String::from(concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<log xes.version=\"1849-2016\" xes.features=\"nested-attributes\" xmlns=\"http://www.xes-standard.org/\">\n",
            "  <extension name=\"Concept\" prefix=\"concept\" uri=\"http://www.xes-standard.org/concept.xesext\"/>\n",
            "  <extension name=\"Time\" prefix=\"time\" uri=\"http://www.xes-standard.org/time.xesext\"/>\n",
            "  <extension name=\"Organizational\" prefix=\"org\" uri=\"http://www.xes-standard.org/org.xesext\"/>\n",
            "  <extension name=\"Lifecycle\" prefix=\"lifecycle\" uri=\"http://www.xes-standard.org/lifecycle.xesext\"/>\n",
            "  <global scope=\"trace\">\n    <string key=\"concept:name\" value=\"\"/>\n  </global>\n",
            "  <global scope=\"event\">\n    <string key=\"concept:name\" value=\"\"/>\n",
            "    <date key=\"time:timestamp\" value=\"1970-01-01T00:00:00.000+00:00\"/>\n  </global>\n",
            "  <classifier name=\"Activity\" keys=\"concept:name\"/>\n",
        ));
        string(&mut out, 1, "concept:name", &self.title);
        sink.push(&out)
    }

    fn day(
        &mut self,
        log: &DayLog<'_>,
        sink: &mut ExportSink,
    ) -> Result<Option<DateTime<Utc>>, ExportError> {
        // One trace per task this day, in order of its first event; events keep their time
        // order within each.
        let mut out = String::new();
        for (task_id, events) in log.tasks() {
            let name = self.task_names.get(task_id).map_or(task_id, String::as_str);
            out.push_str("  <trace>\n");
            string(
                &mut out,
                2,
                "concept:name",
                &format!("{name} · {}", log.day.date),
            );
            for e in events {
                self.event(&mut out, &e, log);
                sink.push(&out)?;
                out.clear();
                if sink.over_budget() {
                    // A day's traces are whole only together: ask again from the day's start.
                    sink.push("  </trace>\n")?;
                    return Ok(Some(log.day.from));
                }
            }
            sink.push("  </trace>\n")?;
        }
        Ok(None)
    }

    fn end(
        &mut self,
        cut_at: Option<DateTime<Utc>>,
        sink: &mut ExportSink,
    ) -> Result<(), ExportError> {
        match cut_at {
            None => sink.push("</log>\n"),
            Some(at) => sink.push(&format!(
                "<!-- metron: the log stops here at the server's export budget of {} bytes and is \
                 not whole; ask again with from={} for the rest. -->\n",
                sink.budget(),
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )),
        }
    }
}

fn string(out: &mut String, depth: usize, key: &str, value: &str) {
    let _ = writeln!(
        out,
        "{}<string key=\"{}\" value=\"{}\"/>",
        "  ".repeat(depth),
        escape(key),
        escape(value)
    );
}

/// An XML attribute value: the five markup characters escaped, and characters XML 1.0 can't
/// hold at all (most control characters) dropped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_title_is_escaped_and_control_characters_dropped() {
        assert_eq!(
            escape("a<b> & \"c\" 'd'\u{1}\te"),
            "a&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;&#9;e"
        );
    }
}
