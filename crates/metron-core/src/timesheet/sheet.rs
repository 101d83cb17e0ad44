//! A timesheet: a person's week or month, day by day and task by task, with tracked time,
//! manual time, their total and the activity % of the tracked part. Made from the period's
//! day reports (R1, computed from the corrected intervals) with the manual time in force added.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use super::manual::ManualEntry;
use super::period::Period;
use crate::report::daily::{DailyReport, TaskUsage, ZoneChange};
use crate::report::day::{local_day_bounds, percent};

/// Adds the part of each manual entry that lies in the report's local day: to the day's
/// `manual_secs` and to its task's (a task with only manual time joins the list). Tracked
/// figures and activity % don't change.
pub fn add_manual(report: &mut DailyReport, entries: &[ManualEntry]) {
    for entry in entries {
        // Cut in the entry's own offset, as intervals are: a second on one day only.
        let Some((day_start, day_end)) = local_day_bounds(report.date, entry.utc_offset_minutes)
        else {
            continue;
        };
        let from = entry.started_at.max(day_start);
        let to = entry.ended_at.min(day_end);
        let Ok(secs) = u64::try_from((to - from).num_seconds()) else {
            continue;
        };
        if secs == 0 {
            continue;
        }
        report.manual_secs += secs;
        match report.tasks.iter_mut().find(|t| t.task_id == entry.task_id) {
            Some(task) => task.manual_secs += secs,
            None => report.tasks.push(TaskUsage {
                task_id: entry.task_id.clone(),
                tracked_secs: 0,
                active_secs: 0,
                activity_pct: 0,
                manual_secs: secs,
            }),
        }
    }
    report.tasks.sort_by(|a, b| {
        (b.tracked_secs + b.manual_secs)
            .cmp(&(a.tracked_secs + a.manual_secs))
            .then_with(|| a.task_id.cmp(&b.task_id))
    });
}

/// Tracked, active, passive and manual seconds of one group (a task, a day, the period).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Figures {
    pub tracked_secs: u64,
    pub active_secs: u64,
    /// Tracked seconds without input while an idle inhibitor was held (a call, a video):
    /// part of `tracked_secs`, shown apart so a reviewer sees how much time rests on presence
    /// alone. 0 in task lines (presence is counted per day).
    #[serde(default)]
    pub passive_secs: u64,
    pub manual_secs: u64,
    /// Tracked plus manual.
    pub total_secs: u64,
    /// Active of tracked, in % (manual time is not in it).
    pub activity_pct: u32,
}

impl Figures {
    /// These figures and `other` added up (a team's total).
    pub fn plus(&self, other: &Figures) -> Figures {
        let mut sum = *self;
        sum.add(other.tracked_secs, other.active_secs, other.manual_secs);
        sum.passive_secs += other.passive_secs;
        sum
    }

    fn add(&mut self, tracked: u64, active: u64, manual: u64) {
        self.tracked_secs += tracked;
        self.active_secs += active;
        self.manual_secs += manual;
        self.total_secs = self.tracked_secs + self.manual_secs;
        self.activity_pct = percent(self.active_secs, self.tracked_secs);
    }
}

/// One task's figures, on a day or over the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TaskFigures {
    pub task_id: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// One local day of a timesheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SheetDay {
    pub date: NaiveDate,
    #[serde(flatten)]
    pub figures: Figures,
    /// The day's tasks, by total time.
    pub tasks: Vec<TaskFigures>,
    /// The start of the day's first tracked second and the offsets of its first and last
    /// intervals (none on a day without tracked time): where the time zone changed from one
    /// day to the next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_activity: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_offset_minutes: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_offset_minutes: Option<i32>,
    /// The zone changes within the day (see the day report).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zone_changes: Vec<ZoneChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Timesheet {
    pub period: Period,
    #[serde(flatten)]
    pub figures: Figures,
    /// Every day of the period, first to last (days without time show zeros).
    pub days: Vec<SheetDay>,
    /// The period's tasks, by total time.
    pub tasks: Vec<TaskFigures>,
    /// Every change of the person's UTC offset in the period, within a day or between one
    /// day's last interval and the next day's first, in time order: a reviewer sees why a day
    /// has 23 or 25 hours, or why a traveller's days look shifted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zone_changes: Vec<ZoneChange>,
}

