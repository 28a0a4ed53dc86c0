-- A score run is written in stages: the run row as 'pending', its scores in
-- short transactions, then one transaction that opens its cases and marks
-- it 'complete'. Readers see complete runs only, so a run appears whole or
-- not at all, and a large run does not hold the write lock for its length.
ALTER TABLE score_runs ADD COLUMN state TEXT NOT NULL DEFAULT 'complete';
