-- The client release an organization's admins announce (GET/PUT /api/v1/client-version): one
-- row per organization that has set one; none means nothing is announced. Clients only tell
-- their person about it; nothing downloads it (docs/DECISIONS.md).
CREATE TABLE client_versions (
    org_id       TEXT PRIMARY KEY REFERENCES organizations (id),
    latest       TEXT,
    download_url TEXT,
    notes        TEXT,
    updated_at   INTEGER NOT NULL
);
