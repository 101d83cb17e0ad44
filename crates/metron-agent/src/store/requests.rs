//! Requests about time already tracked, made in the app (issue 16): a correction of one of the
//! person's intervals (what an answer after an idle or sleep stop takes out) or a manual entry
//! (time kept while away, time added by hand). They wait here, in the order they were made,
//! until the uploader has delivered the interval each one names and then the request itself;
//! the server's answer (in force, waiting for a reviewer, refused with its reason) and later the
//! reviewer's decision are kept beside them for the window to show.
//!
//! Order matters: a manual entry for the time away may only fill a gap, so it goes after the
//! corrections that opened that gap. [`Store::next_request`] therefore only ever offers the
//! oldest unsent request.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use super::{DeliveryStatus, Store, StoreError};
use metron_core::timesheet::Correction;
use metron_core::wire::{NewCorrection, NewManualEntry};

/// How many settled requests (delivered and decided, or refused) are kept for the window's
/// list; unsettled ones are always kept.
pub const KEPT_REQUESTS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Correction,
    ManualEntry,
}

impl RequestKind {
    fn as_str(self) -> &'static str {
        match self {
            RequestKind::Correction => "correction",
            RequestKind::ManualEntry => "manual_entry",
        }
    }

    fn parse(s: &str) -> RequestKind {
        if s == "correction" {
            RequestKind::Correction
        } else {
            RequestKind::ManualEntry
        }
    }

    /// Where the server takes it.
    pub fn path(self) -> &'static str {
        match self {
            RequestKind::Correction => "/api/v1/corrections",
            RequestKind::ManualEntry => "/api/v1/manual-entries",
        }
    }
}

/// What a request asks the server: the body it posts, as the server's own types say it
/// (`metron_core::wire`). Stored as that JSON, which is what the window reads too.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum RequestBody {
    Correction(NewCorrection),
    ManualEntry(NewManualEntry),
}

impl RequestBody {
    pub fn kind(&self) -> RequestKind {
        match self {
            RequestBody::Correction(_) => RequestKind::Correction,
            RequestBody::ManualEntry(_) => RequestKind::ManualEntry,
        }
    }

    /// A stored body of `kind`.
    fn parse(kind: RequestKind, text: &str) -> serde_json::Result<RequestBody> {
        Ok(match kind {
            RequestKind::Correction => RequestBody::Correction(serde_json::from_str(text)?),
            RequestKind::ManualEntry => RequestBody::ManualEntry(serde_json::from_str(text)?),
        })
    }
}

/// A request to queue.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub body: RequestBody,
    /// The interval the server must have first (a correction's).
    pub after: Option<Uuid>,
    /// The time it is about (an entry's start, a corrected interval's start): where to look for
    /// its outcome later.
    pub at: DateTime<Utc>,
}

/// A request as the store holds it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RequestRecord {
    pub id: i64,
    pub kind: RequestKind,
    pub body: RequestBody,
    #[serde(skip)]
    pub after: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// Whether it reached the server (`rejected`: the server refused it, see `reason`).
    pub status: DeliveryStatus,
    pub reason: Option<String>,
    #[serde(skip)]
    pub server_id: Option<String>,
    /// The server's status once delivered: `approved` (in force), `pending`, `denied`,
    /// `withdrawn`.
    pub outcome: Option<String>,
    /// The reviewer's note on a decision.
    pub outcome_note: Option<String>,
}

fn time(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
}

const COLUMNS: &str =
    "id, kind, body, after, at, created_at, status, reason, server_id, outcome, outcome_note";

fn record(r: &rusqlite::Row<'_>) -> rusqlite::Result<RequestRecord> {
    let kind = RequestKind::parse(&r.get::<_, String>(1)?);
    let body: String = r.get(2)?;
    // Only this app writes these rows, from the same types: one that doesn't read is a
    // damaged store, said as such (the queue waits; intervals go on).
    let body = RequestBody::parse(kind, &body).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
    })?;
    let after: Option<String> = r.get(3)?;
    Ok(RequestRecord {
        id: r.get(0)?,
        kind,
        body,
        after: after.and_then(|a| Uuid::parse_str(&a).ok()),
        at: time(r.get(4)?),
        created_at: time(r.get(5)?),
        status: DeliveryStatus::parse(&r.get::<_, String>(6)?),
        reason: r.get(7)?,
        server_id: r.get(8)?,
        outcome: r.get(9)?,
        outcome_note: r.get(10)?,
    })
}

