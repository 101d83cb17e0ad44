-- Two-factor codes for password accounts (issue 29). One row per person who began or finished
-- enrolment: the TOTP secret (base32; the server must compute codes from it, so it is not a
-- hash), when enrolment began, when it was confirmed (NULL: begun, not on; such a row expires
-- ten minutes after created_at), and the last time step a code was accepted at (a code of the
-- same or an earlier step is a replay).
CREATE TABLE second_factors (
    user_id      TEXT PRIMARY KEY REFERENCES users (id),
    secret       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER,
    last_step    INTEGER NOT NULL DEFAULT 0
);
-- Ten one-time recovery codes, kept only as SHA-256 hashes (of the person's id and the code);
-- a used one keeps its row with used_at, so the count left can be shown.
CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
);
-- Who must have two-factor codes: 'off', 'admins' or 'everyone'.
ALTER TABLE organizations ADD COLUMN require_second_factor TEXT NOT NULL DEFAULT 'off';
-- A token given to a person the organization requires to have codes, before they set them up:
-- it may only set them up (0/1).
ALTER TABLE tokens ADD COLUMN enrol_only INTEGER NOT NULL DEFAULT 0;
