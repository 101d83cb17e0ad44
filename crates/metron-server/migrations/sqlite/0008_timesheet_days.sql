-- Timesheet lines of settled days (issue 16): a person's figures of one local day
-- (metron_core::timesheet::SheetDay as JSON), kept once computed, so a team's month is read
-- instead of computed again from millions of intervals.
--
-- They must never outlive a change: every change to a person's time (an interval arriving for
-- a day before today, a correction or manual entry made or decided) bumps the person's version
-- and forgets their kept
-- days from the day before the change on, all later days included, since a late interval can
-- change the offset a later day is taken in. Triggers do it, in the writing transaction, so no
-- write path can miss it. A reader keeps what it computed only if the version is still the one
-- it read before reading the data (db::timesheets). A day retention keeps as an aggregate
-- forgets itself and its neighbours (the aggregate may be taken in another offset); the raw
-- intervals retention then deletes change no figure (the aggregate reports them).
CREATE TABLE time_versions (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    version INTEGER NOT NULL
);

CREATE TABLE timesheet_days (
    user_id TEXT NOT NULL REFERENCES users (id),
    day     TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (user_id, day)
);

-- Everyone has a version from the start, so a reader can always check it.
CREATE TRIGGER time_versions_new_user AFTER INSERT ON users
BEGIN
    INSERT INTO time_versions (user_id, version) VALUES (NEW.id, 1) ON CONFLICT (user_id) DO NOTHING;
END;

-- An interval that started today (UTC) can only touch days from yesterday on, which are never
-- kept (a day is kept two days after it): live ingest, nearly every interval, skips the work.
CREATE TRIGGER timesheet_days_interval AFTER INSERT ON intervals
WHEN NEW.started_at < CAST(strftime('%s', date('now')) AS INTEGER)
BEGIN
    INSERT INTO time_versions (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    DELETE FROM timesheet_days
    WHERE user_id = NEW.user_id AND day >= date(NEW.started_at - 86400, 'unixepoch');
END;

CREATE TRIGGER timesheet_days_correction AFTER INSERT ON corrections
BEGIN
    INSERT INTO time_versions (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    DELETE FROM timesheet_days
    WHERE user_id = NEW.user_id AND day >= date(NEW.interval_started_at - 86400, 'unixepoch');
END;

CREATE TRIGGER timesheet_days_correction_decided AFTER UPDATE ON corrections
BEGIN
    INSERT INTO time_versions (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    DELETE FROM timesheet_days
    WHERE user_id = NEW.user_id AND day >= date(NEW.interval_started_at - 86400, 'unixepoch');
END;

CREATE TRIGGER timesheet_days_manual AFTER INSERT ON manual_entries
BEGIN
    INSERT INTO time_versions (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    DELETE FROM timesheet_days
    WHERE user_id = NEW.user_id AND day >= date(NEW.started_at - 86400, 'unixepoch');
END;

CREATE TRIGGER timesheet_days_manual_decided AFTER UPDATE ON manual_entries
BEGIN
    INSERT INTO time_versions (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    DELETE FROM timesheet_days
    WHERE user_id = NEW.user_id AND day >= date(NEW.started_at - 86400, 'unixepoch');
END;

CREATE TRIGGER timesheet_days_aggregate AFTER INSERT ON day_aggregates
BEGIN
    INSERT INTO time_versions (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    DELETE FROM timesheet_days WHERE user_id = NEW.user_id
        AND day >= date(NEW.day, '-1 day') AND day <= date(NEW.day, '+1 day');
END;

CREATE TRIGGER timesheet_days_aggregate_replaced AFTER UPDATE ON day_aggregates
BEGIN
    INSERT INTO time_versions (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    DELETE FROM timesheet_days WHERE user_id = NEW.user_id
        AND day >= date(NEW.day, '-1 day') AND day <= date(NEW.day, '+1 day');
END;

-- Everyone already here starts at version 1.
INSERT INTO time_versions (user_id, version) SELECT id, 1 FROM users;
