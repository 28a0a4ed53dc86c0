package assemble

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"

	"caserisk/features/contract"
)

// Agreement measures inferred residences against true ones for the same
// resident ids (the assembler applied to the oracle's mapping).
type Agreement struct {
	AsOf string `json:"as_of"`
	// At the as-of date, with the feature builder's reading (a resident's
	// home is the open residence with the latest start): residents living
	// in the borough by the truth, and of those how many the inference
	// places at the same UPRN, at another UPRN, or nowhere; and residents
	// the inference places in the borough whom the truth does not.
	TrueResidents int     `json:"true_residents"`
	SameUPRN      int     `json:"same_uprn"`
	OtherUPRN     int     `json:"other_uprn"`
	Missing       int     `json:"missing"`
	Extra         int     `json:"extra"`
	ShareAtAsOf   float64 `json:"share_at_as_of"` // SameUPRN / TrueResidents
	// Over the days From..To: resident-days living in the borough by the
	// truth, and the share of them at the same UPRN by the inference; and
	// resident-days placed by the inference where the truth has the person
	// elsewhere or away.
	From        string  `json:"from"`
	To          string  `json:"to"`
	TrueDays    int64   `json:"true_days"`
	SameDays    int64   `json:"same_days"`
	WrongDays   int64   `json:"wrong_days"`
	ShareOfDays float64 `json:"share_of_days"`
	ExtraDays   int64   `json:"extra_days"` // inferred resident-days where the truth has no residence
}

// span is a stay as a timeline piece: uprn from start to end inclusive.
type span struct {
	start, end contract.Day
	uprn       int64
}

// CompareResidences compares the residences.csv of outDir (inferred) with
// that of truthDir, by resident id: at the as-of date and over the days
// from..to (inclusive).
func CompareResidences(ctx context.Context, truthDir, outDir string, asOf, from, to contract.Day) (*Agreement, error) {
	truth, err := readTimelines(ctx, truthDir, to)
	if err != nil {
		return nil, err
	}
	inf, err := readTimelines(ctx, outDir, to)
	if err != nil {
		return nil, err
	}
	a := &Agreement{AsOf: asOf.String(), From: from.String(), To: to.String()}
	for id, ts := range truth {
		is := inf[id]
		tu, iu := at(ts, asOf), at(is, asOf)
		if tu != 0 {
			a.TrueResidents++
			switch iu {
			case tu:
				a.SameUPRN++
			case 0:
				a.Missing++
			default:
				a.OtherUPRN++
			}
		} else if iu != 0 {
			a.Extra++
		}
		same, wrong, extra, days := overlap(ts, is, from, to)
		a.TrueDays += days
		a.SameDays += same
		a.WrongDays += wrong
		a.ExtraDays += extra
	}
	for id, is := range inf {
		if _, ok := truth[id]; ok {
			continue
		}
		if at(is, asOf) != 0 {
			a.Extra++
		}
		_, _, extra, _ := overlap(nil, is, from, to)
		a.ExtraDays += extra
	}
	if a.TrueResidents > 0 {
		a.ShareAtAsOf = float64(a.SameUPRN) / float64(a.TrueResidents)
	}
	if a.TrueDays > 0 {
		a.ShareOfDays = float64(a.SameDays) / float64(a.TrueDays)
	}
	return a, nil
}

// readTimelines reads residences.csv in dir into, per resident, a timeline
// of non-overlapping spans: each stay holds from its start until its end
// or the next stay's start, whichever is first (the builder's reading: the
// open stay with the latest start is the home). Open stays end at to.
func readTimelines(ctx context.Context, dir string, to contract.Day) (map[string][]span, error) {
	c := contract.Default()
	f, _ := c.File("residences")
	r, err := contract.Open(dir, f)
	if err != nil {
		return nil, fmt.Errorf("compare residences: %w", err)
	}
	defer r.Close()
	cID, cU, cS, cE := colIndex(f, "resident_id"), colIndex(f, "uprn"), colIndex(f, "start_date"), colIndex(f, "end_date")
	out := make(map[string][]span)
	for n := 0; ; n++ {
		if n&0xffff == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("compare residences: %w", err)
		}
		end := row.Day[cE]
		if end == contract.NoDay || end > to {
			end = to
		}
		id := clone(row.Str[cID])
		out[id] = append(out[id], span{row.Day[cS], end, int64(row.Num[cU])})
	}
	for id, ss := range out {
		slices.SortFunc(ss, func(a, b span) int { return cmp.Compare(a.start, b.start) })
		for i := range len(ss) - 1 {
			ss[i].end = min(ss[i].end, ss[i+1].start-1)
		}
		out[id] = slices.DeleteFunc(ss, func(s span) bool { return s.end < s.start })
	}
	return out, nil
}

// at returns the UPRN of the timeline on d, or 0.
func at(ss []span, d contract.Day) int64 {
	for _, s := range ss {
		if s.start <= d && d <= s.end {
			return s.uprn
		}
	}
	return 0
}

// overlap counts, over from..to, the days of truth ts (days), the days
// where is agrees (same), where is places the person at another UPRN
// (wrong), and the days is places the person where ts has none (extra).
func overlap(ts, is []span, from, to contract.Day) (same, wrong, extra, days int64) {
	clip := func(s span) (contract.Day, contract.Day) { return max(s.start, from), min(s.end, to) }
	for _, t := range ts {
		a, b := clip(t)
		if a > b {
			continue
		}
		days += int64(b - a + 1)
		for _, s := range is {
			c, d := clip(s)
			lo, hi := max(a, c), min(b, d)
			if lo > hi {
				continue
			}
			if s.uprn == t.uprn {
				same += int64(hi - lo + 1)
			} else {
				wrong += int64(hi - lo + 1)
			}
		}
	}
	for _, s := range is {
		c, d := clip(s)
		if c > d {
			continue
		}
		covered := int64(0)
		for _, t := range ts {
			a, b := clip(t)
			if lo, hi := max(a, c), min(b, d); lo <= hi {
				covered += int64(hi - lo + 1)
			}
		}
		extra += int64(d-c+1) - covered
	}
	return same, wrong, extra, days
}
