//! Judging a `POST /api/v1/intervals` body before it reaches the database: the body's shape
//! (400 if wrong), then each item on its own (a bad item is `rejected: invalid: ..`, the rest
//! go on). The database then decides duplicate, id_conflict, overlap and unknown task.

use metron_core::wire::IngestResult;
use metron_core::Interval;
use serde_json::Value;

use crate::db::Candidate;
use crate::error::ApiError;

/// Most intervals one request may carry (SPEC §4).
pub const MAX_BATCH: usize = 500;
/// How far in the future an interval may end (clock skew allowance).
pub const MAX_FUTURE_SECS: i64 = 300;

/// Either a result already decided, or a candidate for the database.
// Most items of a batch are candidates, moved on at once into the database's list: boxing
// them would add an allocation per interval for no saving.
#[allow(clippy::large_enum_variant)]
pub enum Judged {
    Decided(IngestResult),
    Candidate(Candidate),
}

/// Checks the body's shape: `{"intervals": [..]}` with 1..=500 items.
pub fn items(body: Value) -> Result<Vec<Value>, ApiError> {
    let Value::Object(mut map) = body else {
        return Err(ApiError::BadRequest(
            "body must be an object {\"intervals\": [...]}".into(),
        ));
    };
    match map.remove("intervals") {
        Some(Value::Array(items)) if items.is_empty() => Err(ApiError::BadRequest(
            "intervals is empty: send 1 to 500".into(),
        )),
        Some(Value::Array(items)) if items.len() > MAX_BATCH => Err(ApiError::BadRequest(format!(
            "{} intervals in one request; at most {MAX_BATCH}",
            items.len()
        ))),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(ApiError::BadRequest("intervals must be an array".into())),
        None => Err(ApiError::BadRequest("missing field intervals".into())),
    }
}

/// Judges one item on its own: shape, the E4 rules, and not too far in the future.
pub fn judge(item: Value, now: i64) -> Judged {
    let id = item.get("id").and_then(Value::as_str).map(str::to_string);
    let interval: Interval = match serde_json::from_value(item) {
        Ok(i) => i,
        Err(e) => return Judged::Decided(IngestResult::rejected(id, format!("invalid: {e}"))),
    };
    if let Err(e) = interval.validate() {
        return Judged::Decided(IngestResult::rejected(id, format!("invalid: {e}")));
    }
    if interval.ended_at.timestamp() > now + MAX_FUTURE_SECS {
        return Judged::Decided(IngestResult::rejected(
            id,
            metron_core::wire::REASON_ENDS_IN_FUTURE,
        ));
    }
    // Canonical JSON of the parsed interval: equal content gives equal text.
    let body = serde_json::to_string(&interval).expect("an interval serializes");
    Judged::Candidate(Candidate { interval, body })
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

    fn reason(j: Judged) -> String {
        match j {
            Judged::Decided(r) => r.reason.unwrap_or_default(),
            Judged::Candidate(_) => "accepted".into(),
        }
    }

    #[test]
    fn the_body_shape_is_checked() {
        assert!(items(json!([])).is_err());
        assert!(items(json!({"intervals": []})).is_err());
        assert!(items(json!({"intervals": {}})).is_err());
        assert!(items(json!({"intervals": vec![json!(1); 501]})).is_err());
        assert_eq!(items(json!({"intervals": [1, 2]})).unwrap().len(), 2);
    }

    #[test]
    fn each_invalid_reason_is_named() {
        let now = 1_800_000_000;
        assert_eq!(
            reason(judge(
                good("2026-01-01T00:00:00Z", "2026-01-01T00:00:02Z", "11"),
                now
            )),
            "accepted"
        );
        assert!(reason(judge(
            good("2026-01-01T00:00:02Z", "2026-01-01T00:00:00Z", ""),
            now
        ))
        .contains("duration"));
        assert!(reason(judge(
            good(
                "2026-01-01T00:00:00Z",
                "2026-01-01T00:16:00Z",
                &"1".repeat(960)
            ),
            now
        ))
        .contains("duration"));
        assert!(reason(judge(
            good("2026-01-01T00:00:00Z", "2026-01-01T00:00:02Z", "1"),
            now
        ))
        .contains("active has 1"));
        assert!(reason(judge(
            good("2026-01-01T00:00:00.5Z", "2026-01-01T00:00:02Z", "11"),
            now
        ))
        .contains("whole seconds"));
        let mut beyond = good("2026-01-01T00:00:00Z", "2026-01-01T00:00:02Z", "11");
        beyond["windows"] = json!([{"offset": 1, "seconds": 2, "app": "a", "title": ""}]);
        assert!(reason(judge(beyond, now)).contains("runs past the interval"));
        assert!(reason(judge(json!({"id": "x"}), now)).starts_with("invalid: "));
        let future = chrono::DateTime::from_timestamp(now + 600, 0).unwrap();
        let start = future - chrono::Duration::seconds(2);
        assert!(reason(judge(
            good(&start.to_rfc3339(), &future.to_rfc3339(), "11"),
            now
        ))
        .contains("future"));
    }
}
