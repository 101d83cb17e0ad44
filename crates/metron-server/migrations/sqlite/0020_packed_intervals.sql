-- An interval's body packed (issue 30, db/packed.rs): the per-second flags as bits, counts and
-- offsets as varints, each window as a key into `window_names`, where a person's windows are
-- named once a UTC day. Rows stored before keep their JSON in `body` and no `packed`; new rows
-- store '' in `body`. Nothing is rewritten: an upgrade of a large database is instant.
ALTER TABLE intervals ADD COLUMN packed BLOB;
-- The length of the interval's canonical JSON: what the daily byte cap counts (as before: the
-- interval as delivered and as a report holds it in memory). NULL where `body` is the JSON.
ALTER TABLE intervals ADD COLUMN json_bytes INTEGER;

-- A person's windows of a UTC day (days since 1970-01-01, of the interval's start), keyed by
-- the first 8 bytes of SHA-256 over the names. Deleted with the person, and by retention with
-- the intervals of their day.
CREATE TABLE window_names (
    user_id TEXT NOT NULL REFERENCES users (id),
    day     INTEGER NOT NULL,
    key     INTEGER NOT NULL,
    app     TEXT NOT NULL,
    title   TEXT NOT NULL,
    url     TEXT,
    path    TEXT,
    PRIMARY KEY (user_id, day, key)
) WITHOUT ROWID;
