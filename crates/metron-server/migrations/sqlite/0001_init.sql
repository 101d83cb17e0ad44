-- Times are unix seconds (INTEGER) and ids UUID text, so both backends share one model.
CREATE TABLE organizations (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    admin         INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE tasks (
    id      TEXT PRIMARY KEY,
    org_id  TEXT NOT NULL REFERENCES organizations (id),
    name    TEXT NOT NULL,
    project TEXT NOT NULL DEFAULT ''
);
CREATE TABLE intervals (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    device_id   TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER NOT NULL,
    body        TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX intervals_by_user_time ON intervals (user_id, started_at, ended_at);
