package target

import (
	"fmt"
	"math"
)

// Band is a named range of calibrated probability. The bands are fixed:
// the same thresholds for every model and every score run of every
// target, so "high" means the same thing on every page and every day.
type Band struct {
	Name string // "high", "medium" or "low"
	// From is the lowest calibrated probability in the band (inclusive);
	// the band runs up to the next band's From.
	From float64
	// Meaning says what the band means, in words a page prints.
	Meaning string
}

// The thresholds of the bands.
const (
	HighFrom   = 0.5 // at least 1 in 2
	MediumFrom = 0.2 // at least 1 in 5
)

var bands = []Band{
	{Name: "high", From: HighFrom, Meaning: "1 in 2 or more (50%+)"},
	{Name: "medium", From: MediumFrom, Meaning: "1 in 5 to 1 in 2 (20–49%)"},
	{Name: "low", From: 0, Meaning: "under 1 in 5 (under 20%)"},
}

// Bands returns the bands, highest first.
func Bands() []Band { return append([]Band(nil), bands...) }

// BandOf returns the name of the band of a calibrated probability.
func BandOf(p float64) string {
	for _, b := range bands {
		if p >= b.From {
			return b.Name
		}
	}
	return "low"
}

// Frequency says a probability as a natural frequency: "about 9 in 10",
// "about 1 in 20", "fewer than 1 in 1,000". Frequencies of 1 in 10 and
// above are in tenths; below, "1 in N" with N rounded to a number people
// use (20, 25, 50, 100, …).
func Frequency(p float64) string {
	switch {
	case math.IsNaN(p) || p < 0 || p > 1:
		return "an unknown number"
	case p >= 0.95:
		return "more than 9 in 10"
	case p >= 0.095:
		return fmt.Sprintf("about %d in 10", int(math.Round(p*10)))
	case p < 0.001:
		return "fewer than 1 in 1,000"
	}
	n := 1 / p
	best := 0
	for _, m := range []int{10, 12, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000} {
		if best == 0 || math.Abs(math.Log(float64(m)/n)) < math.Abs(math.Log(float64(best)/n)) {
			best = m
		}
	}
	if best == 1000 {
		return "about 1 in 1,000"
	}
	return fmt.Sprintf("about 1 in %d", best)
}

// InWords says a calibrated probability of the target as a sentence with
// a natural frequency: "About 9 in 10 residents scored like this had a
// crisis in their household within a year: …".
func (t Target) InWords(p float64) string {
	f := Frequency(p)
	return fmt.Sprintf("%s%s %s scored like this %s.", string(f[0]-'a'+'A'), f[1:], t.Population, t.Outcome)
}
