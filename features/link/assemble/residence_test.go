package assemble

import (
	"fmt"
	"slices"
	"testing"

	"caserisk/features/contract"
)

func TestInferStays(t *testing.T) {
	d := contract.MustParseDay
	none := contract.NoDay
	r := rules{historyStart: d("2020-01-01"), extractEnd: d("2024-12-31"), movedAway: 12}
	type sg = sighting
	const A, B, C = 1001, 1002, 1003
	cases := []struct {
		name   string
		p      personFacts
		want   []stay
		ending int
		merged int
	}{
		{"single sighting, seen lately: open",
			personFacts{sightings: []sg{{d("2024-06-01"), A}}, first: d("2024-06-01"), last: d("2024-06-01")},
			[]stay{{A, d("2024-06-01"), none}}, endOpen, 0},
		{"single sighting long ago: ends there (moved away)",
			personFacts{sightings: []sg{{d("2021-06-01"), A}}, first: d("2021-06-01"), last: d("2021-06-01")},
			[]stay{{A, d("2021-06-01"), d("2021-06-01")}}, endMovedAway, 0},
		{"a move: the old stay ends the day before the first sighting at the new home",
			personFacts{sightings: []sg{{d("2020-03-01"), A}, {d("2021-03-01"), A}, {d("2021-05-10"), B}, {d("2024-10-01"), B}},
				first: d("2020-03-01"), last: d("2024-10-01")},
			[]stay{{A, d("2020-03-01"), d("2021-05-09")}, {B, d("2021-05-10"), none}}, endOpen, 0},
		{"two moves and a move back",
			personFacts{sightings: []sg{{d("2020-03-01"), A}, {d("2021-01-01"), B}, {d("2021-02-01"), B}, {d("2021-03-01"), B}, {d("2022-01-01"), A}, {d("2024-12-01"), A}},
				first: d("2020-03-01"), last: d("2024-12-01")},
			[]stay{{A, d("2020-03-01"), d("2020-12-31")}, {B, d("2021-01-01"), d("2021-12-31")}, {A, d("2022-01-01"), none}}, endOpen, 0},
		{"a short run between two runs at one home is noise",
			personFacts{sightings: []sg{{d("2020-03-01"), A}, {d("2020-06-01"), C}, {d("2020-07-01"), C}, {d("2020-09-01"), A}, {d("2024-09-01"), A}},
				first: d("2020-03-01"), last: d("2024-09-01")},
			[]stay{{A, d("2020-03-01"), none}}, endOpen, 1},
		{"death ends the stay; sightings after it are ignored",
			personFacts{sightings: []sg{{d("2015-01-01"), A}, {d("2023-01-01"), A}, {d("2023-06-01"), B}},
				first: d("2015-01-01"), last: seenAtEnd, death: d("2023-03-03")},
			[]stay{{A, d("2015-01-01"), d("2023-03-03")}}, endDeath, 0},
		{"death before a recorded move-in drops the later stay",
			personFacts{sightings: []sg{{d("2021-01-01"), A}, {d("2022-01-01"), B}},
				first: d("2021-01-01"), last: d("2022-01-01"), death: d("2021-06-01")},
			[]stay{{A, d("2021-01-01"), d("2021-06-01")}}, endDeath, 0},
		{"a gap: nothing seen for over 12 months before the end closes at the last sighting anywhere",
			personFacts{sightings: []sg{{d("2020-02-01"), A}, {d("2022-02-01"), A}}, first: d("2020-02-01"), last: d("2023-05-05")},
			[]stay{{A, d("2020-02-01"), d("2023-05-05")}}, endMovedAway, 0},
		{"an open period keeps the stay open however old the sightings",
			personFacts{sightings: []sg{{d("2009-01-01"), A}}, first: d("2009-01-01"), last: seenAtEnd},
			[]stay{{A, d("2009-01-01"), none}}, endOpen, 0},
		{"a closed period: start and end sightings",
			personFacts{sightings: []sg{{d("2021-02-01"), A}, {d("2022-02-01"), A}}, first: d("2021-02-01"), last: d("2022-02-01")},
			[]stay{{A, d("2021-02-01"), d("2022-02-01")}}, endMovedAway, 0},
		{"first stay starts at the first row of any kind",
			personFacts{sightings: []sg{{d("2022-02-01"), A}}, first: d("2021-09-01"), last: d("2024-09-01")},
			[]stay{{A, d("2021-09-01"), none}}, endOpen, 0},
		{"born within the history: the first stay starts at birth",
			personFacts{sightings: []sg{{d("2023-02-01"), A}}, first: d("2023-02-01"), last: d("2024-09-01"), birth: d("2021-04-04")},
			[]stay{{A, d("2021-04-04"), none}}, endOpen, 0},
		{"born before the history: no change",
			personFacts{sightings: []sg{{d("2023-02-01"), A}}, first: d("2023-02-01"), last: d("2024-09-01"), birth: d("2010-04-04")},
			[]stay{{A, d("2023-02-01"), none}}, endOpen, 0},
		{"no dated sighting: the person records' UPRN from the first row",
			personFacts{first: d("2022-09-01"), last: d("2024-07-20"), fallback: C},
			[]stay{{C, d("2022-09-01"), none}}, endOpen, 0},
		{"no dated sighting, not seen lately",
			personFacts{first: d("2020-09-01"), last: d("2021-07-20"), fallback: C},
			[]stay{{C, d("2020-09-01"), d("2021-07-20")}}, endMovedAway, 0},
		{"no UPRN anywhere: no stay",
			personFacts{first: d("2020-09-01"), last: d("2024-07-20")},
			nil, endOpen, 0},
		{"two addresses first seen the same day",
			personFacts{sightings: []sg{{d("2022-01-01"), A}, {d("2022-01-01"), B}, {d("2022-05-01"), B}}, first: d("2022-01-01"), last: d("2024-05-01")},
			[]stay{{B, d("2022-01-01"), none}}, endOpen, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			if p.birth == 0 {
				p.birth = none
			}
			if p.death == 0 {
				p.death = none
			}
			got, ending, merged := inferStays(&p, r)
			if !slices.Equal(got, tc.want) || ending != tc.ending || merged != tc.merged {
				t.Errorf("got %s ending %d merged %d\nwant %s ending %d merged %d", fmtStays(got), ending, merged, fmtStays(tc.want), tc.ending, tc.merged)
			}
		})
	}
}

