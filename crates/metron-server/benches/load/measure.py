#!/usr/bin/env python3
"""Prints the storage a metron-server database takes, for storage.sh (docs/PERFORMANCE.md):
intervals and day aggregates stored, the database's total bytes, bytes per non-empty table and
per index, the bytes of the `body` columns (and the intervals' `packed`), and bytes per interval.

Usage: measure.py DB   (DB: a SQLite path or a postgres:// URL; the server must be stopped)
SQLite: checkpoints the WAL and VACUUMs first, then reads the `dbstat` virtual table.
PostgreSQL (through psql): VACUUM FULL and ANALYZE first, then pg_relation_size and friends.
"""
import os, subprocess, sys

db = sys.argv[1]
rows = []  # (kind, name, table, bytes)

if db.startswith("postgres"):
    psql = lambda sql: subprocess.run(["psql", "-X", "-q", "-tA", "-F|", "-v", "ON_ERROR_STOP=1", db, "-c", sql],
                                      check=True, capture_output=True, text=True).stdout.splitlines()
    psql("VACUUM FULL")
    psql("ANALYZE")
    tables = psql("SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 1")
    counts = dict(l.split("|") for l in psql(" UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)))
    for l in psql("SELECT relname, pg_relation_size(oid), pg_total_relation_size(oid) - pg_relation_size(oid) - pg_indexes_size(oid) "
                  "FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"):
        t, heap, toast = l.split("|")
        rows.append(("table", t, t, int(heap)))
        if int(toast):
            rows.append(("toast", t + " (TOAST + maps)", t, int(toast)))
    for l in psql("SELECT i.relname, t.relname, pg_relation_size(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                  "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relnamespace = 'public'::regnamespace"):
        i, t, size = l.split("|")
        rows.append(("index", i, t, int(size)))
    total_db = int(psql("SELECT pg_database_size(current_database())")[0])
    # An interval's body is its JSON (rows from before migration 0020) or its packed bytes.
    body = lambda t, packed="": psql(f"SELECT count(*), coalesce(sum(octet_length(body){packed and ' + coalesce(octet_length(packed), 0)'}), 0), "
                                     f"coalesce(sum(pg_column_size(body){packed and ' + coalesce(pg_column_size(packed), 0)'}), 0) FROM {t}")[0].split("|")
else:
    import sqlite3
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("VACUUM")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    kinds = {n: (k, t) for k, n, t in con.execute("SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")}
    tables = [n for n, (k, _) in kinds.items() if k == "table"]
    counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    for name, size in con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
        kind, table = kinds.get(name, ("schema", name))
        rows.append((kind, name, table, size))
    total_db = sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
    body = lambda t, packed="": [str(v) for v in con.execute(
        f"SELECT count(*), coalesce(sum(length(CAST(body AS BLOB)){packed and ' + coalesce(length(packed), 0)'}), 0), "
        f"coalesce(sum(length(CAST(body AS BLOB)){packed and ' + coalesce(length(packed), 0)'}), 0) FROM {t}").fetchone()]

mb = lambda b: f"{b:>10,} B  {b / 1e6:7.3f} MB"
n_int, int_body, int_stored = map(int, body("intervals", packed="yes"))
n_agg, agg_body, agg_stored = map(int, body("day_aggregates"))
print(f"intervals stored: {n_int}; day_aggregates rows: {n_agg}")
print(f"database total:        {mb(total_db)}" + (" (with the system catalogs)" if db.startswith("postgres") else ""))
tables_sum = sum(r[3] for r in rows)
print(f"all tables + indexes:  {mb(tables_sum)}")
# Tables of at least 256 kB with their indexes one by one; the others (catalog-sized) summed.
big = [t for t in counts if sum(r[3] for r in rows if r[2] == t) >= 262144]
print("tables of 256 kB or more (rows), their indexes and TOAST:")
for t in sorted(big, key=lambda t: -sum(r[3] for r in rows if r[2] == t)):
    for kind, name, table, size in sorted((r for r in rows if r[2] == t), key=lambda r: (r[0] != "table", -r[3])):
        label = f"{name} ({counts[t]} rows)" if kind == "table" else f"  {kind} {name}"
        print(f"  {label:<46} {mb(size)}")
rest = tables_sum - sum(r[3] for r in rows if r[2] in big)
small = sum(1 for t in counts if t not in big and int(counts[t]))
print(f"  {f'{small} other non-empty tables, empty ones, schema':<46} {mb(rest)}")
print(f"intervals body+packed: {mb(int_body)} ({int_stored:,} B as stored)")
if "window_names" in counts:
    wn = sum(r[3] for r in rows if r[2] == "window_names")
    print(f"window_names:          {mb(wn)} ({counts['window_names']} rows, with its index)")
print(f"day_aggregates.body:   {mb(agg_body)} as text ({agg_stored:,} B as stored)")
if n_int:
    iv = sum(r[3] for r in rows if r[2] == "intervals")
    print(f"per interval: {tables_sum / n_int:,.0f} B of all tables + indexes, {iv / n_int:,.0f} B intervals table + indexes, "
          f"{int_body / n_int:,.0f} B body")
if n_agg:
    ag = sum(r[3] for r in rows if r[2] == "day_aggregates")
    print(f"per day aggregate: {ag / n_agg:,.0f} B day_aggregates table + indexes, {agg_body / n_agg:,.0f} B body")
