CREATE TABLE posts (
    id bigserial PRIMARY KEY,
    title text NOT NULL,
    likes bigint NOT NULL DEFAULT 0,
    touched_at timestamptz
);
CREATE TABLE sessions (token text PRIMARY KEY, user_id bigint NOT NULL);

INSERT INTO posts (title) SELECT 'post ' || n FROM generate_series(1, 30) AS n;
INSERT INTO sessions (token, user_id) VALUES ('lab-session', 1), ('other', 2);
