-- A fifth role, data_steward: reviews the record linkage's clerical review
-- queue. SQLite cannot change a CHECK constraint in place, so the users
-- table is rebuilt with the same rows, ids and AUTOINCREMENT counter.
-- Foreign keys (tokens, cases) are checked at commit, when every user is
-- back under its old id.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE users_v4 AS SELECT id, name, role, created, disabled FROM users;
CREATE TEMP TABLE users_v4_seq AS SELECT seq FROM sqlite_sequence WHERE name = 'users';
DROP TABLE users;
CREATE TABLE users (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    name      TEXT    NOT NULL UNIQUE,
    role      TEXT    NOT NULL CHECK (role IN ('caseworker', 'fraud_officer', 'data_scientist', 'admin', 'data_steward')),
    created   BIGINT  NOT NULL,
    disabled  INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
);
INSERT INTO users (id, name, role, created, disabled) SELECT id, name, role, created, disabled FROM users_v4;
UPDATE sqlite_sequence SET seq = (SELECT seq FROM users_v4_seq)
    WHERE name = 'users' AND seq < (SELECT seq FROM users_v4_seq);
INSERT INTO sqlite_sequence (name, seq) SELECT 'users', seq FROM users_v4_seq
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'users');
DROP TABLE users_v4;
DROP TABLE users_v4_seq;
