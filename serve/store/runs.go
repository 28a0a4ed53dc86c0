package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// validate checks a run before anything is written.
func (r *NewRun) validate() error {
	if _, err := ParseTarget(string(r.Target)); err != nil {
		return err
	}
	if !validDate(r.AsOf) {
		return invalidf("as_of", "%q is not a YYYY-MM-DD date", r.AsOf)
	}
	if r.ModelVersion <= 0 {
		return invalidf("model_version", "must be positive, got %d", r.ModelVersion)
	}
	if r.Capacity < 0 {
		return invalidf("capacity", "must not be negative, got %d", r.Capacity)
	}
	seenEntity := make(map[string]int, len(r.Scores))
	seenRank := make([]bool, len(r.Scores)+1)
	for i, s := range r.Scores {
		at := fmt.Sprintf("scores[%d]", i)
		switch {
		case s.EntityID == "" || !validText(s.EntityID):
			return invalidf(at+".entity_id", "empty or not valid text")
		case s.ResidentID == "" || !validText(s.ResidentID):
			return invalidf(at+".resident_id", "empty or not valid text")
		case math.IsNaN(s.Score) || math.IsInf(s.Score, 0) || s.Score < 0 || s.Score > 1:
			return invalidf(at+".score", "%g is not a probability", s.Score)
		case math.IsNaN(s.Margin) || math.IsInf(s.Margin, 0):
			return invalidf(at+".margin", "%g is not finite", s.Margin)
		case s.Band != "high" && s.Band != "medium" && s.Band != "low":
			return invalidf(at+".band", "%q is not high, medium or low", s.Band)
		case s.Rank < 1 || s.Rank > len(r.Scores) || seenRank[s.Rank]:
			return invalidf(at+".rank", "ranks must be 1..%d, each once; got %d", len(r.Scores), s.Rank)
		case len(s.Reasons) > 0 && (!json.Valid(s.Reasons) || !validText(string(s.Reasons))):
			return invalidf(at+".reasons", "not valid UTF-8 JSON")
		case len(s.Household) > 64 || !validText(s.Household):
			return invalidf(at+".household", "longer than 64 bytes or not valid text")
		}
		if j, dup := seenEntity[s.EntityID]; dup {
			return invalidf(at+".entity_id", "%q already scored at scores[%d]", s.EntityID, j)
		}
		seenEntity[s.EntityID] = i
		seenRank[s.Rank] = true
	}
	return nil
}

// scoreChunk is the number of scores written per transaction.
const scoreChunk = 10000

func (d *db) RecordScoreRun(ctx context.Context, nr NewRun) (ScoreRun, bool, error) {
	if err := nr.validate(); err != nil {
		return ScoreRun{}, false, fmt.Errorf("record score run: %w", err)
	}
	run, created, err := d.recordScoreRun(ctx, nr)
	if err != nil {
		return ScoreRun{}, false, fmt.Errorf("record %s score run as of %s with model v%d: %w", nr.Target, nr.AsOf, nr.ModelVersion, err)
	}
	return run, created, nil
}

// runClaim names the claim a run's recording holds.
func runClaim(nr NewRun) string {
	return fmt.Sprintf("score_run/%s/%s/v%d", nr.Target, nr.AsOf, nr.ModelVersion)
}