func fmtStays(ss []stay) string {
	s := "["
	for _, x := range ss {
		s += fmt.Sprintf(" %d %s..%s", x.uprn, x.start, x.end)
	}
	return s + " ]"
}

func TestSortSightings(t *testing.T) {
	d := contract.MustParseDay
	got := sortSightings([]sighting{{d("2022-01-02"), 2}, {d("2022-01-01"), 5}, {d("2022-01-02"), 1}, {d("2022-01-01"), 5}})
	want := []sighting{{d("2022-01-01"), 5}, {d("2022-01-02"), 1}, {d("2022-01-02"), 2}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestVote(t *testing.T) {
	recs := func(vals ...string) []*personRecord {
		var out []*personRecord
		for _, v := range vals {
			out = append(out, &personRecord{given: v})
		}
		return out
	}
	get := func(r *personRecord) string { return r.given }
	for _, tc := range []struct {
		vals []string
		want string
	}{
		{[]string{"Ann", "Anne", "Ann"}, "Ann"},
		{[]string{"Anne", "Ann"}, "Anne"}, // a tie goes to the first met
		{[]string{"", "", "Bo"}, "Bo"},    // empty never wins
		{[]string{"", ""}, ""},
		{nil, ""},
		{[]string{"A", "B", "B", "A", "C"}, "A"},
	} {
		if got := vote(recs(tc.vals...), get, nonEmpty); got != tc.want {
			t.Errorf("vote(%q) = %q, want %q", tc.vals, got, tc.want)
		}
	}
}
