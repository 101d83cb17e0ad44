-- Each person's own data (issue 28): who read it, whether they acknowledged the notice, and
-- erasure of a removed person's audit rows.
--
-- The access log: a read of a person's day, events, timesheet, entries, corrections, audit
-- trail, devices or export by someone else (a manager, an admin). One row per reader, person,
-- kind of read and scope an hour (`hour` = at / 3600; the insert does nothing when the hour's
-- row exists), so a page refreshed all day costs a row an hour, never a read before the write.
-- Kept as long as raw intervals (the retention setting), deleted by the hourly cleanup.
CREATE TABLE access_log (
    id        TEXT PRIMARY KEY,
    org_id    TEXT NOT NULL REFERENCES organizations (id),
    user_id   TEXT NOT NULL REFERENCES users (id),
    -- Empty once the reader was removed (their id is theirs, not the person's).
    reader_id TEXT NOT NULL,
    at        BIGINT NOT NULL,
    hour      BIGINT NOT NULL,
    what      TEXT NOT NULL,
    scope     TEXT NOT NULL
);
CREATE UNIQUE INDEX access_log_once_an_hour ON access_log (user_id, reader_id, what, scope, hour);
CREATE INDEX access_log_user_at ON access_log (user_id, at, id);
CREATE INDEX access_log_at ON access_log (at);

-- The transparency notice a person acknowledged: which version (a digest of what it said)
-- and when. A changed setting changes the notice's version, so the app shows it again.
CREATE TABLE notice_acks (
    user_id         TEXT PRIMARY KEY REFERENCES users (id),
    version         TEXT NOT NULL,
    acknowledged_at BIGINT NOT NULL
);

-- Erasure (issue 28, docs/SECURITY.md "Erasure"). Removing a person writes a tombstone row
-- (action 'user.remove', about the person, counts only) and erases the content of every
-- earlier audit row that names them (about them, by them, or naming them in its content, such
-- as a manager's list of people): user_id, subject_id and reason become '', before and after
-- NULL, actor_id '' where it was theirs, and erased_by names the tombstone. Number, time,
-- action and both hashes stay, so the chain still links; the tombstone holds a digest of the
-- erased rows' ids and hashes (src/audit_chain.rs), so `audit verify` checks that exactly
-- those rows were erased by it. This is the only change besides chaining old rows.
ALTER TABLE audit_log ADD COLUMN erased_by TEXT;

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.seq IS NULL OR NEW.prev_hash IS NULL OR NEW.hash IS NULL THEN
            RAISE EXCEPTION 'audit_log rows are chained: seq, prev_hash and hash are required';
        END IF;
        RETURN NEW;
    END IF;
    -- Chaining a row written before migration 0010 (its seq, prev_hash and hash set from
    -- nothing, every other field as it was).
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
       AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
       AND (NEW.id, NEW.org_id, NEW.user_id, NEW.actor_id, NEW.at, NEW.action,
            NEW.subject_id, NEW.before, NEW.after, NEW.reason, NEW.erased_by)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.org_id, OLD.user_id, OLD.actor_id, OLD.at, OLD.action,
            OLD.subject_id, OLD.before, OLD.after, OLD.reason, OLD.erased_by) THEN
        RETURN NEW;
    END IF;
    -- Erasing the content of a removed person's row, naming the tombstone that did it.
    IF TG_OP = 'UPDATE' AND OLD.erased_by IS NULL AND NEW.erased_by IS NOT NULL
       AND OLD.seq IS NOT NULL AND OLD.action <> 'user.remove'
       AND (NEW.id, NEW.org_id, NEW.at, NEW.action, NEW.seq, NEW.prev_hash, NEW.hash)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.org_id, OLD.at, OLD.action, OLD.seq, OLD.prev_hash, OLD.hash)
       AND NEW.user_id = '' AND NEW.subject_id = '' AND NEW.reason = ''
       AND NEW.before IS NULL AND NEW.after IS NULL
       AND (NEW.actor_id = '' OR NEW.actor_id = OLD.actor_id)
       AND EXISTS (SELECT 1 FROM audit_log t WHERE t.id = NEW.erased_by
                   AND t.org_id = OLD.org_id AND t.action = 'user.remove'
                   AND t.seq > OLD.seq
                 AND (t.user_id = OLD.user_id OR t.user_id = OLD.actor_id
                      OR t.user_id = OLD.subject_id
                      OR strpos(COALESCE(OLD.before, '') || COALESCE(OLD.after, '') || OLD.reason,
                               t.user_id) > 0)) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
