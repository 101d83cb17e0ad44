-- Ingest on PostgreSQL stores a request's intervals in one statement (issue 30), and its
-- kept-days trigger became a statement trigger. SQLite has row triggers only; its writer runs
-- every interval of a group in one transaction already, so nothing changes here.
SELECT 1;
