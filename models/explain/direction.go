package explain

import (
	"fmt"
	"math"
)

// Directions a feature spec may declare: the effect on the risk that
// domain knowledge expects of a feature.
const (
	// Increasing: the risk rises (or stays level) as the value rises.
	Increasing = "increasing"
	// Decreasing: the risk falls (or stays level) as the value rises.
	Decreasing = "decreasing"
)

// DirectionSign returns +1 for Increasing, -1 for Decreasing and 0 for no
// declared direction; an unknown word is an error.
func DirectionSign(direction string) (int8, error) {
	switch direction {
	case Increasing:
		return 1, nil
	case Decreasing:
		return -1, nil
	case "":
		return 0, nil
	}
	return 0, fmt.Errorf("direction %q: want %s or %s", direction, Increasing, Decreasing)
}

// AtLowEnd reports whether v is at the low-risk end of f's declared
// direction: the lowest value seen in training for an increasing feature
// (no contact, no arrears), the highest for a decreasing one. Without a
// training range an increasing feature's low end is 0 and a decreasing
// feature has none.
func AtLowEnd(f FeatureInfo, v float64) bool {
	d, _ := DirectionSign(f.Direction)
	switch {
	case d == 0 || math.IsNaN(v):
		return false
	case len(f.Range) == 2 && d > 0:
		return v <= f.Range[0]
	case len(f.Range) == 2:
		return v >= f.Range[1]
	case d > 0:
		return v <= 0
	}
	return false
}

// WrongWay reports whether a reason from feature f with value v and
// contribution contrib runs against the feature's declared direction, as a
// person would read it: a value away from the low-risk end that lowered the
// risk ("a child protection enquiry in the household lowered the risk",
// "a crisis in the household in June 2022 lowered the risk"), or a value at
// the low-risk end that raised it ("no contact with children's social care
// raised the risk"). A missing value, or a feature with no declared
// direction, is never wrong-way.
func WrongWay(f FeatureInfo, v, contrib float64) bool {
	d, _ := DirectionSign(f.Direction)
	if d == 0 || math.IsNaN(v) || contrib == 0 || math.IsNaN(contrib) {
		return false
	}
	if len(f.Range) != 2 && d < 0 {
		return false // no known low end to read a decreasing feature against
	}
	low := AtLowEnd(f, v)
	return contrib < 0 && !low || contrib > 0 && low
}

// SignCorrelation is the Pearson correlation between a feature's values and
// its contributions over the rows where the value is recorded: positive
// when the model's learned effect rises with the value. It returns NaN
// when fewer than two rows have a value or either side does not vary.
func SignCorrelation(values, contribs []float64) float64 {
	var n, sx, sy float64
	for i, v := range values {
		if math.IsNaN(v) || math.IsNaN(contribs[i]) {
			continue
		}
		n++
		sx += v
		sy += contribs[i]
	}
	if n < 2 {
		return math.NaN()
	}
	mx, my := sx/n, sy/n
	var cxy, cxx, cyy float64
	for i, v := range values {
		if math.IsNaN(v) || math.IsNaN(contribs[i]) {
			continue
		}
		dx, dy := v-mx, contribs[i]-my
		cxy += dx * dy
		cxx += dx * dx
		cyy += dy * dy
	}
	if cxx == 0 || cyy == 0 {
		return math.NaN()
	}
	return cxy / math.Sqrt(cxx*cyy)
}
