//! A kept timesheet line as the database keeps it (migration 0023): packed, not JSON.
//!
//! A team's month reads one line per person and day (310,000 at 10,000 people), and reading
//! them was the month's time: JSON with flattened figures (serde buffers every field of a
//! flattened struct) and two dates parsed per line. The packed line holds the figures as
//! varints and leaves out the date, which the row's `day` says. Lines kept before (JSON,
//! starting with `{`) still read; a line kept again is packed. The first byte is the format's
//! version; a test pins the bytes of one line.

use chrono::{DateTime, NaiveDate};
use metron_core::report::ZoneChange;
use metron_core::timesheet::{Figures, SheetDay, TaskFigures};

use super::varint::{put, put_signed, put_str, Reader};

/// The first byte of a packed line.
const FORMAT: u8 = 1;

/// Which of a line's optional parts follow, as bits of one byte.
const FIRST_ACTIVITY: u8 = 1;
const FIRST_OFFSET: u8 = 2;
const LAST_OFFSET: u8 = 4;

/// `line` packed (its date is the row's).
pub fn pack(line: &SheetDay) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + 48 * line.tasks.len());
    out.push(FORMAT);
    put_figures(&mut out, &line.figures);
    put(&mut out, line.tasks.len() as u64);
    for task in &line.tasks {
        put_str(&mut out, &task.task_id);
        put_figures(&mut out, &task.figures);
    }
    let mut present = 0;
    for (bit, there) in [
        (FIRST_ACTIVITY, line.first_activity.is_some()),
        (FIRST_OFFSET, line.first_offset_minutes.is_some()),
        (LAST_OFFSET, line.last_offset_minutes.is_some()),
    ] {
        if there {
            present |= bit;
        }
    }
    out.push(present);
    if let Some(at) = line.first_activity {
        put_signed(&mut out, at.timestamp());
    }
    for offset in [line.first_offset_minutes, line.last_offset_minutes]
        .into_iter()
        .flatten()
    {
        put_signed(&mut out, i64::from(offset));
    }
    put(&mut out, line.zone_changes.len() as u64);
    for change in &line.zone_changes {
        put_signed(&mut out, change.at.timestamp());
        put_signed(&mut out, i64::from(change.from_minutes));
        put_signed(&mut out, i64::from(change.to_minutes));
    }
    out
}

/// The line of `date` kept as `bytes`, packed or (kept before migration 0023) JSON; `None`
/// when it doesn't read (a newer server's, a damaged row): the day is computed again.
pub fn unpack(date: NaiveDate, bytes: &[u8]) -> Option<SheetDay> {
    if bytes.first() == Some(&b'{') {
        return serde_json::from_slice(bytes).ok();
    }
    let mut r = Reader::new(bytes);
    if r.byte()? != FORMAT {
        return None;
    }
    let day_figures = figures(&mut r)?;
    let count = r.len()?;
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        tasks.push(TaskFigures {
            task_id: r.string()?,
            figures: figures(&mut r)?,
        });
    }
    let present = r.byte()?;
    let first_activity = if present & FIRST_ACTIVITY != 0 {
        Some(DateTime::from_timestamp(r.signed()?, 0)?)
    } else {
        None
    };
    let mut offset = |bit: u8| -> Option<Option<i32>> {
        if present & bit == 0 {
            return Some(None);
        }
        i32::try_from(r.signed()?).ok().map(Some)
    };
    let first_offset_minutes = offset(FIRST_OFFSET)?;
    let last_offset_minutes = offset(LAST_OFFSET)?;
    let count = r.len()?;
    let mut zone_changes = Vec::with_capacity(count);
    for _ in 0..count {
        zone_changes.push(ZoneChange {
            at: DateTime::from_timestamp(r.signed()?, 0)?,
            from_minutes: i32::try_from(r.signed()?).ok()?,
            to_minutes: i32::try_from(r.signed()?).ok()?,
        });
    }
    r.at_end().then_some(SheetDay {
        date,
        figures: day_figures,
        tasks,
        first_activity,
        first_offset_minutes,
        last_offset_minutes,
        zone_changes,
    })
}

