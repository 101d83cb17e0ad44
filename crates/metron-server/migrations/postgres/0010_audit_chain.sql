-- Issue 27: the audit trail is append-only and chained. Each organization's rows are numbered
-- 1, 2, 3... (seq); each row's hash is SHA-256 over its fields and the previous row's hash
-- (src/audit_chain.rs), so a row changed, removed or slipped in afterwards breaks the chain,
-- which `metron-server audit verify` walks. audit_heads holds each chain's last seq and hash:
-- its row is locked while a row is added (two rows never take the same previous hash), and it
-- shows rows cut off the chain's end. The triggers refuse UPDATE, DELETE and TRUNCATE on
-- audit_log. Erasing a person (a later issue) must not delete their rows: it will need a
-- deliberate path (a tombstone row in the chain, written by a migration that says why) rather
-- than a way around these triggers.
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_org_seq ON audit_log (org_id, seq);
-- Rows written before this migration, chained once when the server opens the database.
CREATE INDEX audit_log_unchained ON audit_log (org_id) WHERE seq IS NULL;

CREATE TABLE audit_heads (
    org_id TEXT PRIMARY KEY REFERENCES organizations (id),
    seq    BIGINT NOT NULL,
    hash   TEXT NOT NULL
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.seq IS NULL OR NEW.prev_hash IS NULL OR NEW.hash IS NULL THEN
            RAISE EXCEPTION 'audit_log rows are chained: seq, prev_hash and hash are required';
        END IF;
        RETURN NEW;
    END IF;
    -- The one change allowed: chaining a row written before this migration (its seq,
    -- prev_hash and hash set from nothing, every other field as it was).
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
       AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
       AND (NEW.id, NEW.org_id, NEW.user_id, NEW.actor_id, NEW.at, NEW.action,
            NEW.subject_id, NEW.before, NEW.after, NEW.reason)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.org_id, OLD.user_id, OLD.actor_id, OLD.at, OLD.action,
            OLD.subject_id, OLD.before, OLD.after, OLD.reason) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_append_only BEFORE INSERT OR UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- A chain's head only moves on, and is never deleted.
CREATE FUNCTION audit_heads_forward() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.org_id = OLD.org_id AND NEW.seq >= OLD.seq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_heads only moves forward: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_heads_forward BEFORE UPDATE OR DELETE ON audit_heads
    FOR EACH ROW EXECUTE FUNCTION audit_heads_forward();
CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_heads_forward();
