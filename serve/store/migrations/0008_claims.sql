-- Claims (issue #16): one row per exclusive step that is running (the
-- single-view load, a score run, a score run's recording). The holder
-- renews its lease every ClaimRenew while it lives; a lease not renewed by
-- its expiry belongs to a holder that died and may be taken at once, so a
-- crash blocks nobody for longer than ClaimTTL. holder says who holds it
-- (command, user, process and host) for the conflict message; id is the
-- holder's random fencing token: every write under a claim checks it.
-- Replaces ingest_claim, whose 5-minute idle takeover this supersedes.

CREATE TABLE claims (
    name      TEXT   PRIMARY KEY,
    id        TEXT   NOT NULL,
    holder    TEXT   NOT NULL,
    acquired  BIGINT NOT NULL,
    expires   BIGINT NOT NULL
);

DROP TABLE ingest_claim;
