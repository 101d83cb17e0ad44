-- Every second on one local day (issue 27): each interval and manual entry is cut into local
-- days in its own UTC offset. Manual entries now carry the offset they were added in; those
-- added before take the offset of their person's latest interval before them (the offset
-- their day was taken in until now), else UTC.
ALTER TABLE manual_entries ADD COLUMN utc_offset_minutes INTEGER NOT NULL DEFAULT 0;
UPDATE manual_entries SET utc_offset_minutes = COALESCE((
    SELECT CAST(json_extract(i.body, '$.utc_offset_minutes') AS INTEGER)
    FROM intervals i
    WHERE i.user_id = manual_entries.user_id AND i.started_at < manual_entries.ended_at
    ORDER BY i.started_at DESC LIMIT 1), 0);
-- Kept timesheet lines were added up under the old rule (one offset per day): computed again.
DELETE FROM timesheet_days;
