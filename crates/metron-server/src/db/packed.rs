//! An interval as the database keeps it (issue 30): its columns (id, person, device, task,
//! start, end), a packed body of what else it says, and its windows' names once per person
//! and UTC day in `window_names`.
//!
//! The JSON an agent delivers spends most of its bytes on what repeats: the columns again,
//! a character per second of each flag string, and a window's app, title, address and path in
//! every interval that saw it (a person's day has some dozens of windows and ~480 intervals).
//! The packed body holds the per-second flags as bits, the counts and offsets as varints, and
//! a window as an 8-byte key: the first bytes of SHA-256 over the window's names, so that a
//! key names the same window in every interval and request without a lookup (writers on
//! several server instances agree on it with nothing shared but the table's `ON CONFLICT DO
//! NOTHING`). Two windows of one person and day would have to share 64 bits of SHA-256 to be
//! confused; the names are read per person.
//!
//! Rows stored before the packed body (migration 0020) keep their JSON in `body` and no
//! `packed`; `decode` reads both. The format's first byte is its version; a test pins the
//! bytes of one interval, so a change of format can't pass unnoticed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use metron_core::events::EventType;
use metron_core::model::PresenceStretch;
use metron_core::{Counts, EndReason, Interval, IntervalEvent, WindowSegment};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::varint::{put, put_signed, put_str, Reader};
use super::DbError;

/// The first byte of a packed body.
const FORMAT: u8 = 1;

/// The names of a window, stored once per person and day under `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowName {
    pub key: i64,
    pub app: String,
    pub title: String,
    pub url: Option<String>,
    pub path: Option<String>,
}

/// An interval ready to store: its packed body, the names of its windows (each once), and
/// the length of its canonical JSON (what the daily byte cap counts: the interval as it is
/// delivered and as a report holds it, not its packed size, which a window named once and
/// referred to by 900 one-second segments would make hundreds of times smaller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    pub body: Vec<u8>,
    pub windows: Vec<WindowName>,
    pub json_bytes: u64,
}

/// The UTC day (days since 1970-01-01) whose `window_names` an interval starting at
/// `started_at` refers to.
pub fn day_of(started_at: i64) -> i64 {
    started_at.div_euclid(86_400)
}

/// The UTC days whose names the intervals overlapping [from, to) refer to (the longest
/// interval is 900 s).
pub fn days_of(from: i64, to: i64) -> (i64, i64) {
    (day_of(from - 900), day_of(to - 1))
}

