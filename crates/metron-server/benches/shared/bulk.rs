//! What the team-scale benches (`team_month`, `team_today`) share: their database and size from
//! the environment, the bulk loader (PostgreSQL only) and the process's memory.

use chrono::NaiveDate;
use std::time::Instant;

/// Copies `template`'s stored `dates` to everyone else in `org` in SQL (`load/team_month.sql`):
/// the same rows under each person's number, with ids and a device of their own, a day at a
/// time in the order they would arrive, each received as it ended. Without the table's
/// triggers and indexes, which are built afterwards.
pub async fn copy_to_everyone(
    pool: &sqlx::PgPool,
    template: &metron_server::db::UserRow,
    org: &str,
    dates: &[NaiveDate],
) {
    let template: i64 = sqlx::query_scalar("SELECT seq FROM users WHERE id = $1")
        .bind(&template.user.id)
        .fetch_one(pool)
        .await
        .unwrap();
    let script = include_str!("../load/team_month.sql");
    let mut parts = script.split("-- copy\n");
    let (before, copy, after) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    // One connection: the triggers stay off for its session only. Statement by statement:
    // ALTER SYSTEM runs outside a transaction, and several in one message share one.
    let mut conn = pool.acquire().await.unwrap();
    let statements = |part: &str| -> Vec<String> {
        part.split(";\n")
            .map(|s| s.trim().to_string())
            .filter(|s| {
                s.lines()
                    .any(|l| !l.trim().is_empty() && !l.starts_with("--"))
            })
            .collect()
    };
    for statement in statements(before) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    for &date in dates {
        let from = date.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
        let copied = sqlx::query(sqlx::AssertSqlSafe(copy))
            .bind(template)
            .bind(org)
            .bind(from)
            .bind(from + 86_400)
            .execute(&mut *conn)
            .await
            .unwrap();
        println!("copied {date}: {} rows", copied.rows_affected());
    }
    for statement in statements(&after.replace("$1", &template.to_string())) {
        let t = Instant::now();
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone()))
            .execute(&mut *conn)
            .await
            .unwrap();
        let what = statement
            .lines()
            .find(|l| !l.starts_with("--"))
            .unwrap_or("");
        println!("{what}: {:.0} s", t.elapsed().as_secs_f64());
    }
}

/// `METRON_BENCH_DB`, a PostgreSQL address (what is measured is the team scale of PostgreSQL:
/// `what` says so if it is missing), and `METRON_BENCH_USERS` (`people` unless set).
pub fn database_and_people(what: &str, people: usize) -> (String, usize) {
    let url = std::env::var("METRON_BENCH_DB")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| {
            panic!("METRON_BENCH_DB=postgres://... ({what} is measured on PostgreSQL)")
        });
    let people = std::env::var("METRON_BENCH_USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(people);
    (url, people)
}

/// The process's peak resident memory so far (VmHWM) and now (VmRSS), in MB.
pub fn memory_mb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// How many intervals the organization's people have stored.
pub async fn stored(pool: &sqlx::PgPool, org: &str) -> usize {
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM intervals i JOIN users u ON u.seq = i.person WHERE u.org_id = $1",
    )
    .bind(org)
    .fetch_one(pool)
    .await
    .unwrap();
    stored as usize
}
