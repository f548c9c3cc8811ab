CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE reviews (id serial PRIMARY KEY, product_id integer NOT NULL, body text NOT NULL);

INSERT INTO products (name) SELECT 'product ' || n FROM generate_series(1, 40) AS n;
INSERT INTO reviews (product_id, body) SELECT p, 'review ' || r FROM generate_series(1, 30) AS p, generate_series(1, 4) AS r;
