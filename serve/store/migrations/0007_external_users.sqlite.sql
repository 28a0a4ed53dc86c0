-- Users who sign in through an OpenID Connect provider: the provider's
-- issuer and subject id (stable, never reassigned) identify them, their
-- display name follows the provider, and their role follows the provider's
-- groups. A provider user whose groups no longer map to a role keeps their
-- row (and audit history) with the empty role, which grants nothing; only
-- such users may have it. SQLite cannot change a CHECK constraint in place,
-- so the users table is rebuilt with the same rows, ids and AUTOINCREMENT
-- counter (as in 0005); foreign keys are checked at commit.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE users_v6 AS SELECT id, name, role, created, disabled FROM users;
CREATE TEMP TABLE users_v6_seq AS SELECT seq FROM sqlite_sequence WHERE name = 'users';
DROP TABLE users;
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('caseworker', 'fraud_officer', 'data_scientist', 'admin', 'data_steward', '')
                                          AND (role <> '' OR issuer IS NOT NULL)),
    created       BIGINT  NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    issuer        TEXT,
    subject       TEXT,
    display_name  TEXT    NOT NULL DEFAULT '',
    CHECK ((issuer IS NULL) = (subject IS NULL))
);
CREATE UNIQUE INDEX users_external_id ON users (issuer, subject);
INSERT INTO users (id, name, role, created, disabled) SELECT id, name, role, created, disabled FROM users_v6;
UPDATE sqlite_sequence SET seq = (SELECT seq FROM users_v6_seq)
    WHERE name = 'users' AND seq < (SELECT seq FROM users_v6_seq);
INSERT INTO sqlite_sequence (name, seq) SELECT 'users', seq FROM users_v6_seq
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'users');
DROP TABLE users_v6;
DROP TABLE users_v6_seq;
