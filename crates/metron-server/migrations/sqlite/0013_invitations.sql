-- People and invitations (issue 28). A stored manager role: an admin makes someone a manager
-- before giving them people (and an invitation can carry the role); whoever already manages
-- someone keeps the role they were shown. 0/1 as managers_see_detail is, on both backends.
ALTER TABLE users ADD COLUMN manager INTEGER NOT NULL DEFAULT 0;
UPDATE users SET manager = 1 WHERE id IN (SELECT manager_id FROM managers);

-- An invitation: its link's token is kept only as its SHA-256 hash. Re-sending revokes the
-- row and writes a new one, so each row is one token, and the hourly cap counts rows. The
-- user columns hold ids without a foreign key: removing a person (erasure) must not be held
-- up by the invitations they sent, and an invitation that names a removed manager is
-- accepted without one.
CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    email       TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    role        TEXT NOT NULL,
    manager_id  TEXT,
    token_hash  TEXT NOT NULL UNIQUE,
    invited_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    accepted_at BIGINT,
    revoked_at  BIGINT,
    user_id     TEXT
);
CREATE INDEX invitations_by_org ON invitations (org_id, created_at);
CREATE INDEX invitations_by_email ON invitations (email);
-- One live invitation per email and organization, whatever requests run at once (issuing
-- again revokes the expired one in the same transaction first).
CREATE UNIQUE INDEX invitations_pending_email ON invitations (org_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- A password-reset link's token, hashed; a newer link for the same person revokes the older.
-- No foreign key to the person either: removing them deletes their rows here.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    revoked_at BIGINT
);
CREATE INDEX password_resets_by_user ON password_resets (user_id);
