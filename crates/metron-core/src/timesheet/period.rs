//! The periods a timesheet covers: an ISO week (Monday to Sunday) or a calendar month, each
//! named by its first day, in the person's local days.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Week,
    Month,
}

impl PeriodKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
        }
    }

    pub fn parse(text: &str) -> Option<PeriodKind> {
        match text {
            "week" => Some(PeriodKind::Week),
            "month" => Some(PeriodKind::Month),
            _ => None,
        }
    }
}

/// A week or a month: local days [start, end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Period {
    pub kind: PeriodKind,
    /// The first day: a Monday, or the 1st of a month.
    pub start: NaiveDate,
}

impl Period {
    /// The week or month that holds `date`.
    pub fn containing(kind: PeriodKind, date: NaiveDate) -> Period {
        let start = match kind {
            // At the calendar's first day there is no Monday before: the week starts there.
            PeriodKind::Week => date
                .checked_sub_days(Days::new(u64::from(date.weekday().num_days_from_monday())))
                .unwrap_or(date),
            PeriodKind::Month => date.with_day(1).unwrap_or(date),
        };
        Period { kind, start }
    }

    /// The period that starts on `start`; `None` when `start` is not the first day of one
    /// (a week starts on a Monday, a month on its 1st).
    pub fn starting(kind: PeriodKind, start: NaiveDate) -> Option<Period> {
        let first = match kind {
            PeriodKind::Week => start.weekday() == Weekday::Mon,
            PeriodKind::Month => start.day() == 1,
        };
        first.then_some(Period { kind, start })
    }

    /// The day after the last (exclusive end); `None` at the edge of the calendar.
    pub fn end(&self) -> Option<NaiveDate> {
        match self.kind {
            PeriodKind::Week => self.start.checked_add_days(Days::new(7)),
            PeriodKind::Month => self.start.checked_add_months(Months::new(1)),
        }
    }

    /// The period's days, first to last.
    pub fn days(&self) -> Vec<NaiveDate> {
        let Some(end) = self.end() else {
            return Vec::new();
        };
        self.start.iter_days().take_while(|d| *d < end).collect()
    }

    /// Whether the local day `date` lies in the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        date >= self.start && self.end().is_some_and(|end| date < end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // 2026-12-02 is a Wednesday.
        let week = Period::containing(PeriodKind::Week, d(2026, 12, 2));
        assert_eq!(week.start, d(2026, 11, 30));
        assert_eq!(week.days().len(), 7);
        assert_eq!(week.end(), Some(d(2026, 12, 7)));
        assert!(week.contains(d(2026, 12, 6)) && !week.contains(d(2026, 12, 7)));
        let feb = Period::containing(PeriodKind::Month, d(2028, 2, 17));
        assert_eq!((feb.start, feb.days().len()), (d(2028, 2, 1), 29));
        assert_eq!(Period::starting(PeriodKind::Week, d(2026, 12, 1)), None);
        assert_eq!(
            Period::starting(PeriodKind::Month, d(2026, 12, 1)),
            Some(Period {
                kind: PeriodKind::Month,
                start: d(2026, 12, 1)
            })
        );
        assert_eq!(PeriodKind::parse("fortnight"), None);
        // The calendar's edges: no panic, and no period past the last day.
        let _ = Period::containing(PeriodKind::Week, NaiveDate::MIN);
        assert_eq!(
            Period::containing(PeriodKind::Month, NaiveDate::MAX).end(),
            None
        );
    }
}
