package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// singleViewClaim is the claim a single-view load holds (see Claim).
const singleViewClaim = "single_view"

// svTable is a single-view table and its columns.
type svTable struct{ name, cols string }

// singleViewTables lists the single-view tables, in the order loads copy them.
func singleViewTables() []svTable {
	return []svTable{
		{"residents", "resident_id, given_name, family_name, date_of_birth, sex, first_seen, date_of_death"},
		{"properties", "uprn, address, postcode, ward, property_type, tenure, bedrooms, council_tax_band"},
		{"residences", "resident_id, uprn, start_date, end_date, relationship"},
		{"events", "resident_id, service, event_date, event_type, uprn, amount, detail"},
	}
}

// ingest is a single-view load. Rows go to the *_load staging tables in
// short transactions; Commit copies the loaded tables into the live ones
// in one transaction, replacing them.
type ingest struct {
	d       *db
	claim   *Claim
	touched map[string]bool
	done    bool
}

func (d *db) BeginIngest(ctx context.Context) (Ingest, error) {
	return d.BeginIngestAs(ctx, ClaimOptions{})
}

func (d *db) BeginIngestAs(ctx context.Context, o ClaimOptions) (Ingest, error) {
	cl, err := d.Claim(ctx, singleViewClaim, o)
	if err != nil {
		return nil, fmt.Errorf("begin single-view load: %w", err)
	}
	in := &ingest{d: d, claim: cl, touched: map[string]bool{}}
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		if err := cl.check(ctx, tx); err != nil {
			return err
		}
		return d.clearStaging(ctx, tx)
	})
	if err != nil {
		cl.Release()
		return nil, fmt.Errorf("begin single-view load: %w", err)
	}
	return in, nil
}

// clearStaging empties the staging tables quickly: TRUNCATE on
// PostgreSQL; on SQLite a DELETE without WHERE, which SQLite performs by
// dropping the table's pages rather than row by row.
func (d *db) clearStaging(ctx context.Context, tx *sql.Tx) error {
	for _, t := range singleViewTables() {
		q := `DELETE FROM ` + t.name + `_load`
		if d.dialect == Postgres {
			q = `TRUNCATE ` + t.name + `_load`
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("clear %s_load: %w", t.name, err)
		}
	}
	return nil
}

// checkClaim verifies, inside tx, that this load still holds its claim.
func (in *ingest) checkClaim(ctx context.Context, tx *sql.Tx) error {
	if err := in.claim.check(ctx, tx); err != nil {
		return fmt.Errorf("the load lost its claim: %w", err)
	}
	return nil
}

// add validates nothing: it writes n rows to table's staging table in one
// transaction.
func (in *ingest) add(ctx context.Context, table string, n int, row func(i int) []any) error {
	if in.done {
		return fmt.Errorf("load %s: the load is already committed or rolled back", table)
	}
	var cols string
	for _, t := range singleViewTables() {
		if t.name == table {
			cols = t.cols
		}
	}
	err := in.d.inTx(ctx, func(tx *sql.Tx) error {
		if err := in.checkClaim(ctx, tx); err != nil {
			return err
		}
		ncols := 1
		for _, c := range cols {
			if c == ',' {
				ncols++
			}
		}
		return in.d.insertMany(ctx, tx, `INSERT INTO `+table+`_load (`+cols+`)`, ncols, n, row)
	})
	if err != nil {
		return in.fail(fmt.Errorf("load %s: %w", table, err))
	}
	in.touched[table] = true
	return nil
}

// fail abandons the load and returns err.
func (in *ingest) fail(err error) error {
	if rbErr := in.Rollback(); rbErr != nil {
		return errors.Join(err, rbErr)
	}
	return err
}

func (in *ingest) AddResidents(ctx context.Context, rs []Resident) error {
	for i, r := range rs {
		if r.ID == "" {
			return in.fail(fmt.Errorf("load residents: %w", invalidf(fmt.Sprintf("residents[%d].resident_id", i), "empty")))
		}
		for _, f := range [...]struct{ field, v string }{
			{"resident_id", r.ID}, {"given_name", r.GivenName}, {"family_name", r.FamilyName}, {"sex", r.Sex},
		} {
			if err := checkText(fmt.Sprintf("residents[%d].%s", i, f.field), f.v); err != nil {
				return in.fail(fmt.Errorf("load residents: %w", err))
			}
		}
		for _, f := range [...]struct{ field, v string }{
			{"date_of_birth", r.DateOfBirth}, {"first_seen", r.FirstSeen}, {"date_of_death", r.DateOfDeath},
		} {
			if f.v != "" && !validDate(f.v) {
				// The value is personal data: name the field, not the value.
				return in.fail(fmt.Errorf("load residents: %w", invalidf(fmt.Sprintf("residents[%d].%s", i, f.field), "not a YYYY-MM-DD date")))
			}
		}
	}
	return in.add(ctx, "residents", len(rs), func(i int) []any {
		r := &rs[i]
		return []any{r.ID, r.GivenName, r.FamilyName, r.DateOfBirth, r.Sex, r.FirstSeen, r.DateOfDeath}
	})
}

