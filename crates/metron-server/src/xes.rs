//! The event log as XES (IEEE 1849-2016), the format process-mining tools (pm4py, ProM,
//! Celonis, Disco) read. One trace per task and local day of a person: a case is "working on
//! this task that day"; each event's activity is its type and the app it happened in
//! ("WindowSwitch code"), so a discovered model shows how work moves between programs.

use std::fmt::Write as _;

use crate::event_log::LoggedEvent;

/// Writes the log; `person` names the resource (org:resource) of every event.
pub fn write(person: &str, title: &str, events: &[LoggedEvent]) -> String {
    // Traces in order of their first event; events keep their time order within each.
    let mut traces: Vec<(String, Vec<&LoggedEvent>)> = Vec::new();
    for e in events {
        let case = format!("{} · {}", e.task_name, e.local_date);
        match traces.iter_mut().find(|(c, _)| *c == case) {
            Some((_, list)) => list.push(e),
            None => traces.push((case, vec![e])),
        }
    }
    let mut out = String::with_capacity(512 + events.len() * 512);
    out.push_str(concat!(
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
    string(&mut out, 1, "concept:name", title);
    for (case, list) in &traces {
        out.push_str("  <trace>\n");
        string(&mut out, 2, "concept:name", case);
        for e in list {
            out.push_str("    <event>\n");
            string(
                &mut out,
                3,
                "concept:name",
                &format!("{:?} {}", e.record.event.kind, e.record.event.app),
            );
            string(&mut out, 3, "lifecycle:transition", "complete");
            string(&mut out, 3, "org:resource", person);
            let _ = writeln!(
                out,
                "      <date key=\"time:timestamp\" value=\"{}\"/>",
                e.record.event.at.format("%Y-%m-%dT%H:%M:%S%.3f+00:00")
            );
            string(
                &mut out,
                3,
                "metron:type",
                &format!("{:?}", e.record.event.kind),
            );
            string(&mut out, 3, "metron:app", &e.record.event.app);
            if let Some(path) = &e.record.event.path {
                string(&mut out, 3, "metron:path", path);
            }
            if !e.record.event.title.is_empty() {
                string(&mut out, 3, "metron:title", &e.record.event.title);
            }
            if let Some(url) = &e.record.event.url {
                string(&mut out, 3, "metron:url", url);
            }
            string(&mut out, 3, "metron:task", &e.record.task_id);
            out.push_str("    </event>\n");
        }
        out.push_str("  </trace>\n");
    }
    out.push_str("</log>\n");
    out
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
