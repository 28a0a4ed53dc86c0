-- Staging tables for single-view loads. A load writes its rows here in
-- short transactions (so the service's own writes, such as audit rows, are
-- not held up behind it) and Commit swaps each staging table with its live
-- table by renaming both, in one transaction. The two sides of each pair
-- have the same columns and indexes; after a swap the index names are
-- crossed over, which nothing depends on. ingest_claim makes sure one load
-- runs at a time.

CREATE TABLE residents_load (
    resident_id    TEXT PRIMARY KEY,
    given_name     TEXT NOT NULL DEFAULT '',
    family_name    TEXT NOT NULL DEFAULT '',
    date_of_birth  TEXT NOT NULL DEFAULT '',
    sex            TEXT NOT NULL DEFAULT '',
    first_seen     TEXT NOT NULL DEFAULT '',
    date_of_death  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE properties_load (
    uprn              BIGINT PRIMARY KEY,
    address           TEXT    NOT NULL DEFAULT '',
    postcode          TEXT    NOT NULL DEFAULT '',
    ward              TEXT    NOT NULL DEFAULT '',
    property_type     TEXT    NOT NULL DEFAULT '',
    tenure            TEXT    NOT NULL DEFAULT '',
    bedrooms          INTEGER NOT NULL DEFAULT 0,
    council_tax_band  TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE residences_load (
    resident_id   TEXT   NOT NULL,
    uprn          BIGINT NOT NULL,
    start_date    TEXT   NOT NULL,
    end_date      TEXT   NOT NULL DEFAULT '',
    relationship  TEXT   NOT NULL DEFAULT ''
);

CREATE INDEX residences_load_resident ON residences_load (resident_id, start_date);

CREATE TABLE events_load (
    resident_id  TEXT   NOT NULL,
    service      TEXT   NOT NULL,
    event_date   TEXT   NOT NULL,
    event_type   TEXT   NOT NULL DEFAULT '',
    uprn         BIGINT NOT NULL DEFAULT 0,
    amount       DOUBLE PRECISION,
    detail       TEXT   NOT NULL DEFAULT ''
);

CREATE INDEX events_load_resident ON events_load (resident_id, event_date);

CREATE TABLE ingest_claim (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    holder     TEXT   NOT NULL,
    heartbeat  BIGINT NOT NULL
);