impl Store {
    /// Queues `requests` in one transaction (an answer's corrections and entry go together or
    /// not at all), and forgets the oldest settled ones beyond [`KEPT_REQUESTS`].
    pub fn queue_requests(
        &mut self,
        requests: &[NewRequest],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let fail = |e| super::classify(&path, e);
        let tx = self.conn.transaction().map_err(fail)?;
        for r in requests {
            tx.execute(
                "INSERT INTO requests (kind, body, after, at, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    r.body.kind().as_str(),
                    serde_json::to_string(&r.body).expect("request bodies serialize"),
                    r.after.map(|u| u.to_string()),
                    r.at.timestamp(),
                    now.timestamp()
                ],
            )
            .map_err(fail)?;
        }
        tx.execute(
            "DELETE FROM requests WHERE id IN (SELECT id FROM requests
               WHERE status = 'rejected' OR (status = 'sent' AND outcome != 'pending')
               ORDER BY id DESC LIMIT -1 OFFSET ?1)",
            [KEPT_REQUESTS as i64],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)
    }

    /// The oldest request not yet delivered, if any.
    pub fn next_request(&self) -> Result<Option<RequestRecord>, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM requests WHERE status = 'unsent' ORDER BY id LIMIT 1"
                ),
                [],
                record,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The server took request `id` as its `server_id`, with `outcome` (its status).
    pub fn request_delivered(
        &mut self,
        id: i64,
        server_id: &str,
        outcome: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE requests SET status = 'sent', reason = NULL, server_id = ?2, outcome = ?3 WHERE id = ?1",
                params![id, server_id, outcome],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The server refused request `id` for good, or it can never go (its interval was
    /// refused): kept with the reason.
    pub fn request_refused(&mut self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE requests SET status = 'rejected', reason = ?2 WHERE id = ?1",
                params![id, reason],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// A reviewer decided (or the request was withdrawn): its status and note, by the
    /// server's id. Returns whether anything changed.
    pub fn set_request_outcome(
        &mut self,
        server_id: &str,
        outcome: &str,
        note: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.conn
            .execute(
                "UPDATE requests SET outcome = ?2, outcome_note = ?3
                 WHERE server_id = ?1 AND (outcome IS NOT ?2 OR outcome_note IS NOT ?3)",
                params![server_id, outcome, note],
            )
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// Delivered requests still waiting for a reviewer.
    pub fn pending_requests(&self) -> Result<Vec<RequestRecord>, StoreError> {
        self.select_requests(
            "WHERE status = 'sent' AND outcome = 'pending' ORDER BY id",
            usize::MAX,
        )
    }

    /// The corrections made here that the server has in force or will (refused, denied and
    /// withdrawn ones left out), in the order they were made: the window's counters apply
    /// them to the intervals they add up.
    pub fn corrections_in_force(&self) -> Result<Vec<Correction>, StoreError> {
        let rows = self.select_requests(
            "WHERE kind = 'correction' AND status != 'rejected'
               AND (outcome IS NULL OR outcome = 'approved') ORDER BY id",
            usize::MAX,
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|r| match r.body {
                RequestBody::Correction(c) => Some(Correction {
                    interval_id: c.interval_id,
                    change: c.change,
                }),
                RequestBody::ManualEntry(_) => None,
            })
            .collect())
    }

    /// The latest requests, newest first, at most `limit`.
    pub fn requests(&self, limit: usize) -> Result<Vec<RequestRecord>, StoreError> {
        self.select_requests("ORDER BY id DESC", limit)
    }

    fn select_requests(&self, tail: &str, limit: usize) -> Result<Vec<RequestRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM requests {tail} LIMIT ?1"))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([limit], record).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + s, 0).unwrap()
    }

    fn request(n: i64) -> NewRequest {
        NewRequest {
            body: RequestBody::ManualEntry(NewManualEntry {
                user_id: None,
                task_id: format!("task-{n}"),
                started_at: at(n),
                ended_at: at(n + 60),
                note: String::new(),
                utc_offset_minutes: None,
            }),
            after: None,
            at: at(n),
        }
    }

    #[test]
    fn requests_go_in_order_keep_their_outcome_and_only_settled_ones_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("agent.sqlite")).unwrap();
        let interval = Uuid::now_v7();
        let first = NewRequest {
            body: RequestBody::Correction(NewCorrection {
                user_id: None,
                interval_id: interval,
                change: metron_core::timesheet::Change::Remove,
                reason: String::new(),
            }),
            after: Some(interval),
            at: at(0),
        };
        store.queue_requests(&[first, request(1)], at(10)).unwrap();
        let in_force = store.corrections_in_force().unwrap();
        assert_eq!(
            in_force,
            vec![Correction {
                interval_id: interval,
                change: metron_core::timesheet::Change::Remove
            }]
        );
        let next = store.next_request().unwrap().unwrap();
        assert_eq!(
            (next.kind, next.after, next.at, next.created_at),
            (RequestKind::Correction, Some(interval), at(0), at(10))
        );
        store.request_delivered(next.id, "c-1", "approved").unwrap();
        let entry = store.next_request().unwrap().unwrap();
        assert_eq!(entry.body, request(1).body);
        store.request_delivered(entry.id, "m-1", "pending").unwrap();
        assert!(store.next_request().unwrap().is_none());
        assert_eq!(store.pending_requests().unwrap().len(), 1);
        assert!(store
            .set_request_outcome("m-1", "denied", Some("not a meeting"))
            .unwrap());
        assert!(!store
            .set_request_outcome("m-1", "denied", Some("not a meeting"))
            .unwrap());
        let listed = store.requests(10).unwrap();
        assert_eq!(listed[0].outcome.as_deref(), Some("denied"));
        assert_eq!(listed[0].outcome_note.as_deref(), Some("not a meeting"));
        assert!(store.pending_requests().unwrap().is_empty());

        // Many more: settled ones beyond the limit go, a pending and an unsent one stay.
        store.queue_requests(&[request(2)], at(20)).unwrap();
        let waiting = store.next_request().unwrap().unwrap();
        store
            .request_delivered(waiting.id, "m-2", "pending")
            .unwrap();
        for n in 0..KEPT_REQUESTS as i64 + 5 {
            store.queue_requests(&[request(100 + n)], at(30)).unwrap();
            let r = store.next_request().unwrap().unwrap();
            store
                .request_refused(r.id, "overlaps tracked time")
                .unwrap();
        }
        store.queue_requests(&[request(999)], at(40)).unwrap();
        let all = store.requests(usize::MAX).unwrap();
        assert_eq!(all.len(), KEPT_REQUESTS + 2);
        assert!(all.iter().any(|r| r.server_id.as_deref() == Some("m-2")));
        assert_eq!(all[0].status, DeliveryStatus::Unsent);
        assert_eq!(all[1].reason.as_deref(), Some("overlaps tracked time"));
    }

    /// The rows Metron 0.2.0 wrote (its bodies were JSON literals with these keys) read as
    /// the typed bodies of today, and are written back unchanged.
    #[test]
    fn requests_queued_by_0_2_0_read_as_typed_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("agent.sqlite")).unwrap();
        let interval = Uuid::now_v7();
        let correction = json!({
            "interval_id": interval,
            "change": { "action": "trim", "until": "2026-06-01T10:00:30Z" },
            "reason": "away: discarded",
        });
        let entry = json!({
            "task_id": "t-1",
            "started_at": "2026-06-01T10:00:30Z",
            "ended_at": "2026-06-01T10:20:00Z",
            "note": "away: kept as manual time",
        });
        for (kind, body) in [("correction", &correction), ("manual_entry", &entry)] {
            store
                .conn
                .execute(
                    "INSERT INTO requests (kind, body, after, at, created_at) VALUES (?1, ?2, ?3, 0, 0)",
                    params![kind, body.to_string(), interval.to_string()],
                )
                .unwrap();
        }
        let listed = store.requests(10).unwrap();
        let RequestBody::ManualEntry(m) = &listed[0].body else {
            panic!("{:?}", listed[0].body)
        };
        assert_eq!(
            (m.task_id.as_str(), m.ended_at),
            ("t-1", "2026-06-01T10:20:00Z".parse().unwrap())
        );
        let RequestBody::Correction(c) = &listed[1].body else {
            panic!("{:?}", listed[1].body)
        };
        assert_eq!(
            (c.interval_id, c.reason.as_str()),
            (interval, "away: discarded")
        );
        // What the window and the server read is the same JSON as before.
        assert_eq!(serde_json::to_value(&listed[0].body).unwrap(), entry);
        assert_eq!(serde_json::to_value(&listed[1].body).unwrap(), correction);
    }
}
