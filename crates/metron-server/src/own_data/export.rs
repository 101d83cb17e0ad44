//! A person's export (issue 28, GDPR articles 15 and 20): one ZIP of JSON and CSV with
//! everything the server holds of them, written as it is sent by the export machinery of
//! issue 27 (`crate::export`, `routes::stream`): a producer on a thread of its own writes the
//! ZIP (data descriptors, no seeking back) into the sink, which hands it on in chunks through
//! a small bounded channel. Intervals are read a UTC day at a time and lists a page at a time,
//! so memory holds a day or a page, whatever the history.
//!
//! Past the byte budget (`Limits::max_export_bytes`) the files stop at the next day or page,
//! the remaining files are left out, and the ZIP still ends properly with `manifest.json`
//! (`complete: false`, where it stopped) and `README.txt` saying so: never silent.

use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use tokio::runtime::Handle;
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

use crate::db::timesheets::{Page, MAX_ROWS};
use crate::db::UserRow;
use crate::export::{ExportError, ExportSink};
use crate::routes::csv::csv_field;
use crate::AppState;

/// The ZIP's bytes into the export's sink, counted for the budget.
struct SinkWrite<'a> {
    sink: &'a mut ExportSink,
    written: Rc<Cell<u64>>,
    gone: Rc<Cell<bool>>,
}

impl Write for SinkWrite<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.sink.push_bytes(buf).map_err(|e| {
            self.gone.set(matches!(e, ExportError::Gone));
            std::io::Error::other(e.to_string())
        })?;
        self.written.set(self.written.get() + buf.len() as u64);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type Zip<'a> = ZipWriter<zip::write::StreamWriter<SinkWrite<'a>>>;

/// The ZIP being written: its files so far and where the budget stopped it.
struct Export<'a> {
    zip: Zip<'a>,
    written: Rc<Cell<u64>>,
    gone: Rc<Cell<bool>>,
    budget: u64,
    files: Vec<&'static str>,
    cut: Option<String>,
}

impl Export<'_> {
    fn over_budget(&self) -> bool {
        self.written.get() > self.budget
    }

    fn fail(&self, e: impl std::fmt::Display) -> ExportError {
        if self.gone.get() {
            ExportError::Gone
        } else {
            ExportError::Failed(format!("writing the ZIP: {e}"))
        }
    }

    fn start(&mut self, name: &'static str) -> Result<(), ExportError> {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        self.zip
            .start_file(name, options)
            .map_err(|e| self.fail(e))?;
        self.files.push(name);
        Ok(())
    }

    fn put(&mut self, text: &str) -> Result<(), ExportError> {
        self.zip
            .write_all(text.as_bytes())
            .map_err(|e| self.fail(e))
    }

    /// Whether to stop before the next day or page of `file` (and say so).
    fn stop_at(&mut self, file: &str, at: &str) -> bool {
        if self.cut.is_none() && self.over_budget() {
            self.cut = Some(format!("{file} at {at}"));
        }
        self.cut.is_some()
    }
}

