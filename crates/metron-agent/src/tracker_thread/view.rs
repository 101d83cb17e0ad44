//! What the window shows and what it answers: [`TrackerView`], the one value pushed whenever
//! something a person would see changes, with its parts, and the inputs of the window (the
//! answer to the question after a stop, a manual entry).

use chrono::{DateTime, NaiveDate, Utc};
use metron_core::release::Offer;
use metron_core::timesheet::AwayCause;
use metron_core::wire::{NewManualEntry, Task};
use serde::Serialize;
use uuid::Uuid;

use crate::delivery::Connection;
use crate::store::{DeliveryStatus, NewRequest, RequestBody, RequestRecord};

/// How many of today's intervals the activity bars show.
use super::MAX_NOTE_CHARS;

/// Everything the employee's window shows, as one value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackerView {
    pub tracking: Option<Tracking>,
    pub today: Today,
    /// Today's latest intervals, oldest first, the open one last.
    pub recent: Vec<Bar>,
    pub account: Option<AccountView>,
    pub delivery: DeliveryView,
    pub undelivered: Vec<Undelivered>,
    pub tasks: Vec<Task>,
    /// A newer release the organization announces: the window says where to download it, and
    /// the desktop notifies once per version.
    pub release: Option<Offer>,
    /// Back after an idle or a sleep stop: what to do with the time away waits for an answer.
    pub away: Option<AwayView>,
    /// The latest corrections and manual entries made here, newest first, with their outcome.
    pub requests: Vec<RequestRecord>,
}

/// The question after an idle or a sleep stop, once the person is back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AwayView {
    pub cause: AwayCause,
    pub task_id: String,
    pub task_name: Option<String>,
    /// The end of the last second with input.
    pub left_at: DateTime<Utc>,
    /// Where tracking stopped.
    pub stopped_at: DateTime<Utc>,
    /// The first input after the stop.
    pub back_at: DateTime<Utc>,
    /// From `left_at` to `back_at`.
    pub away_secs: i64,
    /// The idle seconds tracking counted before it stopped (what "discard" takes out).
    pub tracked_away_secs: i64,
}

/// What to do with the time away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "choice", rename_all = "snake_case")]
pub enum AwayAnswer {
    /// Take the idle seconds out of tracked time and track the same task again (the default).
    Discard,
    /// Count the time away as manual time on `task_id` (the same task or another) with `note`,
    /// and track that task.
    Keep { task_id: String, note: String },
    /// Take the idle seconds out and stay stopped.
    Stop,
}

/// A manual entry the person adds in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ManualEntryInput {
    pub task_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    #[serde(default)]
    pub note: String,
}

impl ManualEntryInput {
    /// The request for it, checked as far as the app can (the server checks the rest: the
    /// policy, overlaps, locked periods); the error says what is wrong.
    pub fn request(&self, now: DateTime<Utc>) -> Result<NewRequest, String> {
        if self.task_id.trim().is_empty() {
            return Err("choose a task".into());
        }
        if self.ended_at <= self.started_at {
            return Err("the end must come after the start".into());
        }
        if self.ended_at > now {
            return Err("manual time can't end in the future".into());
        }
        if self.note.chars().count() > MAX_NOTE_CHARS {
            return Err(format!(
                "the note is longer than {MAX_NOTE_CHARS} characters"
            ));
        }
        Ok(manual_request(
            &self.task_id,
            self.started_at,
            self.ended_at,
            &self.note,
        ))
    }
}

pub(super) fn manual_request(
    task_id: &str,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    note: &str,
) -> NewRequest {
    NewRequest {
        body: RequestBody::ManualEntry(NewManualEntry {
            user_id: None,
            task_id: task_id.into(),
            started_at,
            ended_at,
            note: note.into(),
            // Where the person is now: the entry's seconds fall on their local days.
            utc_offset_minutes: Some(chrono::Local::now().offset().local_minus_utc() / 60),
        }),
        after: None,
        at: started_at,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tracking {
    pub task_id: String,
    pub task_name: Option<String>,
    pub session_secs: u64,
    pub interval_secs: u32,
    pub interval_active_pct: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Today {
    /// The local date the totals are for.
    pub date: NaiveDate,
    pub tracked_secs: u64,
    pub active_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bar {
    pub started_at: DateTime<Utc>,
    pub secs: u32,
    pub active_pct: u32,
    pub task_id: String,
    pub open: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountView {
    pub server: String,
    pub email: String,
    pub name: String,
    pub local: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryView {
    /// None when not signed in.
    pub connection: Option<Connection>,
    pub last_error: Option<String>,
    pub unsent: usize,
    pub rejected: usize,
    pub other_devices: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Undelivered {
    pub id: Uuid,
    pub started_at: DateTime<Utc>,
    pub secs: i64,
    pub task_id: String,
    pub status: DeliveryStatus,
    pub reason: Option<String>,
}

/// Something worth a desktop notification (U3).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    StoppedIdle,
    StoppedSleep,
    Rejected {
        count: usize,
        reason: String,
    },
    OtherDevice,
    /// The server refused the token (it expired or was revoked): signed out, with every unsent
    /// interval kept for the next sign-in as the same account.
    SessionExpired,
    /// The first input after an idle or a sleep stop: the view carries the question.
    Back {
        cause: AwayCause,
        away_secs: i64,
        /// The task tracked when tracking stopped.
        task_id: String,
    },
}
