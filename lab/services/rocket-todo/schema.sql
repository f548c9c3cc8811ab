CREATE TABLE sessions (token text PRIMARY KEY, user_id bigint NOT NULL);
CREATE TABLE todos (
    id bigserial PRIMARY KEY,
    owner bigint NOT NULL,
    title text NOT NULL,
    done boolean NOT NULL DEFAULT false
);

INSERT INTO sessions (token, user_id) VALUES ('lab-session', 1), ('other', 2);
INSERT INTO todos (owner, title) SELECT 1 + n % 3, 'todo ' || n FROM generate_series(1, 30) AS n;
