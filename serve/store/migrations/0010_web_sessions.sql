-- Web sessions in the database (issue #22), so that any number of
-- `caserisk serve` replicas on one database serve the same signed-in users
-- with no sticky sessions.
--
-- web_sessions: one row per signed-in browser. id_hash is the hex SHA-256
-- of the session id the cookie carries; the id itself is never stored, so
-- a reader of the database cannot take over a session. A token session
-- keeps its token's prefix and hash (the form the tokens table keeps) to
-- check the token again on every request; a provider's session keeps the
-- ID token for the provider's sign-out. seen is moved on as the session is
-- used (at most once a minute); a session past its idle or absolute limit
-- is deleted when next looked at or when anyone signs in.
CREATE TABLE web_sessions (
    id_hash       TEXT    PRIMARY KEY,
    user_id       BIGINT  NOT NULL REFERENCES users (id),
    token_prefix  TEXT    NOT NULL DEFAULT '',
    token_hash    TEXT    NOT NULL DEFAULT '',
    external      INTEGER NOT NULL DEFAULT 0 CHECK (external IN (0, 1)),
    id_token      TEXT    NOT NULL DEFAULT '',
    csrf          TEXT    NOT NULL,
    created       BIGINT  NOT NULL,
    seen          BIGINT  NOT NULL,
    CHECK ((external = 1) = (token_hash = ''))
);
CREATE INDEX web_sessions_user ON web_sessions (user_id, created);
CREATE INDEX web_sessions_seen ON web_sessions (seen);
CREATE INDEX web_sessions_created ON web_sessions (created);

-- Sign-ins under way at the OpenID Connect provider: the callback may come
-- back to another replica than the one that sent the browser away. Keyed
-- by the hex SHA-256 of the state; each row is taken (deleted) by its one
-- callback, and rows older than the flow's time limit are deleted.
CREATE TABLE sign_in_flows (
    state_hash  TEXT    PRIMARY KEY,
    nonce       TEXT    NOT NULL,
    verifier    TEXT    NOT NULL,
    started     BIGINT  NOT NULL
);
CREATE INDEX sign_in_flows_started ON sign_in_flows (started);

-- The sign-in rate limits, shared by the replicas: one row per limited key
-- (scope 'user': a token's prefix; 'client': an address), keyed by the hex
-- SHA-256 of the key. tat is the limiter's theoretical arrival time (GCRA,
-- microseconds): the key has attempts left while tat - now is within the
-- burst. Rows back at their full burst (tat <= now) are deleted.
CREATE TABLE sign_in_limits (
    scope     TEXT    NOT NULL,
    key_hash  TEXT    NOT NULL,
    tat       BIGINT  NOT NULL,
    PRIMARY KEY (scope, key_hash)
);
CREATE INDEX sign_in_limits_tat ON sign_in_limits (scope, tat);
