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

/// The first and last dates Metron reads or stores time on: a tracker started in this century
/// has nothing before 2000, and a date past 2100 is a typo or a probe. Dates outside are
/// refused (400) rather than computed: each date read can leave a kept line behind.
pub const FIRST_DATE: NaiveDate = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date");
pub const LAST_DATE: NaiveDate = NaiveDate::from_ymd_opt(2100, 12, 31).expect("a date");

/// Whether `date` lies within [`FIRST_DATE`]..=[`LAST_DATE`].
pub fn in_service(date: NaiveDate) -> bool {
    (FIRST_DATE..=LAST_DATE).contains(&date)
}

/// `round(100 * part / whole)` with halves rounded up; 0 for an empty whole.
pub(crate) fn percent(part: u64, whole: u64) -> u32 {
    if whole == 0 {
        return 0;
    }
    ((200 * u128::from(part) + u128::from(whole)) / (2 * u128::from(whole))) as u32
}
