-- Teams and their members. A team's name is the slug incidents name in `incident_teams`,
-- so the members of a team an incident names may read it when it is restricted.

CREATE TABLE teams (
    name TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE team_members (
    team TEXT NOT NULL REFERENCES teams(name) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (team, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id, team);
