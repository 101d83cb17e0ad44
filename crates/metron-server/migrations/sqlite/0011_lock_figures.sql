-- Locks that mean something (issue 27): a submitted or approved period keeps the figures it
-- was submitted or approved with (metron_core::timesheet::Figures as JSON), so a later change
-- to its time (a late interval) shows as "changed since approval" with both totals, and a
-- reviewer approves again or unlocks. Periods locked before this have none: they read as
-- unchanged until their next decision.
ALTER TABLE timesheet_periods ADD COLUMN figures TEXT;
