//! Interval ingest on PostgreSQL: the requests waiting at one moment are stored by one
//! statement. A request hands its intervals to [`PgWriter`]; a few writer tasks each take every
//! request waiting (up to [`MAX_GROUP_ROWS`] intervals), store them with one `INSERT .. SELECT
//! FROM UNNEST(..)` and answer each request with the ids of its intervals that were stored.
//! One statement is one round trip, one plan and one commit for the whole group, where a
//! statement a request spent most of its time in PostgreSQL's per-statement work.
//!
//! The statement skips a row whose id is stored (`ON CONFLICT DO NOTHING`) or that overlaps a
//! stored interval of its person (the last one starting before it ends, as SQLite's writer
//! checks). The overlap rule itself is the `intervals_no_overlap` trigger (migration 0021): a
//! racing transaction on this instance or another that stored an overlapping row first makes
//! the statement fail with 23P01, and the group is stored again, now skipping that row. Rows of
//! one person in a group that overlap each other are stored one statement each, in the
//! group's order, so the first is the one stored. The caller then says why a row was not
//! stored ([`super::postgres`]).

use std::collections::HashSet;
use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::packed::RecentNames;
use super::{classify, Candidate, DbError};

/// How many requests may wait for a writer.
const QUEUE: usize = 4096;
/// Writer tasks storing groups at once: two cores here, PostgreSQL's work on another group
/// overlaps a group's commit.
const WRITERS: usize = 4;
/// Most intervals one statement stores (a request's own batch is never split).
const MAX_GROUP_ROWS: usize = 2_000;

/// What the writer tasks share of the window names they stored (`packed::RecentNames`).
type KnownNames = std::sync::Mutex<RecentNames>;

/// One request's intervals (of known tasks) and where to answer.
struct Job {
    user_id: String,
    items: Vec<Candidate>,
    now: i64,
    reply: oneshot::Sender<Result<HashSet<String>, DbError>>,
}

/// The handle requests send their intervals through.
pub(crate) struct PgWriter {
    jobs: mpsc::Sender<Job>,
}

impl PgWriter {
    /// Starts the writer tasks on the current runtime.
    pub(crate) fn start(pool: PgPool) -> PgWriter {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        let known = Arc::new(KnownNames::default());
        for _ in 0..WRITERS {
            tokio::spawn(write(pool.clone(), queue.clone(), known.clone()));
        }
        PgWriter { jobs }
    }

