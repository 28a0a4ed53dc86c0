package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// LinkKey names a raw person record of the record linkage: the source (a
// service key such as "council_tax") and the source's own record id.
type LinkKey struct {
	Source   string
	RecordID string
}

func (k LinkKey) less(o LinkKey) bool {
	return k.Source < o.Source || (k.Source == o.Source && k.RecordID < o.RecordID)
}

// String returns "source/record_id", for errors and audit resources.
func (k LinkKey) String() string { return k.Source + "/" + k.RecordID }

// LinkField is one compared field of a review pair: the field, the level
// the two records reached and its match weight.
type LinkField struct {
	Field  string  `json:"field"`
	Level  string  `json:"level"`
	Weight float64 `json:"weight"`
}

// LinkVerdict is a reviewer's decision on a pair.
type LinkVerdict string

// The verdicts.
const (
	LinkAccept LinkVerdict = "accept" // the two records are one person
	LinkReject LinkVerdict = "reject" // the two records are two people
)

// ParseLinkVerdict returns the verdict named s or an ErrInvalid error.
func ParseLinkVerdict(s string) (LinkVerdict, error) {
	switch LinkVerdict(s) {
	case LinkAccept, LinkReject:
		return LinkVerdict(s), nil
	}
	return "", invalidf("decision", "%q is not accept or reject", s)
}

// LinkPair is a pair of the clerical review queue. Stored pairs have A
// before B in key order (source, then record id).
type LinkPair struct {
	ID       int64
	Position int // 1 is the most uncertain
	A, B     LinkKey
	Weight   float64 // total match weight
	Prob     float64 // match probability
	Linked   bool    // the linkage run that made the queue linked the two
	Fields   []LinkField
	// The decision on the pair, if any ("" when undecided).
	Decision  LinkVerdict
	DecidedBy string
	DecidedAt time.Time
}

// LinkPerson is what the review page shows of a person record: its details
// as the source holds them. Personal data: shown on the review page only,
// to a role with the linkage-review purpose, and each view is audited.
type LinkPerson struct {
	Key         LinkKey
	GivenName   string
	FamilyName  string
	DateOfBirth string
	Sex         string
	Address     string
	Postcode    string
	UPRN        string
	NINumber    string
	DateOfDeath string
}

// LinkPairView is a pair with the details of its two records (nil for a
// record the import did not find).
type LinkPairView struct {
	Pair LinkPair
	A, B *LinkPerson
}

// LinkDecision is a reviewer's decision on a pair (A before B in key order).
type LinkDecision struct {
	A, B    LinkKey
	Verdict LinkVerdict
	UserID  int64
	By      string
	At      time.Time
}

// LinkReviewImport is a review queue to load: its pairs in queue order
// (the most uncertain first; ID, Position and the decision are
// ignored) and the details of the records they name.
type LinkReviewImport struct {
	Pairs  []LinkPair
	People []LinkPerson
	// Summary, when known, counts what the queue leaves to the model.
	Summary *LinkReviewSummary
}

// LinkReviewSummary counts what an imported queue holds and what it leaves
// to the linkage model: the pairs near the threshold, the decisions (join
// two residents, or split one) they come down to, and those left as the
// model made them because the queue is sized to a steward's week.
type LinkReviewSummary struct {
	Size            int // the most decisions the queue holds (0: no limit)
	NearThreshold   int // record pairs near the threshold
	Decisions       int // what they come down to
	AlreadyReviewed int // decisions a reviewer's earlier decision settles
	ByModel         int // decisions left as the model made them
	ByModelLinked   int // of which kept as one resident
	ByModelApart    int // of which kept as two
	ByModelPairs    int // record pairs those decisions hold
}

// LinkQueueCounts are the sizes of the review queue.
type LinkQueueCounts struct {
	Pairs   int // pairs in the queue
	Decided int // of which decided
	// Summary is the imported queue's summary; nil when it came without one.
	Summary *LinkReviewSummary
}