/// The key of a window: the same for the same names.
fn window_key(w: &WindowSegment) -> i64 {
    let mut h = Sha256::new();
    // Lengths first: no two different tuples of names read as the same bytes.
    for part in [
        Some(w.app.as_str()),
        Some(w.title.as_str()),
        w.url.as_deref(),
        w.path.as_deref(),
    ] {
        match part {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_le_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    let digest = h.finalize();
    i64::from_le_bytes(
        digest[..8]
            .try_into()
            .expect("a SHA-256 digest has 32 bytes"),
    )
}

/// Packs an interval (validated: flags of '0' and '1', one a second).
pub fn pack(i: &Interval) -> Packed {
    let mut out = Vec::with_capacity(64);
    out.push(FORMAT);
    put_signed(&mut out, i64::from(i.utc_offset_minutes));
    out.push(end_reason_code(i.end_reason));
    put_bits(&mut out, &i.active);
    let flags = u8::from(i.counts_measured)
        | u8::from(i.injected.is_some()) << 1
        | u8::from(i.passive.is_some()) << 2;
    out.push(flags);
    put_counts(&mut out, &i.counts);
    if let (Some(flags), Some(counts)) = (&i.injected, &i.injected_counts) {
        put_bits(&mut out, flags);
        put_counts(&mut out, counts);
    }
    if let Some(flags) = &i.passive {
        put_bits(&mut out, flags);
    }
    let mut windows: Vec<WindowName> = Vec::new();
    put(&mut out, i.windows.len() as u64);
    for w in &i.windows {
        let key = window_key(w);
        put(&mut out, u64::from(w.offset));
        put(&mut out, u64::from(w.seconds));
        out.extend_from_slice(&key.to_le_bytes());
        if !windows.iter().any(|n| n.key == key) {
            windows.push(WindowName {
                key,
                app: w.app.clone(),
                title: w.title.clone(),
                url: w.url.clone(),
                path: w.path.clone(),
            });
        }
    }
    put(&mut out, i.presence.len() as u64);
    for p in &i.presence {
        put(&mut out, u64::from(p.offset));
        put(&mut out, u64::from(p.seconds));
        put_str(&mut out, &p.held_by);
    }
    put(&mut out, i.events.len() as u64);
    for e in &i.events {
        put_signed(&mut out, i64::from(e.offset));
        out.push(event_code(e.kind));
    }
    Packed {
        body: out,
        windows,
        json_bytes: json_len(i),
    }
}

/// The length of an interval's canonical JSON, counted as it is written, not kept.
fn json_len(i: &Interval) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut n = Count(0);
    serde_json::to_writer(&mut n, i).expect("an interval serializes");
    n.0
}

/// The names of windows by key, as read for some people's days.
#[derive(Debug, Default, Clone)]
pub struct WindowNames(HashMap<(String, i64), WindowName>);

impl WindowNames {
    /// Adds `other`'s names.
    pub fn extend(&mut self, other: WindowNames) {
        self.0.extend(other.0);
    }

    pub fn insert(&mut self, user_id: String, name: WindowName) {
        self.0.insert((user_id, name.key), name);
    }

    fn get(&self, user_id: &str, key: i64) -> Option<&WindowName> {
        // A tuple key of a borrowed str can't be looked up without its String: the maps are a
        // day or a few of one organization, and a lookup is one per segment.
        self.0.get(&(user_id.to_string(), key))
    }
}

super::row_struct! {
    /// A stored interval as read: its columns, and its packed body (or, stored before 0020,
    /// its JSON in `body`).
    #[derive(Debug, Clone)]
    pub struct StoredInterval {
        pub id: Uuid,
        pub user_id: String,
        pub device_id: Uuid,
        pub task_id: String,
        pub started_at: i64,
        pub ended_at: i64,
        pub body: String,
        pub packed: Option<Vec<u8>>,
    }
}

/// The columns a `StoredInterval` reads, in its fields' order, of the intervals aliased `i`
/// and their person `u` (a row names its person by number, `users.seq`): a macro so that
/// queries are `concat!`-ed at compile time. [`stored_from!`] is the table they read.
macro_rules! stored_columns {
    () => {
        "i.id, u.id AS user_id, i.device_id, i.task_id, i.started_at, i.ended_at, i.body, i.packed"
    };
}
pub(crate) use stored_columns;

/// The intervals aliased `i` joined with their person `u` (by number): what
/// [`stored_columns!`] and every other read of intervals by person or organization select
/// from.
macro_rules! stored_from {
    () => {
        " FROM intervals i JOIN users u ON u.seq = i.person"
    };
}
pub(crate) use stored_from;

impl StoredInterval {
    /// The interval, its windows named from `names` (which must hold its day's).
    pub fn decode(&self, names: &WindowNames) -> Result<Interval, DbError> {
        let unreadable = |why: String| DbError::Other(format!("stored interval unreadable: {why}"));
        let Some(packed) = &self.packed else {
            return serde_json::from_str(&self.body).map_err(|e| unreadable(e.to_string()));
        };
        let time = |t: i64| {
            DateTime::<Utc>::from_timestamp(t, 0).ok_or_else(|| unreadable(format!("time {t}")))
        };
        let seconds = usize::try_from(self.ended_at - self.started_at)
            .map_err(|_| unreadable("it ends before it starts".into()))?;
        let mut r = Reader::new(packed);
        let fields = (|| {
            if r.byte()? != FORMAT {
                return None;
            }
            let utc_offset_minutes = i32::try_from(r.signed()?).ok()?;
            let end_reason = end_reason_of(r.byte()?)?;
            let active = r.bits(seconds)?;
            let flags = r.byte()?;
            let counts = r.counts()?;
            let (injected, injected_counts) = if flags & 2 != 0 {
                (Some(r.bits(seconds)?), Some(r.counts()?))
            } else {
                (None, None)
            };
            let passive = if flags & 4 != 0 {
                Some(r.bits(seconds)?)
            } else {
                None
            };
            let mut windows = Vec::new();
            for _ in 0..r.len()? {
                let offset = u32::try_from(r.get()?).ok()?;
                let seconds = u32::try_from(r.get()?).ok()?;
                let key = i64::from_le_bytes(r.take(8)?.try_into().ok()?);
                windows.push((offset, seconds, key));
            }
            let mut presence = Vec::new();
            for _ in 0..r.len()? {
                let offset = u32::try_from(r.get()?).ok()?;
                let seconds = u32::try_from(r.get()?).ok()?;
                let held_by = r.string()?;
                presence.push(PresenceStretch {
                    offset,
                    seconds,
                    held_by,
                });
            }
            let mut events = Vec::new();
            for _ in 0..r.len()? {
                let offset = i32::try_from(r.signed()?).ok()?;
                let kind = event_of(r.byte()?)?;
                events.push(IntervalEvent { offset, kind });
            }
            r.at_end().then_some((
                utc_offset_minutes,
                end_reason,
                active,
                flags & 1 != 0,
                counts,
                (injected, injected_counts, passive),
                windows,
                presence,
                events,
            ))
        })();
        let Some((
            offset,
            end_reason,
            active,
            measured,
            counts,
            evidence,
            windows,
            presence,
            events,
        )) = fields
        else {
            return Err(unreadable(format!(
                "packed body of {} is malformed",
                self.id
            )));
        };
        let windows = windows
            .into_iter()
            .map(|(offset, seconds, key)| {
                let name = names.get(&self.user_id, key).ok_or_else(|| {
                    unreadable(format!("window {key} of {} has no stored names", self.id))
                })?;
                Ok(WindowSegment {
                    offset,
                    seconds,
                    app: name.app.clone(),
                    title: name.title.clone(),
                    url: name.url.clone(),
                    path: name.path.clone(),
                })
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        Ok(Interval {
            id: self.id,
            device_id: self.device_id,
            task_id: self.task_id.clone(),
            started_at: time(self.started_at)?,
            ended_at: time(self.ended_at)?,
            utc_offset_minutes: offset,
            end_reason,
            active,
            counts,
            counts_measured: measured,
            windows,
            injected: evidence.0,
            injected_counts: evidence.1,
            passive: evidence.2,
            presence,
            events,
        })
    }

    /// Its UTC offset alone (what a report of a day without intervals takes), without names.
    pub fn utc_offset(&self) -> Result<i32, DbError> {
        let unreadable = || DbError::Other(format!("stored interval {} unreadable", self.id));
        match &self.packed {
            None => serde_json::from_str::<Interval>(&self.body)
                .map(|i| i.utc_offset_minutes)
                .map_err(|_| unreadable()),
            Some(packed) => {
                let mut r = Reader::new(packed);
                (r.byte() == Some(FORMAT))
                    .then(|| r.signed().and_then(|o| i32::try_from(o).ok()))
                    .flatten()
                    .ok_or_else(unreadable)
            }
        }
    }
}

impl StoredInterval {
    /// Whether `delivered` packs to this interval's bytes and columns: the same interval again
    /// (a window's key is the hash of its names).
    pub fn same_bytes(&self, delivered: &super::Candidate) -> bool {
        let i = &delivered.interval;
        self.packed.as_deref() == Some(delivered.packed.body.as_slice())
            && self.device_id == i.device_id
            && self.task_id == i.task_id
            && self.started_at == i.started_at.timestamp()
            && self.ended_at == i.ended_at.timestamp()
    }

    /// Whether `delivered` is this interval but for its page addresses (the organization's URL
    /// policy may have changed between two deliveries of one interval: its time is the same,
    /// so the second is a duplicate, not a conflict); `names` hold its day's windows.
    pub fn same_but_urls(&self, names: &WindowNames, delivered: &super::Candidate) -> bool {
        let without_urls = |mut i: Interval| {
            for window in &mut i.windows {
                window.url = None;
            }
            i
        };
        self.decode(names)
            .is_ok_and(|stored| without_urls(stored) == without_urls(delivered.interval.clone()))
    }
}

/// The window names (person, day, key) a writer knows are stored, of today and yesterday
/// only: a person's intervals of a day name the same few windows, each then written once
/// rather than probed by every insert. Retention never deletes names of those days (it keeps
/// at least a day, and an interval it keeps may start 900 s before), and an erased person sends
/// nothing more, so an entry can't outlive its row. Starts again past `MAX_RECENT_NAMES`.
#[derive(Debug, Default)]
pub struct RecentNames {
    by_person: HashMap<String, std::collections::HashSet<(i64, i64)>>,
    len: usize,
}

/// Entries [`RecentNames`] keeps at most.
const MAX_RECENT_NAMES: usize = 200_000;

impl RecentNames {
    /// Whether `user_id`'s name (`day`, `key`) is known to be stored.
    pub fn has(&self, user_id: &str, day: i64, key: i64) -> bool {
        self.by_person
            .get(user_id)
            .is_some_and(|k| k.contains(&(day, key)))
    }

    /// Remembers a name just stored (or found stored) at `now` (unix seconds), if its day is
    /// today's or yesterday's.
    pub fn remember(&mut self, user_id: &str, day: i64, key: i64, now: i64) {
        if day < day_of(now) - 1 {
            return;
        }
        if self.len >= MAX_RECENT_NAMES {
            *self = RecentNames::default();
        }
        let added = match self.by_person.get_mut(user_id) {
            Some(known) => known.insert((day, key)),
            None => self
                .by_person
                .entry(user_id.to_string())
                .or_default()
                .insert((day, key)),
        };
        self.len += usize::from(added);
    }
}

/// Whose windows' names to read.
#[derive(Debug, Clone, Copy)]
pub enum Whose<'a> {
    Person(&'a str),
    /// The people of the organization whose numbers (`users.seq`) are in the range.
    People(&'a str, PersonRange),
}

/// People by their numbers (`users.seq`), first to last inclusive: the part of an organization
/// a read of many people's intervals takes at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonRange {
    pub first: i64,
    pub last: i64,
}

/// Reads `window_names` on either backend (the same SQL).
#[async_trait::async_trait]
pub trait NamesReader {
    /// The names of `whose` windows of the UTC days `first..=last` (`day_of`).
    async fn window_names(
        &self,
        whose: Whose<'_>,
        first: i64,
        last: i64,
    ) -> Result<WindowNames, DbError>;

    /// The names of the windows of `people` (by id) of the UTC days `first..=last`, a few
    /// hundred people a statement.
    async fn people_window_names(
        &self,
        people: &[String],
        first: i64,
        last: i64,
    ) -> Result<WindowNames, DbError>;
}

/// A row of `window_names` as read: person, key, app, title, URL, path.
type NameRow = (String, i64, String, String, Option<String>, Option<String>);

impl WindowNames {
    fn add_rows(&mut self, rows: Vec<NameRow>) {
        for (user_id, key, app, title, url, path) in rows {
            self.insert(
                user_id,
                WindowName {
                    key,
                    app,
                    title,
                    url,
                    path,
                },
            );
        }
    }
}

/// People a statement of [`NamesReader::people_window_names`] names (each a bound value).
const PEOPLE_A_STATEMENT: usize = 500;

macro_rules! names_reader {
    ($db:ty) => {
        #[async_trait::async_trait]
        impl NamesReader for sqlx::Pool<$db> {
            async fn window_names(
                &self,
                whose: Whose<'_>,
                first: i64,
                last: i64,
            ) -> Result<WindowNames, DbError> {
                let (sql, id, people) = match whose {
                    Whose::Person(id) => (
                        "SELECT user_id, key, app, title, url, path FROM window_names
                         WHERE user_id = $1 AND day >= $2 AND day <= $3",
                        id,
                        None,
                    ),
                    Whose::People(id, people) => (
                        "SELECT w.user_id, w.key, w.app, w.title, w.url, w.path FROM users u
                         JOIN window_names w ON w.user_id = u.id
                         WHERE u.org_id = $1 AND w.day >= $2 AND w.day <= $3
                           AND u.seq >= $4 AND u.seq <= $5",
                        id,
                        Some(people),
                    ),
                };
                let mut query = sqlx::query_as(sql).bind(id).bind(first).bind(last);
                if let Some(people) = people {
                    query = query.bind(people.first).bind(people.last);
                }
                let rows: Vec<NameRow> = query.fetch_all(self).await.map_err(super::classify)?;
                let mut names = WindowNames::default();
                names.add_rows(rows);
                Ok(names)
            }

            async fn people_window_names(
                &self,
                people: &[String],
                first: i64,
                last: i64,
            ) -> Result<WindowNames, DbError> {
                let mut names = WindowNames::default();
                for part in people.chunks(PEOPLE_A_STATEMENT) {
                    let mut query = sqlx::QueryBuilder::<$db>::new(
                        "SELECT user_id, key, app, title, url, path FROM window_names WHERE day >= ",
                    );
                    query.push_bind(first);
                    query.push(" AND day <= ");
                    query.push_bind(last);
                    query.push(" AND user_id IN (");
                    let mut ids = query.separated(", ");
                    for person in part {
                        ids.push_bind(person.as_str());
                    }
                    query.push(")");
                    let rows: Vec<NameRow> = query
                        .build_query_as()
                        .fetch_all(self)
                        .await
                        .map_err(super::classify)?;
                    names.add_rows(rows);
                }
                Ok(names)
            }
        }
    };
}
names_reader!(sqlx::Sqlite);
names_reader!(sqlx::Postgres);

fn put_counts(out: &mut Vec<u8>, c: &Counts) {
    for n in [c.keys, c.clicks, c.scrolls, c.moves] {
        put(out, n);
    }
}

/// A string of '0'/'1' flags as bits, first second in the lowest bit; its length is the
/// interval's duration, known from the columns.
fn put_bits(out: &mut Vec<u8>, flags: &str) {
    for chunk in flags.as_bytes().chunks(8) {
        out.push(
            chunk
                .iter()
                .enumerate()
                .fold(0u8, |b, (k, f)| b | u8::from(*f == b'1') << k),
        );
    }
}

impl Reader<'_> {
    fn counts(&mut self) -> Option<Counts> {
        Some(Counts {
            keys: self.get()?,
            clicks: self.get()?,
            scrolls: self.get()?,
            moves: self.get()?,
        })
    }

    fn bits(&mut self, seconds: usize) -> Option<String> {
        let bytes = self.take(seconds.div_ceil(8))?;
        Some(
            (0..seconds)
                .map(|k| {
                    if bytes[k / 8] >> (k % 8) & 1 == 1 {
                        '1'
                    } else {
                        '0'
                    }
                })
                .collect(),
        )
    }
}

// The codes of the enums: written out, not derived from their order, so reordering a type in
// metron-core can't change what stored bytes mean.
const END_REASONS: [EndReason; 7] = [
    EndReason::Boundary,
    EndReason::Stop,
    EndReason::Switch,
    EndReason::Idle,
    EndReason::Quit,
    EndReason::Sleep,
    EndReason::Recovered,
];
const EVENTS: [EventType; 9] = [
    EventType::WindowOpen,
    EventType::WindowSwitch,
    EventType::WindowUpdate,
    EventType::HardwareMouseClick,
    EventType::InjectedMouseClick,
    EventType::HardwareMouseScroll,
    EventType::InjectedMouseScroll,
    EventType::HardwareKeyboardEvent,
    EventType::InjectedKeyboardEvent,
];

fn end_reason_code(r: EndReason) -> u8 {
    END_REASONS
        .iter()
        .position(|x| *x == r)
        .expect("every end reason has a code") as u8
}

fn end_reason_of(code: u8) -> Option<EndReason> {
    END_REASONS.get(usize::from(code)).copied()
}

fn event_code(e: EventType) -> u8 {
    EVENTS
        .iter()
        .position(|x| *x == e)
        .expect("every event type has a code") as u8
}

fn event_of(code: u8) -> Option<EventType> {
    EVENTS.get(usize::from(code)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval() -> Interval {
        let mut i: Interval = serde_json::from_value(serde_json::json!({
            "id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
            "device_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
            "task_id": "t-1",
            "started_at": "2026-10-01T08:00:00Z",
            "ended_at": "2026-10-01T08:00:10Z",
            "utc_offset_minutes": -300,
            "end_reason": "switch",
            "active": "1101100111",
            "counts": {"keys": 300, "clicks": 2, "scrolls": 0, "moves": 41},
            "windows": [
                {"offset": 0, "seconds": 4, "app": "code", "title": "main.rs", "path": "/usr/bin/code"},
                {"offset": 4, "seconds": 3, "app": "firefox", "title": "Docs", "url": "https://docs.rs/"},
                {"offset": 7, "seconds": 3, "app": "code", "title": "main.rs", "path": "/usr/bin/code"}
            ],
            "injected": "0100000001",
            "injected_counts": {"keys": 5, "clicks": 0, "scrolls": 0, "moves": 1},
            "passive": "0010000000",
            "presence": [{"offset": 2, "seconds": 1, "held_by": "zoom"}],
            "events": [{"offset": -30, "type": "HardwareKeyboardEvent"}, {"offset": 4, "type": "WindowSwitch"}]
        }))
        .expect("a valid interval");
        i.counts_measured = true;
        i
    }

    fn stored(user: &str, i: &Interval, p: &Packed) -> StoredInterval {
        StoredInterval {
            id: i.id,
            user_id: user.into(),
            device_id: i.device_id,
            task_id: i.task_id.clone(),
            started_at: i.started_at.timestamp(),
            ended_at: i.ended_at.timestamp(),
            body: String::new(),
            packed: Some(p.body.clone()),
        }
    }

    fn names(user: &str, p: &Packed) -> WindowNames {
        let mut names = WindowNames::default();
        for w in &p.windows {
            names.insert(user.into(), w.clone());
        }
        names
    }

    #[test]
    fn a_packed_interval_reads_back_equal_with_each_window_named_once() {
        let i = interval();
        i.validate().expect("valid");
        let p = pack(&i);
        assert_eq!(
            p.json_bytes,
            serde_json::to_string(&i).expect("json").len() as u64
        );
        assert_eq!(p.windows.len(), 2, "code/main.rs twice, firefox once");
        let back = stored("u-1", &i, &p)
            .decode(&names("u-1", &p))
            .expect("reads");
        assert_eq!(back, i);
        assert_eq!(stored("u-1", &i, &p).utc_offset().expect("offset"), -300);
        // Much smaller than its JSON, names included.
        let json = serde_json::to_string(&i).expect("json").len();
        let names: usize = p
            .windows
            .iter()
            .map(|w| w.app.len() + w.title.len() + 20)
            .sum();
        assert!(
            (p.body.len() + names) * 2 < json,
            "{} vs {json}",
            p.body.len()
        );
    }

    #[test]
    fn an_interval_without_evidence_or_windows_reads_back_equal() {
        let mut i = interval();
        (i.injected, i.injected_counts, i.passive) = (None, None, None);
        (i.presence, i.events, i.windows) = (vec![], vec![], vec![]);
        i.counts_measured = false;
        i.end_reason = EndReason::Recovered;
        let p = pack(&i);
        assert!(p.windows.is_empty());
        assert_eq!(
            stored("u-1", &i, &p)
                .decode(&WindowNames::default())
                .expect("reads"),
            i
        );
    }

    #[test]
    fn the_format_is_pinned() {
        // Changing these bytes changes what every stored interval means: a new format needs a
        // new version byte and a reader for the old one.
        let mut i = interval();
        i.windows.truncate(0);
        i.presence[0].held_by = "z".into();
        let p = pack(&i);
        assert_eq!(
            hex::encode(&p.body),
            "01d704029b0307ac02020029020205000001040000010201017a023b070801"
        );
    }

    #[test]
    fn names_are_read_per_person() {
        let i = interval();
        let p = pack(&i);
        let err = stored("u-2", &i, &p).decode(&names("u-1", &p)).unwrap_err();
        assert!(err.to_string().contains("no stored names"), "{err}");
    }

    #[test]
    fn a_row_of_json_from_before_the_packed_body_reads_as_before() {
        let i = interval();
        let mut row = stored("u-1", &i, &pack(&i));
        (row.body, row.packed) = (serde_json::to_string(&i).expect("json"), None);
        assert_eq!(row.decode(&WindowNames::default()).expect("reads"), i);
        assert_eq!(row.utc_offset().expect("offset"), -300);
    }

    #[test]
    fn a_truncated_or_longer_body_is_unreadable_not_misread() {
        let i = interval();
        let p = pack(&i);
        let n = names("u-1", &p);
        for cut in [1, 5, p.body.len() - 1] {
            let mut row = stored("u-1", &i, &p);
            row.packed.as_mut().expect("packed").truncate(cut);
            assert!(row.decode(&n).is_err(), "cut at {cut}");
        }
        let mut row = stored("u-1", &i, &p);
        row.packed.as_mut().expect("packed").push(0);
        assert!(row.decode(&n).is_err());
    }

    #[test]
    fn recent_names_are_of_today_and_yesterday_and_bounded() {
        let now = 20_000 * 86_400 + 3_600;
        let mut known = RecentNames::default();
        known.remember("u-1", 20_000, 7, now);
        known.remember("u-1", 19_999, 8, now);
        known.remember("u-1", 19_998, 9, now);
        assert!(known.has("u-1", 20_000, 7) && known.has("u-1", 19_999, 8));
        assert!(
            !known.has("u-1", 19_998, 9),
            "retention may delete older days' names"
        );
        assert!(!known.has("u-2", 20_000, 7), "per person");
        for key in 0..MAX_RECENT_NAMES as i64 {
            known.remember("u-3", 20_000, key, now);
        }
        assert!(known.len <= MAX_RECENT_NAMES);
        assert!(
            !known.has("u-1", 20_000, 7),
            "past the bound it starts again"
        );
    }
}
