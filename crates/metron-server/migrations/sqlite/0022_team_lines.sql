-- The team's day of a settled date is read from kept lines (issue 30, item 4): beside each
-- kept timesheet line, the person's line of the team's day (JSON of reports::TeamLine: the
-- figures, devices and unusual-activity flags, and the time per app and host that today's rules
-- re-classify). A column of its own, not part of `body`: a team's month timesheet reads
-- `body` alone, and `team` only when the team's day asks for it. The same triggers forget both
-- (the row goes), so a kept team line never outlives a change to the person's time. NULL for
-- a line kept before this migration or by a path that computed no team line: computed then.
ALTER TABLE timesheet_days ADD COLUMN team TEXT;
