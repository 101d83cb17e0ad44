//! The CSV answers (RFC 4180, CRLF): a person's day, a person's and a team's timesheet; every
//! text field quoted and defused against spreadsheet formulas. Each is made a block of lines
//! at a time and streamed (`routes::stream`) within the export byte budget.

use metron_core::timesheet::Figures;

use crate::export::{ExportError, ExportSink};

use crate::reports::DailyReportResponse;
use crate::timesheets::{TeamTimesheet, TimesheetResponse};

/// A CSV text field, always quoted (RFC 4180). A formula trigger (= + - @, and their fullwidth
/// forms ＝ ＋ － ＠, which spreadsheets with East Asian input normalize to them) is defused with
/// a leading apostrophe wherever a spreadsheet could take it as the start of a cell: at the
/// start of the field, and after a `;`, comma, tab, CR or LF inside it (a spreadsheet opened
/// with another separator splits the field there). Leading tab and CR are defused too.
pub(crate) fn csv_field(text: &str) -> String {
    const TRIGGERS: [char; 8] = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];
    const SPLITS: [char; 5] = [';', ',', '\t', '\r', '\n'];
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut cell_start = true;
    for c in text.chars() {
        if cell_start && (TRIGGERS.contains(&c) || (out.len() == 1 && (c == '\t' || c == '\r'))) {
            out.push('\'');
        }
        if c == '"' {
            out.push('"');
        }
        out.push(c);
        cell_start = SPLITS.contains(&c);
    }
    out.push('"');
    out
}

/// Writes a CSV into an export's sink: the header, then each block (a day's rows, or a
/// person's) as it is made. Past the byte budget it stops before the next block with a last
/// row that says rows are missing, so a spreadsheet shows the cut where a reader looks.
pub fn write(
    sink: &mut ExportSink,
    header: &str,
    blocks: impl Iterator<Item = String>,
) -> Result<(), ExportError> {
    sink.push(header)?;
    for block in blocks {
        if sink.over_budget() {
            let note = format!(
                "(stopped at the server's export budget of {} bytes: the rows after this are missing)",
                sink.budget()
            );
            return sink.push(&format!("{}\r\n", csv_field(&note)));
        }
        sink.push(&block)?;
    }
    Ok(())
}

/// The header of [`daily`].
pub const DAILY_HEADER: &str = "date,user,start,end,task,tracked_secs,active_secs,activity_pct\r\n";

/// The CSV of a person's day: a line per stretch of the timeline, in their local times.
pub fn daily(day: &DailyReportResponse) -> impl Iterator<Item = String> + '_ {
    let offset = chrono::FixedOffset::east_opt(day.report.utc_offset_minutes * 60)
        .unwrap_or(chrono::FixedOffset::east_opt(0).expect("0 is valid"));
    let user = csv_field(&day.user.email);
    day.report.timeline.iter().map(move |e| {
        let task = day.task_names.get(&e.task_id).unwrap_or(&e.task_id);
        format!(
            "{},{user},{},{},{},{},{},{}\r\n",
            day.report.date,
            e.started_at.with_timezone(&offset).to_rfc3339(),
            e.ended_at.with_timezone(&offset).to_rfc3339(),
            csv_field(task),
            e.tracked_secs,
            e.active_secs,
            e.activity_pct
        )
    })
}

/// The header of [`timesheet`].
pub const TIMESHEET_HEADER: &str =
    "user,date,task,tracked_secs,active_secs,passive_secs,manual_secs,total_secs,activity_pct,total_hours,state,locked_total_secs,changed_since_lock\r\n";

/// The last two cells of a period's total line: the total it was submitted or approved with,
/// and whether its figures changed since (issue 27); empty on other lines, and the first on
/// an open period.
fn lock_cells(locked_total: Option<u64>, changed: bool) -> String {
    format!(
        "{},{changed}",
        locked_total.map_or_else(String::new, |t| t.to_string())
    )
}

