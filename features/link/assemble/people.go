package assemble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"caserisk/features/contract"
)

// personRecord is what a source's person record says, as residents.csv
// needs it.
type personRecord struct {
	given, family      string
	birth, death, drec contract.Day
	uprn               int64
	sex, eth, dis      string // codes; "" where not held
}

// peopleResult is what reading one people file gave: the records, by
// record number (ix.recOff[si] onwards), and the counts.
type peopleResult struct {
	count                 FileCount
	uprnHeld, uprnMatched int
	records               []personRecord // index: record number - ix.recOff[si]
}

// readPeople reads the person records of raw source f (number si).
// A record without a UPRN is given the one its address matches in the
// gazetteer, if any.
func readPeople(ctx context.Context, rawDir string, f *contract.File, si int, ix *index, gaz *gazetteer) (*peopleResult, error) {
	pf := contract.RawPeople(f)
	res := &peopleResult{count: FileCount{File: pf.Name}}
	base := ix.recOff[si]
	res.records = make([]personRecord, ix.recOff[si+1]-base)
	r, err := contract.Open(rawDir, pf)
	if errors.Is(err, os.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return nil, fmt.Errorf("assemble: %w", err)
	}
	defer r.Close()
	c := func(name string) int { return colIndex(pf, name) }
	cRec, cGiven, cFamily, cDOB, cSex := c(contract.RawRecordID), c("given_name"), c("family_name"), c("date_of_birth"), c("sex")
	cU, cEth, cDis, cDeath, cRec2 := c("uprn"), c("ethnic_group"), c("disability"), c("date_of_death"), c("death_recorded_date")
	cAddr, cPost := c("address"), c("postcode")
	fc := &res.count
	for {
		if fc.Rows&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		fc.Rows++
		if err != nil {
			if rowFault(fc, err) {
				continue
			}
			return nil, fmt.Errorf("assemble: %w", err)
		}
		n, ok := ix.record(si, row.Str[cRec])
		if !ok {
			fc.Unmapped++
			if len(fc.Errors) < maxFileErrors {
				fc.Errors = append(fc.Errors, fmt.Sprintf("%s:%d: record %s has no resident id in the mapping", pf.Name, row.Line, row.Str[cRec]))
			}
			continue
		}
		if ix.inPeople[n] {
			fc.Rejected++
			if len(fc.Errors) < maxFileErrors {
				fc.Errors = append(fc.Errors, fmt.Sprintf("%s:%d: record %s appears twice; the first is used", pf.Name, row.Line, row.Str[cRec]))
			}
			continue
		}
		ix.inPeople[n] = true
		fc.Written++ // used
		pr := &res.records[n-base]
		pr.given, pr.family = clone(row.Str[cGiven]), clone(row.Str[cFamily])
		pr.birth, pr.death, pr.drec = row.Day[cDOB], row.Day[cDeath], row.Day[cRec2]
		if u := row.Num[cU]; u == u {
			pr.uprn = int64(u)
			res.uprnHeld++
		} else if u := gaz.match(row.Str[cAddr], row.Str[cPost]); u != 0 {
			pr.uprn = u
			res.uprnMatched++
		}
		pr.sex, pr.eth, pr.dis = code(row.Str[cSex]), code(row.Str[cEth]), code(row.Str[cDis])
	}
	return res, nil
}

// clone copies s out of the reader's buffer (a Row's strings share one
// allocation per line; keeping one would keep the whole line).
func clone(s string) string {
	if s == "" {
		return ""
	}
	return string([]byte(s))
}

// code returns the interned form of a code value, so records do not keep
// the reader's line buffers alive.
func code(s string) string {
	switch s {
	case "":
		return ""
	case "F":
		return "F"
	case "M":
		return "M"
	case "Y":
		return "Y"
	case "N":
		return "N"
	case "white":
		return "white"
	case "asian":
		return "asian"
	case "black":
		return "black"
	case "mixed":
		return "mixed"
	case "other":
		return "other"
	case "not_recorded":
		return "not_recorded"
	}
	return clone(s)
}

// resident is the voted identity of one resident.
type resident struct {
	given, family string
	birth         contract.Day
	sex, eth, dis string
	death, drec   contract.Day
	fallback      int64
	records       int
}

// vote returns the most common value of the records for which ok holds;
// a tie goes to the value met first (records are in source order, then
// record id order). It returns the zero value when none qualifies.
func vote[T comparable](recs []*personRecord, get func(*personRecord) T, ok func(T) bool) T {
	var best T
	bestN := 0
	for i, r := range recs {
		v := get(r)
		if !ok(v) {
			continue
		}
		seenBefore := false
		for _, q := range recs[:i] {
			if get(q) == v {
				seenBefore = true
				break
			}
		}
		if seenBefore {
			continue
		}
		n := 0
		for _, q := range recs[i:] {
			if get(q) == v {
				n++
			}
		}
		if n > bestN {
			best, bestN = v, n
		}
	}
	return best
}

func nonEmpty(s string) bool      { return s != "" }
func recorded(s string) bool      { return s != "" && s != "not_recorded" }
func someDay(d contract.Day) bool { return d != contract.NoDay }
func someUPRN(u int64) bool       { return u != 0 }
func orNotRecorded(s string) string {
	if s == "" {
		return "not_recorded"
	}
	return s
}

// identify votes a resident's identity from the person records.
func identify(recs []*personRecord) resident {
	p := resident{records: len(recs), birth: contract.NoDay, death: contract.NoDay, drec: contract.NoDay}
	if len(recs) == 0 {
		p.eth, p.dis = "not_recorded", "not_recorded"
		return p
	}
	p.given = vote(recs, func(r *personRecord) string { return r.given }, nonEmpty)
	p.family = vote(recs, func(r *personRecord) string { return r.family }, nonEmpty)
	if someDayIn(recs, func(r *personRecord) contract.Day { return r.birth }) {
		p.birth = vote(recs, func(r *personRecord) contract.Day { return r.birth }, someDay)
	}
	p.sex = vote(recs, func(r *personRecord) string { return r.sex }, nonEmpty)
	p.eth = orNotRecorded(vote(recs, func(r *personRecord) string { return r.eth }, recorded))
	p.dis = orNotRecorded(vote(recs, func(r *personRecord) string { return r.dis }, recorded))
	if someDayIn(recs, func(r *personRecord) contract.Day { return r.death }) {
		p.death = vote(recs, func(r *personRecord) contract.Day { return r.death }, someDay)
		for _, r := range recs {
			if r.death == p.death && r.drec != contract.NoDay && (p.drec == contract.NoDay || r.drec < p.drec) {
				p.drec = r.drec
			}
		}
	}
	p.fallback = vote(recs, func(r *personRecord) int64 { return r.uprn }, someUPRN)
	return p
}

// someDayIn reports whether any record has the day get returns.
func someDayIn(recs []*personRecord, get func(*personRecord) contract.Day) bool {
	for _, r := range recs {
		if get(r) != contract.NoDay {
			return true
		}
	}
	return false
}