func (in *ingest) AddProperties(ctx context.Context, ps []Property) error {
	for i, p := range ps {
		if p.UPRN <= 0 {
			return in.fail(fmt.Errorf("load properties: %w", invalidf(fmt.Sprintf("properties[%d].uprn", i), "must be positive, got %d", p.UPRN)))
		}
		for _, f := range [...]struct{ field, v string }{
			{"address", p.Address}, {"postcode", p.Postcode}, {"ward", p.Ward}, {"property_type", p.PropertyType},
			{"tenure", p.Tenure}, {"council_tax_band", p.CouncilTaxBand},
		} {
			if err := checkText(fmt.Sprintf("properties[%d].%s", i, f.field), f.v); err != nil {
				return in.fail(fmt.Errorf("load properties: %w", err))
			}
		}
	}
	return in.add(ctx, "properties", len(ps), func(i int) []any {
		p := &ps[i]
		return []any{p.UPRN, p.Address, p.Postcode, p.Ward, p.PropertyType, p.Tenure, p.Bedrooms, p.CouncilTaxBand}
	})
}

func (in *ingest) AddResidences(ctx context.Context, rs []Residence) error {
	for i, r := range rs {
		at := fmt.Sprintf("residences[%d]", i)
		switch {
		case r.ResidentID == "" || !validText(r.ResidentID):
			return in.fail(fmt.Errorf("load residences: %w", invalidf(at+".resident_id", "empty or not valid text")))
		case !validText(r.Relationship):
			return in.fail(fmt.Errorf("load residences: %w", invalidf(at+".relationship", "not valid text")))
		case !validDate(r.Start):
			return in.fail(fmt.Errorf("load residences: %w", invalidf(at+".start_date", "%q is not a YYYY-MM-DD date", r.Start)))
		case r.End != "" && !validDate(r.End):
			return in.fail(fmt.Errorf("load residences: %w", invalidf(at+".end_date", "%q is not a YYYY-MM-DD date", r.End)))
		}
	}
	return in.add(ctx, "residences", len(rs), func(i int) []any {
		r := &rs[i]
		return []any{r.ResidentID, r.UPRN, r.Start, r.End, r.Relationship}
	})
}

func (in *ingest) AddEvents(ctx context.Context, es []Event) error {
	for i, e := range es {
		at := fmt.Sprintf("events[%d]", i)
		switch {
		case e.ResidentID == "" || !validText(e.ResidentID):
			return in.fail(fmt.Errorf("load events: %w", invalidf(at+".resident_id", "empty or not valid text")))
		case e.Service == "" || !validText(e.Service):
			return in.fail(fmt.Errorf("load events: %w", invalidf(at+".service", "empty or not valid text")))
		case !validText(e.Type) || !validText(e.Detail):
			return in.fail(fmt.Errorf("load events: %w", invalidf(at+".detail", "event type or detail is not valid text")))
		case !validDate(e.Date):
			return in.fail(fmt.Errorf("load events: %w", invalidf(at+".event_date", "%q is not a YYYY-MM-DD date", e.Date)))
		case e.HasAmount && (math.IsNaN(e.Amount) || math.IsInf(e.Amount, 0)):
			return in.fail(fmt.Errorf("load events: %w", invalidf(at+".amount", "%g is not finite", e.Amount)))
		}
	}
	return in.add(ctx, "events", len(es), func(i int) []any {
		e := &es[i]
		var amount any
		if e.HasAmount {
			amount = e.Amount
		}
		return []any{e.ResidentID, e.Service, e.Date, e.Type, e.UPRN, amount, e.Detail}
	})
}