/// The CSV of a timesheet, a day at a time: a line per task with time and the day's total,
/// then the period's total (with the total locked and whether it changed since). Passive time (issue 27) is a column of its own, part of tracked
/// time; presence is counted per day, so task lines leave its cell empty rather than say 0.
pub fn timesheet(sheet: &TimesheetResponse) -> impl Iterator<Item = String> + '_ {
    let days = sheet.timesheet.days.iter().map(move |day| {
        let mut csv = String::new();
        let date = day.date.to_string();
        for t in &day.tasks {
            let task = sheet.task_names.get(&t.task_id).unwrap_or(&t.task_id);
            sheet_row(&mut csv, sheet, &date, task, &t.figures, false, ",");
        }
        if !day.tasks.is_empty() {
            sheet_row(
                &mut csv,
                sheet,
                &date,
                "(day total)",
                &day.figures,
                true,
                ",",
            );
        }
        csv
    });
    let period = sheet.timesheet.period;
    let total = std::iter::once_with(move || {
        let mut csv = String::new();
        let label = format!("{} {}", period.kind.as_str(), period.start);
        sheet_row(
            &mut csv,
            sheet,
            &label,
            "(total)",
            &sheet.timesheet.figures,
            true,
            &lock_cells(
                sheet.locked_figures.map(|f| f.total_secs),
                sheet.changed_since_lock,
            ),
        );
        csv
    });
    days.chain(total)
}

/// A line of [`timesheet`]; `passive`: whether its figures count passive time; `lock`: its
/// last two cells.
fn sheet_row(
    csv: &mut String,
    sheet: &TimesheetResponse,
    date: &str,
    task: &str,
    f: &Figures,
    passive: bool,
    lock: &str,
) {
    let passive = if passive {
        f.passive_secs.to_string()
    } else {
        String::new()
    };
    csv.push_str(&format!(
        "{},{date},{},{},{},{passive},{},{},{},{:.2},{},{lock}\r\n",
        csv_field(&sheet.user.email),
        csv_field(task),
        f.tracked_secs,
        f.active_secs,
        f.manual_secs,
        f.total_secs,
        f.activity_pct,
        f.total_secs as f64 / 3600.0,
        sheet.state.as_str()
    ));
}

/// The header of [`team`].
pub const TEAM_HEADER: &str =
    "user,name,date,tracked_secs,active_secs,passive_secs,manual_secs,total_secs,activity_pct,total_hours,state,locked_total_secs,changed_since_lock\r\n";

/// The CSV of a team's timesheet, a person at a time: a line per day with time, then their
/// total.
pub fn team(team: &TeamTimesheet) -> impl Iterator<Item = String> + '_ {
    let total_label = format!("{} {}", team.period.kind.as_str(), team.period.start);
    team.people.iter().map(move |person| {
        let mut csv = String::new();
        let (user, name) = (csv_field(&person.user.email), csv_field(&person.user.name));
        let state = person.state.as_str();
        let mut row = |date: &str, f: &Figures, lock: &str| {
            csv.push_str(&format!(
                "{user},{name},{date},{},{},{},{},{},{},{:.2},{state},{lock}\r\n",
                f.tracked_secs,
                f.active_secs,
                f.passive_secs,
                f.manual_secs,
                f.total_secs,
                f.activity_pct,
                f.total_secs as f64 / 3600.0
            ));
        };
        for day in person.days.iter().filter(|d| d.figures.total_secs > 0) {
            row(&day.date.to_string(), &day.figures, ",");
        }
        let lock = lock_cells(person.locked_total_secs, person.changed_since_lock);
        row(&total_label, &person.figures, &lock);
        csv
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("Write, review"), "\"Write, review\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(
            csv_field("plain"),
            "\"plain\"",
            "every text field is quoted"
        );
        assert_eq!(
            csv_field("a;=cmd|' /C calc'!A0"),
            "\"a;'=cmd|' /C calc'!A0\"",
            "a trigger after ; is defused"
        );
        assert_eq!(csv_field("a,+1"), "\"a,'+1\"");
        assert_eq!(csv_field("a\t@SUM(1)"), "\"a\t'@SUM(1)\"");
        assert_eq!(csv_field("\tx"), "\"'\tx\"");
        assert_eq!(csv_field("＝HYPERLINK(1)"), "\"'＝HYPERLINK(1)\"");
        assert_eq!(csv_field("a;＋1"), "\"a;'＋1\"");
        assert_eq!(csv_field("－1"), "\"'－1\"");
        assert_eq!(csv_field("＠SUM(1)"), "\"'＠SUM(1)\"");
        assert_eq!(csv_field("\rx"), "\"'\rx\"");
        assert_eq!(
            csv_field("a-b"),
            "\"a-b\"",
            "a dash inside a word is left alone"
        );
    }
}
