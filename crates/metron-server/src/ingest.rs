//! Ingest of a `POST /api/v1/intervals` body: its shape (the whole request refused if wrong),
//! then each item on its own (a bad item is `rejected: invalid: ..`, the rest go on): the E4
//! rules, not too far in the future, not older than the server keeps intervals (retention)
//! nor than the organization's edit window and [`LATE_DELIVERY_DAYS`] after it, within the
//! person's stored bytes of the day; then the database decides duplicate, id_conflict,
//! overlap and unknown task, in one transaction.

use metron_core::wire::{IngestResult, IngestStatus};
use metron_core::{Interval, UrlPolicy};
use serde_json::Value;
use std::collections::HashMap;

use crate::db::{Candidate, DbError, UserRow};
use crate::AppState;

/// Why a whole batch is refused (the API answers 400).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    BadBatch(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Most intervals one request may carry (SPEC §4).
pub const MAX_BATCH: usize = 500;
/// How far in the future an interval may end (clock skew allowance).
pub const MAX_FUTURE_SECS: i64 = 300;

/// Days after the organization's edit window closes that a device may still deliver tracked
/// time: a laptop that tracked offline through a season away (or sat in a drawer for a
/// quarter) delivers all of it. Past that,
/// time would land in weeks nobody can correct any more (people change their time only inside
/// the window) and that have long been submitted and approved: it is refused, the agent keeps
/// it with the reason, and an admin can add it by hand (admins are not held to the window).
pub const LATE_DELIVERY_DAYS: u32 = 90;

/// The earliest start an interval may have under the organization's edit window, read from
/// its policy only when an interval starts before the window's longest reach could matter
/// (a batch of fresh intervals costs no query).
struct LateLimit<'a> {
    state: &'a AppState,
    org_id: &'a str,
    now: i64,
    /// The policy's window, once read.
    window_days: Option<u32>,
}

impl LateLimit<'_> {
    /// Why an interval starting at `started_at` is too late, if it is.
    async fn refusal(&mut self, started_at: i64) -> Result<Option<String>, DbError> {
        if started_at >= self.now - i64::from(LATE_DELIVERY_DAYS) * 86_400 {
            return Ok(None);
        }
        let window = match self.window_days {
            Some(days) => days,
            None => {
                let days = self
                    .state
                    .db
                    .timesheet_policy(self.org_id)
                    .await?
                    .edit_window_days;
                *self.window_days.insert(days)
            }
        };
        let days = window + LATE_DELIVERY_DAYS;
        Ok((started_at < self.now - i64::from(days) * 86_400).then(|| {
            format!(
                "{}{days} days ago: past the organization's {window}-day edit window and the \
                 {LATE_DELIVERY_DAYS} days a device has to deliver after it; an admin can add \
                 the time by hand",
                metron_core::wire::REASON_TOO_OLD
            )
        }))
    }
}

/// Either a result already decided, or a candidate for the database.
// Most items of a batch are candidates, moved on at once into the database's list: boxing
// them would add an allocation per interval for no saving.
#[allow(clippy::large_enum_variant)]
pub enum Judged {
    Decided(IngestResult),
    Candidate(Candidate),
}

/// One item of a batch: parsed already (the whole batch was well-formed, the usual case), or
/// a JSON value to be judged on its own (some item of the batch was not an interval).
// Nearly every item is parsed, and all of one batch are the same variant: boxing would add an
// allocation per interval for no saving.
#[allow(clippy::large_enum_variant)]
pub enum Item {
    Parsed(Interval),
    Raw(Value),
}

/// A batch every item of which is an interval: parsed in one pass, without a `Value` between.
#[derive(serde::Deserialize)]
struct ParsedBatch {
    intervals: Vec<Interval>,
}

