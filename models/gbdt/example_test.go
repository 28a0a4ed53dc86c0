package gbdt_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"caserisk/models/gbdt"
	"caserisk/models/tree"
)

// ExampleTrain fits a small model where the risk rises with the first
// feature, scores new rows with the compiled predictor, and converts the
// margins to probabilities.
func ExampleTrain() {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 2000
	x0, x1 := make([]float64, n), make([]float64, n)
	y := make([]float64, n)
	for i := range n {
		x0[i], x1[i] = rng.Float64(), rng.Float64()
		if rng.Float64() < x0[i] {
			y[i] = 1
		}
	}
	p := gbdt.DefaultParams()
	p.Rounds, p.MaxDepth, p.LearningRate = 20, 2, 0.2
	p.Monotone = []int8{1, 0} // risk may only rise with feature 0
	res, err := gbdt.Train(context.Background(), [][]float64{x0, x1}, y, nil, nil, p)
	if err != nil {
		panic(err)
	}
	c, err := tree.Compile(res.Ensemble)
	if err != nil {
		panic(err)
	}
	margins := make([]float64, 3)
	if err := c.Margins([][]float64{{0.1, 0.5}, {0.9, 0.5}, {math.NaN(), 0.5}}, margins); err != nil {
		panic(err)
	}
	low, high := 1/(1+math.Exp(-margins[0])), 1/(1+math.Exp(-margins[1]))
	fmt.Println("trees:", len(res.Ensemble.Trees))
	fmt.Println("feature 0 drives the model:", res.Gain[0] > res.Gain[1])
	fmt.Println("risk rises with feature 0:", low < high)
	// Output:
	// trees: 20
	// feature 0 drives the model: true
	// risk rises with feature 0: true
}