impl SheetDay {
    /// A day's line of a timesheet from its report (manual time already added with
    /// [`add_manual`]). This is what a server keeps of a settled day: a timesheet is made
    /// from these alone ([`timesheet_of_days`]).
    pub fn from_report(report: &DailyReport) -> SheetDay {
        let mut figures = Figures::default();
        figures.add(report.tracked_secs, report.active_secs, report.manual_secs);
        figures.passive_secs = report.passive_secs;
        let mut tasks: Vec<TaskFigures> = report
            .tasks
            .iter()
            .map(|t| {
                let mut f = Figures::default();
                f.add(t.tracked_secs, t.active_secs, t.manual_secs);
                TaskFigures {
                    task_id: t.task_id.clone(),
                    figures: f,
                }
            })
            .collect();
        by_total(&mut tasks);
        let tracked = report.tracked_secs > 0;
        SheetDay {
            date: report.date,
            figures,
            tasks,
            first_activity: report.first_activity,
            first_offset_minutes: tracked.then(|| {
                report
                    .zone_changes
                    .first()
                    .map_or(report.utc_offset_minutes, |c| c.from_minutes)
            }),
            last_offset_minutes: tracked.then_some(report.utc_offset_minutes),
            zone_changes: report.zone_changes.clone(),
        }
    }

    /// A day with no time.
    pub fn empty(date: NaiveDate) -> SheetDay {
        SheetDay {
            date,
            figures: Figures::default(),
            tasks: Vec::new(),
            first_activity: None,
            first_offset_minutes: None,
            last_offset_minutes: None,
            zone_changes: Vec::new(),
        }
    }
}

/// The timesheet of `period` from its day reports (manual time already added with
/// [`add_manual`]); reports of days outside the period are ignored.
pub fn timesheet(period: Period, reports: &[DailyReport]) -> Timesheet {
    timesheet_of_days(period, reports.iter().map(SheetDay::from_report).collect())
}

/// The timesheet of `period` from its days' lines; days outside the period are ignored and
/// days missing from `days` show zeros.
pub fn timesheet_of_days(period: Period, days: Vec<SheetDay>) -> Timesheet {
    let mut by_date: BTreeMap<NaiveDate, SheetDay> =
        days.into_iter().map(|d| (d.date, d)).collect();
    let mut total = Figures::default();
    let mut period_tasks: BTreeMap<String, Figures> = BTreeMap::new();
    let mut days = Vec::new();
    let mut zone_changes = Vec::new();
    // The offset of the last interval before this day, and the change to this one's first.
    let mut last_offset: Option<i32> = None;
    for date in period.days() {
        let day = by_date
            .remove(&date)
            .unwrap_or_else(|| SheetDay::empty(date));
        if let (Some(before), Some(first), Some(at)) =
            (last_offset, day.first_offset_minutes, day.first_activity)
        {
            if before != first {
                zone_changes.push(ZoneChange {
                    at,
                    from_minutes: before,
                    to_minutes: first,
                });
            }
        }
        zone_changes.extend(day.zone_changes.iter().copied());
        last_offset = day.last_offset_minutes.or(last_offset);
        let f = day.figures;
        total.add(f.tracked_secs, f.active_secs, f.manual_secs);
        total.passive_secs += f.passive_secs;
        for t in &day.tasks {
            let f = t.figures;
            period_tasks.entry(t.task_id.clone()).or_default().add(
                f.tracked_secs,
                f.active_secs,
                f.manual_secs,
            );
        }
        days.push(day);
    }
    let mut tasks: Vec<TaskFigures> = period_tasks
        .into_iter()
        .map(|(task_id, figures)| TaskFigures { task_id, figures })
        .collect();
    by_total(&mut tasks);
    Timesheet {
        period,
        figures: total,
        days,
        tasks,
        zone_changes,
    }
}

