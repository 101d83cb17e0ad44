-- Issue 27: the audit trail is append-only and chained. Each organization's rows are numbered
-- 1, 2, 3... (seq); each row's hash is SHA-256 over its fields and the previous row's hash
-- (src/audit_chain.rs), so a row changed, removed or slipped in afterwards breaks the chain,
-- which `metron-server audit verify` walks. audit_heads holds each chain's last seq and hash:
-- its row is locked while a row is added (two rows never take the same previous hash), and it
-- shows rows cut off the chain's end. The triggers refuse UPDATE and DELETE on audit_log.
-- Erasing a person (a later issue) must not delete their rows: it will need a deliberate
-- path (a tombstone row in the chain, written by a migration that says why) rather than a way
-- around these triggers.
ALTER TABLE audit_log ADD COLUMN seq INTEGER;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_org_seq ON audit_log (org_id, seq);
-- Rows written before this migration, chained once when the server opens the database.
CREATE INDEX audit_log_unchained ON audit_log (org_id) WHERE seq IS NULL;

CREATE TABLE audit_heads (
    org_id TEXT PRIMARY KEY REFERENCES organizations (id),
    seq    INTEGER NOT NULL,
    hash   TEXT NOT NULL
);

CREATE TRIGGER audit_log_chained BEFORE INSERT ON audit_log
WHEN NEW.seq IS NULL OR NEW.prev_hash IS NULL OR NEW.hash IS NULL
BEGIN
    SELECT RAISE(ABORT, 'audit_log rows are chained: seq, prev_hash and hash are required');
END;

-- The one change allowed: chaining a row written before this migration (its seq, prev_hash
-- and hash set from nothing, every other field as it was).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
          AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
          AND NEW.id IS OLD.id AND NEW.org_id IS OLD.org_id AND NEW.user_id IS OLD.user_id
          AND NEW.actor_id IS OLD.actor_id AND NEW.at IS OLD.at AND NEW.action IS OLD.action
          AND NEW.subject_id IS OLD.subject_id AND NEW.before IS OLD.before
          AND NEW.after IS OLD.after AND NEW.reason IS OLD.reason)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: its rows are never changed');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: its rows are never deleted');
END;

-- A chain's head only moves on.
CREATE TRIGGER audit_heads_forward BEFORE UPDATE ON audit_heads
WHEN NEW.org_id IS NOT OLD.org_id OR NEW.seq < OLD.seq
BEGIN
    SELECT RAISE(ABORT, 'audit_heads only moves forward');
END;

CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads
BEGIN
    SELECT RAISE(ABORT, 'audit_heads rows are never deleted');
END;