/// Writes `who`'s export into `sink`. Runs on the export's own thread; `runtime` drives the
/// database reads.
pub fn write(
    runtime: &Handle,
    state: &AppState,
    who: &UserRow,
    sink: &mut ExportSink,
) -> Result<(), ExportError> {
    let budget = sink.budget();
    let written = Rc::new(Cell::new(0));
    let gone = Rc::new(Cell::new(false));
    let zip = ZipWriter::new_stream(SinkWrite {
        sink,
        written: Rc::clone(&written),
        gone: Rc::clone(&gone),
    });
    let mut x = Export {
        zip,
        written,
        gone,
        budget,
        files: Vec::new(),
        cut: None,
    };
    let user = &who.user;
    let id = user.id.as_str();

    x.start("person.json")?;
    x.put(&pretty(&serde_json::json!({
        "id": user.id, "email": user.email, "name": user.name, "admin": user.admin,
        "organization_id": who.org_id, "disabled": who.disabled,
        "exported_at": Utc::now().to_rfc3339(),
    })))?;

    let devices = runtime.block_on(state.db.devices(&who.org_id, Some(id)))?;
    let devices: Vec<_> = devices
        .into_iter()
        .map(crate::routes::devices::device)
        .collect();
    x.start("devices.json")?;
    x.put(&pretty(&devices))?;

    // Manual entries and corrections: every one, a page at a time.
    x.start("manual_entries.json")?;
    x.put("[")?;
    let mut page = Page::first(MAX_ROWS);
    let mut first = true;
    loop {
        let rows = runtime.block_on(state.db.manual_entries(
            id,
            i64::MIN / 2,
            i64::MAX / 2,
            &page,
        ))?;
        let more = rows.len() as i64 > page.limit;
        for row in rows.iter().take(page.limit as usize) {
            let view = metron_core::wire::ManualEntryView::from(row);
            x.put(if first { "\n" } else { ",\n" })?;
            x.put(&serde_json::to_string(&view).expect("views serialize"))?;
            first = false;
        }
        match rows.get(page.limit as usize - 1).filter(|_| more) {
            Some(last) if !x.stop_at("manual_entries.json", &last.id) => {
                page.after = Some((last.started_at, last.id.clone()));
            }
            _ => break,
        }
    }
    x.put("\n]\n")?;

    x.start("corrections.json")?;
    x.put("[")?;
    let mut page = Page::first(MAX_ROWS);
    let mut first = true;
    loop {
        let rows = runtime.block_on(state.db.corrections(id, i64::MIN / 2, i64::MAX / 2, &page))?;
        let more = rows.len() as i64 > page.limit;
        for row in rows.iter().take(page.limit as usize) {
            x.put(if first { "\n" } else { ",\n" })?;
            x.put(&pretty_line(&serde_json::json!({
                "id": row.id, "interval_id": row.interval_id,
                "interval_started_at": time(row.interval_started_at),
                "change": serde_json::from_str::<serde_json::Value>(&row.change).ok(),
                "reason": row.reason, "status": row.status,
                "created_at": time(row.created_at), "created_by": row.created_by,
                "decided_by": row.decided_by, "decided_at": row.decided_at.map(time),
                "decision_note": row.decision_note,
            })))?;
            first = false;
        }
        match rows.get(page.limit as usize - 1).filter(|_| more) {
            Some(last) if !x.stop_at("corrections.json", &last.id) => {
                page.after = Some((last.created_at, last.id.clone()));
            }
            _ => break,
        }
    }
    x.put("\n]\n")?;

    // Submitted and approved weeks and months (the rest are open).
    let periods = runtime.block_on(state.db.periods(id, "0000-01-01", "9999-12-31"))?;
    let periods: Vec<_> = periods
        .iter()
        .map(|p| {
            serde_json::json!({
                "kind": p.kind, "start": p.start, "state": p.state,
                "submitted_at": time(p.submitted_at), "decided_by": p.decided_by,
                "decided_at": p.decided_at.map(time),
                "figures": p.figures.as_deref().and_then(|f| serde_json::from_str::<serde_json::Value>(f).ok()),
            })
        })
        .collect();
    x.start("timesheets.json")?;
    x.put(&pretty(&periods))?;
    x.start("timesheets.csv")?;
    x.put("kind,start,state,submitted_at,decided_by,decided_at\r\n")?;
    for p in &periods {
        let cell = |k: &str| csv_field(p[k].as_str().unwrap_or_default());
        x.put(&format!(
            "{},{},{},{},{},{}\r\n",
            cell("kind"),
            cell("start"),
            cell("state"),
            cell("submitted_at"),
            cell("decided_by"),
            cell("decided_at")
        ))?;
    }

    // The audit rows about them, newest first as the trail reads.
    x.start("audit.json")?;
    x.put("[")?;
    let mut page = Page::first(MAX_ROWS);
    let mut first = true;
    loop {
        let rows = runtime.block_on(state.db.audit(
            &who.org_id,
            Some(id),
            i64::MIN / 2,
            i64::MAX / 2,
            &page,
        ))?;
        let more = rows.len() as i64 > page.limit;
        for r in rows.iter().take(page.limit as usize) {
            let json = |v: &Option<String>| {
                v.as_deref()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
            };
            x.put(if first { "\n" } else { ",\n" })?;
            x.put(&pretty_line(&serde_json::json!({
                "id": r.id, "actor_id": r.actor_id, "at": time(r.at), "action": r.action,
                "subject_id": r.subject_id, "before": json(&r.before), "after": json(&r.after),
                "reason": r.reason,
            })))?;
            first = false;
        }
        match rows.get(page.limit as usize - 1).filter(|_| more) {
            Some(last) if !x.stop_at("audit.json", &last.id) => {
                page.after = Some((last.at, last.id.clone()));
            }
            _ => break,
        }
    }
    x.put("\n]\n")?;

    // Who else read their data.
    x.start("access_log.json")?;
    x.put("[")?;
    let mut page = Page::first(MAX_ROWS);
    let mut first = true;
    loop {
        let rows = runtime.block_on(state.db.access_log(id, &page))?;
        let more = rows.len() as i64 > page.limit;
        for r in rows.iter().take(page.limit as usize) {
            x.put(if first { "\n" } else { ",\n" })?;
            x.put(&pretty_line(&serde_json::json!({
                "reader_id": r.reader_id, "at": time(r.at), "what": r.what, "scope": r.scope,
            })))?;
            first = false;
        }
        match rows.get(page.limit as usize - 1).filter(|_| more) {
            Some(last) if !x.stop_at("access_log.json", &last.id) => {
                page.after = Some((last.at, last.id.clone()));
            }
            _ => break,
        }
    }
    x.put("\n]\n")?;

    // Days past the retention, kept as their totals.
    x.start("kept_days.json")?;
    x.put("[")?;
    let mut after = String::new();
    let mut first = true;
    loop {
        let rows = runtime.block_on(state.db.day_aggregates_after(id, &after, 100))?;
        for (day, body) in &rows {
            x.put(if first { "\n" } else { ",\n" })?;
            x.put(&format!(
                "{{\"day\":{},\"kept\":{body}}}",
                serde_json::json!(day)
            ))?;
            first = false;
        }
        match rows.last() {
            Some((day, _)) if rows.len() == 100 && !x.stop_at("kept_days.json", day) => {
                after = day.clone();
            }
            _ => break,
        }
    }
    x.put("\n]\n")?;

    // The intervals: as stored (with windows, titles, addresses and events), then as CSV.
    let span = runtime.block_on(state.db.interval_span(id))?;
    for file in ["intervals.json", "intervals.csv", "windows.csv"] {
        if x.stop_at(file, "its start") {
            break;
        }
        intervals(runtime, state, id, span, file, &mut x)?;
    }

    x.start("manifest.json")?;
    let manifest = serde_json::json!({
        "complete": x.cut.is_none(),
        "cut_at": x.cut,
        "budget_bytes": x.budget,
        "files": x.files,
    });
    x.put(&pretty(&manifest))?;
    x.start("README.txt")?;
    let readme = readme(&x.files, x.cut.as_deref(), x.budget);
    x.put(&readme)?;
    let fail = |e: zip::result::ZipError, gone: &Rc<Cell<bool>>| {
        if gone.get() {
            ExportError::Gone
        } else {
            ExportError::Failed(format!("ending the ZIP: {e}"))
        }
    };
    let gone = Rc::clone(&x.gone);
    let out = x.zip.finish().map_err(|e| fail(e, &gone))?;
    out.into_inner().sink.flush()
}

