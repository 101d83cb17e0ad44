//! The two sums every report shares: which UTC instants a person's local day covers, and a
//! whole percentage rounded the same way everywhere.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use crate::model::MAX_OFFSET_MINUTES;

/// The UTC instants a local day covers: [`date` 00:00, next day 00:00) at `utc_offset_minutes`
/// east of UTC. The server loads the intervals overlapping this range. `None` only for dates
/// at the edge of what chrono can represent.
pub fn local_day_bounds(
    date: NaiveDate,
    utc_offset_minutes: i32,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let local_midnight_as_utc = date.and_time(NaiveTime::MIN).and_utc();
    let start = local_midnight_as_utc
        .checked_sub_signed(Duration::minutes(i64::from(utc_offset_minutes)))?;
    let end = start.checked_add_signed(Duration::days(1))?;
    Some((start, end))
}

/// The widest UTC range the local day `date` can cover in any offset (UTC-14:00 to
/// UTC+14:00): every interval with a second on that date, in its own offset, overlaps it.
pub fn widest_day_bounds(date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (earliest, _) = local_day_bounds(date, MAX_OFFSET_MINUTES)?;
    let (_, latest) = local_day_bounds(date, -MAX_OFFSET_MINUTES)?;
    Some((earliest, latest))
}

/// `round(100 * part / whole)` with halves rounded up; 0 for an empty whole.
pub(crate) fn percent(part: u64, whole: u64) -> u32 {
    if whole == 0 {
        return 0;
    }
    ((200 * u128::from(part) + u128::from(whole)) / (2 * u128::from(whole))) as u32
}