fn by_total(tasks: &mut [TaskFigures]) {
    tasks.sort_by(|a, b| {
        b.figures
            .total_secs
            .cmp(&a.figures.total_secs)
            .then_with(|| a.task_id.cmp(&b.task_id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{daily_report, Classifier};
    use crate::timesheet::period::PeriodKind;
    use crate::{Counts, EndReason, Interval};
    use chrono::{DateTime, TimeZone, Utc};
    use uuid::Uuid;

    fn at(day: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, h, m, 0).unwrap()
    }

    fn interval(n: u128, start: DateTime<Utc>, secs: usize, active: usize, task: &str) -> Interval {
        Interval {
            id: Uuid::from_u128(n),
            device_id: Uuid::from_u128(99),
            task_id: task.into(),
            started_at: start,
            ended_at: start + chrono::Duration::seconds(secs as i64),
            utc_offset_minutes: 60,
            end_reason: EndReason::Boundary,
            active: "1".repeat(active) + &"0".repeat(secs - active),
            counts: Counts::default(),
            counts_measured: true,
            windows: Vec::new(),
            injected: None,
            injected_counts: None,
            passive: None,
            presence: Vec::new(),
            events: Vec::new(),
        }
    }

    fn manual(n: u128, from: DateTime<Utc>, to: DateTime<Utc>, task: &str) -> ManualEntry {
        ManualEntry {
            id: Uuid::from_u128(n),
            task_id: task.into(),
            started_at: from,
            ended_at: to,
            note: String::new(),
            utc_offset_minutes: 60,
        }
    }

    #[test]
    fn a_zone_change_from_one_day_to_the_next_is_listed_once() {
        let week = Period::containing(PeriodKind::Week, at(25, 12, 0).date_naive());
        let mut saturday = interval(2, at(28, 8, 0), 600, 300, "design");
        saturday.utc_offset_minutes = 120;
        let intervals = [interval(1, at(27, 8, 0), 600, 300, "design"), saturday];
        let reports: Vec<DailyReport> = week
            .days()
            .into_iter()
            .map(|date| daily_report(&intervals, date, 0, &Classifier::empty()))
            .collect();
        let sheet = timesheet(week, &reports);
        assert_eq!(
            sheet
                .zone_changes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["time zone changed: +01:00 -> +02:00"]
        );
        assert_eq!(sheet.zone_changes[0].at, at(28, 8, 0));
        assert_eq!(sheet.figures.tracked_secs, 1200);
    }

    #[test]
    fn a_week_adds_tracked_and_manual_time_by_day_and_task() {
        let week = Period::containing(PeriodKind::Week, at(25, 12, 0).date_naive());
        let classifier = Classifier::empty();
        let intervals = [
            // Monday 2026-11-23, 09:00 local (08:00 UTC at +60): 600 s, 450 active.
            interval(1, at(23, 8, 0), 600, 450, "design"),
            // Tuesday: 300 s, 60 active.
            interval(2, at(24, 8, 0), 300, 60, "support"),
        ];
        let entries = [
            // Monday: 30 minutes of a call, a task not tracked that day.
            manual(10, at(23, 12, 0), at(23, 12, 30), "meetings"),
            // Across Tuesday's local midnight (23:00 UTC = 00:00 local): 1800 s on Tuesday,
            // 1800 s on Wednesday.
            manual(11, at(24, 22, 30), at(24, 23, 30), "design"),
        ];
        let reports: Vec<DailyReport> = week
            .days()
            .into_iter()
            .map(|date| {
                let mut r = daily_report(&intervals, date, 60, &classifier);
                add_manual(&mut r, &entries);
                r
            })
            .collect();
        assert_eq!(reports[0].manual_secs, 1800);
        assert_eq!(
            reports[0].activity_pct, 75,
            "manual time stays out of activity %"
        );
        let sheet = timesheet(week, &reports);
        assert_eq!(sheet.days.len(), 7);
        let f = sheet.figures;
        assert_eq!(
            (
                f.tracked_secs,
                f.active_secs,
                f.manual_secs,
                f.total_secs,
                f.activity_pct
            ),
            (900, 510, 5400, 6300, 57)
        );
        let monday = &sheet.days[0];
        assert_eq!(monday.figures.total_secs, 2400);
        assert_eq!(
            monday
                .tasks
                .iter()
                .map(|t| (
                    t.task_id.as_str(),
                    t.figures.tracked_secs,
                    t.figures.manual_secs
                ))
                .collect::<Vec<_>>(),
            [("meetings", 0, 1800), ("design", 600, 0)]
        );
        assert_eq!(sheet.days[1].figures.manual_secs, 1800);
        assert_eq!(sheet.days[2].figures.manual_secs, 1800);
        assert_eq!(sheet.days[3].figures, Figures::default());
        let tasks: Vec<_> = sheet
            .tasks
            .iter()
            .map(|t| {
                (
                    t.task_id.as_str(),
                    t.figures.total_secs,
                    t.figures.activity_pct,
                )
            })
            .collect();
        assert_eq!(
            tasks,
            [
                ("design", 4200, 75),
                ("meetings", 1800, 0),
                ("support", 300, 20)
            ]
        );
    }

    #[test]
    fn days_kept_as_json_and_read_back_make_the_same_timesheet() {
        let week = Period::containing(PeriodKind::Week, at(25, 12, 0).date_naive());
        let intervals = [
            interval(1, at(23, 8, 0), 600, 450, "design"),
            interval(2, at(23, 9, 0), 300, 300, "support"),
            interval(3, at(26, 8, 0), 300, 60, "support"),
        ];
        let entries = [manual(10, at(27, 12, 0), at(27, 12, 30), "meetings")];
        let reports: Vec<DailyReport> = week
            .days()
            .into_iter()
            .map(|date| {
                let mut r = daily_report(&intervals, date, 60, &Classifier::empty());
                add_manual(&mut r, &entries);
                r
            })
            .collect();
        let kept: Vec<String> = reports
            .iter()
            .map(|r| serde_json::to_string(&SheetDay::from_report(r)).unwrap())
            .collect();
        // Only the days with time are kept; the others read as zeros.
        let read: Vec<SheetDay> = kept
            .iter()
            .map(|k| serde_json::from_str::<SheetDay>(k).unwrap())
            .filter(|d| d.figures.total_secs > 0)
            .collect();
        assert_eq!(read.len(), 3);
        let from_days = timesheet_of_days(week, read);
        assert_eq!(from_days, timesheet(week, &reports));
        assert_eq!(from_days.figures.total_secs, 600 + 300 + 300 + 1800);
        assert_eq!(from_days.days[0].tasks[0].task_id, "design");
    }
}
