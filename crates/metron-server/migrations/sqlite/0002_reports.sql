-- Productivity rules (R2), in the order an admin set them: the first match wins.
CREATE TABLE rules (
    id       TEXT PRIMARY KEY,
    org_id   TEXT NOT NULL REFERENCES organizations (id),
    position INTEGER NOT NULL,
    target   TEXT NOT NULL,
    kind     TEXT NOT NULL,
    pattern  TEXT NOT NULL,
    class    TEXT NOT NULL
);
CREATE INDEX rules_by_org ON rules (org_id, position);
-- A day's report kept once its raw intervals are deleted (retention): the report JSON and its
-- time per (app, host) pair, so changed rules still re-classify it.
CREATE TABLE day_aggregates (
    user_id TEXT NOT NULL REFERENCES users (id),
    day     TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (user_id, day)
);
CREATE INDEX users_by_org ON users (org_id);
