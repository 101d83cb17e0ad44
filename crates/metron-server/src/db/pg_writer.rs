//! Interval ingest on PostgreSQL: the requests waiting at one moment are stored by one
//! statement. A request hands its intervals to [`PgWriter`]; a few writer tasks each take every
//! request waiting (up to [`MAX_GROUP_ROWS`] intervals), store them with one `INSERT .. SELECT
//! FROM UNNEST(..)` and answer each request with the ids of its intervals that were stored.
//! One statement is one round trip, one plan and one commit for the whole group, where a
//! statement a request spent most of its time in PostgreSQL's per-statement work.
//!
//! Nothing of the overlap rule moves here: the `intervals_no_overlap` exclusion constraint and
//! the primary key are the statement's arbiters (`ON CONFLICT DO NOTHING` without a target), so
//! a row that conflicts with a stored row, with an earlier row of the group, or with another
//! transaction's row (waited for) is skipped, on this instance or another. The caller then says
//! why ([`super::postgres`]).

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

/// Stores a group in one statement, again after a deadlock (the statement is atomic: nothing of
/// it stayed); the ids stored.
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
                let (names, now) = (&columns.names, group[0].now);
                let mut remembered = known.lock().unwrap_or_else(|p| p.into_inner());
                for k in (0..names.ids.len()).filter(|k| stored.contains(&names.ids[*k])) {
                    remembered.remember(&names.users[k], names.days[k], names.keys[k], now);
                }
                return Ok(stored);
            }
            // Two groups storing rows of one person in opposite orders.
            Err(e) if tries < 3 && super::timesheets::is_deadlock(&e) => {
                tries += 1;
            }
            Err(e) => return Err(classify(e)),
        }
    }
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

/// Stores a group (its columns as arrays: person, time received, id, device, task, start, end,
/// packed body, JSON length; then its windows' names: interval id, person, day, key, app, title, URL, path)
/// in the order given, with each person's number (`users.seq`, the exclusion
/// constraint's key), skipping rows that conflict (`ON CONFLICT DO NOTHING` without a
/// target takes the primary key and the `intervals_no_overlap` exclusion constraint as
/// arbiters, waiting for a racing transaction's rows before deciding), widens the seen span of
/// each device it stored for, adds the names of the stored intervals' windows a person and day
/// did not have yet, and returns the ids stored.
const INSERT_GROUP: &str = "WITH batch AS (
        SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                             $6::bigint[], $7::bigint[], $8::bytea[], $9::bigint[])
            WITH ORDINALITY
            AS b(user_id, received_at, id, device_id, task_id, started_at, ended_at, packed,
                 json_bytes, n)
    ), stored AS (
        INSERT INTO intervals (id, user_id, person, device_id, task_id, started_at, ended_at,
                               body, packed, json_bytes, received_at)
        SELECT b.id, b.user_id, u.seq, b.device_id, b.task_id, b.started_at, b.ended_at, '',
               b.packed, b.json_bytes, b.received_at
        FROM batch b JOIN users u ON u.id = b.user_id ORDER BY b.n
        ON CONFLICT DO NOTHING
        RETURNING id, user_id, device_id, started_at, ended_at
    ), seen AS (
        INSERT INTO devices (user_id, device_id, first_seen, last_seen)
        SELECT user_id, device_id, min(started_at), max(ended_at) FROM stored
        GROUP BY user_id, device_id
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
