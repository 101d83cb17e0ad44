-- Roles see what the docs say (issue 27): whether the organization's managers also read the
-- activity detail of the people they manage (window titles, addresses, the event log,
-- devices), beside the figures and timesheets they always read. Off by default: an admin
-- turns it on in the organization's settings.
ALTER TABLE organizations ADD COLUMN managers_see_detail INTEGER NOT NULL DEFAULT 0;