// Left returns the pairs still to decide.
func (c LinkQueueCounts) Left() int { return c.Pairs - c.Decided }

// LinkQueueQuery selects a page of the review queue, by position.
type LinkQueueQuery struct {
	Undecided bool // only pairs without a decision
	Offset    int
	Limit     int // 0 for 50; at most 500
}

// orderKeys returns a and b in key order.
func orderKeys(a, b LinkKey) (LinkKey, LinkKey) {
	if b.less(a) {
		return b, a
	}
	return a, b
}

func checkKey(field string, k LinkKey) error {
	if k.Source == "" || k.RecordID == "" {
		return invalidf(field, "source and record id must not be empty")
	}
	if err := checkText(field+".source", k.Source); err != nil {
		return err
	}
	return checkText(field+".record_id", k.RecordID)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func (d *db) ImportLinkReview(ctx context.Context, imp LinkReviewImport) (LinkQueueCounts, error) {
	type pairRow struct {
		a, b   LinkKey
		fields string
		p      *LinkPair
	}
	rows := make([]pairRow, len(imp.Pairs))
	seen := make(map[[2]LinkKey]int, len(imp.Pairs))
	for i := range imp.Pairs {
		p := &imp.Pairs[i]
		at := fmt.Sprintf("pairs[%d]", i)
		if err := checkKey(at+".a", p.A); err != nil {
			return LinkQueueCounts{}, fmt.Errorf("import review queue: %w", err)
		}
		if err := checkKey(at+".b", p.B); err != nil {
			return LinkQueueCounts{}, fmt.Errorf("import review queue: %w", err)
		}
		a, b := orderKeys(p.A, p.B)
		switch {
		case a == b:
			return LinkQueueCounts{}, fmt.Errorf("import review queue: %w", invalidf(at, "record %s paired with itself", a))
		case !finite(p.Weight):
			return LinkQueueCounts{}, fmt.Errorf("import review queue: %w", invalidf(at+".weight", "%v is not finite", p.Weight))
		case !(p.Prob >= 0 && p.Prob <= 1):
			return LinkQueueCounts{}, fmt.Errorf("import review queue: %w", invalidf(at+".prob", "%v is not in [0, 1]", p.Prob))
		}
		if j, dup := seen[[2]LinkKey{a, b}]; dup {
			return LinkQueueCounts{}, fmt.Errorf("import review queue: %w", invalidf(at, "the pair %s, %s is also pairs[%d]", a, b, j))
		}
		seen[[2]LinkKey{a, b}] = i
		for j, f := range p.Fields {
			fat := fmt.Sprintf("%s.fields[%d]", at, j)
			switch {
			case f.Field == "" || !validText(f.Field) || !validText(f.Level):
				return LinkQueueCounts{}, fmt.Errorf("import review queue: %w", invalidf(fat, "field name empty or not valid text"))
			case !finite(f.Weight):
				return LinkQueueCounts{}, fmt.Errorf("import review queue: %w", invalidf(fat+".weight", "%v is not finite", f.Weight))
			}
		}
		fields := p.Fields
		if fields == nil {
			fields = []LinkField{}
		}
		js, err := json.Marshal(fields)
		if err != nil {
			return LinkQueueCounts{}, fmt.Errorf("import review queue: %s.fields: %w", at, err)
		}
		rows[i] = pairRow{a: a, b: b, fields: string(js), p: p}
	}
	if sm := imp.Summary; sm != nil {
		for name, v := range map[string]int{"size": sm.Size, "near_threshold": sm.NearThreshold, "decisions": sm.Decisions,
			"already_reviewed": sm.AlreadyReviewed, "by_model": sm.ByModel, "by_model_linked": sm.ByModelLinked,
			"by_model_apart": sm.ByModelApart, "by_model_pairs": sm.ByModelPairs} {
			if v < 0 {
				return LinkQueueCounts{}, fmt.Errorf("import review queue: %w", invalidf("summary."+name, "%d: a count must not be negative", v))
			}
		}
	}
	people := make(map[LinkKey]bool, len(imp.People))
	for i := range imp.People {
		pp := &imp.People[i]
		at := fmt.Sprintf("people[%d]", i)
		if err := checkKey(at, pp.Key); err != nil {
			return LinkQueueCounts{}, fmt.Errorf("import review queue: %w", err)
		}
		if people[pp.Key] {
			return LinkQueueCounts{}, fmt.Errorf("import review queue: %w", invalidf(at, "record %s given twice", pp.Key))
		}
		people[pp.Key] = true
		for _, v := range pp.values() {
			if !validText(v) {
				return LinkQueueCounts{}, fmt.Errorf("import review queue: %w", invalidf(at, "a detail of record %s is not valid UTF-8 text (or contains NUL)", pp.Key))
			}
		}
	}
	now := micros(d.now())
	var counts LinkQueueCounts
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lock(ctx, tx, "link_review"); err != nil {
			return err
		}
		for _, t := range []string{"link_review_pairs", "link_review_people", "link_review_summary"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
				return fmt.Errorf("clear %s: %w", t, err)
			}
		}
		err := d.insertMany(ctx, tx, `INSERT INTO link_review_people (source, record_id, given_name, family_name, date_of_birth, sex,
			address, postcode, uprn, ni_number, date_of_death)`, 11, len(imp.People), func(i int) []any {
			pp := &imp.People[i]
			return append([]any{pp.Key.Source, pp.Key.RecordID}, toAny(pp.values())...)
		})
		if err != nil {
			return err
		}
		err = d.insertMany(ctx, tx, `INSERT INTO link_review_pairs (position, source_a, record_id_a, source_b, record_id_b,
			match_weight, match_probability, linked, fields, imported_at)`, 10, len(rows), func(i int) []any {
			r := &rows[i]
			linked := 0
			if r.p.Linked {
				linked = 1
			}
			return []any{i + 1, r.a.Source, r.a.RecordID, r.b.Source, r.b.RecordID, r.p.Weight, r.p.Prob, linked, r.fields, now}
		})
		if err != nil {
			return err
		}
		if sm := imp.Summary; sm != nil {
			_, err := tx.ExecContext(ctx, d.q(`INSERT INTO link_review_summary (id, queue_size, near_threshold, decisions,
				already_reviewed, by_model, by_model_linked, by_model_apart, by_model_pairs, imported_at)
				VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), sm.Size, sm.NearThreshold, sm.Decisions, sm.AlreadyReviewed,
				sm.ByModel, sm.ByModelLinked, sm.ByModelApart, sm.ByModelPairs, now)
			if err != nil {
				return fmt.Errorf("store the queue's summary: %w", err)
			}
		}
		counts, err = linkCounts(ctx, tx)
		return err
	})
	if err != nil {
		return LinkQueueCounts{}, fmt.Errorf("import review queue: %w", err)
	}
	return counts, nil
}

func (p *LinkPerson) values() []string {
	return []string{p.GivenName, p.FamilyName, p.DateOfBirth, p.Sex, p.Address, p.Postcode, p.UPRN, p.NINumber, p.DateOfDeath}
}

func toAny(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// linkDecisionJoin joins a pair to its decision.
const linkDecisionJoin = `LEFT JOIN link_review_decisions d ON d.source_a = p.source_a AND d.record_id_a = p.record_id_a
	AND d.source_b = p.source_b AND d.record_id_b = p.record_id_b`

const linkPairCols = `p.id, p.position, p.source_a, p.record_id_a, p.source_b, p.record_id_b, p.match_weight, p.match_probability,
	p.linked, p.fields, COALESCE(d.decision, ''), COALESCE(d.decided_by, ''), d.decided_at`

func linkCounts(ctx context.Context, q querier) (LinkQueueCounts, error) {
	var c LinkQueueCounts
	err := q.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(d.decision) FROM link_review_pairs p `+linkDecisionJoin).Scan(&c.Pairs, &c.Decided)
	if err != nil {
		return LinkQueueCounts{}, fmt.Errorf("count the review queue: %w", err)
	}
	var sm LinkReviewSummary
	err = q.QueryRowContext(ctx, `SELECT queue_size, near_threshold, decisions, already_reviewed, by_model, by_model_linked,
		by_model_apart, by_model_pairs FROM link_review_summary WHERE id = 1`).Scan(&sm.Size, &sm.NearThreshold, &sm.Decisions,
		&sm.AlreadyReviewed, &sm.ByModel, &sm.ByModelLinked, &sm.ByModelApart, &sm.ByModelPairs)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return LinkQueueCounts{}, fmt.Errorf("read the review queue's summary: %w", err)
	default:
		c.Summary = &sm
	}
	return c, nil
}

func scanLinkPair(sc interface{ Scan(...any) error }) (LinkPair, error) {
	var p LinkPair
	var linked int
	var fields, verdict string
	var at sql.NullInt64
	if err := sc.Scan(&p.ID, &p.Position, &p.A.Source, &p.A.RecordID, &p.B.Source, &p.B.RecordID, &p.Weight, &p.Prob,
		&linked, &fields, &verdict, &p.DecidedBy, &at); err != nil {
		return LinkPair{}, err
	}
	p.Linked, p.Decision, p.DecidedAt = linked == 1, LinkVerdict(verdict), fromNullMicros(at)
	if err := json.Unmarshal([]byte(fields), &p.Fields); err != nil {
		return LinkPair{}, fmt.Errorf("pair %d: stored fields: %w", p.ID, err)
	}
	return p, nil
}

func (d *db) LinkQueue(ctx context.Context, q LinkQueueQuery) ([]LinkPair, LinkQueueCounts, error) {
	switch {
	case q.Offset < 0:
		return nil, LinkQueueCounts{}, fmt.Errorf("review queue: %w", invalidf("offset", "must not be negative, got %d", q.Offset))
	case q.Limit < 0:
		return nil, LinkQueueCounts{}, fmt.Errorf("review queue: %w", invalidf("limit", "must not be negative, got %d", q.Limit))
	case q.Limit == 0:
		q.Limit = 50
	case q.Limit > 500:
		q.Limit = 500
	}
	where := ``
	if q.Undecided {
		where = ` WHERE d.decision IS NULL`
	}
	rows, err := d.read().QueryContext(ctx, d.q(`SELECT `+linkPairCols+` FROM link_review_pairs p `+linkDecisionJoin+where+
		` ORDER BY p.position LIMIT ? OFFSET ?`), q.Limit, q.Offset)
	if err != nil {
		return nil, LinkQueueCounts{}, fmt.Errorf("review queue: %w", err)
	}
	defer rows.Close()
	var out []LinkPair
	for rows.Next() {
		p, err := scanLinkPair(rows)
		if err != nil {
			return nil, LinkQueueCounts{}, fmt.Errorf("review queue: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, LinkQueueCounts{}, fmt.Errorf("review queue: %w", err)
	}
	c, err := linkCounts(ctx, d.read())
	if err != nil {
		return nil, LinkQueueCounts{}, fmt.Errorf("review queue: %w", err)
	}
	return out, c, nil
}

func (d *db) LinkPair(ctx context.Context, id int64) (LinkPairView, error) {
	p, err := scanLinkPair(d.read().QueryRowContext(ctx, d.q(`SELECT `+linkPairCols+` FROM link_review_pairs p `+linkDecisionJoin+
		` WHERE p.id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return LinkPairView{}, fmt.Errorf("review pair %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return LinkPairView{}, fmt.Errorf("review pair %d: %w", id, err)
	}
	v := LinkPairView{Pair: p}
	for _, side := range []struct {
		k   LinkKey
		dst **LinkPerson
	}{{p.A, &v.A}, {p.B, &v.B}} {
		pp := LinkPerson{Key: side.k}
		err := d.read().QueryRowContext(ctx, d.q(`SELECT given_name, family_name, date_of_birth, sex, address, postcode, uprn,
			ni_number, date_of_death FROM link_review_people WHERE source = ? AND record_id = ?`), side.k.Source, side.k.RecordID).
			Scan(&pp.GivenName, &pp.FamilyName, &pp.DateOfBirth, &pp.Sex, &pp.Address, &pp.Postcode, &pp.UPRN, &pp.NINumber, &pp.DateOfDeath)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return LinkPairView{}, fmt.Errorf("review pair %d: record details: %w", id, err)
		}
		*side.dst = &pp
	}
	return v, nil
}

func (d *db) NextLinkPair(ctx context.Context, after int) (LinkPair, error) {
	q := d.q(`SELECT ` + linkPairCols + ` FROM link_review_pairs p ` + linkDecisionJoin +
		` WHERE d.decision IS NULL AND p.position > ? ORDER BY p.position LIMIT 1`)
	for _, from := range []int{after, 0} {
		p, err := scanLinkPair(d.read().QueryRowContext(ctx, q, from))
		if errors.Is(err, sql.ErrNoRows) {
			if from == 0 {
				break
			}
			continue
		}
		if err != nil {
			return LinkPair{}, fmt.Errorf("next review pair: %w", err)
		}
		return p, nil
	}
	return LinkPair{}, fmt.Errorf("next review pair: %w", ErrNotFound)
}

func (d *db) DecideLinkPair(ctx context.Context, id int64, v LinkVerdict, userID int64, by string) (LinkDecision, error) {
	if _, err := ParseLinkVerdict(string(v)); err != nil {
		return LinkDecision{}, fmt.Errorf("decide review pair %d: %w", id, err)
	}
	if by == "" || !validText(by) {
		return LinkDecision{}, fmt.Errorf("decide review pair %d: %w", id, invalidf("by", "empty or not valid text"))
	}
	dec := LinkDecision{Verdict: v, UserID: userID, By: by, At: fromMicros(micros(d.now()))}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, d.q(`SELECT source_a, record_id_a, source_b, record_id_b FROM link_review_pairs WHERE id = ?`), id).
			Scan(&dec.A.Source, &dec.A.RecordID, &dec.B.Source, &dec.B.RecordID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("review pair %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, d.q(`INSERT INTO link_review_decisions (source_a, record_id_a, source_b, record_id_b,
			decision, user_id, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (source_a, record_id_a, source_b, record_id_b) DO UPDATE SET
			decision = excluded.decision, user_id = excluded.user_id, decided_by = excluded.decided_by, decided_at = excluded.decided_at`),
			dec.A.Source, dec.A.RecordID, dec.B.Source, dec.B.RecordID, string(v), userID, by, micros(dec.At))
		return err
	})
	if err != nil {
		return LinkDecision{}, fmt.Errorf("decide review pair %d: %w", id, err)
	}
	return dec, nil
}

func (d *db) LinkDecisions(ctx context.Context) ([]LinkDecision, error) {
	rows, err := d.read().QueryContext(ctx, `SELECT source_a, record_id_a, source_b, record_id_b, decision, user_id, decided_by, decided_at
		FROM link_review_decisions ORDER BY decided_at, source_a, record_id_a, source_b, record_id_b`)
	if err != nil {
		return nil, fmt.Errorf("review decisions: %w", err)
	}
	defer rows.Close()
	var out []LinkDecision
	for rows.Next() {
		var dec LinkDecision
		var v string
		var at int64
		if err := rows.Scan(&dec.A.Source, &dec.A.RecordID, &dec.B.Source, &dec.B.RecordID, &v, &dec.UserID, &dec.By, &at); err != nil {
			return nil, fmt.Errorf("review decisions: %w", err)
		}
		dec.Verdict, dec.At = LinkVerdict(v), fromMicros(at)
		out = append(out, dec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("review decisions: %w", err)
	}
	return out, nil
}
