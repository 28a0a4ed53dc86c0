package pipeline

import (
	"fmt"

	"caserisk/models/artifact"
	"caserisk/models/gbdt"
	"caserisk/models/logistic"
)

// Setting is one point of a grid: an algorithm and its parameters.
type Setting struct {
	Algorithm string      `json:"algorithm"`
	Name      string      `json:"name"` // the parameters as text, e.g. "rounds=200 max_depth=3"
	GBDT      gbdt.Params `json:"-"`
	L2        float64     `json:"-"`
	L1        float64     `json:"-"`
}

// orDefault returns xs, or the one default value when xs is empty.
func orDefault[T any](xs []T, def T) []T {
	if len(xs) == 0 {
		return []T{def}
	}
	return xs
}

// settings expands the grids into settings, gbdt first, in a fixed order.
func (c *Config) settings() []Setting {
	var out []Setting
	if g := c.Algorithms.GBDT; g != nil {
		d := gbdt.DefaultParams()
		for _, r := range orDefault(g.Rounds, d.Rounds) {
			for _, md := range orDefault(g.MaxDepth, d.MaxDepth) {
				for _, lr := range orDefault(g.LearningRate, d.LearningRate) {
					for _, mcw := range orDefault(g.MinChildWeight, d.MinChildWeight) {
						for _, ss := range orDefault(g.Subsample, d.Subsample) {
							for _, l := range orDefault(g.Lambda, d.Lambda) {
								p := d
								p.Rounds, p.MaxDepth, p.LearningRate, p.MinChildWeight, p.Subsample, p.Lambda = r, md, lr, mcw, ss, l
								p.Seed = c.Seed
								out = append(out, Setting{Algorithm: artifact.GBDT, GBDT: p,
									Name: fmt.Sprintf("rounds=%d max_depth=%d learning_rate=%g min_child_weight=%g subsample=%g lambda=%g", r, md, lr, mcw, ss, l)})
							}
						}
					}
				}
			}
		}
	}
	if g := c.Algorithms.Logistic; g != nil {
		d := logistic.DefaultOptions()
		for _, l2 := range orDefault(g.L2, d.L2) {
			for _, l1 := range orDefault(g.L1, d.L1) {
				out = append(out, Setting{Algorithm: artifact.Logistic, L2: l2, L1: l1, Name: fmt.Sprintf("l2=%g l1=%g", l2, l1)})
			}
		}
	}
	return out
}

// fitOptions returns the artifact.FitOptions of a setting. Logistic fits use
// one thread: its sums are then in one order on every machine, so the same
// inputs give the same coefficients bit for bit (gbdt's do whatever the
// thread count).
func (s Setting) fitOptions(seed uint64, earlyStopping int) artifact.FitOptions {
	lo := logistic.DefaultOptions()
	lo.L2, lo.L1, lo.Threads = s.L2, s.L1, 1
	p := s.GBDT
	p.EarlyStoppingRounds = earlyStopping
	return artifact.FitOptions{Algorithm: s.Algorithm, GBDT: p, Logistic: lo, Seed: seed}
}
