//! The CSV answers (RFC 4180, CRLF): a person's day, a person's and a team's timesheet; every
//! text field quoted and defused against spreadsheet formulas.

use metron_core::timesheet::Figures;

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

/// The CSV of a person's day: one line per stretch of the timeline, in their local times.
pub fn daily(day: &DailyReportResponse) -> String {
    let offset = chrono::FixedOffset::east_opt(day.report.utc_offset_minutes * 60)
        .unwrap_or(chrono::FixedOffset::east_opt(0).expect("0 is valid"));
    let mut csv =
        String::from("date,user,start,end,task,tracked_secs,active_secs,activity_pct\r\n");
    for e in &day.report.timeline {
        let task = day.task_names.get(&e.task_id).unwrap_or(&e.task_id);
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{}\r\n",
            day.report.date,
            csv_field(&day.user.email),
            e.started_at.with_timezone(&offset).to_rfc3339(),
            e.ended_at.with_timezone(&offset).to_rfc3339(),
            csv_field(task),
            e.tracked_secs,
            e.active_secs,
            e.activity_pct
        ));
    }
    csv
}

/// The CSV of a timesheet (RFC 4180, CRLF).
pub fn timesheet(sheet: &TimesheetResponse) -> String {
    let hours = |secs: u64| format!("{:.2}", secs as f64 / 3600.0);
    let mut csv = String::from(
        "user,date,task,tracked_secs,active_secs,manual_secs,total_secs,activity_pct,total_hours,state\r\n",
    );
    let state = sheet.state.as_str();
    let user = csv_field(&sheet.user.email);
    let mut row = |date: &str, task: &str, f: &metron_core::timesheet::Figures| {
        csv.push_str(&format!(
            "{user},{date},{},{},{},{},{},{},{},{state}\r\n",
            csv_field(task),
            f.tracked_secs,
            f.active_secs,
            f.manual_secs,
            f.total_secs,
            f.activity_pct,
            hours(f.total_secs)
        ));
    };
    for day in &sheet.timesheet.days {
        let date = day.date.to_string();
        for t in &day.tasks {
            row(
                &date,
                sheet.task_names.get(&t.task_id).unwrap_or(&t.task_id),
                &t.figures,
            );
        }
        if !day.tasks.is_empty() {
            row(&date, "(day total)", &day.figures);
        }
    }
    let period = sheet.timesheet.period;
    row(
        &format!("{} {}", period.kind.as_str(), period.start),
        "(total)",
        &sheet.timesheet.figures,
    );
    csv
}

/// The CSV of a team's timesheet.
pub fn team(team: &TeamTimesheet) -> String {
    let mut csv = String::from(
        "user,name,date,tracked_secs,active_secs,manual_secs,total_secs,activity_pct,total_hours,state\r\n",
    );
    let total_label = format!("{} {}", team.period.kind.as_str(), team.period.start);
    for person in &team.people {
        let (user, name) = (csv_field(&person.user.email), csv_field(&person.user.name));
        let state = person.state.as_str();
        let mut row = |date: &str, f: &Figures| {
            csv.push_str(&format!(
                "{user},{name},{date},{},{},{},{},{},{:.2},{state}\r\n",
                f.tracked_secs,
                f.active_secs,
                f.manual_secs,
                f.total_secs,
                f.activity_pct,
                f.total_secs as f64 / 3600.0
            ));
        };
        for day in person.days.iter().filter(|d| d.figures.total_secs > 0) {
            row(&day.date.to_string(), &day.figures);
        }
        row(&total_label, &person.figures);
    }
    csv
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
