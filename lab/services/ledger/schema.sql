CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE entries (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    counterparty_id bigint NOT NULL REFERENCES accounts (id),
    amount bigint NOT NULL
);

INSERT INTO accounts (id, name) SELECT n, 'account ' || n FROM generate_series(1, 9) AS n;
-- Account 1: five entries, one with each of accounts 2 to 6.
INSERT INTO entries (account_id, counterparty_id, amount) SELECT 1, n, 10 * n FROM generate_series(2, 6) AS n;
INSERT INTO entries (account_id, counterparty_id, amount) SELECT n, 1, -10 * n FROM generate_series(2, 6) AS n;
