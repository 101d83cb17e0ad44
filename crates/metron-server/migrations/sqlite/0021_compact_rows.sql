-- Interval rows made compact (issue 30, third round): after the packed body (0020) most of a
-- row was its ids as 36-character text, two of them again in the indexes. Now the person is
-- a number (`users.seq`) in the row and the time index instead of their text id, and the
-- interval's and device's ids are their 16 bytes. The table is rebuilt once: a person-month
-- of rows and indexes goes from 3.4 MB to about two thirds (docs/PERFORMANCE.md).

-- A person's number: given once, never given again (a counter, not max + 1: a removed
-- person's number is not reused). SQLite's own rowid is not stable across VACUUM.
ALTER TABLE users ADD COLUMN seq INTEGER;
UPDATE users SET seq = rowid;
CREATE UNIQUE INDEX users_by_seq ON users (seq);
CREATE TABLE person_numbers (last INTEGER NOT NULL);
INSERT INTO person_numbers SELECT COALESCE(MAX(seq), 0) FROM users;
CREATE TRIGGER users_seq AFTER INSERT ON users WHEN NEW.seq IS NULL
BEGIN
    UPDATE person_numbers SET last = last + 1;
    UPDATE users SET seq = (SELECT last FROM person_numbers) WHERE rowid = NEW.rowid;
END;

CREATE TABLE intervals_compact (
    id          BLOB NOT NULL PRIMARY KEY,
    person      INTEGER NOT NULL REFERENCES users (seq),
    device_id   BLOB NOT NULL,
    task_id     TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    json_bytes  INTEGER,
    body        TEXT NOT NULL,
    packed      BLOB
);
-- Ids are UUIDs in their canonical text (the server parsed them): the hyphens fall between
-- pairs of hex digits, which unhex skips.
INSERT INTO intervals_compact (id, person, device_id, task_id, started_at, ended_at,
                               received_at, json_bytes, body, packed)
SELECT unhex(i.id, '-'), u.seq, unhex(i.device_id, '-'), i.task_id, i.started_at, i.ended_at,
       i.received_at, i.json_bytes, i.body, i.packed
FROM intervals i JOIN users u ON u.id = i.user_id;
-- Its trigger and indexes go with it.
DROP TABLE intervals;
ALTER TABLE intervals_compact RENAME TO intervals;
CREATE INDEX intervals_by_person_time ON intervals (person, started_at, ended_at);

-- The kept-days trigger of 0008, naming the person by their id.
CREATE TRIGGER timesheet_days_interval AFTER INSERT ON intervals
WHEN NEW.started_at < CAST(strftime('%s', date('now')) AS INTEGER)
BEGIN
    INSERT INTO time_versions (user_id, version)
        SELECT id, 1 FROM users WHERE seq = NEW.person
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    DELETE FROM timesheet_days
    WHERE user_id = (SELECT id FROM users WHERE seq = NEW.person)
      AND day >= date(NEW.started_at - 86400, 'unixepoch');
END;
