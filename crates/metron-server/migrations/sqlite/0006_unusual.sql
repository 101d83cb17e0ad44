-- The thresholds of an organization's unusual-activity flags (issue 15), set by its admins
-- (GET/PUT /api/v1/unusual/thresholds): metron_core::report::Thresholds as JSON. No row means
-- the defaults. Flags are computed when a report is read, so a change re-assesses history.
CREATE TABLE unusual_thresholds (
    org_id     TEXT PRIMARY KEY REFERENCES organizations (id),
    body       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
