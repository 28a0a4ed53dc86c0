-- A fifth role, data_steward: reviews the record linkage's clerical review
-- queue.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('caseworker', 'fraud_officer', 'data_scientist', 'admin', 'data_steward'));
