-- The counts of an imported clerical review queue (issue #23): the queue
-- holds one pair for each of at most a data steward's week of decisions;
-- this row says how many pairs were near the threshold, how many decisions
-- they came down to, and how many of those were left as the linkage model
-- made them. One row, replaced by each import; none for a queue imported
-- without its summary. Counts only: no personal data.

CREATE TABLE link_review_summary (
    id               INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    queue_size       INTEGER NOT NULL CHECK (queue_size >= 0),
    near_threshold   BIGINT  NOT NULL CHECK (near_threshold >= 0),
    decisions        BIGINT  NOT NULL CHECK (decisions >= 0),
    already_reviewed BIGINT  NOT NULL CHECK (already_reviewed >= 0),
    by_model         BIGINT  NOT NULL CHECK (by_model >= 0),
    by_model_linked  BIGINT  NOT NULL CHECK (by_model_linked >= 0),
    by_model_apart   BIGINT  NOT NULL CHECK (by_model_apart >= 0),
    by_model_pairs   BIGINT  NOT NULL CHECK (by_model_pairs >= 0),
    imported_at      BIGINT  NOT NULL
);
