package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// ResidentSummary is what a page needs to recognise a resident: their
// record and the address of their current stay (the open one, else the
// latest). The caller filters it by purpose before showing it.
type ResidentSummary struct {
	Resident
	UPRN     int64  // 0 when no stay is recorded
	Address  string // "" when no stay is recorded or the property is not loaded
	Postcode string
}

// ResidentSearch finds residents by name, date of birth or both.
type ResidentSearch struct {
	// Name: every word must begin the given or the family name
	// (case-insensitive); "" for any name.
	Name string
	// DateOfBirth (YYYY-MM-DD) must match exactly; "" for any.
	DateOfBirth string
	// Limit is the most residents returned; 0 for 20, at most 200.
	Limit int
}

// ServiceEvents counts a resident's events of one service.
type ServiceEvents struct {
	Service string
	Events  int
	Latest  string // the latest event's date
}

// maxSummaries bounds the residents ResidentSummaries reads at once.
const maxSummaries = 1000

func (d *db) ResidentSummaries(ctx context.Context, ids []string) ([]ResidentSummary, error) {
	var keep []string
	seen := map[string]bool{}
	for _, id := range ids {
		if validText(id) && !seen[id] {
			seen[id] = true
			keep = append(keep, id)
		}
	}
	if len(keep) == 0 {
		return nil, nil
	}
	if len(keep) > maxSummaries {
		return nil, fmt.Errorf("resident summaries: %w", invalidf("ids", "at most %d at once, got %d", maxSummaries, len(keep)))
	}
	args := make([]any, len(keep))
	for i, id := range keep {
		args[i] = id
	}
	out, err := d.summaries(ctx, "resident summaries", `SELECT resident_id, given_name, family_name, date_of_birth, sex, first_seen, date_of_death
		FROM residents WHERE resident_id IN (`+placeholders(len(keep))+`)`, args...)
	if err != nil {
		return nil, err
	}
	pos := make(map[string]int, len(keep))
	for i, id := range keep {
		pos[id] = i
	}
	sort.Slice(out, func(i, j int) bool { return pos[out[i].ID] < pos[out[j].ID] })
	return out, nil
}

// likeEscape escapes LIKE's wildcards in s (the escape character is \).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// maxNameWords bounds the words of a name search.
const maxNameWords = 5

func (d *db) SearchResidents(ctx context.Context, q ResidentSearch) ([]ResidentSummary, error) {
	words := strings.Fields(strings.ToLower(q.Name))
	switch {
	case !validText(q.Name) || len(q.Name) > 100:
		return nil, fmt.Errorf("search residents: %w", invalidf("name", "not valid text or longer than 100 bytes"))
	case len(words) > maxNameWords:
		return nil, fmt.Errorf("search residents: %w", invalidf("name", "at most %d words", maxNameWords))
	case q.DateOfBirth != "" && !validDate(q.DateOfBirth):
		return nil, fmt.Errorf("search residents: %w", invalidf("dob", "%q is not a YYYY-MM-DD date", q.DateOfBirth))
	case len(words) == 0 && q.DateOfBirth == "":
		return nil, fmt.Errorf("search residents: %w", invalidf("name", "give a name, a date of birth or both"))
	case q.Limit < 0:
		return nil, fmt.Errorf("search residents: %w", invalidf("limit", "must not be negative, got %d", q.Limit))
	case q.Limit == 0:
		q.Limit = 20
	case q.Limit > 200:
		q.Limit = 200
	}
	var where []string
	var args []any
	for _, w := range words {
		where = append(where, `(LOWER(given_name) LIKE ? ESCAPE '\' OR LOWER(family_name) LIKE ? ESCAPE '\')`)
		p := likeEscape(w) + "%"
		args = append(args, p, p)
	}
	if q.DateOfBirth != "" {
		where = append(where, `date_of_birth = ?`)
		args = append(args, q.DateOfBirth)
	}
	return d.summaries(ctx, "search residents", `SELECT resident_id, given_name, family_name, date_of_birth, sex, first_seen, date_of_death
		FROM residents WHERE `+strings.Join(where, " AND ")+` ORDER BY family_name, given_name, resident_id LIMIT ?`, append(args, q.Limit)...)
}

// summaries reads residents with query (their columns in Resident's
// order) and adds each one's current address.
func (d *db) summaries(ctx context.Context, what, query string, args ...any) ([]ResidentSummary, error) {
	rows, err := d.read().QueryContext(ctx, d.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var out []ResidentSummary
	for rows.Next() {
		var s ResidentSummary
		r := &s.Resident
		if err := rows.Scan(&r.ID, &r.GivenName, &r.FamilyName, &r.DateOfBirth, &r.Sex, &r.FirstSeen, &r.DateOfDeath); err != nil {
			rows.Close()
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, s)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	idx := make(map[string]int, len(out))
	ids := make([]any, len(out))
	for i, s := range out {
		idx[s.ID], ids[i] = i, s.ID
	}
	// The current stay: an open one first, then the latest start.
	stays, err := d.read().QueryContext(ctx, d.q(`SELECT r.resident_id, r.uprn, r.start_date, r.end_date,
		COALESCE(p.address, ''), COALESCE(p.postcode, '')
		FROM residences r LEFT JOIN properties p ON p.uprn = r.uprn
		WHERE r.resident_id IN (`+placeholders(len(ids))+`)`), ids...)
	if err != nil {
		return nil, fmt.Errorf("%s: addresses: %w", what, err)
	}
	defer stays.Close()
	best := make(map[string][2]string, len(out)) // id → start, end of the stay kept
	for stays.Next() {
		var id, start, end, addr, pc string
		var uprn int64
		if err := stays.Scan(&id, &uprn, &start, &end, &addr, &pc); err != nil {
			return nil, fmt.Errorf("%s: addresses: %w", what, err)
		}
		b, had := best[id]
		if had && !(end == "" && b[1] != "" || (end == "") == (b[1] == "") && start > b[0]) {
			continue
		}
		best[id] = [2]string{start, end}
		s := &out[idx[id]]
		s.UPRN, s.Address, s.Postcode = uprn, addr, pc
	}
	if err := stays.Err(); err != nil {
		return nil, fmt.Errorf("%s: addresses: %w", what, err)
	}
	return out, nil
}

func (d *db) TimelineServices(ctx context.Context, residentID string, q TimelineQuery) ([]ServiceEvents, error) {
	where, args, ok, err := timelineWhere(residentID, q)
	if err != nil || !ok {
		return nil, err
	}
	rows, err := d.read().QueryContext(ctx, d.q(`SELECT service, COUNT(*), MAX(event_date) FROM events WHERE `+where+`
		GROUP BY service ORDER BY MAX(event_date) DESC, service`), args...)
	if err != nil {
		return nil, fmt.Errorf("resident %s timeline by service: %w", residentID, err)
	}
	defer rows.Close()
	var out []ServiceEvents
	for rows.Next() {
		var s ServiceEvents
		if err := rows.Scan(&s.Service, &s.Events, &s.Latest); err != nil {
			return nil, fmt.Errorf("resident %s timeline by service: %w", residentID, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("resident %s timeline by service: %w", residentID, err)
	}
	return out, nil
}