func (d *db) recordScoreRun(ctx context.Context, nr NewRun) (ScoreRun, bool, error) {
	// A complete run is returned without waiting for any claim.
	if run, ok, err := d.completeRun(ctx, nr); err != nil || ok {
		return run, false, err
	}
	cl, err := d.Claim(ctx, runClaim(nr), nr.Claim)
	if err != nil {
		return ScoreRun{}, false, err
	}
	defer cl.Release()
	ctx = cl.Context()
	// Stage 1: the run as pending (or the complete one). A pending run
	// found now is what a holder that died (or was taken over) left: it
	// is removed and the run recorded again.
	var run ScoreRun
	complete := false
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lock(ctx, tx, "score_runs"); err != nil {
			return err
		}
		if err := cl.check(ctx, tx); err != nil {
			return err
		}
		var state string
		existing, err := d.scanRun(tx.QueryRowContext(ctx, d.q(`SELECT `+runCols+`, state FROM score_runs
			WHERE target = ? AND as_of = ? AND model_version = ?`), nr.Target, nr.AsOf, nr.ModelVersion), &state)
		switch {
		case err == nil && state == "complete":
			run, complete = existing, true
			return nil
		case err == nil:
			if err := d.deleteRun(ctx, tx, existing.ID); err != nil {
				return fmt.Errorf("remove the pending run %d its recording left: %w", existing.ID, err)
			}
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("look for an earlier run: %w", err)
		}
		if _, err := d.model(ctx, tx, nr.Target, nr.ModelVersion, false); err != nil {
			return invalidf("model_version", "%v", err)
		}
		now := micros(d.now())
		run = ScoreRun{Target: nr.Target, AsOf: nr.AsOf, ModelVersion: nr.ModelVersion, Created: fromMicros(now),
			Rows: len(nr.Scores), Capacity: nr.Capacity}
		if err := tx.QueryRowContext(ctx, d.q(`INSERT INTO score_runs (target, as_of, model_version, created, row_count, capacity, state)
			VALUES (?, ?, ?, ?, ?, ?, 'pending') RETURNING id`), run.Target, run.AsOf, run.ModelVersion, now, run.Rows, run.Capacity).Scan(&run.ID); err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		return nil
	})
	if err != nil || complete {
		return run, false, cl.Err(err)
	}
	// Stage 2: the scores, a chunk per transaction; stage 3: publish.
	err = d.writeScores(ctx, cl, run, nr)
	if err == nil {
		err = d.inTx(ctx, func(tx *sql.Tx) error {
			if err := d.lock(ctx, tx, "score_runs"); err != nil {
				return err
			}
			if err := cl.check(ctx, tx); err != nil {
				return err
			}
			return d.publishRun(ctx, tx, &run)
		})
	}
	if err != nil {
		err = cl.Err(err)
		// Remove what was written; the caller's context may be done.
		bg := context.Background()
		if cErr := d.inTx(bg, func(tx *sql.Tx) error { return d.deleteRun(bg, tx, run.ID) }); cErr != nil {
			err = errors.Join(err, fmt.Errorf("remove the unfinished run %d: %w", run.ID, cErr))
		}
		return ScoreRun{}, false, err
	}
	return run, true, nil
}

// completeRun returns the complete run of the same target, date and version.
func (d *db) completeRun(ctx context.Context, nr NewRun) (ScoreRun, bool, error) {
	run, err := d.scanRun(d.sql.QueryRowContext(ctx, d.q(`SELECT `+runCols+` FROM score_runs
		WHERE target = ? AND as_of = ? AND model_version = ? AND state = 'complete'`), nr.Target, nr.AsOf, nr.ModelVersion))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ScoreRun{}, false, nil
	case err != nil:
		return ScoreRun{}, false, fmt.Errorf("look for an earlier run: %w", err)
	}
	return run, true, nil
}

// writeScores writes a pending run's scores in chunks, each under the
// run's claim.
func (d *db) writeScores(ctx context.Context, cl *Claim, run ScoreRun, nr NewRun) error {
	for start := 0; start < len(nr.Scores); start += scoreChunk {
		chunk := nr.Scores[start:min(start+scoreChunk, len(nr.Scores))]
		err := d.inTx(ctx, func(tx *sql.Tx) error {
			if err := cl.check(ctx, tx); err != nil {
				return err
			}
			return d.insertMany(ctx, tx, `INSERT INTO scores (run_id, entity_id, resident_id, score, margin, band, score_rank, reasons, household)`,
				9, len(chunk), func(i int) []any {
					s := &chunk[i]
					reasons := "null"
					if len(s.Reasons) > 0 {
						reasons = string(s.Reasons)
					}
					return []any{run.ID, s.EntityID, s.ResidentID, s.Score, s.Margin, s.Band, s.Rank, reasons, s.Household}
				})
		})
		if err != nil {
			return fmt.Errorf("insert scores %d-%d: %w", start+1, start+len(chunk), err)
		}
		if d.afterScoreChunk != nil {
			d.afterScoreChunk()
		}
	}
	return nil
}