/// One of the interval files, a UTC day at a time over the span of the person's intervals.
fn intervals(
    runtime: &Handle,
    state: &AppState,
    id: &str,
    span: Option<(i64, i64)>,
    file: &'static str,
    x: &mut Export<'_>,
) -> Result<(), ExportError> {
    x.start(file)?;
    match file {
        "intervals.json" => x.put("[")?,
        "intervals.csv" => x.put(
            "id,device_id,task_id,started_at,ended_at,utc_offset_minutes,end_reason,\
             active_secs,keys,clicks,scrolls,moves,windows,events\r\n",
        )?,
        _ => x.put("interval_id,from,to,app,title,url,path\r\n")?,
    }
    let mut first = true;
    if let Some((start, end)) = span {
        let mut day = start.div_euclid(86_400) * 86_400;
        while day < end {
            let intervals: Vec<metron_core::Interval> = runtime.block_on(async {
                let mut out = Vec::new();
                let mut stream = state.db.interval_stream(id, day, day + 86_400);
                while let Some(interval) = stream.next().await {
                    out.push(interval?);
                }
                Ok::<_, crate::db::DbError>(out)
            })?;
            for i in &intervals {
                // A day reads the intervals that overlap it: each is written on its first.
                let started = i.started_at.timestamp();
                if started < day {
                    continue;
                }
                match file {
                    "intervals.json" => {
                        x.put(if first { "\n" } else { ",\n" })?;
                        // The interval's canonical JSON, as the API's GET sends it.
                        x.put(&serde_json::to_string(i).map_err(|e| {
                            ExportError::Failed(format!("an interval as JSON: {e}"))
                        })?)?;
                    }
                    "intervals.csv" => {
                        let c = &i.counts;
                        x.put(&format!(
                            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n",
                            i.id,
                            i.device_id,
                            csv_field(&i.task_id),
                            i.started_at.to_rfc3339(),
                            i.ended_at.to_rfc3339(),
                            i.utc_offset_minutes,
                            csv_field(
                                serde_json::to_value(i.end_reason)
                                    .ok()
                                    .as_ref()
                                    .and_then(|v| v.as_str())
                                    .unwrap_or_default()
                            ),
                            i.active.bytes().filter(|b| *b == b'1').count(),
                            c.keys,
                            c.clicks,
                            c.scrolls,
                            c.moves,
                            i.windows.len(),
                            i.events.len()
                        ))?;
                    }
                    _ => {
                        for w in &i.windows {
                            let from = i.started_at + chrono::Duration::seconds(w.offset.into());
                            let to = from + chrono::Duration::seconds(w.seconds.into());
                            x.put(&format!(
                                "{},{},{},{},{},{},{}\r\n",
                                i.id,
                                from.to_rfc3339(),
                                to.to_rfc3339(),
                                csv_field(&w.app),
                                csv_field(&w.title),
                                csv_field(w.url.as_deref().unwrap_or_default()),
                                csv_field(w.path.as_deref().unwrap_or_default())
                            ))?;
                        }
                    }
                }
                first = false;
            }
            day += 86_400;
            if day < end && x.stop_at(file, &time(day).to_rfc3339()) {
                break;
            }
        }
    }
    if file == "intervals.json" {
        x.put("\n]\n")?;
    } else if x.cut.is_some() {
        x.put(&format!(
            "\"rows are missing: the export stopped at its byte budget ({})\"\r\n",
            x.cut.as_deref().unwrap_or_default()
        ))?;
    }
    Ok(())
}

