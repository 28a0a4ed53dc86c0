package target

import (
	"strings"
	"testing"
)

func TestFrequency(t *testing.T) {
	for _, tc := range []struct {
		p    float64
		want string
	}{
		{0.939, "about 9 in 10"}, {0.96, "more than 9 in 10"}, {0.5, "about 5 in 10"}, {0.33, "about 3 in 10"},
		{0.1, "about 1 in 10"}, {0.05, "about 1 in 20"}, {0.041, "about 1 in 25"}, {0.0101, "about 1 in 100"},
		{0.0012, "about 1 in 750"}, {0.00101, "about 1 in 1,000"}, {0.0004, "fewer than 1 in 1,000"}, {1.5, "an unknown number"},
	} {
		if got := Frequency(tc.p); got != tc.want {
			t.Errorf("Frequency(%g) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestBands(t *testing.T) {
	for _, tc := range []struct {
		p    float64
		want string
	}{{0.99, "high"}, {0.5, "high"}, {0.4999, "medium"}, {0.2, "medium"}, {0.19, "low"}, {0, "low"}} {
		if got := BandOf(tc.p); got != tc.want {
			t.Errorf("BandOf(%g) = %q, want %q", tc.p, got, tc.want)
		}
	}
	bs := Bands()
	for i := 1; i < len(bs); i++ {
		if bs[i].From >= bs[i-1].From {
			t.Errorf("bands not highest first: %v", bs)
		}
	}
	if bs[len(bs)-1].From != 0 {
		t.Error("the lowest band does not start at 0")
	}
}

func TestInWords(t *testing.T) {
	got := Of(ComplexCase).InWords(0.91)
	if !strings.HasPrefix(got, "About 9 in 10 residents scored like this had a crisis in their household within a year") {
		t.Errorf("InWords: %q", got)
	}
	got = Of(TenancyFraud).InWords(0.05)
	if got != "About 1 in 20 investigated tenancies scored like this were found to be fraudulent within a year." {
		t.Errorf("InWords: %q", got)
	}
	for _, tg := range All() {
		if tg.Population == "" || tg.Outcome == "" {
			t.Errorf("%s has no words for natural frequencies", tg.Name)
		}
	}
}
