-- The organization's settings page (issue 28): what the server keeps of page addresses,
-- whatever a desktop app sends ('full', 'host_only' or 'drop'; 'full' keeps what arrives), and
-- how many days of raw detail the organization keeps (NULL: the server's retention_days; an
-- organization can shorten it, not lengthen it).
ALTER TABLE organizations ADD COLUMN url_policy TEXT NOT NULL DEFAULT 'full';
ALTER TABLE organizations ADD COLUMN retention_days INTEGER;
