-- Kept timesheet lines are packed (issue 30: a team's month of 10,000 people reads 310,000 of
-- them, and parsing their JSON was most of its time; db/kept_line.rs), so `body` holds bytes,
-- as PostgreSQL's BYTEA does now. SQLite can't change a column's type: the table is made again
-- under its own name, its rows copied out and back (a rename would rewrite or break the
-- triggers on intervals and corrections that name it). The lines kept before become the bytes
-- of their JSON, and still read; a line kept from now on is packed.
CREATE TABLE timesheet_days_before_0023 AS SELECT user_id, day, body, team FROM timesheet_days;
DROP TABLE timesheet_days;
CREATE TABLE timesheet_days (
    user_id TEXT NOT NULL REFERENCES users (id),
    day     TEXT NOT NULL,
    body    BLOB NOT NULL,
    team    TEXT,
    PRIMARY KEY (user_id, day)
);
INSERT INTO timesheet_days (user_id, day, body, team)
SELECT user_id, day, CAST(body AS BLOB), team FROM timesheet_days_before_0023;
DROP TABLE timesheet_days_before_0023;
