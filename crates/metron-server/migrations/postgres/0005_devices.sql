-- A person's devices (issue 15): what each reported about itself (host, OS user, domain, OS,
-- time zone: metron_core::device::DeviceInfo as JSON, null until it reports) and when it was
-- first and last seen, by its reports and by the intervals it delivered. Keyed by person and
-- device: one agent store is one device, and its id is only unique within its owner's account.
CREATE TABLE devices (
    user_id     TEXT NOT NULL REFERENCES users (id),
    device_id   TEXT NOT NULL,
    info        TEXT,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    reported_at BIGINT,
    PRIMARY KEY (user_id, device_id)
);
-- The devices of intervals delivered before this version.
INSERT INTO devices (user_id, device_id, first_seen, last_seen)
SELECT user_id, device_id, min(started_at), max(ended_at) FROM intervals GROUP BY user_id, device_id;
