//! The write budget (issue 27): what a person's time may gain in a day besides intervals,
//! which the daily byte cap bounds (`ingest.rs`). Manual entries, corrections, withdrawals and
//! submissions each write an audit row about the person's time, with the whole record in it,
//! so the person's audit rows of the UTC day, counted and measured, are the budget: at most
//! `max_writes_per_user_day` rows and `max_write_bytes_per_user_day` bytes. A caller also
//! makes at most `writes_per_minute` such writes (device reports included), so a script
//! can't fill the budget in a burst either. Device reports add no audit row; their rows are
//! bounded by `max_devices_per_user` instead (a report replaces its device's last one).

use chrono::Utc;

use crate::db::UserRow;
use crate::error::ApiError;
use crate::AppState;

/// Charges one write by `actor` to `subject`'s budget of the day: 429 past the rate, and 429
/// with a Retry-After to the end of the UTC day past the day's rows or bytes.
pub async fn charge(state: &AppState, actor: &UserRow, subject: &UserRow) -> Result<(), ApiError> {
    rate(state, actor)?;
    let now = Utc::now().timestamp();
    let day_start = now.div_euclid(86_400) * 86_400;
    let (rows, bytes) = state.db.write_usage(&subject.user.id, day_start).await?;
    let limits = &state.limits;
    let (rows, bytes) = (rows.max(0) as u64, bytes.max(0) as u64);
    if rows >= limits.max_writes_per_user_day || bytes >= limits.max_write_bytes_per_user_day {
        return Err(ApiError::Quota {
            message: format!(
                "{}'s time took {rows} changes ({bytes} bytes) today, the most a day may take \
                 ({} changes, {} bytes); more can be made after 00:00 UTC",
                subject.user.email,
                limits.max_writes_per_user_day,
                limits.max_write_bytes_per_user_day
            ),
            retry_after: (day_start + 86_400 - now).max(1) as u64,
        });
    }
    Ok(())
}

/// Counts one write by `actor` against the per-minute rate (429 past it).
pub fn rate(state: &AppState, actor: &UserRow) -> Result<(), ApiError> {
    state
        .write_limiter
        .hit(&actor.user.id)
        .map_err(|retry_after| ApiError::TooManyRequests { retry_after })
}
