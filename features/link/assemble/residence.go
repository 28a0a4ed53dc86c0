package assemble

import (
	"cmp"
	"slices"

	"caserisk/features/contract"
)

// Residence inference. The raw extracts hold no residence history: where a
// person lived is read from the dated UPRNs on the person's service rows.
//
//   - Sightings. Every row of a source file that carries a uprn is a
//     sighting of the person at that UPRN on the row's event date; a period
//     row (tenancy, electoral registration) gives one at its start and, when
//     closed, one at its end. Rows of fraud_investigations are not
//     sightings: their uprn is the investigated tenancy's home, which the
//     person may not live in (that is the point of the investigation). In
//     the synthetic borough (features/synth emit.go) every other file's
//     uprn is the household's home on the row's date.
//   - Runs. Sightings sorted by date form runs of the same UPRN. A short
//     run (at most noiseMax sightings) between two runs at the same UPRN is
//     noise — a registration kept at an old address, a row keyed to the
//     wrong address — and is merged into its neighbours. Each remaining run
//     is a stay.
//   - Boundaries. A stay starts at its first sighting (the first stay at the
//     person's first appearance in any row, or at birth when the person was
//     born within the history before any row) and ends the day before the
//     next stay's first sighting: the move happened at some point between
//     the last sighting at the old address and the first at the new one,
//     and the first sighting at the new address is the date a service
//     learnt of the move.
//   - The last stay is open, unless the person died (it ends on the date of
//     death; a stay starting after the death is dropped) or nothing was seen
//     of the person for MovedAwayAfter months (default 12) before the
//     extract's end: the person has most likely left the borough, and the
//     stay ends on the last day anything was seen of them. An open tenancy
//     or registration counts as being seen at the extract's end. People who
//     leave simply stop appearing in the council's systems; without this
//     rule they would stay in every later household for ever, inflating
//     household sizes and the population. Twelve months because a person
//     living in the borough shows up somewhere at least yearly (council tax
//     quarterly for the liable adult, school terms for a child, benefit
//     reviews every April) and because the extract reaches 12 months past the
//     as-of date (the label window): on the synthetic borough (20,000
//     residents, true links) 12 months leave 2.6% of the people placed in
//     the borough at the as-of date wrongly there against 8.3% at 18 months,
//     for 0.9 points less agreement with the true homes (91.4% against
//     92.3%). Ending at the last sighting rather than a grace period later
//     measured best too (a 90-day grace doubles the wrongly present).
//   - People with no dated sighting (children known only to schools, say)
//     get one stay at the UPRN their person records most often hold — a
//     record without a UPRN counts the one its address matches in the
//     gazetteer (address.go) — from their first appearance, closed by the
//     same rules. People with neither have no residence: they are in
//     residents.csv but in no household (and not in the feature table).
//   - relationship is left empty (unknown): no source says who is the
//     household's reference person.
//
// Agreement with the truth (the oracle's mapping; CompareResidences): on a
// 240,000-resident borough, 91.1% of the people living in the borough at
// the as-of date are placed at their true home, 0.1% at another, 8.8%
// nowhere (most of them known to no source at all, so in no raw extract),
// and 2.4% more are placed in the borough while the truth has them gone;
// 89.6% of the true resident-days over the history are at the true UPRN.

// noiseMax is the most sightings a run between two runs at the same UPRN
// may have and still be read as noise.
const noiseMax = 2

// DefaultMovedAwayAfter is the default Options.MovedAwayAfter, in months.
const DefaultMovedAwayAfter = 12

// sighting is a person seen at a UPRN on a day.
type sighting struct {
	day  contract.Day
	uprn int64
}

// personFacts is what the inference knows about one person.
type personFacts struct {
	sightings []sighting   // sorted by day, then uprn; no exact duplicates
	first     contract.Day // earliest date on any of the person's rows; NoDay if none
	last      contract.Day // latest date anything was seen of the person; NoDay if none
	birth     contract.Day // date of birth; NoDay if unknown
	death     contract.Day // date of death; NoDay if none
	fallback  int64        // the person records' UPRN; 0 if none
}