// publishRun opens the run's cases and marks it complete, in tx (which
// holds the score_runs lock).
func (d *db) publishRun(ctx context.Context, tx *sql.Tx, run *ScoreRun) error {
	now := micros(d.now())
	// The units are the households (scores sharing a non-empty key, led
	// by the best-ranked member) and the scores without one; the first
	// Capacity units by their leader's rank open a case for the leader,
	// unless the household or the leader's entity has an open case. The
	// leaders are found by grouping (one pass over the household index),
	// not by a correlated subquery, which SQLite would answer by walking
	// the rank index for every score.
	res, err := tx.ExecContext(ctx, d.q(`INSERT INTO cases (kind, entity_id, resident_id, household, run_id, score, score_rank, status, opened, updated)
		SELECT ?, u.entity_id, u.resident_id, u.household, u.run_id, u.score, u.score_rank, ?, ?, ?
		FROM (SELECT l.*, ROW_NUMBER() OVER (ORDER BY l.score_rank) AS unit
			FROM (SELECT s.entity_id, s.resident_id, s.household, s.run_id, s.score, s.score_rank
					FROM scores s JOIN (SELECT household, MIN(score_rank) AS lead FROM scores
						WHERE run_id = ? AND household <> '' GROUP BY household) h
					ON s.household = h.household AND s.score_rank = h.lead
					WHERE s.run_id = ?
				UNION ALL
				SELECT s.entity_id, s.resident_id, s.household, s.run_id, s.score, s.score_rank
					FROM scores s WHERE s.run_id = ? AND s.household = '') l) u
		WHERE u.unit <= ?
		  AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.kind = ? AND c.entity_id = u.entity_id AND c.status <> 'closed')
		  AND (u.household = '' OR NOT EXISTS (SELECT 1 FROM cases c WHERE c.kind = ? AND c.household = u.household AND c.status <> 'closed'))
		ORDER BY u.score_rank`),
		run.Target, InitialStatus(run.Target), now, now, run.ID, run.ID, run.ID, run.Capacity, run.Target, run.Target)
	if err != nil {
		return fmt.Errorf("open cases: %w", err)
	}
	opened, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("open cases: %w", err)
	}
	run.CasesOpened = int(opened)
	if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO case_events (case_id, at, from_status, to_status, by_name)
		SELECT id, opened, '', status, 'score-run' FROM cases WHERE run_id = ?`), run.ID); err != nil {
		return fmt.Errorf("record case openings: %w", err)
	}
	if _, err := tx.ExecContext(ctx, d.q(`UPDATE score_runs SET cases_opened = ?, state = 'complete' WHERE id = ?`),
		run.CasesOpened, run.ID); err != nil {
		return fmt.Errorf("publish the run: %w", err)
	}
	return nil
}

// deleteRun removes a pending run and its scores (it has no cases yet).
func (d *db) deleteRun(ctx context.Context, tx *sql.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM scores WHERE run_id = ?`), id); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, d.q(`DELETE FROM score_runs WHERE id = ? AND state = 'pending'`), id)
	return err
}

const runCols = `id, target, as_of, model_version, created, row_count, capacity, cases_opened`

func (d *db) scanRun(sc interface{ Scan(...any) error }, extra ...any) (ScoreRun, error) {
	var r ScoreRun
	var created int64
	dest := append([]any{&r.ID, &r.Target, &r.AsOf, &r.ModelVersion, &created, &r.Rows, &r.Capacity, &r.CasesOpened}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return ScoreRun{}, err
	}
	r.Created = fromMicros(created)
	return r, nil
}

func (d *db) ScoreRuns(ctx context.Context, target Target) ([]ScoreRun, error) {
	query, args := `SELECT `+runCols+` FROM score_runs WHERE state = 'complete' ORDER BY as_of DESC, id DESC`, []any(nil)
	if target != "" {
		if _, err := ParseTarget(string(target)); err != nil {
			return nil, fmt.Errorf("list score runs: %w", err)
		}
		query, args = `SELECT `+runCols+` FROM score_runs WHERE target = ? AND state = 'complete' ORDER BY as_of DESC, id DESC`, []any{target}
	}
	rows, err := d.read().QueryContext(ctx, d.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("list score runs: %w", err)
	}
	defer rows.Close()
	var out []ScoreRun
	for rows.Next() {
		r, err := d.scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list score runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list score runs: %w", err)
	}
	return out, nil
}

func (d *db) LatestRun(ctx context.Context, target Target) (ScoreRun, error) {
	r, err := d.scanRun(d.read().QueryRowContext(ctx, d.q(`SELECT `+runCols+` FROM score_runs WHERE target = ? AND state = 'complete'
		ORDER BY as_of DESC, id DESC LIMIT 1`), target))
	if errors.Is(err, sql.ErrNoRows) {
		return ScoreRun{}, fmt.Errorf("latest %s score run: %w", target, ErrNotFound)
	}
	if err != nil {
		return ScoreRun{}, fmt.Errorf("latest %s score run: %w", target, err)
	}
	return r, nil
}

const scoreCols = `s.run_id, s.entity_id, s.resident_id, s.score, s.margin, s.band, s.score_rank, s.reasons, s.household`

func scoreDest(s *Score, reasons *string) []any {
	return []any{&s.RunID, &s.EntityID, &s.ResidentID, &s.Score, &s.Margin, &s.Band, &s.Rank, reasons, &s.Household}
}

