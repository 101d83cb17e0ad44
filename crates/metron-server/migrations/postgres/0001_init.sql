-- Times are unix seconds (BIGINT) and ids UUID text, as on SQLite.
-- btree_gist lets one exclusion constraint say "no two intervals of a user share a second",
-- which holds under concurrent requests to any number of server instances.
CREATE EXTENSION IF NOT EXISTS btree_gist;

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
    admin         BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
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
    started_at  BIGINT NOT NULL,
    ended_at    BIGINT NOT NULL,
    body        TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    CONSTRAINT intervals_no_overlap EXCLUDE USING gist (user_id WITH =, int8range(started_at, ended_at) WITH &&)
);
