// Package tree holds the representation of an additive ensemble of binary
// regression trees, shared by the trainer (models/gbdt), the explainer
// (models/explain), the XGBoost importer and the artifact format.
//
// Split semantics follow XGBoost's: a row goes to the left child when its
// value is less than the node's threshold, to the right child when it is
// greater or equal, and to the node's default child when it is missing (NaN).
package tree

import (
	"fmt"
	"math"
)

// Tree is one regression tree in flat arrays; node 0 is the root. For a leaf,
// Left and Right are -1 and Value holds the leaf's output (already scaled by
// the learning rate). All slices have one element per node.
type Tree struct {
	Left        []int32   `json:"left"`
	Right       []int32   `json:"right"`
	Feature     []int32   `json:"feature"`      // split feature index; -1 at leaves
	Threshold   []float64 `json:"threshold"`    // go left when x < Threshold
	DefaultLeft []bool    `json:"default_left"` // where a missing value goes
	Value       []float64 `json:"value"`        // leaf output; 0 at internal nodes
	Cover       []float64 `json:"cover"`        // sum of hessians of the training rows at the node
	Gain        []float64 `json:"gain"`         // loss reduction of the split; 0 at leaves
}

// Len returns the number of nodes.
func (t *Tree) Len() int { return len(t.Left) }

// IsLeaf reports whether node i is a leaf.
func (t *Tree) IsLeaf(i int) bool { return t.Left[i] < 0 }

// Next returns the child of internal node i that a row with value v takes.
func (t *Tree) Next(i int, v float64) int {
	if math.IsNaN(v) {
		if t.DefaultLeft[i] {
			return int(t.Left[i])
		}
		return int(t.Right[i])
	}
	if v < t.Threshold[i] {
		return int(t.Left[i])
	}
	return int(t.Right[i])
}

// Leaf returns the index of the leaf that row x reaches.
func (t *Tree) Leaf(x []float64) int {
	i := 0
	for !t.IsLeaf(i) {
		i = t.Next(i, x[t.Feature[i]])
	}
	return i
}

// Predict returns the tree's output for row x.
func (t *Tree) Predict(x []float64) float64 { return t.Value[t.Leaf(x)] }

// Depth returns the depth of the deepest leaf (a single leaf has depth 0).
func (t *Tree) Depth() int {
	var walk func(i, d int) int
	walk = func(i, d int) int {
		if t.IsLeaf(i) {
			return d
		}
		return max(walk(int(t.Left[i]), d+1), walk(int(t.Right[i]), d+1))
	}
	return walk(0, 0)
}

// Validate checks that the arrays agree in length, that children are in
// range and form a tree rooted at node 0, and that features are in [0, nfeat).
func (t *Tree) Validate(nfeat int) error {
	n := len(t.Left)
	if n == 0 {
		return fmt.Errorf("tree has no nodes")
	}
	for name, l := range map[string]int{"right": len(t.Right), "feature": len(t.Feature), "threshold": len(t.Threshold),
		"default_left": len(t.DefaultLeft), "value": len(t.Value), "cover": len(t.Cover), "gain": len(t.Gain)} {
		if l != n {
			return fmt.Errorf("tree has %d nodes but %d %s entries", n, l, name)
		}
	}
	seen := make([]bool, n)
	stack := []int{0}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[i] {
			return fmt.Errorf("node %d is reached twice", i)
		}
		seen[i] = true
		l, r := int(t.Left[i]), int(t.Right[i])
		if (l < 0) != (r < 0) {
			return fmt.Errorf("node %d has one child", i)
		}
		if l < 0 {
			continue
		}
		if l >= n || r >= n {
			return fmt.Errorf("node %d has a child out of range", i)
		}
		if f := int(t.Feature[i]); f < 0 || f >= nfeat {
			return fmt.Errorf("node %d splits on feature %d of %d", i, f, nfeat)
		}
		if math.IsNaN(t.Threshold[i]) {
			return fmt.Errorf("node %d has a NaN threshold", i)
		}
		stack = append(stack, l, r)
	}
	for i, s := range seen {
		if !s {
			return fmt.Errorf("node %d is not reachable from the root", i)
		}
	}
	return nil
}

// Ensemble is an additive model: margin = Base + Σ trees' outputs.
type Ensemble struct {
	Base        float64 `json:"base_margin"` // the margin before any tree (log-odds)
	NumFeatures int     `json:"num_features"`
	Trees       []Tree  `json:"trees"`
}

// Margin returns the ensemble's raw output (log-odds) for row x.
func (e *Ensemble) Margin(x []float64) float64 {
	m := e.Base
	for i := range e.Trees {
		m += e.Trees[i].Predict(x)
	}
	return m
}

// Validate checks every tree.
func (e *Ensemble) Validate() error {
	for i := range e.Trees {
		if err := e.Trees[i].Validate(e.NumFeatures); err != nil {
			return fmt.Errorf("tree %d: %w", i, err)
		}
	}
	return nil
}
