package explain_test

import (
	"fmt"
	"math"

	"caserisk/models/explain"
	"caserisk/models/tree"
)

// A stump on feature 1 (rent arrears): 40 training rows below £500 with
// output -0.5, 60 at or above with output +1; missing values go left.
func ExampleTreeSHAP() {
	e := &tree.Ensemble{Base: -2, NumFeatures: 2, Trees: []tree.Tree{{
		Left:        []int32{1, -1, -1},
		Right:       []int32{2, -1, -1},
		Feature:     []int32{1, -1, -1},
		Threshold:   []float64{500, 0, 0},
		DefaultLeft: []bool{true, false, false},
		Value:       []float64{0, -0.5, 1},
		Cover:       []float64{100, 40, 60},
		Gain:        []float64{12, 0, 0},
	}}}
	ex := explain.TreeSHAP(e)
	out := make([]float64, 3)
	for _, x := range [][]float64{{3, 1240}, {3, 0}, {3, math.NaN()}} {
		ex.Contributions(x, out)
		fmt.Printf("contributions %+.2f %+.2f, bias %+.2f, margin %+.2f\n", out[0], out[1], out[2], e.Margin(x))
	}
	// Output:
	// contributions +0.00 +0.60, bias -1.60, margin -1.00
	// contributions +0.00 -0.90, bias -1.60, margin -2.50
	// contributions +0.00 -0.90, bias -1.60, margin -2.50
}
