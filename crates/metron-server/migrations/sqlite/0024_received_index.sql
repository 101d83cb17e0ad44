-- PostgreSQL's migration 0024 indexes intervals by when they were received, for the team's
-- day of a date not settled (running_days.rs). SQLite has one writer, which gives each row a
-- row id past the largest: the rows stored after a read are those of larger row ids, found
-- without an index. Nothing to change; the migration keeps both sets numbered alike.
SELECT 1;
