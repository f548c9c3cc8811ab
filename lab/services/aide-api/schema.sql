CREATE TABLE apps (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE messages (app_id bigint NOT NULL, body text NOT NULL);
CREATE TABLE failures (app_id bigint NOT NULL, reason text NOT NULL);

INSERT INTO apps (created_at) SELECT now() FROM generate_series(1, 10);
INSERT INTO messages (app_id, body) SELECT a, 'message ' || m FROM generate_series(1, 10) AS a, generate_series(1, 50) AS m;
INSERT INTO failures (app_id, reason) SELECT a, 'failure ' || m FROM generate_series(1, 10) AS a, generate_series(1, 5) AS m;
