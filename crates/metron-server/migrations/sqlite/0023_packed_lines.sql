-- Kept timesheet lines are packed (issue 30: a team's month of 10,000 people reads 310,000 of
-- them, and parsing their JSON was most of its time; db/kept_line.rs). SQLite keeps bytes in
-- the TEXT column as they are given; the lines kept before become bytes of their JSON, so
-- every line reads the same way, and still read; a line kept from now on is packed.
UPDATE timesheet_days SET body = CAST(body AS BLOB);