    /// Stores what it can of `items` for `user_id`; the ids stored. An id that occurs twice is
    /// stored once and listed once (the caller counts its first occurrence stored).
    pub(crate) async fn store(
        &self,
        user_id: &str,
        items: Vec<Candidate>,
        now: i64,
    ) -> Result<HashSet<String>, DbError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || DbError::Unavailable("the interval writer stopped".into());
        let job = Job {
            user_id: user_id.to_string(),
            items,
            now,
            reply,
        };
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// One writer task: takes every request waiting (while holding the queue, so writers don't
/// split a moment's requests between them), stores them, answers.
async fn write(pool: PgPool, queue: Arc<Mutex<mpsc::Receiver<Job>>>, known: Arc<KnownNames>) {
    loop {
        let group = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else {
                return;
            };
            let mut rows = first.items.len();
            let mut group = vec![first];
            while rows < MAX_GROUP_ROWS {
                match queue.try_recv() {
                    Ok(job) => {
                        rows += job.items.len();
                        group.push(job);
                    }
                    Err(_) => break,
                }
            }
            group
        };
        match store_group(&pool, &group, &known).await {
            Ok(stored) => answer(group, stored),
            // One request the database refuses outright (not a lost connection or a busy
            // server, which the whole group may retry) must not fail the others it was grouped
            // with, again on every retry: each is stored alone, so only its own fails.
            Err(DbError::Other(_)) if group.len() > 1 => {
                for job in group {
                    let alone = std::slice::from_ref(&job);
                    match store_group(&pool, alone, &known).await {
                        Ok(stored) => answer(vec![job], stored),
                        Err(e) => {
                            let _ = job.reply.send(Err(e));
                        }
                    }
                }
            }
            Err(e) => {
                // The statement rolled back: nothing of the group was stored, all may retry.
                for job in group {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Answers each request of a stored group with its ids among `stored`; the first occurrence of
/// an id in the group's order is the row stored.
fn answer(group: Vec<Job>, mut stored: HashSet<String>) {
    for job in group {
        let mine: HashSet<String> = job
            .items
            .iter()
            .map(|c| c.interval.id.to_string())
            .filter(|id| stored.remove(id))
            .collect();
        let _ = job.reply.send(Ok(mine));
    }
}

/// Stores a group in one statement (a statement a row where rows of one person overlap each
/// other); the ids stored.
async fn store_group(
    pool: &PgPool,
    group: &[Job],
    known: &KnownNames,
) -> Result<HashSet<String>, DbError> {
    let mut columns = Columns::default();
    {
        // Not held across an await: the guard is released before the statement.
        let remembered = known.lock().unwrap_or_else(|p| p.into_inner());
        for job in group {
            for item in &job.items {
                let i = &item.interval;
                columns.users.push(job.user_id.clone());
                columns.received.push(job.now);
                columns.ids.push(i.id.to_string());
                columns.devices.push(i.device_id.to_string());
                columns.tasks.push(i.task_id.clone());
                columns.starts.push(i.started_at.timestamp());
                columns.ends.push(i.ended_at.timestamp());
                columns.packed.push(item.packed.body.clone());
                columns.json_bytes.push(item.packed.json_bytes as i64);
                let day = super::packed::day_of(i.started_at.timestamp());
                for w in &item.packed.windows {
                    if remembered.has(&job.user_id, day, w.key) {
                        continue;
                    }
                    let names = &mut columns.names;
                    names.ids.push(i.id.to_string());
                    names.users.push(job.user_id.clone());
                    names.days.push(day);
                    names.keys.push(w.key);
                    names.apps.push(w.app.clone());
                    names.titles.push(w.title.clone());
                    names.urls.push(w.url.clone());
                    names.paths.push(w.path.clone());
                }
            }
        }
    }
    if overlap_within(group) {
        // Stored in the group's order, one row a statement: each sees the rows before it.
        let mut stored = HashSet::new();
        for k in 0..columns.ids.len() {
            stored.extend(insert(pool, &columns.row(k), known, group[0].now).await?);
        }
        return Ok(stored);
    }
    insert(pool, &columns, known, group[0].now).await
}

/// Whether two rows of one person in the group overlap.
fn overlap_within(group: &[Job]) -> bool {
    let mut spans: Vec<(&str, i64, i64)> = group
        .iter()
        .flat_map(|job| {
            job.items.iter().map(|c| {
                let i = &c.interval;
                (
                    job.user_id.as_str(),
                    i.started_at.timestamp(),
                    i.ended_at.timestamp(),
                )
            })
        })
        .collect();
    spans.sort_unstable();
    spans
        .windows(2)
        .any(|w| w[0].0 == w[1].0 && w[0].2 > w[1].1)
}

/// Runs [`INSERT_GROUP`] on `columns`, again after a deadlock or a racing transaction's
/// overlapping row (the statement is atomic: nothing of it stayed); the ids stored.
async fn insert(
    pool: &PgPool,
    columns: &Columns,
    known: &KnownNames,
    now: i64,
) -> Result<HashSet<String>, DbError> {
    let mut tries = 0;
    loop {
        let stored = sqlx::query_scalar(INSERT_GROUP)
            .bind(&columns.users)
            .bind(&columns.received)
            .bind(&columns.ids)
            .bind(&columns.devices)
            .bind(&columns.tasks)
            .bind(&columns.starts)
            .bind(&columns.ends)
            .bind(&columns.packed)
            .bind(&columns.json_bytes)
            .bind(&columns.names.ids)
            .bind(&columns.names.users)
            .bind(&columns.names.days)
            .bind(&columns.names.keys)
            .bind(&columns.names.apps)
            .bind(&columns.names.titles)
            .bind(&columns.names.urls)
            .bind(&columns.names.paths)
            .fetch_all(pool)
            .await;
        match stored {
            Ok(ids) => {
                let stored: HashSet<String> = ids.into_iter().collect();
                // The names of the intervals stored are stored (or were already).
                let names = &columns.names;
                let mut remembered = known.lock().unwrap_or_else(|p| p.into_inner());
                for k in (0..names.ids.len()).filter(|k| stored.contains(&names.ids[*k])) {
                    remembered.remember(&names.users[k], names.days[k], names.keys[k], now);
                }
                return Ok(stored);
            }
            // Two groups storing rows of one person in opposite orders, or another
            // transaction stored an overlapping row first (skipped on the next try).
            Err(e) if tries < 3 && (super::timesheets::is_deadlock(&e) || is_overlap(&e)) => {
                tries += 1;
            }
            Err(e) => return Err(classify(e)),
        }
    }
}

/// The `intervals_no_overlap` trigger's error.
fn is_overlap(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("23P01"))
}

/// A group's intervals, as the arrays [`INSERT_GROUP`] takes.
#[derive(Default)]
struct Columns {
    users: Vec<String>,
    received: Vec<i64>,
    ids: Vec<String>,
    devices: Vec<String>,
    tasks: Vec<String>,
    starts: Vec<i64>,
    ends: Vec<i64>,
    packed: Vec<Vec<u8>>,
    json_bytes: Vec<i64>,
    names: NameColumns,
}

/// The names of a group's windows, a row for each window of each interval (the statement
/// keeps those of the intervals it stored, each name once).
#[derive(Default)]
struct NameColumns {
    ids: Vec<String>,
    users: Vec<String>,
    days: Vec<i64>,
    keys: Vec<i64>,
    apps: Vec<String>,
    titles: Vec<String>,
    urls: Vec<Option<String>>,
    paths: Vec<Option<String>>,
}

impl Columns {
    /// The `k`th interval alone, with its windows' names.
    fn row(&self, k: usize) -> Columns {
        let id = &self.ids[k];
        let n = &self.names;
        let mut names = NameColumns::default();
        for j in (0..n.ids.len()).filter(|j| n.ids[*j] == *id) {
            names.ids.push(n.ids[j].clone());
            names.users.push(n.users[j].clone());
            names.days.push(n.days[j]);
            names.keys.push(n.keys[j]);
            names.apps.push(n.apps[j].clone());
            names.titles.push(n.titles[j].clone());
            names.urls.push(n.urls[j].clone());
            names.paths.push(n.paths[j].clone());
        }
        Columns {
            users: vec![self.users[k].clone()],
            received: vec![self.received[k]],
            ids: vec![id.clone()],
            devices: vec![self.devices[k].clone()],
            tasks: vec![self.tasks[k].clone()],
            starts: vec![self.starts[k]],
            ends: vec![self.ends[k]],
            packed: vec![self.packed[k].clone()],
            json_bytes: vec![self.json_bytes[k]],
            names,
        }
    }
}

/// Stores a group (its columns as arrays: person, time received, id, device, task, start, end,
/// packed body, JSON length; then its windows' names: interval id, person, day, key, app, title, URL, path)
/// in the order given, with each person's number (`users.seq`), skipping a row whose id is
/// stored (`ON CONFLICT DO NOTHING`, waiting for a racing transaction's row before deciding)
/// or that overlaps a stored interval of its person (the group's rows must not overlap each
/// other: the `intervals_no_overlap` trigger would refuse the statement), widens the seen span
/// of each device it stored for, adds the names of the stored intervals' windows a person and
/// day did not have yet, and returns the ids stored.
const INSERT_GROUP: &str = "WITH batch AS (
        SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                             $6::bigint[], $7::bigint[], $8::bytea[], $9::bigint[])
            WITH ORDINALITY
            AS b(user_id, received_at, id, device_id, task_id, started_at, ended_at, packed,
                 json_bytes, n)
    ), stored AS (
        INSERT INTO intervals (id, person, device_id, task_id, started_at, ended_at,
                               body, packed, json_bytes, received_at)
        SELECT b.id::uuid, u.seq, b.device_id::uuid, b.task_id, b.started_at, b.ended_at, '',
               b.packed, b.json_bytes, b.received_at
        FROM batch b JOIN users u ON u.id = b.user_id
        WHERE NOT EXISTS (
            SELECT 1 FROM (SELECT o.ended_at FROM intervals o
                           WHERE o.person = u.seq AND o.started_at < b.ended_at
                           ORDER BY o.started_at DESC LIMIT 1) last
            WHERE last.ended_at > b.started_at)
        ORDER BY b.n
        ON CONFLICT DO NOTHING
        RETURNING id::text AS id, person, device_id::text AS device_id, started_at, ended_at
    ), seen AS (
        INSERT INTO devices (user_id, device_id, first_seen, last_seen)
        SELECT u.id, s.device_id, min(s.started_at), max(s.ended_at)
        FROM stored s JOIN users u ON u.seq = s.person
        GROUP BY u.id, s.device_id
        ON CONFLICT (user_id, device_id) DO UPDATE SET
            first_seen = LEAST(devices.first_seen, excluded.first_seen),
            last_seen = GREATEST(devices.last_seen, excluded.last_seen)
    ), named AS (
        INSERT INTO window_names (user_id, day, key, app, title, url, path)
        SELECT DISTINCT ON (n.user_id, n.day, n.key) n.user_id, n.day, n.key, n.app, n.title,
               n.url, n.path
        FROM UNNEST($10::text[], $11::text[], $12::bigint[], $13::bigint[], $14::text[],
                    $15::text[], $16::text[], $17::text[])
             AS n(id, user_id, day, key, app, title, url, path)
        JOIN stored s ON s.id = n.id
        ORDER BY n.user_id, n.day, n.key
        ON CONFLICT DO NOTHING
    )
    SELECT id FROM stored";