/// The items of a request body: `{"intervals": [..]}` with 1..=500 items. Parsed straight into
/// intervals when it can be; otherwise read as JSON values, so a bad item is refused alone with
/// its id and the body's shape errors name what is wrong.
pub fn items(body: &[u8]) -> Result<Vec<Item>, IngestError> {
    if let Ok(batch) = serde_json::from_slice::<ParsedBatch>(body) {
        if (1..=MAX_BATCH).contains(&batch.intervals.len()) {
            return Ok(batch.intervals.into_iter().map(Item::Parsed).collect());
        }
    }
    let body: Value = serde_json::from_slice(body)
        .map_err(|e| IngestError::BadBatch(format!("invalid JSON body: {e}")))?;
    Ok(values(body)?.into_iter().map(Item::Raw).collect())
}

/// Checks the body's shape: `{"intervals": [..]}` with 1..=500 items.
fn values(body: Value) -> Result<Vec<Value>, IngestError> {
    let Value::Object(mut map) = body else {
        return Err(IngestError::BadBatch(
            "body must be an object {\"intervals\": [...]}".into(),
        ));
    };
    match map.remove("intervals") {
        Some(Value::Array(items)) if items.is_empty() => Err(IngestError::BadBatch(
            "intervals is empty: send 1 to 500".into(),
        )),
        Some(Value::Array(items)) if items.len() > MAX_BATCH => {
            Err(IngestError::BadBatch(format!(
                "{} intervals in one request; at most {MAX_BATCH}",
                items.len()
            )))
        }
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(IngestError::BadBatch("intervals must be an array".into())),
        None => Err(IngestError::BadBatch("missing field intervals".into())),
    }
}