func (in *ingest) Commit() error {
	if in.done {
		return errors.New("commit single-view load: already committed or rolled back")
	}
	in.done = true
	// The copy must finish once started: it is not tied to a caller's
	// context that may be cancelled half way (the transaction would roll
	// back, but the load would be lost).
	ctx := context.Background()
	err := in.d.inTx(ctx, func(tx *sql.Tx) error {
		if err := in.d.lock(ctx, tx, "ingest"); err != nil {
			return err
		}
		if err := in.checkClaim(ctx, tx); err != nil {
			return err
		}
		// Swap by renaming: O(1) whatever the size of the load. The old
		// rows end up in the staging table, cleared by the next load.
		for _, t := range singleViewTables() {
			if !in.touched[t.name] {
				continue
			}
			for _, q := range []string{
				`ALTER TABLE ` + t.name + ` RENAME TO ` + t.name + `_swap`,
				`ALTER TABLE ` + t.name + `_load RENAME TO ` + t.name,
				`ALTER TABLE ` + t.name + `_swap RENAME TO ` + t.name + `_load`,
			} {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("replace %s: %w", t.name, err)
				}
			}
		}
		_, err := tx.ExecContext(ctx, in.d.q(`DELETE FROM claims WHERE name = ? AND id = ?`), singleViewClaim, in.claim.id)
		return err
	})
	if err != nil {
		in.release()
		return fmt.Errorf("commit single-view load: %w", err)
	}
	in.claim.halt()
	return nil
}

func (in *ingest) Rollback() error {
	if in.done {
		return nil
	}
	in.done = true
	return in.release()
}

