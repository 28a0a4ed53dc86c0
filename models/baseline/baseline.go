// Package baseline trains a golearn classifier beside caserisk's own models,
// as an independent, off-the-shelf point of comparison, and reports
// confusion matrices with golearn's evaluation package.
//
// What golearn does here: the table is converted to golearn's
// base.DenseInstances (one FloatAttribute per feature, the label as a
// FloatAttribute class); golearn's CART classifier
// (trees.NewDecisionTreeClassifier, Gini impurity, depth-limited) is fit on a
// sample of the training rows; its predicted classes for the test rows, and
// the caserisk model's flags, are compared with the labels through
// evaluation.GetConfusionMatrix, GetPrecision, GetRecall and GetAccuracy.
//
// What golearn does not do, and how this package copes:
//   - missing values: golearn has no notion of them, so NaN is replaced by
//     the training sample's median of the feature;
//   - class imbalance and sample weights: CART on a 3% positive rate would
//     predict "no" everywhere, so the sample is class-balanced (every
//     positive up to half the sample, the rest negatives drawn at random);
//   - probabilities: CART returns classes only, so there is no AUC for the
//     baseline; the fair comparison is at equal workload, so the caserisk
//     model is also scored flagging exactly as many test rows as the
//     baseline does (its top-N by score);
//   - scale: the split search is quadratic in the rows of a node and single
//     threaded, so the sample is small (Options.Sample rows).
//
// golearn's LogisticRegression is not used: it calls into liblinear through
// cgo and panics under the cgo pointer checks.
package baseline

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/evaluation"
	"github.com/sjwhitworth/golearn/trees"

	"caserisk/models/dataset"
)

// Options configure the baseline.
type Options struct {
	// MaxDepth limits the CART tree's depth.
	MaxDepth int
	// Sample is the number of training rows the tree is fit on.
	Sample int
	// Seed draws the sample.
	Seed uint64
}

// DefaultOptions returns depth 6 on a 4,000-row sample with seed 0.
func DefaultOptions() Options { return Options{MaxDepth: 6, Sample: 4000} }

// Confusion is a confusion matrix for one way of flagging cases.
type Confusion struct {
	Name      string  `json:"name"`
	Flagged   int     `json:"flagged"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	TN        int     `json:"tn"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Accuracy  float64 `json:"accuracy"`
	// Table is golearn's own rendering of the matrix.
	Table string `json:"-"`
}

// Baseline is a fitted golearn CART classifier.
type Baseline struct {
	names   []string
	medians []float64
	tree    *trees.CARTDecisionTreeClassifier
	// Sample and SamplePositives describe the rows the tree was fit on.
	Sample, SamplePositives int
}

// Fit fits the baseline on a class-balanced sample of train's labelled rows.
func Fit(ctx context.Context, train *dataset.Table, o Options) (*Baseline, error) {
	if train.Label == nil {
		return nil, fmt.Errorf("baseline: %s has no label column", train.Source)
	}
	if o.MaxDepth < 1 || o.Sample < 2 {
		return nil, fmt.Errorf("baseline: max depth %d and sample %d must be at least 1 and 2", o.MaxDepth, o.Sample)
	}
	tr, _ := train.DropUnlabelled()
	var pos, neg []int
	for i, y := range tr.Label {
		if y == 1 {
			pos = append(pos, i)
		} else {
			neg = append(neg, i)
		}
	}
	if len(pos) == 0 || len(neg) == 0 {
		return nil, fmt.Errorf("baseline: the labelled rows of %s hold one class only", train.Source)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x6261736531696e65))
	rng.Shuffle(len(pos), func(a, b int) { pos[a], pos[b] = pos[b], pos[a] })
	rng.Shuffle(len(neg), func(a, b int) { neg[a], neg[b] = neg[b], neg[a] })
	np := min(len(pos), o.Sample/2)
	nn := min(len(neg), o.Sample-np)
	rows := append(slices.Clone(pos[:np]), neg[:nn]...)
	sort.Ints(rows)
	s := tr.Subset(rows)

	b := &Baseline{names: slices.Clone(s.Names), medians: make([]float64, len(s.Names)), Sample: len(rows), SamplePositives: np}
	for j, c := range s.Cols {
		b.medians[j] = median(c)
	}
	grid, err := b.grid(s.Cols, s.Len(), s.Label)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.tree = trees.NewDecisionTreeClassifier("gini", int64(o.MaxDepth), []int64{0, 1})
	if err := b.tree.Fit(grid); err != nil {
		return nil, fmt.Errorf("baseline: golearn CART: %w", err)
	}
	return b, nil
}

