-- caserisk store schema v1, for SQLite and PostgreSQL alike.
-- {{ID}} becomes the dialect's auto-increment primary key.
-- Times are BIGINT microseconds since 1970-01-01 UTC; dates are TEXT YYYY-MM-DD.

CREATE TABLE users (
    id        {{ID}},
    name      TEXT    NOT NULL UNIQUE,
    role      TEXT    NOT NULL CHECK (role IN ('caseworker', 'fraud_officer', 'data_scientist', 'admin')),
    created   BIGINT  NOT NULL,
    disabled  INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
);

CREATE TABLE tokens (
    id       {{ID}},
    user_id  BIGINT NOT NULL REFERENCES users (id),
    prefix   TEXT   NOT NULL,
    hash     TEXT   NOT NULL UNIQUE,
    created  BIGINT NOT NULL
);
CREATE INDEX tokens_prefix ON tokens (prefix);

CREATE TABLE models (
    target         TEXT    NOT NULL CHECK (target IN ('complex_case', 'tenancy_fraud')),
    version        INTEGER NOT NULL CHECK (version > 0),
    path           TEXT    NOT NULL DEFAULT '',
    sha256         TEXT    NOT NULL,
    artifact       TEXT    NOT NULL,
    stage          TEXT    NOT NULL CHECK (stage IN ('candidate', 'champion', 'retired')),
    metrics        TEXT    NOT NULL DEFAULT '{}',
    band_high      DOUBLE PRECISION NOT NULL,
    band_medium    DOUBLE PRECISION NOT NULL,
    registered_by  TEXT    NOT NULL,
    registered_at  BIGINT  NOT NULL,
    promoted_by    TEXT    NOT NULL DEFAULT '',
    promoted_at    BIGINT,
    PRIMARY KEY (target, version)
);
-- At most one champion per target, whatever the application does.
CREATE UNIQUE INDEX models_one_champion ON models (target) WHERE stage = 'champion';

CREATE TABLE score_runs (
    id             {{ID}},
    target         TEXT    NOT NULL,
    as_of          TEXT    NOT NULL,
    model_version  INTEGER NOT NULL,
    created        BIGINT  NOT NULL,
    row_count      INTEGER NOT NULL,
    capacity       INTEGER NOT NULL,
    cases_opened   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (target, as_of, model_version),
    FOREIGN KEY (target, model_version) REFERENCES models (target, version)
);

CREATE TABLE scores (
    run_id       BIGINT  NOT NULL REFERENCES score_runs (id),
    entity_id    TEXT    NOT NULL,
    resident_id  TEXT    NOT NULL,
    score        DOUBLE PRECISION NOT NULL,
    margin       DOUBLE PRECISION NOT NULL,
    band         TEXT    NOT NULL,
    score_rank   INTEGER NOT NULL,
    reasons      TEXT    NOT NULL DEFAULT 'null',
    PRIMARY KEY (run_id, entity_id)
);
CREATE INDEX scores_resident ON scores (resident_id, run_id);
CREATE UNIQUE INDEX scores_rank ON scores (run_id, score_rank);

CREATE TABLE cases (
    id           {{ID}},
    kind         TEXT    NOT NULL CHECK (kind IN ('complex_case', 'tenancy_fraud')),
    entity_id    TEXT    NOT NULL,
    resident_id  TEXT    NOT NULL,
    run_id       BIGINT  NOT NULL REFERENCES score_runs (id),
    score        DOUBLE PRECISION NOT NULL,
    score_rank   INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    outcome      TEXT    NOT NULL DEFAULT '',
    notes        TEXT    NOT NULL DEFAULT '',
    assigned_to  BIGINT REFERENCES users (id),
    opened       BIGINT  NOT NULL,
    updated      BIGINT  NOT NULL,
    closed       BIGINT
);
-- One open case per entity and kind.
CREATE UNIQUE INDEX cases_one_open ON cases (kind, entity_id) WHERE status <> 'closed';
CREATE INDEX cases_queue ON cases (kind, status, score);
CREATE INDEX cases_run ON cases (run_id);

CREATE TABLE case_events (
    id           {{ID}},
    case_id      BIGINT NOT NULL REFERENCES cases (id),
    at           BIGINT NOT NULL,
    from_status  TEXT   NOT NULL DEFAULT '',
    to_status    TEXT   NOT NULL,
    outcome      TEXT   NOT NULL DEFAULT '',
    note         TEXT   NOT NULL DEFAULT '',
    by_name      TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX case_events_case ON case_events (case_id, id);

CREATE TABLE residents (
    resident_id    TEXT PRIMARY KEY,
    given_name     TEXT NOT NULL DEFAULT '',
    family_name    TEXT NOT NULL DEFAULT '',
    date_of_birth  TEXT NOT NULL DEFAULT '',
    sex            TEXT NOT NULL DEFAULT '',
    first_seen     TEXT NOT NULL DEFAULT '',
    date_of_death  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE properties (
    uprn              BIGINT PRIMARY KEY,
    address           TEXT    NOT NULL DEFAULT '',
    postcode          TEXT    NOT NULL DEFAULT '',
    ward              TEXT    NOT NULL DEFAULT '',
    property_type     TEXT    NOT NULL DEFAULT '',
    tenure            TEXT    NOT NULL DEFAULT '',
    bedrooms          INTEGER NOT NULL DEFAULT 0,
    council_tax_band  TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE residences (
    resident_id   TEXT   NOT NULL,
    uprn          BIGINT NOT NULL,
    start_date    TEXT   NOT NULL,
    end_date      TEXT   NOT NULL DEFAULT '',
    relationship  TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX residences_resident ON residences (resident_id, start_date);

CREATE TABLE events (
    resident_id  TEXT   NOT NULL,
    service      TEXT   NOT NULL,
    event_date   TEXT   NOT NULL,
    event_type   TEXT   NOT NULL DEFAULT '',
    uprn         BIGINT NOT NULL DEFAULT 0,
    amount       DOUBLE PRECISION,
    detail       TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX events_resident ON events (resident_id, event_date);

-- The audit log: rows are only inserted; each carries the hash of the one
-- before (see package audit). Migration 0002 makes the table refuse UPDATE
-- and DELETE.
CREATE TABLE audit_log (
    id          BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    user_id     BIGINT NOT NULL,
    user_name   TEXT   NOT NULL,
    role        TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    resource    TEXT   NOT NULL,
    purpose     TEXT   NOT NULL,
    request_id  TEXT   NOT NULL,
    prev_hash   TEXT   NOT NULL,
    hash        TEXT   NOT NULL
);
