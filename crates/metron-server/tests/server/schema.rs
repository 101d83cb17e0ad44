//! The two migration sets describe one schema: after migrating, SQLite and PostgreSQL have the
//! same tables, the same columns (with their types mapped to a family) and the same indexes,
//! so a schema change can't be made to one backend only.

use std::collections::BTreeMap;

use sqlx::Row;

/// Table -> column -> type family; and the named indexes, as (table, index).
type Schema = (
    BTreeMap<String, BTreeMap<String, &'static str>>,
    Vec<(String, String)>,
);

/// What a column's declared type is, whichever backend declared it. SQLite has no booleans:
/// 0/1 INTEGER columns stand for PostgreSQL's BOOLEAN.
fn family(declared: &str) -> &'static str {
    let t = declared.to_ascii_lowercase();
    if t.contains("int") || t == "boolean" {
        "integer"
    } else if t.contains("char") || t.contains("text") {
        "text"
    } else if t.contains("real") || t.contains("double") || t.contains("numeric") {
        "real"
    } else if t == "blob" || t == "bytea" || t == "uuid" {
        "bytes"
    } else {
        panic!("a column type the test does not know: {declared}")
    }
}

async fn sqlite_schema() -> Schema {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("schema.sqlite");
    let _db = metron_server::db::connect(&path.display().to_string())
        .await
        .unwrap();
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        path.display()
    ))
    .await
    .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut columns = BTreeMap::new();
    let mut indexes = Vec::new();
    for table in tables {
        let rows = sqlx::query("SELECT name, type FROM pragma_table_info($1)")
            .bind(&table)
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let cols = rows
            .iter()
            .map(|r| {
                (
                    r.get::<String, _>("name"),
                    family(&r.get::<String, _>("type")),
                )
            })
            .collect();
        columns.insert(table.clone(), cols);
        // Indexes written in the migrations (not the automatic ones behind PRIMARY KEY/UNIQUE).
        let names: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_index_list($1) WHERE origin = 'c'")
                .bind(&table)
                .fetch_all(&mut conn)
                .await
                .unwrap();
        indexes.extend(names.into_iter().map(|n| (table.clone(), n)));
    }
    indexes.sort();
    (columns, indexes)
}

/// SQLite's only table and index of its own: the counter that gives a person their number
/// and the unique index on it (PostgreSQL's `users.seq` is an identity column with a UNIQUE
/// constraint; migration 0021).
const SQLITE_PERSON_NUMBER: (&str, (&str, &str)) = ("person_numbers", ("users", "users_by_seq"));

/// PostgreSQL's only index of its own: intervals by when they were received (migration 0024);
/// SQLite finds the rows stored after a read by their row ids.
const POSTGRES_RECEIVED: (&str, &str) = ("intervals", "intervals_by_received");

async fn postgres_schema() -> Schema {
    let url = super::fresh_postgres().await;
    let _db = metron_server::db::connect(&url).await.unwrap();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let rows = sqlx::query(
        "SELECT table_name::TEXT AS t, column_name::TEXT AS c, data_type::TEXT AS ty FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut columns: BTreeMap<String, BTreeMap<String, &'static str>> = BTreeMap::new();
    for r in rows {
        let (table, column): (String, String) = (r.get("t"), r.get("c"));
        columns
            .entry(table)
            .or_default()
            .insert(column, family(&r.get::<String, _>("ty")));
    }
    // Indexes written in the migrations: not those behind a primary key, a unique or an
    // exclusion constraint (PostgreSQL's way to refuse overlapping manual entries).
    let rows = sqlx::query(
        "SELECT i.tablename::TEXT AS t, i.indexname::TEXT AS n FROM pg_indexes i
         WHERE i.schemaname = 'public' AND i.tablename NOT LIKE '_sqlx%'
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
         ORDER BY 1, 2",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let indexes = rows.iter().map(|r| (r.get("t"), r.get("n"))).collect();
    (columns, indexes)
}

#[tokio::test]
async fn both_migration_sets_make_the_same_tables_columns_and_indexes() {
    let (mut sqlite_columns, mut sqlite_indexes) = sqlite_schema().await;
    let (pg_columns, mut pg_indexes) = postgres_schema().await;
    let at = pg_indexes
        .iter()
        .position(|(t, i)| (t.as_str(), i.as_str()) == POSTGRES_RECEIVED)
        .expect("PostgreSQL's index on intervals.received_at");
    pg_indexes.remove(at);
    let (table, index) = SQLITE_PERSON_NUMBER;
    assert!(sqlite_columns.remove(table).is_some(), "SQLite's {table}");
    let at = sqlite_indexes
        .iter()
        .position(|(t, i)| (t.as_str(), i.as_str()) == index)
        .expect("SQLite's index on users.seq");
    sqlite_indexes.remove(at);
    assert!(
        sqlite_columns.contains_key("intervals") && sqlite_columns.len() >= 8,
        "{:?}",
        sqlite_columns.keys()
    );
    assert_eq!(
        sqlite_columns.keys().collect::<Vec<_>>(),
        pg_columns.keys().collect::<Vec<_>>(),
        "the tables differ"
    );
    for (table, columns) in &sqlite_columns {
        assert_eq!(
            columns, &pg_columns[table],
            "the columns of {table} differ (SQLite left, PostgreSQL right)"
        );
    }
    assert!(!sqlite_indexes.is_empty());
    assert_eq!(
        sqlite_indexes, pg_indexes,
        "the indexes differ (SQLite left, PostgreSQL right)"
    );
}
