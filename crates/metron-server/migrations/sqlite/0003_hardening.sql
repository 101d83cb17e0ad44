-- Offboarding and token lifetimes (docs/SECURITY.md): a disabled user can't sign in and their
-- tokens answer 401; a token dies after its absolute or idle lifetime; signing in again on a
-- device revokes that device's previous token.
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
ALTER TABLE tokens ADD COLUMN device_id TEXT;
CREATE INDEX tokens_by_user ON tokens (user_id);
-- Bumped by every revocation: each server instance compares it on every request, so a revoked
-- token is refused at once everywhere, not after its cache entry ages out.
CREATE TABLE revocations (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    epoch INTEGER NOT NULL
);
INSERT INTO revocations (id, epoch) VALUES (1, 0);
-- Who may create tasks: 'everyone' or 'admins'.
ALTER TABLE organizations ADD COLUMN task_creation TEXT NOT NULL DEFAULT 'everyone';
