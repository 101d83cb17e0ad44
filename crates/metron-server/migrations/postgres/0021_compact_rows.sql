-- Interval rows made compact (issue 30, third round): after the packed body (0020) most of a
-- row was its ids as 36-character text, two of them again in the indexes. Now the person is
-- their number (`users.seq`, 0019) in the row and the time index instead of their text id,
-- and the interval's and device's ids are UUIDs (16 bytes). The columns are ordered for
-- alignment (the 8-byte ones first), so a row has no padding. The overlap rule moves from
-- the GiST exclusion constraint to a trigger on the time index (below). The table is rebuilt
-- once: a person-month of rows and indexes goes from 5.8 MB to about half
-- (docs/PERFORMANCE.md).
CREATE TABLE intervals_compact (
    started_at  BIGINT NOT NULL,
    ended_at    BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    person      BIGINT NOT NULL REFERENCES users (seq),
    id          UUID NOT NULL,
    device_id   UUID NOT NULL,
    json_bytes  INTEGER,
    task_id     TEXT COLLATE "C" NOT NULL,
    body        TEXT NOT NULL,
    packed      BYTEA
);
INSERT INTO intervals_compact
SELECT started_at, ended_at, received_at, person, id::uuid, device_id::uuid, json_bytes,
       task_id, body, packed
FROM intervals;
-- Its triggers, constraints and indexes go with it.
DROP TABLE intervals;
DROP FUNCTION intervals_person();
ALTER TABLE intervals_compact RENAME TO intervals;
ALTER TABLE intervals ADD CONSTRAINT intervals_pkey PRIMARY KEY (id);
CREATE INDEX intervals_by_person_time ON intervals (person, started_at, ended_at);

-- No two intervals of a person share a second, checked by a trigger on the time index where
-- the exclusion constraint's GiST index was (119 of a row's 533 bytes, and most of the work of
-- storing one). The guarantee is the same, on every instance and for every statement that
-- inserts: the statement takes a lock for each person it stored rows of (in person order, so
-- two statements never wait on each other crosswise), held until its transaction ends, and
-- then looks, with a snapshot taken after the locks, at each new row's neighbours in time:
-- the person's last interval starting at or before it and their first starting at or after
-- it. A person's stored intervals never overlap, so if anything overlaps a new row, one of
-- its neighbours does. Of two racing transactions the second to take the lock sees the
-- first's committed rows and fails with the constraint's error (23P01); the writer then
-- stores its group again without the overlapping rows (db/pg_writer.rs).
CREATE FUNCTION intervals_no_overlap() RETURNS trigger AS $$
DECLARE
    hit RECORD;
BEGIN
    PERFORM pg_advisory_xact_lock(30, (p.person % 2147483647)::INTEGER)
    FROM (SELECT DISTINCT person FROM inserted ORDER BY person) p;
    SELECT n.id, n.started_at, n.ended_at INTO hit
    FROM inserted n
    WHERE EXISTS (SELECT 1 FROM (SELECT o.ended_at FROM intervals o
                                 WHERE o.person = n.person AND o.started_at <= n.started_at
                                   AND o.id <> n.id
                                 ORDER BY o.started_at DESC LIMIT 1) before
                  WHERE before.ended_at > n.started_at)
       OR EXISTS (SELECT 1 FROM (SELECT o.started_at FROM intervals o
                                 WHERE o.person = n.person AND o.started_at >= n.started_at
                                   AND o.id <> n.id
                                 ORDER BY o.started_at LIMIT 1) after
                  WHERE after.started_at < n.ended_at)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'interval % [%, %) overlaps another of its person', hit.id,
            hit.started_at, hit.ended_at
            USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'intervals_no_overlap';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER intervals_no_overlap AFTER INSERT ON intervals
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION intervals_no_overlap();

-- The kept-days trigger of 0019, naming the person by their id.
CREATE OR REPLACE FUNCTION timesheet_days_on_intervals() RETURNS trigger AS $$
BEGIN
    PERFORM timesheet_days_forget(u.id, min(n.started_at))
    FROM inserted n JOIN users u ON u.seq = n.person
    WHERE n.started_at < extract(epoch FROM date_trunc('day', now() AT TIME ZONE 'UTC'))::BIGINT
    GROUP BY u.id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER timesheet_days_intervals AFTER INSERT ON intervals
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION timesheet_days_on_intervals();
