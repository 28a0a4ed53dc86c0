-- Households as the unit of complex-case review. A score carries the
-- household its entity belonged to on the run's as-of date (the key the
-- scorer gives: the UPRN of the home; '' when unknown or for an entity not
-- reviewed by household, such as a tenancy). A run opens at most one case
-- per household, for its highest-ranked member, and the case names the
-- household so the page can list every member with their own score.
ALTER TABLE scores ADD COLUMN household TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN household TEXT NOT NULL DEFAULT '';
CREATE INDEX scores_household ON scores (run_id, household, score_rank);
-- One open case per household and kind, whatever the application does.
CREATE UNIQUE INDEX cases_one_open_household ON cases (kind, household) WHERE status <> 'closed' AND household <> '';
-- Finding a resident by date of birth (the single view's tables are
-- swapped with their staging twins on each load, so both are indexed).
CREATE INDEX residents_dob ON residents (date_of_birth);
CREATE INDEX residents_load_dob ON residents_load (date_of_birth);
