-- Timesheet lines of settled days (issue 16): a person's figures of one local day
-- (metron_core::timesheet::SheetDay as JSON), kept once computed, so a team's month is read
-- instead of computed again from millions of intervals.
--
-- They must never outlive a change: every change to a person's time (an interval arriving for
-- a day before today, a correction or manual entry made or decided) bumps the person's version
-- and forgets their kept
-- days from the day before the change on, all later days included, since a late interval can
-- change the offset a later day is taken in. Triggers do it, in the writing transaction, so no
-- write path can miss it. A reader keeps what it computed only if the version, locked, is still
-- the one it read before reading the data (db::timesheets). A day retention keeps as an
-- aggregate forgets itself and its neighbours (the aggregate may be taken in another offset);
-- the raw intervals retention then deletes change no figure (the aggregate reports them).
CREATE TABLE time_versions (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    version BIGINT NOT NULL
);

CREATE TABLE timesheet_days (
    user_id TEXT NOT NULL REFERENCES users (id),
    day     TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (user_id, day)
);

CREATE FUNCTION timesheet_days_forget(person TEXT, since BIGINT) RETURNS void AS $$
    INSERT INTO time_versions (user_id, version) VALUES (person, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = time_versions.version + 1;
    DELETE FROM timesheet_days
    WHERE user_id = person
      AND day >= to_char(to_timestamp(since - 86400) AT TIME ZONE 'UTC', 'YYYY-MM-DD');
$$ LANGUAGE sql;

CREATE FUNCTION timesheet_days_on_interval() RETURNS trigger AS $$
BEGIN
    PERFORM timesheet_days_forget(NEW.user_id, NEW.started_at);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION timesheet_days_on_correction() RETURNS trigger AS $$
BEGIN
    PERFORM timesheet_days_forget(NEW.user_id, NEW.interval_started_at);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- An interval that started today (UTC) can only touch days from yesterday on, which are never
-- kept (a day is kept two days after it): live ingest, nearly every interval, skips the work.
CREATE TRIGGER timesheet_days_interval AFTER INSERT ON intervals
    FOR EACH ROW
    WHEN (NEW.started_at < extract(epoch FROM date_trunc('day', now() AT TIME ZONE 'UTC'))::BIGINT)
    EXECUTE FUNCTION timesheet_days_on_interval();
CREATE TRIGGER timesheet_days_correction AFTER INSERT OR UPDATE ON corrections
    FOR EACH ROW EXECUTE FUNCTION timesheet_days_on_correction();
CREATE TRIGGER timesheet_days_manual AFTER INSERT OR UPDATE ON manual_entries
    FOR EACH ROW EXECUTE FUNCTION timesheet_days_on_interval();

-- Everyone has a version from the start, so a reader can always check it.
CREATE FUNCTION time_versions_on_new_user() RETURNS trigger AS $$
BEGIN
    INSERT INTO time_versions (user_id, version) VALUES (NEW.id, 1) ON CONFLICT (user_id) DO NOTHING;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER time_versions_new_user AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION time_versions_on_new_user();

CREATE FUNCTION timesheet_days_on_aggregate() RETURNS trigger AS $$
BEGIN
    INSERT INTO time_versions (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = time_versions.version + 1;
    DELETE FROM timesheet_days WHERE user_id = NEW.user_id
        AND day >= to_char(NEW.day::date - 1, 'YYYY-MM-DD')
        AND day <= to_char(NEW.day::date + 1, 'YYYY-MM-DD');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER timesheet_days_aggregate AFTER INSERT OR UPDATE ON day_aggregates
    FOR EACH ROW EXECUTE FUNCTION timesheet_days_on_aggregate();

-- Everyone already here starts at version 1.
INSERT INTO time_versions (user_id, version) SELECT id, 1 FROM users;
