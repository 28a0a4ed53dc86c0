package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
)

// ingest is a single-view load in one transaction.
type ingest struct {
	d       *db
	tx      *sql.Tx
	cleared map[string]bool
	done    bool
}

func (d *db) BeginIngest(ctx context.Context) (Ingest, error) {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin single-view ingest: %w", err)
	}
	return &ingest{d: d, tx: tx, cleared: map[string]bool{}}, nil
}

// clear empties a table the first time the load touches it.
func (in *ingest) clear(ctx context.Context, table string) error {
	if in.done {
		return fmt.Errorf("ingest %s: the load is already committed or rolled back", table)
	}
	if in.cleared[table] {
		return nil
	}
	if _, err := in.tx.ExecContext(ctx, `DELETE FROM `+table); err != nil {
		return fmt.Errorf("ingest %s: clear: %w", table, err)
	}
	in.cleared[table] = true
	return nil
}

// fail rolls the load back and returns err.
func (in *ingest) fail(err error) error {
	in.Rollback()
	return err
}

func (in *ingest) AddResidents(ctx context.Context, rs []Resident) error {
	for i, r := range rs {
		if r.ID == "" {
			return in.fail(fmt.Errorf("ingest residents: %w", invalidf(fmt.Sprintf("residents[%d].resident_id", i), "empty")))
		}
		for _, f := range [...]struct{ field, v string }{
			{"date_of_birth", r.DateOfBirth}, {"first_seen", r.FirstSeen}, {"date_of_death", r.DateOfDeath},
		} {
			if field, v := f.field, f.v; v != "" && !validDate(v) {
				// The value is personal data: name the field, not the value.
				return in.fail(fmt.Errorf("ingest residents: %w", invalidf(fmt.Sprintf("residents[%d].%s", i, field), "not a YYYY-MM-DD date")))
			}
		}
	}
	if err := in.clear(ctx, "residents"); err != nil {
		return in.fail(err)
	}
	err := in.d.insertMany(ctx, in.tx, `INSERT INTO residents (resident_id, given_name, family_name, date_of_birth, sex, first_seen, date_of_death)`,
		7, len(rs), func(i int) []any {
			r := &rs[i]
			return []any{r.ID, r.GivenName, r.FamilyName, r.DateOfBirth, r.Sex, r.FirstSeen, r.DateOfDeath}
		})
	if err != nil {
		return in.fail(fmt.Errorf("ingest residents: %w", err))
	}
	return nil
}

func (in *ingest) AddProperties(ctx context.Context, ps []Property) error {
	for i, p := range ps {
		if p.UPRN <= 0 {
			return in.fail(fmt.Errorf("ingest properties: %w", invalidf(fmt.Sprintf("properties[%d].uprn", i), "must be positive, got %d", p.UPRN)))
		}
	}
	if err := in.clear(ctx, "properties"); err != nil {
		return in.fail(err)
	}
	err := in.d.insertMany(ctx, in.tx, `INSERT INTO properties (uprn, address, postcode, ward, property_type, tenure, bedrooms, council_tax_band)`,
		8, len(ps), func(i int) []any {
			p := &ps[i]
			return []any{p.UPRN, p.Address, p.Postcode, p.Ward, p.PropertyType, p.Tenure, p.Bedrooms, p.CouncilTaxBand}
		})
	if err != nil {
		return in.fail(fmt.Errorf("ingest properties: %w", err))
	}
	return nil
}

func (in *ingest) AddResidences(ctx context.Context, rs []Residence) error {
	for i, r := range rs {
		at := fmt.Sprintf("residences[%d]", i)
		switch {
		case r.ResidentID == "":
			return in.fail(fmt.Errorf("ingest residences: %w", invalidf(at+".resident_id", "empty")))
		case !validDate(r.Start):
			return in.fail(fmt.Errorf("ingest residences: %w", invalidf(at+".start_date", "%q is not a YYYY-MM-DD date", r.Start)))
		case r.End != "" && !validDate(r.End):
			return in.fail(fmt.Errorf("ingest residences: %w", invalidf(at+".end_date", "%q is not a YYYY-MM-DD date", r.End)))
		}
	}
	if err := in.clear(ctx, "residences"); err != nil {
		return in.fail(err)
	}
	err := in.d.insertMany(ctx, in.tx, `INSERT INTO residences (resident_id, uprn, start_date, end_date, relationship)`,
		5, len(rs), func(i int) []any {
			r := &rs[i]
			return []any{r.ResidentID, r.UPRN, r.Start, r.End, r.Relationship}
		})
	if err != nil {
		return in.fail(fmt.Errorf("ingest residences: %w", err))
	}
	return nil
}

