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
    at        INTEGER NOT NULL,
    hour      INTEGER NOT NULL,
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
    acknowledged_at INTEGER NOT NULL
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

DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (
    (OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
     AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
     AND NEW.id IS OLD.id AND NEW.org_id IS OLD.org_id AND NEW.user_id IS OLD.user_id
     AND NEW.actor_id IS OLD.actor_id AND NEW.at IS OLD.at AND NEW.action IS OLD.action
     AND NEW.subject_id IS OLD.subject_id AND NEW.before IS OLD.before
     AND NEW.after IS OLD.after AND NEW.reason IS OLD.reason
     AND NEW.erased_by IS OLD.erased_by)
    OR
    (OLD.erased_by IS NULL AND NEW.erased_by IS NOT NULL AND OLD.seq IS NOT NULL
     AND OLD.action <> 'user.remove'
     AND NEW.id IS OLD.id AND NEW.org_id IS OLD.org_id AND NEW.at IS OLD.at
     AND NEW.action IS OLD.action AND NEW.seq IS OLD.seq AND NEW.prev_hash IS OLD.prev_hash
     AND NEW.hash IS OLD.hash
     AND NEW.user_id = '' AND NEW.subject_id = '' AND NEW.reason = ''
     AND NEW.before IS NULL AND NEW.after IS NULL
     AND (NEW.actor_id = '' OR NEW.actor_id IS OLD.actor_id)
     AND EXISTS (SELECT 1 FROM audit_log t WHERE t.id = NEW.erased_by
                 AND t.org_id = OLD.org_id AND t.action = 'user.remove'
                 AND t.seq > OLD.seq
                 AND (t.user_id = OLD.user_id OR t.user_id = OLD.actor_id
                      OR t.user_id = OLD.subject_id
                      OR instr(COALESCE(OLD.before, '') || COALESCE(OLD.after, '') || OLD.reason,
                               t.user_id) > 0)))
)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: its rows are never changed');
END;