// release clears the staging tables and the claim, if the load still holds it.
func (in *ingest) release() error {
	ctx := context.Background()
	err := in.d.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, in.d.q(`DELETE FROM claims WHERE name = ? AND id = ?`), singleViewClaim, in.claim.id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another load owns the staging tables now
		}
		return in.d.clearStaging(ctx, tx)
	})
	in.claim.halt()
	if err != nil {
		return fmt.Errorf("abandon single-view load: %w", err)
	}
	return nil
}
func (d *db) Resident(ctx context.Context, id string) (ResidentView, error) {
	if !validText(id) {
		return ResidentView{}, fmt.Errorf("resident: %w", ErrNotFound)
	}
	var v ResidentView
	r := &v.Resident
	err := d.read().QueryRowContext(ctx, d.q(`SELECT resident_id, given_name, family_name, date_of_birth, sex, first_seen, date_of_death
		FROM residents WHERE resident_id = ?`), id).Scan(&r.ID, &r.GivenName, &r.FamilyName, &r.DateOfBirth, &r.Sex, &r.FirstSeen, &r.DateOfDeath)
	if errors.Is(err, sql.ErrNoRows) {
		return ResidentView{}, fmt.Errorf("resident %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return ResidentView{}, fmt.Errorf("read resident %s: %w", id, err)
	}
	rows, err := d.read().QueryContext(ctx, d.q(`SELECT r.resident_id, r.uprn, r.start_date, r.end_date, r.relationship,
		COALESCE(p.uprn, 0), COALESCE(p.address, ''), COALESCE(p.postcode, ''), COALESCE(p.ward, ''),
		COALESCE(p.property_type, ''), COALESCE(p.tenure, ''), COALESCE(p.bedrooms, 0), COALESCE(p.council_tax_band, '')
		FROM residences r LEFT JOIN properties p ON p.uprn = r.uprn
		WHERE r.resident_id = ? ORDER BY r.start_date DESC`), id)
	if err != nil {
		return ResidentView{}, fmt.Errorf("read resident %s residences: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s Stay
		p := &s.Property
		if err := rows.Scan(&s.ResidentID, &s.UPRN, &s.Start, &s.End, &s.Relationship,
			&p.UPRN, &p.Address, &p.Postcode, &p.Ward, &p.PropertyType, &p.Tenure, &p.Bedrooms, &p.CouncilTaxBand); err != nil {
			return ResidentView{}, fmt.Errorf("read resident %s residences: %w", id, err)
		}
		v.Stays = append(v.Stays, s)
	}
	if err := rows.Err(); err != nil {
		return ResidentView{}, fmt.Errorf("read resident %s residences: %w", id, err)
	}
	return v, nil
}

// timelineWhere builds the WHERE clause of a resident's events under q; ok
// is false when nothing stored can match.
func timelineWhere(residentID string, q TimelineQuery) (where string, args []any, ok bool, err error) {
	if q.From != "" && !validDate(q.From) {
		return "", nil, false, fmt.Errorf("timeline: %w", invalidf("from", "%q is not a YYYY-MM-DD date", q.From))
	}
	if q.To != "" && !validDate(q.To) {
		return "", nil, false, fmt.Errorf("timeline: %w", invalidf("to", "%q is not a YYYY-MM-DD date", q.To))
	}
	if !validText(residentID) {
		return "", nil, false, nil
	}
	where, args = `resident_id = ?`, []any{residentID}
	if q.From != "" {
		where += ` AND event_date >= ?`
		args = append(args, q.From)
	}
	if q.To != "" {
		where += ` AND event_date <= ?`
		args = append(args, q.To)
	}
	if q.Services != nil {
		if len(q.Services) == 0 {
			return "", nil, false, nil // no service's events may be shown
		}
		where += ` AND service IN (` + placeholders(len(q.Services)) + `)`
		for _, s := range q.Services {
			if !validText(s) {
				return "", nil, false, nil
			}
			args = append(args, s)
		}
	}
	return where, args, true, nil
}

func (d *db) Timeline(ctx context.Context, residentID string, q TimelineQuery) ([]Event, error) {
	switch {
	case q.Limit < 0:
		return nil, fmt.Errorf("timeline: %w", invalidf("limit", "must not be negative, got %d", q.Limit))
	case q.Limit == 0:
		q.Limit = 500
	case q.Limit > 5000:
		q.Limit = 5000
	}
	if q.Offset < 0 {
		return nil, fmt.Errorf("timeline: %w", invalidf("offset", "must not be negative, got %d", q.Offset))
	}
	where, args, ok, err := timelineWhere(residentID, q)
	if err != nil || !ok {
		return nil, err
	}
	rows, err := d.read().QueryContext(ctx, d.q(`SELECT resident_id, service, event_date, event_type, uprn, amount, detail
		FROM events WHERE `+where+` ORDER BY event_date DESC, service, event_type LIMIT ? OFFSET ?`), append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("resident %s timeline: %w", residentID, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var amount sql.NullFloat64
		if err := rows.Scan(&e.ResidentID, &e.Service, &e.Date, &e.Type, &e.UPRN, &amount, &e.Detail); err != nil {
			return nil, fmt.Errorf("resident %s timeline: %w", residentID, err)
		}
		e.Amount, e.HasAmount = amount.Float64, amount.Valid
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("resident %s timeline: %w", residentID, err)
	}
	return out, nil
}

func (d *db) Household(ctx context.Context, residentID string) ([]HouseholdMember, error) {
	if !validText(residentID) {
		return nil, fmt.Errorf("household: %w", ErrNotFound)
	}
	var n int
	if err := d.read().QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM residents WHERE resident_id = ?`), residentID).Scan(&n); err != nil {
		return nil, fmt.Errorf("household of %s: %w", residentID, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("household of %s: %w", residentID, ErrNotFound)
	}
	// The current stay: an open one first, then the latest start.
	var uprn int64
	var start, end string
	err := d.read().QueryRowContext(ctx, d.q(`SELECT uprn, start_date, end_date FROM residences WHERE resident_id = ?
		ORDER BY CASE WHEN end_date = '' THEN 0 ELSE 1 END, start_date DESC LIMIT 1`), residentID).Scan(&uprn, &start, &end)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("household of %s: current residence: %w", residentID, err)
	}
	// Others there now (open stays) or, for an ended stay, whose stay
	// overlapped it. end_date '' is open, so it sorts before any date and is
	// tested for explicitly.
	q := `SELECT r.resident_id, r.relationship, r.start_date, r.end_date, COALESCE(p.date_of_birth, '')
		FROM residences r LEFT JOIN residents p ON p.resident_id = r.resident_id
		WHERE r.uprn = ? AND r.resident_id <> ? AND r.end_date = ''
		ORDER BY r.resident_id, r.start_date DESC`
	args := []any{uprn, residentID}
	if end != "" {
		q = `SELECT r.resident_id, r.relationship, r.start_date, r.end_date, COALESCE(p.date_of_birth, '')
		FROM residences r LEFT JOIN residents p ON p.resident_id = r.resident_id
		WHERE r.uprn = ? AND r.resident_id <> ? AND r.start_date <= ? AND (r.end_date = '' OR r.end_date >= ?)
		ORDER BY r.resident_id, r.start_date DESC`
		args = append(args, end, start)
	}
	rows, err := d.read().QueryContext(ctx, d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("household of %s: %w", residentID, err)
	}
	defer rows.Close()
	var out []HouseholdMember
	for rows.Next() {
		var m HouseholdMember
		var dob string
		if err := rows.Scan(&m.ResidentID, &m.Relationship, &m.Start, &m.End, &dob); err != nil {
			return nil, fmt.Errorf("household of %s: %w", residentID, err)
		}
		if len(out) > 0 && out[len(out)-1].ResidentID == m.ResidentID {
			continue // an earlier stay of the same member; the latest is kept
		}
		if len(dob) >= 4 {
			m.BirthYear, _ = strconv.Atoi(dob[:4])
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("household of %s: %w", residentID, err)
	}
	return out, nil
}