/// A row's `day` (YYYY-MM-DD), read without chrono's general parser: a team's month reads
/// 310,000 of them.
pub fn day_of(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(number(&b[..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, number(&b[5..7])?, number(&b[8..])?)
}

fn put_figures(out: &mut Vec<u8>, f: &Figures) {
    for n in [
        f.tracked_secs,
        f.active_secs,
        f.passive_secs,
        f.manual_secs,
        f.total_secs,
        u64::from(f.activity_pct),
    ] {
        put(out, n);
    }
}

fn figures(r: &mut Reader<'_>) -> Option<Figures> {
    Some(Figures {
        tracked_secs: r.get()?,
        active_secs: r.get()?,
        passive_secs: r.get()?,
        manual_secs: r.get()?,
        total_secs: r.get()?,
        activity_pct: u32::try_from(r.get()?).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> SheetDay {
        let date = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        let at = |h: u32| date.and_hms_opt(h, 0, 0).unwrap().and_utc();
        let figures = |tracked: u64, manual: u64| Figures {
            tracked_secs: tracked,
            active_secs: tracked / 2,
            passive_secs: 60,
            manual_secs: manual,
            total_secs: tracked + manual,
            activity_pct: 50,
        };
        SheetDay {
            date,
            figures: figures(28_800, 3_600),
            tasks: vec![
                TaskFigures {
                    task_id: "019a0000-0000-7000-8000-00000000aaaa".into(),
                    figures: figures(25_200, 3_600),
                },
                TaskFigures {
                    task_id: "Überstunden".into(),
                    figures: figures(3_600, 0),
                },
            ],
            first_activity: Some(at(7)),
            first_offset_minutes: Some(180),
            last_offset_minutes: Some(120),
            zone_changes: vec![ZoneChange {
                at: at(1),
                from_minutes: 180,
                to_minutes: 120,
            }],
        }
    }

    #[test]
    fn a_packed_line_reads_back_equal() {
        let line = line();
        assert_eq!(unpack(line.date, &pack(&line)), Some(line.clone()));
        let empty = SheetDay::empty(line.date);
        assert_eq!(unpack(empty.date, &pack(&empty)), Some(empty));
    }

    #[test]
    fn a_line_kept_as_json_before_reads_as_before() {
        let line = line();
        let json = serde_json::to_vec(&line).unwrap();
        assert_eq!(unpack(line.date, &json), Some(line));
    }

    #[test]
    fn a_day_reads_as_chrono_reads_it() {
        for text in ["2026-10-25", "2028-02-29", "0001-01-01", "9999-12-31"] {
            assert_eq!(day_of(text), text.parse().ok(), "{text}");
        }
        for text in [
            "2027-02-29",
            "2026-13-01",
            "2026-1-01",
            "2026-10-2x",
            "2026/10/25",
            "",
        ] {
            assert_eq!(day_of(text), None, "{text}");
        }
    }

    #[test]
    fn the_format_is_pinned() {
        let mut line = SheetDay::empty(NaiveDate::from_ymd_opt(2026, 10, 25).unwrap());
        line.figures.tracked_secs = 300;
        line.figures.total_secs = 300;
        line.first_offset_minutes = Some(-60);
        assert_eq!(
            pack(&line),
            [1, 172, 2, 0, 0, 0, 172, 2, 0, 0, FIRST_OFFSET, 119, 0]
        );
    }

    #[test]
    fn a_cut_longer_or_unknown_line_is_unreadable_not_misread() {
        let line = line();
        let packed = pack(&line);
        for cut in 0..packed.len() {
            assert_eq!(unpack(line.date, &packed[..cut]), None, "cut at {cut}");
        }
        let mut longer = packed.clone();
        longer.push(0);
        assert_eq!(unpack(line.date, &longer), None);
        let mut newer = packed;
        newer[0] = FORMAT + 1;
        assert_eq!(unpack(line.date, &newer), None);
    }
}
