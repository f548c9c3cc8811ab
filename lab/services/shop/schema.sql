CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, last_seen timestamptz);
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id), total_cents bigint NOT NULL);
CREATE TABLE order_lines (order_id bigint NOT NULL REFERENCES orders (id), product_id bigint NOT NULL, quantity integer NOT NULL);

INSERT INTO users (email) SELECT 'user' || n || '@example.com' FROM generate_series(1, 10) AS n;
INSERT INTO orders (user_id, total_cents) SELECT 1 + n % 8, 100 * n FROM generate_series(1, 40) AS n;
INSERT INTO order_lines (order_id, product_id, quantity) SELECT o, l, 1 + l % 3 FROM generate_series(1, 40) AS o, generate_series(1, 3) AS l;
