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
    } else if t == "blob" || t == "bytea" {
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

/// PostgreSQL's only columns of its own: a person's number and its copy in each interval, the
/// key of the exclusion constraint that refuses overlaps there (migration 0019; on SQLite the
/// writer checks, by the text id).
const PG_OVERLAP_KEY: [(&str, &str); 2] = [("users", "seq"), ("intervals", "person")];

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
        if PG_OVERLAP_KEY.contains(&(table.as_str(), column.as_str())) {
            continue;
        }
        columns
            .entry(table)
            .or_default()
            .insert(column, family(&r.get::<String, _>("ty")));
    }
    // Indexes written in the migrations: not those behind a primary key, a unique or an
    // exclusion constraint (PostgreSQL's own way to refuse overlaps; SQLite's writer checks).
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
    let (sqlite_columns, sqlite_indexes) = sqlite_schema().await;
    let (pg_columns, pg_indexes) = postgres_schema().await;
    for (table, column) in PG_OVERLAP_KEY {
        assert!(
            !sqlite_columns[table].contains_key(column),
            "{table}.{column} is PostgreSQL's alone"
        );
    }
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
