-- The team's day of a date not settled adds up the intervals received since its last read
-- (issue 30; running_days.rs), found by when they were received. Rows are appended in the
-- order they arrive, so a BRIN index (the least and greatest `received_at` of each range of
-- pages) finds the newest pages in a few hundred bytes of index, and storing a row only
-- widens the summary of the last range, if it is summarized at all: ingest keeps its speed.
-- A range not summarized is read whole by every search, so each is summarized as soon as it
-- fills (`autosummarize`: autovacuum does it within a minute), not at the table's next vacuum,
-- which on a table of 100 million rows waits for 20 million more.
CREATE INDEX intervals_by_received ON intervals USING brin (received_at)
    WITH (autosummarize = on);
