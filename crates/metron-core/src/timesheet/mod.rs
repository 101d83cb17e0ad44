//! Timesheets and corrections (issue 16): what a person adds and changes after the fact, and
//! the weeks and months a manager signs off.
//!
//! Tracked intervals are never edited: [`corrections`] are records of their own that every
//! report applies to the intervals it loads (move to another task, remove, cut an idle tail).
//! [`manual`] time fills gaps in tracked time under the organization's [`Policy`] and is
//! counted apart: it has no input, so it never enters activity %. A [`Timesheet`] adds a
//! [`Period`]'s day reports up by day and task. [`away`] says what an idle or a sleep stop
//! leaves for the person to decide when they come back. The server stores, approves and
//! locks; the arithmetic is all here, pure, like the daily report's.

pub mod away;
pub mod corrections;
pub mod manual;
pub mod period;
pub mod sheet;

pub use away::{Away, AwayCause, Cut, Tail};
pub use corrections::{admit, apply, trim, Change, Correction, MAX_HELD_PER_INTERVAL};
pub use manual::{
    check_entry, overlap, uncovered, ManualEntry, Overlap, Permission, Policy, Status,
    MAX_EDIT_WINDOW_DAYS, MAX_ENTRY_SECS, MAX_NOTE_CHARS,
};
pub use period::{Period, PeriodKind};
pub use sheet::{
    add_manual, timesheet, timesheet_of_days, Figures, SheetDay, TaskFigures, Timesheet,
};
