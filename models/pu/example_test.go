package pu_test

import (
	"fmt"

	"caserisk/models/pu"
)

// Three tenancies were confirmed fraudulent on investigation; the others
// are unlabelled. A classifier trained to tell the confirmed ones from the
// rest gave these probabilities on held-out rows.
func Example() {
	g := []float64{0.30, 0.24, 0.27, 0.02, 0.20, 0.01}
	s := []float64{1, 1, 1, 0, 0, 0}
	c, err := pu.EstimateC(g, s, 0, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("c = P(confirmed | fraud) ≈ %.2f from %d confirmed frauds\n", c.C.Value, c.Positives)
	// An unlabelled tenancy the classifier gives 0.20 is probably a fraud
	// nobody has investigated; one it gives 0.02 probably is not.
	for _, gi := range []float64{0.20, 0.02} {
		fmt.Printf("g = %.2f: P(fraud | unlabelled) = %.2f, P(fraud) = %.2f\n", gi, pu.Weight(gi, c.C.Value), pu.Posterior(gi, c.C.Value))
	}
	// Output:
	// c = P(confirmed | fraud) ≈ 0.27 from 3 confirmed frauds
	// g = 0.20: P(fraud | unlabelled) = 0.68, P(fraud) = 0.74
	// g = 0.02: P(fraud | unlabelled) = 0.06, P(fraud) = 0.07
}
