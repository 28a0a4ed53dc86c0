-- The record linkage's clerical review queue (issue #10): the pairs near
-- the threshold of an imported queue, the details of the person records
-- they name, and reviewers' decisions.
--
-- A pair's two records are stored in key order (source, then record id),
-- so a pair has one spelling. An import replaces the pairs and the people
-- (personal data: only the records of the current queue are kept); the
-- decisions are keyed by the pair, not by its row, so they outlive
-- re-imports and every decision ever made can be exported for
-- 'caserisk link --decisions'.

CREATE TABLE link_review_people (
    source         TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    given_name     TEXT NOT NULL DEFAULT '',
    family_name    TEXT NOT NULL DEFAULT '',
    date_of_birth  TEXT NOT NULL DEFAULT '',
    sex            TEXT NOT NULL DEFAULT '',
    address        TEXT NOT NULL DEFAULT '',
    postcode       TEXT NOT NULL DEFAULT '',
    uprn           TEXT NOT NULL DEFAULT '',
    ni_number      TEXT NOT NULL DEFAULT '',
    date_of_death  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (source, record_id)
);

CREATE TABLE link_review_pairs (
    id                 {{ID}},
    position           INTEGER NOT NULL UNIQUE CHECK (position > 0),
    source_a           TEXT    NOT NULL,
    record_id_a        TEXT    NOT NULL,
    source_b           TEXT    NOT NULL,
    record_id_b        TEXT    NOT NULL,
    match_weight       DOUBLE PRECISION NOT NULL,
    match_probability  DOUBLE PRECISION NOT NULL,
    linked             INTEGER NOT NULL CHECK (linked IN (0, 1)),
    fields             TEXT    NOT NULL DEFAULT '[]',
    imported_at        BIGINT  NOT NULL,
    UNIQUE (source_a, record_id_a, source_b, record_id_b)
);

CREATE TABLE link_review_decisions (
    source_a     TEXT   NOT NULL,
    record_id_a  TEXT   NOT NULL,
    source_b     TEXT   NOT NULL,
    record_id_b  TEXT   NOT NULL,
    decision     TEXT   NOT NULL CHECK (decision IN ('accept', 'reject')),
    user_id      BIGINT NOT NULL DEFAULT 0,
    decided_by   TEXT   NOT NULL,
    decided_at   BIGINT NOT NULL,
    PRIMARY KEY (source_a, record_id_a, source_b, record_id_b)
);
CREATE INDEX link_review_decisions_at ON link_review_decisions (decided_at);
