CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE posts (id serial PRIMARY KEY, user_id integer NOT NULL REFERENCES users (id), title text NOT NULL);

INSERT INTO users (name) SELECT 'user ' || n FROM generate_series(1, 10) AS n;
INSERT INTO posts (user_id, title) SELECT u, 'post ' || p FROM generate_series(1, 10) AS u, generate_series(1, 3) AS p;