/// Ingests `items` (from [`items`]) for `user` at `now`: one result per item, in order.
pub async fn ingest(
    state: &AppState,
    user: &UserRow,
    items: Vec<Item>,
    now: i64,
) -> Result<Vec<IngestResult>, IngestError> {
    let mut results = Vec::with_capacity(items.len());
    let mut candidates = Vec::new();
    let mut slots = Vec::new();
    // What the organization keeps of page addresses, and for how long it keeps detail.
    let org = state
        .org_settings
        .get(state.db.as_ref(), &user.org_id)
        .await?;
    // A day past retention is kept only as its report: an interval for it could not be added.
    let oldest = now - i64::from(retention_days(state, &org)) * 86_400;
    let mut late = LateLimit {
        state,
        org_id: &user.org_id,
        now,
        window_days: None,
    };
    for item in items {
        match judge(item, now, org.url_policy) {
            Judged::Decided(result) => results.push(Some(result)),
            Judged::Candidate(c) if c.interval.ended_at.timestamp() < oldest => {
                results.push(Some(IngestResult::rejected(
                    Some(c.interval.id.to_string()),
                    format!(
                        "invalid: older than the {} days this server keeps intervals",
                        retention_days(state, &org)
                    ),
                )))
            }
            Judged::Candidate(c) => match late.refusal(c.interval.started_at.timestamp()).await? {
                Some(why) => results.push(Some(IngestResult::rejected(
                    Some(c.interval.id.to_string()),
                    why,
                ))),
                None => {
                    slots.push(results.len());
                    results.push(None);
                    candidates.push(c);
                }
            },
        }
    }
    let candidates =
        within_daily_bytes(state, &user.user.id, candidates, &mut slots, &mut results).await?;
    if !candidates.is_empty() {
        let sizes: Vec<(i64, u64)> = candidates
            .iter()
            .map(|c| (utc_day(&c.interval), c.packed.json_bytes))
            .collect();
        let stored = state.db.ingest(user, candidates).await?;
        for ((slot, result), (day, size)) in slots.into_iter().zip(stored).zip(sizes) {
            if result.status == IngestStatus::Accepted {
                state.daily_bytes.add(&user.user.id, day, size);
            }
            results[slot] = Some(result);
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every slot is filled"))
        .collect())
}

/// The days of detail the organization keeps: its own setting, never more than the server's.
pub fn retention_days(state: &AppState, org: &crate::db::OrgSettingsRow) -> u32 {
    org.retention_days
        .map_or(state.retention_days, |d| d.min(state.retention_days))
}

/// Judges one item on its own: shape, the E4 rules, and not too far in the future; then keeps
/// of its page addresses what the organization's `urls` policy keeps (`Full`: as sent).
pub fn judge(item: Item, now: i64, urls: UrlPolicy) -> Judged {
    let mut interval = match item {
        Item::Parsed(interval) => interval,
        Item::Raw(value) => {
            let id = value.get("id").and_then(Value::as_str).map(str::to_string);
            match serde_json::from_value(value) {
                Ok(i) => i,
                Err(e) => {
                    return Judged::Decided(IngestResult::rejected(id, format!("invalid: {e}")))
                }
            }
        }
    };
    let id = || Some(interval.id.to_string());
    if let Err(e) = interval.validate() {
        return Judged::Decided(IngestResult::rejected(id(), format!("invalid: {e}")));
    }
    if interval.ended_at.timestamp() > now + MAX_FUTURE_SECS {
        return Judged::Decided(IngestResult::rejected(
            id(),
            metron_core::wire::REASON_ENDS_IN_FUTURE,
        ));
    }
    if urls != UrlPolicy::Full {
        for window in &mut interval.windows {
            window.url = window.url.take().and_then(|u| urls.keep(&u));
        }
    }
    // As it will be stored: equal content packs to equal bytes.
    let packed = crate::db::packed::pack(&interval);
    Judged::Candidate(Candidate { interval, packed })
}

/// The UTC day (its first second) an interval counts in for the byte cap: the day it starts.
fn utc_day(interval: &Interval) -> i64 {
    interval.started_at.timestamp().div_euclid(86_400) * 86_400
}

/// Keeps the candidates that fit the user's stored bytes for their UTC day (by start); the
/// others are refused `invalid: ...`. A soft cap: two requests racing for the same day's last
/// bytes may both get in, which only bounds the overshoot to one request's worth.
async fn within_daily_bytes(
    state: &AppState,
    user_id: &str,
    candidates: Vec<Candidate>,
    slots: &mut Vec<usize>,
    results: &mut [Option<IngestResult>],
) -> Result<Vec<Candidate>, DbError> {
    let cap = state.limits.max_bytes_per_user_day;
    let mut used: HashMap<i64, u64> = HashMap::new();
    let mut kept = Vec::with_capacity(candidates.len());
    let mut kept_slots = Vec::with_capacity(slots.len());
    for (candidate, slot) in candidates.into_iter().zip(slots.drain(..)) {
        let day = utc_day(&candidate.interval);
        let so_far = match used.get(&day) {
            Some(n) => *n,
            None => {
                state
                    .daily_bytes
                    .stored(state.db.as_ref(), user_id, day)
                    .await?
            }
        };
        let size = candidate.packed.json_bytes;
        if so_far.saturating_add(size) > cap {
            results[slot] = Some(IngestResult::rejected(
                Some(candidate.interval.id.to_string()),
                format!("invalid: over the {cap} bytes one person may store a day"),
            ));
            used.insert(day, so_far);
            continue;
        }
        used.insert(day, so_far + size);
        kept.push(candidate);
        kept_slots.push(slot);
    }
    *slots = kept_slots;
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good(start: &str, end: &str, active: &str) -> Value {
        json!({"id": "01930000-0000-7000-8000-000000000001", "device_id": "01930000-0000-7000-8000-000000000002",
               "task_id": "t", "started_at": start, "ended_at": end, "utc_offset_minutes": 0, "end_reason": "boundary",
               "active": active, "counts": {"keys":1,"clicks":0,"scrolls":0,"moves":0}, "windows": []})
    }

    /// Judges a JSON item as one of a batch that did not parse whole.
    fn judged(item: Value, now: i64, urls: UrlPolicy) -> Judged {
        judge(Item::Raw(item), now, urls)
    }

    fn reason(j: Judged) -> String {
        match j {
            Judged::Decided(r) => r.reason.unwrap_or_default(),
            Judged::Candidate(_) => "accepted".into(),
        }
    }

    #[test]
    fn the_body_shape_is_checked() {
        let shape = |body: Value| items(body.to_string().as_bytes()).map(|i| i.len());
        assert!(shape(json!([])).is_err());
        assert!(shape(json!({"intervals": []})).is_err());
        assert!(shape(json!({"intervals": {}})).is_err());
        assert!(shape(json!({"intervals": vec![json!(1); 501]})).is_err());
        assert_eq!(shape(json!({"intervals": [1, 2]})).unwrap(), 2);
        assert!(items(b"{\"intervals\": [").is_err());
    }

    #[test]
    fn a_well_formed_batch_is_parsed_once_and_judged_as_its_values_would_be() {
        let now = 1_800_000_000;
        let one = good("2026-01-01T00:00:00Z", "2026-01-01T00:00:02Z", "11");
        let body = json!({"intervals": [one.clone(), one.clone()], "other": 1}).to_string();
        let parsed = items(body.as_bytes()).unwrap();
        assert!(parsed.iter().all(|i| matches!(i, Item::Parsed(_))));
        let (Judged::Candidate(a), Judged::Candidate(b)) = (
            judge(parsed.into_iter().next().unwrap(), now, UrlPolicy::Full),
            judged(one.clone(), now, UrlPolicy::Full),
        ) else {
            panic!("both are accepted");
        };
        assert_eq!((a.interval, a.packed), (b.interval, b.packed));
        // One bad item: the batch is read as values and only that item is refused.
        let body = json!({"intervals": [one, {"id": "x"}]}).to_string();
        let mixed = items(body.as_bytes()).unwrap();
        assert!(mixed.iter().all(|i| matches!(i, Item::Raw(_))));
        let reasons: Vec<String> = mixed
            .into_iter()
            .map(|i| reason(judge(i, now, UrlPolicy::Full)))
            .collect();
        assert_eq!(reasons[0], "accepted");
        assert!(reasons[1].starts_with("invalid: "), "{}", reasons[1]);
    }

    #[test]
    fn each_invalid_reason_is_named() {
        let now = 1_800_000_000;
        assert_eq!(
            reason(judged(
                good("2026-01-01T00:00:00Z", "2026-01-01T00:00:02Z", "11"),
                now,
                UrlPolicy::Full
            )),
            "accepted"
        );
        assert!(reason(judged(
            good("2026-01-01T00:00:02Z", "2026-01-01T00:00:00Z", ""),
            now,
            UrlPolicy::Full
        ))
        .contains("duration"));
        assert!(reason(judged(
            good(
                "2026-01-01T00:00:00Z",
                "2026-01-01T00:16:00Z",
                &"1".repeat(960)
            ),
            now,
            UrlPolicy::Full
        ))
        .contains("duration"));
        assert!(reason(judged(
            good("2026-01-01T00:00:00Z", "2026-01-01T00:00:02Z", "1"),
            now,
            UrlPolicy::Full
        ))
        .contains("active has 1"));
        assert!(reason(judged(
            good("2026-01-01T00:00:00.5Z", "2026-01-01T00:00:02Z", "11"),
            now,
            UrlPolicy::Full
        ))
        .contains("whole seconds"));
        let mut beyond = good("2026-01-01T00:00:00Z", "2026-01-01T00:00:02Z", "11");
        beyond["windows"] = json!([{"offset": 1, "seconds": 2, "app": "a", "title": ""}]);
        assert!(reason(judged(beyond, now, UrlPolicy::Full)).contains("runs past the interval"));
        assert!(reason(judged(json!({"id": "x"}), now, UrlPolicy::Full)).starts_with("invalid: "));
        let future = chrono::DateTime::from_timestamp(now + 600, 0).unwrap();
        let start = future - chrono::Duration::seconds(2);
        assert!(reason(judged(
            good(&start.to_rfc3339(), &future.to_rfc3339(), "11"),
            now,
            UrlPolicy::Full
        ))
        .contains("future"));
    }
}
