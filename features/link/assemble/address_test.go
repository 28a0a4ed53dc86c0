package assemble

import "testing"

func TestGazetteerMatch(t *testing.T) {
	g := newGazetteer()
	g.add("Flat C, 198 Weedington Road, London", "NW1 8BT", 1)
	g.add("Flat 3, 12 Abbey Road, London", "NW5 1SJ", 2)
	g.add("Flat 12, 3 Abbey Road, London", "NW5 1SJ", 3) // same words as 2: ambiguous without more
	g.add("33 Abbey Road, London", "NW5 1SJ", 4)
	g.add("33 Abbey Road, London", "NW6 2AA", 5) // same address, another postcode
	g.add("Flat 76, Kiln Place, Lismore Circus, London", "NW1 9JN", 6)
	for _, tc := range []struct {
		addr, pc string
		want     int64
	}{
		{"Flat C, 198 Weedington Road, London", "NW1 8BT", 1},
		{"Flat C, 198 Weedington Rd", "", 1},
		{"FLAT C, 198 WEEDINGTON ROAD, LONDON", "nw18bt", 1},
		{"C/198 Weedington Road, London", "NW1 8BT", 1},
		{"Flat C 198 Weedington Road", "NW1 8BT", 1},
		{"198C Weedington Road, London", "NW1 8BT", 1},
		{"Flat 76, Kiln Pl, Lismore Circ, London", "NW1 9JN", 6},
		{"33 Abbey Road", "NW5 1SJ", 4},
		{"33 Abbey Road", "NW6 2AA", 5},
		{"33 Abbey Road", "", 0},         // two properties: no match
		{"33 Abbey Road", "NW9 9ZZ", 0},  // wrong postcode, address alone ambiguous
		{"12 Abbey Road", "NW5 1SJ", 0},  // the flat dropped: no property
		{"Flat 3, 12 Abbey Road", "", 0}, // the same words as flat 12 at 3
		{"198 Weedington Road", "NW1 8BT", 0},
		{"", "NW1 8BT", 0},
	} {
		if got := g.match(tc.addr, tc.pc); got != tc.want {
			t.Errorf("match(%q, %q) = %d, want %d", tc.addr, tc.pc, got, tc.want)
		}
	}
}