func (in *ingest) AddEvents(ctx context.Context, es []Event) error {
	for i, e := range es {
		at := fmt.Sprintf("events[%d]", i)
		switch {
		case e.ResidentID == "":
			return in.fail(fmt.Errorf("ingest events: %w", invalidf(at+".resident_id", "empty")))
		case e.Service == "":
			return in.fail(fmt.Errorf("ingest events: %w", invalidf(at+".service", "empty")))
		case !validDate(e.Date):
			return in.fail(fmt.Errorf("ingest events: %w", invalidf(at+".event_date", "%q is not a YYYY-MM-DD date", e.Date)))
		case e.HasAmount && (math.IsNaN(e.Amount) || math.IsInf(e.Amount, 0)):
			return in.fail(fmt.Errorf("ingest events: %w", invalidf(at+".amount", "%g is not finite", e.Amount)))
		}
	}
	if err := in.clear(ctx, "events"); err != nil {
		return in.fail(err)
	}
	err := in.d.insertMany(ctx, in.tx, `INSERT INTO events (resident_id, service, event_date, event_type, uprn, amount, detail)`,
		7, len(es), func(i int) []any {
			e := &es[i]
			var amount any
			if e.HasAmount {
				amount = e.Amount
			}
			return []any{e.ResidentID, e.Service, e.Date, e.Type, e.UPRN, amount, e.Detail}
		})
	if err != nil {
		return in.fail(fmt.Errorf("ingest events: %w", err))
	}
	return nil
}

func (in *ingest) Commit() error {
	if in.done {
		return errors.New("commit single-view ingest: already committed or rolled back")
	}
	in.done = true
	if err := in.tx.Commit(); err != nil {
		return fmt.Errorf("commit single-view ingest: %w", err)
	}
	return nil
}

func (in *ingest) Rollback() error {
	if in.done {
		return nil
	}
	in.done = true
	if err := in.tx.Rollback(); err != nil {
		return fmt.Errorf("roll back single-view ingest: %w", err)
	}
	return nil
}

func (d *db) Resident(ctx context.Context, id string) (ResidentView, error) {
	var v ResidentView
	r := &v.Resident
	err := d.sql.QueryRowContext(ctx, d.q(`SELECT resident_id, given_name, family_name, date_of_birth, sex, first_seen, date_of_death
		FROM residents WHERE resident_id = ?`), id).Scan(&r.ID, &r.GivenName, &r.FamilyName, &r.DateOfBirth, &r.Sex, &r.FirstSeen, &r.DateOfDeath)
	if errors.Is(err, sql.ErrNoRows) {
		return ResidentView{}, fmt.Errorf("resident %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return ResidentView{}, fmt.Errorf("read resident %s: %w", id, err)
	}
	rows, err := d.sql.QueryContext(ctx, d.q(`SELECT r.resident_id, r.uprn, r.start_date, r.end_date, r.relationship,
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

func (d *db) Timeline(ctx context.Context, residentID string, q TimelineQuery) ([]Event, error) {
	if q.From != "" && !validDate(q.From) {
		return nil, fmt.Errorf("timeline: %w", invalidf("from", "%q is not a YYYY-MM-DD date", q.From))
	}
	if q.To != "" && !validDate(q.To) {
		return nil, fmt.Errorf("timeline: %w", invalidf("to", "%q is not a YYYY-MM-DD date", q.To))
	}
	switch {
	case q.Limit < 0:
		return nil, fmt.Errorf("timeline: %w", invalidf("limit", "must not be negative, got %d", q.Limit))
	case q.Limit == 0:
		q.Limit = 500
	case q.Limit > 5000:
		q.Limit = 5000
	}
	where, args := `resident_id = ?`, []any{residentID}
	if q.From != "" {
		where += ` AND event_date >= ?`
		args = append(args, q.From)
	}
	if q.To != "" {
		where += ` AND event_date <= ?`
		args = append(args, q.To)
	}
	rows, err := d.sql.QueryContext(ctx, d.q(`SELECT resident_id, service, event_date, event_type, uprn, amount, detail
		FROM events WHERE `+where+` ORDER BY event_date DESC, service, event_type LIMIT ?`), append(args, q.Limit)...)
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