fn time(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
}

fn pretty(v: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("the export's JSON serializes");
    s.push('\n');
    s
}

fn pretty_line(v: &serde_json::Value) -> String {
    v.to_string()
}

/// What the ZIP holds, in words, and whether it is whole.
fn readme(files: &[&str], cut: Option<&str>, budget: u64) -> String {
    let about = |f: &str| match f {
        "person.json" => "you: id, email, name, role, organization",
        "devices.json" => "your devices: host, OS user, domain, OS, time zone, first and last seen",
        "manual_entries.json" => "time you (or a reviewer) added by hand, with its decisions",
        "corrections.json" => "changes to tracked time, with their reasons and decisions",
        "timesheets.json" | "timesheets.csv" => {
            "weeks and months submitted or approved, and the figures they were locked with"
        }
        "audit.json" => "the audit trail of changes to your time: who, when, what, why",
        "access_log.json" => "who else (a manager, an admin) read your data, and when",
        "kept_days.json" => "days past the retention, kept as totals per task, app and site",
        "intervals.json" => {
            "every tracked interval as stored: activity per second, input counts (never which \
             keys), windows with titles and addresses, window and input events"
        }
        "intervals.csv" => "one row per interval: times, task, device, counts",
        "windows.csv" => "one row per window: its interval, times, app, title, address, file",
        "manifest.json" => "whether this export is complete, and its files",
        _ => "",
    };
    let mut out = String::from(
        "Metron: everything the server holds about you (GDPR articles 15 and 20).\r\n\
         Times are UTC (RFC 3339); ids are the server's.\r\n\r\n",
    );
    for f in files.iter().chain(std::iter::once(&"README.txt")) {
        if *f != "README.txt" {
            out.push_str(&format!("{f}: {}\r\n", about(f)));
        }
    }
    out.push_str("\r\n");
    match cut {
        None => out.push_str("This export is complete.\r\n"),
        Some(at) => out.push_str(&format!(
            "THIS EXPORT IS INCOMPLETE: it stopped at the server's export budget of {budget} \
             bytes ({at}); files after that are missing. Ask an admin for the rest.\r\n"
        )),
    }
    out
}