func (d *db) RunScores(ctx context.Context, runID int64, offset, limit int) ([]Score, error) {
	if offset < 0 {
		return nil, fmt.Errorf("run scores: %w", invalidf("offset", "must not be negative"))
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return d.scores(ctx, fmt.Sprintf("run %d scores", runID), `SELECT `+scoreCols+` FROM scores s
		WHERE s.run_id = ? AND EXISTS (SELECT 1 FROM score_runs r WHERE r.id = s.run_id AND r.state = 'complete')
		ORDER BY s.score_rank LIMIT ? OFFSET ?`, runID, limit, offset)
}

// maxHousehold bounds the members HouseholdScores returns: a key shared by
// more entities (a hostel, a care home) is listed up to this many.
const maxHousehold = 200

func (d *db) HouseholdScores(ctx context.Context, runID int64, household string) ([]Score, error) {
	if household == "" || !validText(household) {
		return nil, nil
	}
	return d.scores(ctx, fmt.Sprintf("run %d household scores", runID), `SELECT `+scoreCols+` FROM scores s
		WHERE s.run_id = ? AND s.household = ? AND EXISTS (SELECT 1 FROM score_runs r WHERE r.id = s.run_id AND r.state = 'complete')
		ORDER BY s.score_rank LIMIT ?`, runID, household, maxHousehold)
}

// scores runs a query of scores (scoreCols) and reads them; what names it
// in errors.
func (d *db) scores(ctx context.Context, what, query string, args ...any) ([]Score, error) {
	rows, err := d.read().QueryContext(ctx, d.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []Score
	for rows.Next() {
		var s Score
		var reasons string
		if err := rows.Scan(scoreDest(&s, &reasons)...); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		s.Reasons = json.RawMessage(reasons)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// residentScoresQuery reads a resident's scores in a target's latest run.
// It has no ORDER BY, which would tempt SQLite to walk the run's rank
// index; ResidentScores sorts the few rows instead.
const residentScoresQuery = `SELECT ` + scoreCols + `, r.as_of, r.model_version, r.row_count
	FROM scores s JOIN score_runs r ON r.id = s.run_id
	WHERE s.resident_id = ? AND s.run_id = (SELECT id FROM score_runs WHERE target = ? AND state = 'complete'
		ORDER BY as_of DESC, id DESC LIMIT 1)`

func (d *db) ResidentScores(ctx context.Context, residentID string, targets ...Target) ([]ResidentScore, error) {
	return d.residentScores(ctx, "resident scores", residentScoresQuery, residentID, targets, func(mine []ResidentScore) {
		sort.Slice(mine, func(i, j int) bool { return mine[i].Rank < mine[j].Rank })
	})
}

// residentScores runs query (a resident's scores in some runs of one
// target) for each target in turn; each target's rows pass through order.
func (d *db) residentScores(ctx context.Context, what, query, residentID string, targets []Target, order func([]ResidentScore)) ([]ResidentScore, error) {
	var out []ResidentScore
	if !validText(residentID) {
		return nil, nil // nothing stored can match
	}
	for _, t := range targets {
		if _, err := ParseTarget(string(t)); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		start := len(out)
		rows, err := d.read().QueryContext(ctx, d.q(query), residentID, t)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", what, t, err)
		}
		for rows.Next() {
			rs := ResidentScore{Target: t}
			var reasons string
			dest := append(scoreDest(&rs.Score, &reasons), &rs.AsOf, &rs.ModelVersion, &rs.RunRows)
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("%s (%s): %w", what, t, err)
			}
			rs.Reasons = json.RawMessage(reasons)
			out = append(out, rs)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", what, t, err)
		}
		if order != nil {
			order(out[start:])
		}
	}
	return out, nil
}

// scoreHistoryQuery reads a resident's scores in every complete run of a
// target, oldest as-of date first.
const scoreHistoryQuery = `SELECT ` + scoreCols + `, r.as_of, r.model_version, r.row_count
	FROM scores s JOIN score_runs r ON r.id = s.run_id
	WHERE s.resident_id = ? AND r.target = ? AND r.state = 'complete'
	ORDER BY r.as_of, r.id, s.score_rank`

func (d *db) ScoreHistory(ctx context.Context, residentID string, targets ...Target) ([]ResidentScore, error) {
	out, err := d.residentScores(ctx, "score history", scoreHistoryQuery, residentID, targets, nil)
	if err != nil {
		return nil, err
	}
	// Oldest first across targets; the sort is stable, so a target's rows
	// keep their run order on the same as-of date.
	sort.SliceStable(out, func(i, j int) bool { return out[i].AsOf < out[j].AsOf })
	return out, nil
}