// stay is one inferred residence.
type stay struct {
	uprn       int64
	start, end contract.Day // end is NoDay while open
}

// rules are the dataset-wide inputs of the inference.
type rules struct {
	historyStart contract.Day // the first day of the extract's history
	extractEnd   contract.Day // the last day the data covers
	movedAway    int          // months without a sighting that close the last stay
}

// how a person's last stay ended, for the report.
const (
	endOpen = iota
	endDeath
	endMovedAway
)

// inferStays returns the person's stays in date order, how the last one
// ended, and how many noise runs were merged.
func inferStays(p *personFacts, r rules) (stays []stay, ending int, merged int) {
	type run struct {
		uprn  int64
		first contract.Day
		n     int
	}
	var runs []run
	for _, s := range p.sightings {
		if p.death != contract.NoDay && s.day > p.death {
			break // rows about the home after the death (rent still charged) are not sightings
		}
		if k := len(runs); k > 0 && runs[k-1].uprn == s.uprn {
			runs[k-1].n++
		} else {
			runs = append(runs, run{s.uprn, s.day, 1})
		}
		for k := len(runs); k >= 3 && runs[k-2].n <= noiseMax && runs[k-3].uprn == runs[k-1].uprn; k = len(runs) {
			runs[k-3].n += runs[k-1].n
			runs = runs[:k-2]
			merged++
		}
	}
	if len(runs) == 0 {
		if p.fallback == 0 {
			return nil, endOpen, 0
		}
		start := p.first
		if start == contract.NoDay {
			start = r.historyStart
		}
		runs = append(runs, run{p.fallback, start, 0})
	}
	// The first stay starts at the person's first appearance, or at birth
	// when born within the history before any row.
	start0 := min(runs[0].first, p.first)
	if p.birth != contract.NoDay && p.birth >= r.historyStart && p.birth < start0 {
		start0 = p.birth
	}
	if start0 == contract.NoDay { // p.first is NoDay only with no rows; runs[0].first is set
		start0 = runs[0].first
	}
	runs[0].first = start0
	stays = make([]stay, 0, len(runs))
	for i, rn := range runs {
		end := contract.NoDay
		if i+1 < len(runs) {
			end = runs[i+1].first - 1
		}
		if end != contract.NoDay && end < rn.first {
			continue // two addresses first seen the same day: the later run wins
		}
		if k := len(stays); k > 0 && stays[k-1].uprn == rn.uprn {
			stays[k-1].end = end
			continue
		}
		stays = append(stays, stay{rn.uprn, rn.first, end})
	}
	last := &stays[len(stays)-1]
	switch {
	case p.death != contract.NoDay:
		// Stays are already cut at the first sighting after death; the
		// last one ends at death unless it starts after it.
		for len(stays) > 0 && stays[len(stays)-1].start > p.death {
			stays = stays[:len(stays)-1]
		}
		if len(stays) == 0 {
			return nil, endDeath, merged
		}
		last = &stays[len(stays)-1]
		if last.end == contract.NoDay || last.end > p.death {
			last.end = p.death
		}
		ending = endDeath
	case r.movedAway > 0 && (p.last == contract.NoDay || p.last < r.extractEnd.AddMonths(-r.movedAway)):
		last.end = max(p.last, last.start)
		if p.last == contract.NoDay {
			last.end = last.start
		}
		ending = endMovedAway
	}
	return stays, ending, merged
}

// sortSightings sorts s by day and UPRN and drops exact duplicates.
func sortSightings(s []sighting) []sighting {
	slices.SortFunc(s, func(a, b sighting) int {
		if c := cmp.Compare(a.day, b.day); c != 0 {
			return c
		}
		return cmp.Compare(a.uprn, b.uprn)
	})
	return slices.Compact(s)
}
