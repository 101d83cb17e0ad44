-- Timesheets and corrections (issue 16). Tracked intervals are never changed: manual time and
-- corrections are records of their own that reports apply; every change to them is in
-- audit_log. Times are unix seconds; statuses are text (pending, approved, denied, withdrawn).

-- An organization's policy (metron_core::timesheet::Policy as JSON); no row: the defaults.
CREATE TABLE timesheet_policies (
    org_id     TEXT PRIMARY KEY REFERENCES organizations (id),
    body       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE manual_entries (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    task_id       TEXT NOT NULL,
    started_at    BIGINT NOT NULL,
    ended_at      BIGINT NOT NULL,
    note          TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    decided_by    TEXT,
    decided_at    BIGINT,
    decision_note TEXT
);
CREATE INDEX manual_entries_user_start ON manual_entries (user_id, started_at);
CREATE INDEX manual_entries_pending ON manual_entries (status) WHERE status = 'pending';
-- Manual time in force or waiting never overlaps itself, under any number of concurrent
-- requests (SQLite checks the same in a trigger).
ALTER TABLE manual_entries ADD CONSTRAINT manual_entries_no_overlap
    EXCLUDE USING gist (user_id WITH =, int8range(started_at, ended_at) WITH &&)
    WHERE (status IN ('pending', 'approved'));

CREATE TABLE corrections (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users (id),
    interval_id         TEXT NOT NULL,
    -- The corrected interval's start, so a report loads the corrections of its range.
    interval_started_at BIGINT NOT NULL,
    -- metron_core::timesheet::Change as JSON.
    change              TEXT NOT NULL,
    reason              TEXT NOT NULL,
    status              TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    created_by          TEXT NOT NULL,
    decided_by          TEXT,
    decided_at          BIGINT,
    decision_note       TEXT
);
CREATE INDEX corrections_user_start ON corrections (user_id, interval_started_at);
CREATE INDEX corrections_pending ON corrections (status) WHERE status = 'pending';

-- A week or month a person submitted, and what a reviewer decided. No row: open. A submitted
-- or approved period is locked: its days take no new manual time or corrections.
CREATE TABLE timesheet_periods (
    user_id      TEXT NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL,
    start        TEXT NOT NULL,
    state        TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    decided_by   TEXT,
    decided_at   BIGINT,
    PRIMARY KEY (user_id, kind, start)
);

-- Who changed what, when and why: the before and after as JSON. Never updated or deleted.
CREATE TABLE audit_log (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    user_id    TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    at         BIGINT NOT NULL,
    action     TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    before     TEXT,
    after      TEXT,
    reason     TEXT NOT NULL
);
CREATE INDEX audit_log_user_at ON audit_log (user_id, at);
CREATE INDEX audit_log_org_at ON audit_log (org_id, at);

-- Managers: an admin grants a person the review of others' time (their team).
CREATE TABLE managers (
    manager_id TEXT NOT NULL REFERENCES users (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (manager_id, user_id)
);
CREATE INDEX managers_user ON managers (user_id);