// Predict returns the baseline's 0/1 prediction for every row of t, whose
// features must be the training table's (in any order).
func (b *Baseline) Predict(t *dataset.Table) ([]float64, error) {
	cols := make([][]float64, len(b.names))
	for j, n := range b.names {
		c, ok := t.Column(n)
		if !ok {
			return nil, fmt.Errorf("baseline: %s has no feature %q", t.Source, n)
		}
		cols[j] = c
	}
	grid, err := b.grid(cols, t.Len(), make([]float64, t.Len()))
	if err != nil {
		return nil, err
	}
	pred := b.tree.Predict(grid)
	out := make([]float64, len(pred))
	for i, p := range pred {
		out[i] = float64(p)
	}
	return out, nil
}

// grid converts columns to golearn's dense instances, imputing NaN with the
// training medians; the label becomes the class attribute.
func (b *Baseline) grid(cols [][]float64, rows int, label []float64) (*base.DenseInstances, error) {
	inst := base.NewDenseInstances()
	specs := make([]base.AttributeSpec, len(cols))
	for j := range cols {
		specs[j] = inst.AddAttribute(base.NewFloatAttribute(b.names[j]))
	}
	class := base.NewFloatAttribute("label")
	cs := inst.AddAttribute(class)
	if err := inst.AddClassAttribute(class); err != nil {
		return nil, fmt.Errorf("baseline: golearn class attribute: %w", err)
	}
	if err := inst.Extend(rows); err != nil {
		return nil, fmt.Errorf("baseline: golearn instances: %w", err)
	}
	for j, c := range cols {
		for i, v := range c {
			if math.IsNaN(v) {
				v = b.medians[j]
			}
			inst.Set(specs[j], i, base.PackFloatToBytes(v))
		}
	}
	for i, y := range label {
		inst.Set(cs, i, base.PackFloatToBytes(y))
	}
	return inst, nil
}

// Confusions compares ways of flagging test rows with their labels using
// golearn's evaluation package. flags[k] is 1 where way k flags a row.
func Confusions(names []string, flags [][]float64, labels []float64) ([]Confusion, error) {
	ref, err := classGrid(labels)
	if err != nil {
		return nil, err
	}
	out := make([]Confusion, len(flags))
	for k, f := range flags {
		if len(f) != len(labels) {
			return nil, fmt.Errorf("baseline: %s: %d flags for %d labels", names[k], len(f), len(labels))
		}
		gen, err := classGrid(f)
		if err != nil {
			return nil, err
		}
		cm, err := evaluation.GetConfusionMatrix(ref, gen)
		if err != nil {
			return nil, fmt.Errorf("baseline: %s: %w", names[k], err)
		}
		c := evaluation.ConfusionMatrix(cm)
		conf := Confusion{Name: names[k], TP: c["1"]["1"], FP: c["0"]["1"], FN: c["1"]["0"], TN: c["0"]["0"],
			Accuracy: evaluation.GetAccuracy(c), Table: evaluation.ShowConfusionMatrix(c)}
		conf.Flagged = conf.TP + conf.FP
		// golearn divides by zero when nothing is flagged; precision is 0 then.
		if conf.Flagged > 0 {
			conf.Precision = evaluation.GetPrecision("1", c)
		}
		if conf.TP+conf.FN > 0 {
			conf.Recall = evaluation.GetRecall("1", c)
		}
		out[k] = conf
	}
	return out, nil
}

// TopN flags the n rows with the highest scores (ties by row order).
func TopN(scores []float64, n int) []float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	out := make([]float64, len(scores))
	for _, i := range idx[:min(n, len(idx))] {
		out[i] = 1
	}
	return out
}

// AtThreshold flags rows whose score is at least t.
func AtThreshold(scores []float64, t float64) []float64 {
	out := make([]float64, len(scores))
	for i, s := range scores {
		if s >= t {
			out[i] = 1
		}
	}
	return out
}

// classGrid holds 0/1 values as a categorical class attribute "0"/"1".
func classGrid(v []float64) (*base.DenseInstances, error) {
	inst := base.NewDenseInstances()
	attr := base.NewCategoricalAttribute()
	attr.SetName("outcome")
	zero, one := attr.GetSysValFromString("0"), attr.GetSysValFromString("1")
	spec := inst.AddAttribute(attr)
	if err := inst.AddClassAttribute(attr); err != nil {
		return nil, fmt.Errorf("baseline: golearn class attribute: %w", err)
	}
	if err := inst.Extend(len(v)); err != nil {
		return nil, fmt.Errorf("baseline: golearn instances: %w", err)
	}
	for i, x := range v {
		if x == 1 {
			inst.Set(spec, i, one)
		} else {
			inst.Set(spec, i, zero)
		}
	}
	return inst, nil
}

// median returns the median of the non-NaN values, 0 when there are none.
func median(c []float64) float64 {
	v := make([]float64, 0, len(c))
	for _, x := range c {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
