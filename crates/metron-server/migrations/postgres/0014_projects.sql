-- Issue 28: a project is a record of its own (name, client, colour, archived), unique by name
-- in its organization; tasks point to it by id and can be archived. Each organization's
-- distinct non-empty `tasks.project` strings become its projects, coloured from the palette
-- of src/projects.rs in name order, and the string column goes: the API still names a
-- task's project by name (`GET /api/v1/tasks`), read through the join.
CREATE TABLE projects (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    name       TEXT NOT NULL,
    client     TEXT NOT NULL DEFAULT '',
    colour     TEXT NOT NULL,
    archived   INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

-- Who sees a project's tasks in the desktop app and the agent: its members (and admins)
-- when it has any, everyone when it has none. A removed person's rows go with them.
CREATE TABLE project_members (
    project_id TEXT NOT NULL REFERENCES projects (id),
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id);

ALTER TABLE tasks ADD COLUMN project_id TEXT REFERENCES projects (id);
ALTER TABLE tasks ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tasks_project ON tasks (project_id);

INSERT INTO projects (id, org_id, name, client, colour, archived, created_at, updated_at)
SELECT md5(random()::TEXT || clock_timestamp()::TEXT || org_id || project), org_id, project, '',
       CASE (n - 1) % 8
           WHEN 0 THEN '#2563eb' WHEN 1 THEN '#16a34a' WHEN 2 THEN '#dc2626'
           WHEN 3 THEN '#d97706' WHEN 4 THEN '#7c3aed' WHEN 5 THEN '#0891b2'
           WHEN 6 THEN '#db2777' ELSE '#4b5563' END,
       0, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT), CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)
FROM (SELECT org_id, project, ROW_NUMBER() OVER (PARTITION BY org_id ORDER BY project) AS n
      FROM (SELECT DISTINCT org_id, project FROM tasks WHERE project <> '') AS distinct_projects) AS numbered;

UPDATE tasks SET project_id = (SELECT p.id FROM projects p
                               WHERE p.org_id = tasks.org_id AND p.name = tasks.project)
WHERE project <> '';

ALTER TABLE tasks DROP COLUMN project;
