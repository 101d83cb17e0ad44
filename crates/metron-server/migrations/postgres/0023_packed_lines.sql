-- Kept timesheet lines are packed (issue 30: a team's month of 10,000 people reads 310,000 of
-- them, and parsing their JSON was most of its time; db/kept_line.rs). The lines kept before
-- stay as they were, as bytes of their JSON, and still read; a line kept from now on is packed.
ALTER TABLE timesheet_days ALTER COLUMN body TYPE BYTEA USING convert_to(body, 'UTF8');
