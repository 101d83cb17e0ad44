-- The bulk loader of `benches/team_month.rs` (PostgreSQL): copies one person's stored month
-- ($1, their number) to everyone else in their organization ($2), a day [$3, $4) at a time.
-- Three parts, split at the `-- copy` lines: before, the copy of one day, after. Each copied
-- interval is received five seconds after it ended, as the desktop delivers it.
--
-- The copy runs without the table's triggers (session_replication_role): the overlap rule
-- holds by construction (each person gets the template's non-overlapping intervals once) and
-- there are no kept days to forget. Without its indexes, rebuilt after: 105 million random
-- uuid keys inserted one by one would take hours.
SET session_replication_role = replica;
ALTER TABLE intervals DROP CONSTRAINT intervals_pkey;
DROP INDEX intervals_by_person_time;
ALTER SYSTEM SET max_wal_size = '16GB';
SELECT pg_reload_conf();
-- copy
INSERT INTO intervals (started_at, ended_at, received_at, person, id, device_id, json_bytes,
                       task_id, body, packed)
SELECT i.started_at, i.ended_at, i.ended_at + 5, u.seq, gen_random_uuid(),
       md5(u.id)::uuid, i.json_bytes, i.task_id, i.body, i.packed
FROM intervals i CROSS JOIN users u
WHERE i.person = $1 AND u.org_id = $2 AND u.seq <> $1
  AND i.started_at >= $3 AND i.started_at < $4
ORDER BY i.started_at, u.seq
-- copy
INSERT INTO window_names (user_id, day, key, app, title, url, path)
SELECT u.id, w.day, w.key, w.app, w.title, w.url, w.path
FROM window_names w JOIN users t ON t.id = w.user_id AND t.seq = $1
CROSS JOIN users u
WHERE u.org_id = t.org_id AND u.seq <> $1;
INSERT INTO devices (user_id, device_id, first_seen, last_seen)
SELECT u.id, md5(u.id)::uuid::text, d.first_seen, d.last_seen
FROM devices d JOIN users t ON t.id = d.user_id AND t.seq = $1
CROSS JOIN users u
WHERE u.org_id = t.org_id AND u.seq <> $1;
ALTER TABLE intervals ADD CONSTRAINT intervals_pkey PRIMARY KEY (id);
CREATE INDEX intervals_by_person_time ON intervals (person, started_at, ended_at);
SET session_replication_role = DEFAULT;
ANALYZE intervals;
ANALYZE window_names;
