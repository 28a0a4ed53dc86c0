package explain

import (
	"context"
	"fmt"
	"math"
	"strings"
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
// feature has none. A decreasing feature whose template dates an event
// ({when}: "a crisis in the household in June 2022") has none either:
// its low-risk end is no such event at all, a missing value, however long
// ago a recorded one was.
func AtLowEnd(f FeatureInfo, v float64) bool {
	d, _ := DirectionSign(f.Direction)
	switch {
	case d == 0 || math.IsNaN(v):
		return false
	case d < 0 && datesEvent(f):
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
	if len(f.Range) != 2 && d < 0 && !datesEvent(f) {
		return false // no known low end to read a decreasing feature against
	}
	low := AtLowEnd(f, v)
	return contrib < 0 && !low || contrib > 0 && low
}

// datesEvent reports whether f's template dates an event ({when}, or the
// older "{value} days ago").
func datesEvent(f FeatureInfo) bool {
	return strings.Contains(f.Template, "{when}") || strings.Contains(f.Template, "{value} days ago")
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

// DirectionAudit is what AuditDirections finds for one feature with a
// declared direction.
type DirectionAudit struct {
	Feature   string `json:"feature"`
	Direction string `json:"direction"`
	// Correlation is SignCorrelation of the feature's values and its
	// contributions over the rows: the sign of the effect the model learned
	// (NaN when it cannot be measured: the feature does not vary or the
	// model does not use it).
	Correlation float64 `json:"-"`
	// Withheld counts the rows where a reason from the feature would have
	// been among the k shown each way but ran against its direction, and
	// was left out (WrongWay).
	Withheld int `json:"withheld"`
}

// AuditDirections checks a model's learned effects against its features'
// declared directions over the rows of a column-major table (cols[j][i] is
// feature j of row i): for each feature with a direction, the correlation
// of its values with its contributions, and how many rows' reasons (k each
// way, as Explain picks them) had a reason from it withheld. Features
// without a direction are left out.
func AuditDirections(ctx context.Context, c Contributor, infos []FeatureInfo, cols [][]float64, k int) ([]DirectionAudit, error) {
	nf := c.NumFeatures()
	if len(infos) != nf {
		return nil, fmt.Errorf("explain: %d feature descriptions for a model with %d features", len(infos), nf)
	}
	var dirs []int
	for j, f := range infos {
		if d, err := DirectionSign(f.Direction); err != nil {
			return nil, fmt.Errorf("explain: feature %s: %w", f.Name, err)
		} else if d != 0 {
			dirs = append(dirs, j)
		}
	}
	out := make([]DirectionAudit, len(dirs))
	if len(dirs) == 0 {
		return out, nil
	}
	n := 0
	if nf > 0 {
		n = len(cols[0])
	}
	phi := make([][]float64, len(dirs)) // per directed feature, its contribution in each row
	for d := range dirs {
		phi[d] = make([]float64, 0, n)
	}
	x := make([]float64, nf)
	err := eachBlock(ctx, c, cols, func(lo int, block []float64) error {
		for i := 0; i < len(block)/(nf+1); i++ {
			row := block[i*(nf+1) : (i+1)*(nf+1)]
			for d, j := range dirs {
				phi[d] = append(phi[d], row[j])
			}
			for j := range x {
				x[j] = cols[j][lo+i]
			}
			_, _, withheld := pick(infos, x, row, k)
			for _, j := range withheld {
				for d, dj := range dirs {
					if dj == j {
						out[d].Withheld++
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for d, j := range dirs {
		out[d].Feature, out[d].Direction = infos[j].Name, infos[j].Direction
		out[d].Correlation = SignCorrelation(cols[j], phi[d])
	}
	return out, nil
}
