-- Ingest stores a request's intervals in one statement (issue 30). The kept-days trigger on
-- intervals becomes a statement trigger over the rows the statement inserted: a person's
-- version moves once a statement and their kept days are forgotten from the earliest day it
-- touched, where the row trigger did both once an interval (a batch of 100 late intervals:
-- 100 updates of one row and 100 deletes). What it forgets is the same: the days from the day
-- before the earliest interval that started before today (UTC).
DROP TRIGGER timesheet_days_interval ON intervals;

-- The same two statements in PL/pgSQL, whose plans a session keeps: a SQL function is parsed
-- and planned again on every call.
CREATE OR REPLACE FUNCTION timesheet_days_forget(person TEXT, since BIGINT) RETURNS void AS $$
BEGIN
    INSERT INTO time_versions (user_id, version) VALUES (person, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = time_versions.version + 1;
    DELETE FROM timesheet_days
    WHERE user_id = person
      AND day >= to_char(to_timestamp(since - 86400) AT TIME ZONE 'UTC', 'YYYY-MM-DD');
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION timesheet_days_on_intervals() RETURNS trigger AS $$
BEGIN
    PERFORM timesheet_days_forget(user_id, min(started_at))
    FROM inserted
    WHERE started_at < extract(epoch FROM date_trunc('day', now() AT TIME ZONE 'UTC'))::BIGINT
    GROUP BY user_id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER timesheet_days_intervals AFTER INSERT ON intervals
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION timesheet_days_on_intervals();

-- Identifiers compare byte by byte, as SQLite compares them: every interval stored is checked
-- against the exclusion constraint's GiST index and inserted into two B-trees, each comparing
-- the person's id many times, and under the database's linguistic collation each comparison was
-- a call into the C library's strcoll (the larger part of PostgreSQL's time in a batch). The ids
-- are ASCII, so their order is unchanged; a comparison with a column of the database's default
-- collation takes this one. The table and its indexes are rewritten once.
ALTER TABLE intervals
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN user_id TYPE TEXT COLLATE "C",
    ALTER COLUMN device_id TYPE TEXT COLLATE "C",
    ALTER COLUMN task_id TYPE TEXT COLLATE "C";
ALTER TABLE devices
    ALTER COLUMN user_id TYPE TEXT COLLATE "C",
    ALTER COLUMN device_id TYPE TEXT COLLATE "C";

-- The exclusion constraint keys a person by a number instead of their text id: its GiST index
-- is searched and updated for every interval stored, and btree_gist's variable-length text keys
-- (prefix unions, penalties, detoasting) were most of a batch's time in PostgreSQL; an int8 key
-- is fixed-size and compares in one instruction. `users.seq` is that number, given to every
-- person once; `intervals.person` copies it (the ingest statement sets it; the trigger below
-- fills it for any other insert, so no write path can leave it out).
ALTER TABLE users ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE;
ALTER TABLE intervals ADD COLUMN person BIGINT;
UPDATE intervals SET person = users.seq FROM users WHERE users.id = intervals.user_id;
ALTER TABLE intervals ALTER COLUMN person SET NOT NULL;

CREATE FUNCTION intervals_person() RETURNS trigger AS $$
BEGIN
    SELECT seq INTO NEW.person FROM users WHERE id = NEW.user_id;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER intervals_person BEFORE INSERT ON intervals
    FOR EACH ROW WHEN (NEW.person IS NULL) EXECUTE FUNCTION intervals_person();

ALTER TABLE intervals DROP CONSTRAINT intervals_no_overlap;
ALTER TABLE intervals ADD CONSTRAINT intervals_no_overlap
    EXCLUDE USING gist (person WITH =, int8range(started_at, ended_at) WITH &&);
