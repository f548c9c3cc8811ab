CREATE TABLE notes (id bigserial PRIMARY KEY, title text NOT NULL, body text);
CREATE TABLE note_tags (note_id bigint NOT NULL, tag text NOT NULL);

INSERT INTO notes (title, body) SELECT 'note ' || n, 'body of note ' || n FROM generate_series(1, 20) AS n;
INSERT INTO note_tags (note_id, tag) SELECT n, 'tag ' || t FROM generate_series(1, 19) AS n, generate_series(1, 3) AS t;
