-- Users who sign in through an OpenID Connect provider: the provider's
-- issuer and subject id (stable, never reassigned) identify them, their
-- display name follows the provider, and their role follows the provider's
-- groups. A provider user whose groups no longer map to a role keeps their
-- row (and audit history) with the empty role, which grants nothing; only
-- such users may have it.
ALTER TABLE users ADD COLUMN issuer TEXT;
ALTER TABLE users ADD COLUMN subject TEXT;
ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('caseworker', 'fraud_officer', 'data_scientist', 'admin', 'data_steward', '')
           AND (role <> '' OR issuer IS NOT NULL));
ALTER TABLE users ADD CONSTRAINT users_external_check CHECK ((issuer IS NULL) = (subject IS NULL));
CREATE UNIQUE INDEX users_external_id ON users (issuer, subject);
