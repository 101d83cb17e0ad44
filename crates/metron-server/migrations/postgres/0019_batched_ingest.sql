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
