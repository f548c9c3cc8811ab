CREATE TABLE teams (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    visits bigint NOT NULL DEFAULT 0,
    archived boolean NOT NULL DEFAULT false
);
CREATE TABLE members (team_id bigint NOT NULL REFERENCES teams (id), name text NOT NULL);
CREATE TABLE invites (team_id bigint NOT NULL REFERENCES teams (id), email text NOT NULL);
CREATE TABLE audit (team_id bigint NOT NULL, action text NOT NULL, at timestamptz NOT NULL DEFAULT now());

INSERT INTO teams (name) SELECT 'team ' || n FROM generate_series(1, 20) AS n;
INSERT INTO members (team_id, name) SELECT t, 'member ' || m FROM generate_series(1, 20) AS t, generate_series(1, 5) AS m;
INSERT INTO invites (team_id, email) SELECT t, 'guest' || t || '@example.com' FROM generate_series(1, 20) AS t;
