package explain

import (
	"fmt"

	"caserisk/models/tree"
)

// zeroFraction is the share of node parent's training cover that went to
// child: the weight path-dependent TreeSHAP gives to that child when the
// parent's feature is unknown. A parent without positive cover (which a
// trained tree never has) splits its weight evenly, so that the fractions
// stay finite and contributions still add up to the margin.
func zeroFraction(t *tree.Tree, parent, child int) float64 {
	c := t.Cover[parent]
	if !(c > 0) {
		return 0.5
	}
	return t.Cover[child] / c
}

// pathElement is one feature on the unique path of Algorithm 2.
type pathElement struct {
	feature      int
	zeroFraction float64
	oneFraction  float64
	pweight      float64
}

// TreeSHAPReference computes the path-dependent TreeSHAP values of row x by
// a direct transcription of Algorithm 2 of Lundberg et al. (2018), "Consistent
// Individualized Feature Attribution for Tree Ensembles", as implemented in
// XGBoost's TreeShap. It is O(trees × leaves × depth²) per row and kept as the
// reference TreeSHAP is tested against; use TreeSHAP for real work.
//
// out must have len(x)+1 elements and len(x) must be e.NumFeatures; out
// receives the contributions and, last, the bias.
func TreeSHAPReference(e *tree.Ensemble, x, out []float64) error {
	if len(x) != e.NumFeatures {
		return fmt.Errorf("explain: row has %d values, model has %d features", len(x), e.NumFeatures)
	}
	if len(out) != e.NumFeatures+1 {
		return fmt.Errorf("explain: output has %d values, want %d (features + bias)", len(out), e.NumFeatures+1)
	}
	clear(out)
	bias := e.Base
	for i := range e.Trees {
		t := &e.Trees[i]
		bias += expectedValue(t, 0)
		path := make([]pathElement, (t.Depth()+2)*(t.Depth()+3)/2)
		referenceTree(t, x, out, 0, path, 0, 1, 1, -1)
	}
	out[e.NumFeatures] = bias
	return nil
}

// expectedValue is the cover-weighted mean output of the subtree at node i.
func expectedValue(t *tree.Tree, i int) float64 {
	if t.IsLeaf(i) {
		return t.Value[i]
	}
	l, r := int(t.Left[i]), int(t.Right[i])
	return zeroFraction(t, i, l)*expectedValue(t, l) + zeroFraction(t, i, r)*expectedValue(t, r)
}

// referenceTree is the recursion of Algorithm 2. path holds the parent's
// unique path in its first depth elements; this call's copy starts after them.
func referenceTree(t *tree.Tree, x, phi []float64, node int, parent []pathElement, depth int,
	zero, one float64, feature int) {
	path := parent[depth:]
	copy(path, parent[:depth])
	extendPath(path, depth, zero, one, feature)
	if t.IsLeaf(node) {
		for i := 1; i <= depth; i++ {
			w := unwoundPathSum(path, depth, i)
			el := path[i]
			phi[el.feature] += w * (el.oneFraction - el.zeroFraction) * t.Value[node]
		}
		return
	}
	split := int(t.Feature[node])
	hot := t.Next(node, x[split])
	cold := int(t.Left[node])
	if hot == cold {
		cold = int(t.Right[node])
	}
	inZero, inOne := 1.0, 1.0
	k := 0
	for ; k <= depth; k++ {
		if path[k].feature == split {
			break
		}
	}
	if k != depth+1 {
		inZero, inOne = path[k].zeroFraction, path[k].oneFraction
		unwindPath(path, depth, k)
		depth--
	}
	referenceTree(t, x, phi, hot, path, depth+1, zeroFraction(t, node, hot)*inZero, inOne, split)
	referenceTree(t, x, phi, cold, path, depth+1, zeroFraction(t, node, cold)*inZero, 0, split)
}

func extendPath(path []pathElement, depth int, zero, one float64, feature int) {
	path[depth] = pathElement{feature: feature, zeroFraction: zero, oneFraction: one}
	if depth == 0 {
		path[depth].pweight = 1
	}
	d1 := float64(depth + 1)
	for i := depth - 1; i >= 0; i-- {
		path[i+1].pweight += one * path[i].pweight * float64(i+1) / d1
		path[i].pweight = zero * path[i].pweight * float64(depth-i) / d1
	}
}

func unwindPath(path []pathElement, depth, k int) {
	one, zero := path[k].oneFraction, path[k].zeroFraction
	next := path[depth].pweight
	d1 := float64(depth + 1)
	for i := depth - 1; i >= 0; i-- {
		if one != 0 {
			tmp := path[i].pweight
			path[i].pweight = next * d1 / (float64(i+1) * one)
			next = tmp - path[i].pweight*zero*float64(depth-i)/d1
		} else {
			path[i].pweight = path[i].pweight * d1 / (zero * float64(depth-i))
		}
	}
	for i := k; i < depth; i++ {
		path[i].feature = path[i+1].feature
		path[i].zeroFraction = path[i+1].zeroFraction
		path[i].oneFraction = path[i+1].oneFraction
	}
}

func unwoundPathSum(path []pathElement, depth, k int) float64 {
	one, zero := path[k].oneFraction, path[k].zeroFraction
	next := path[depth].pweight
	d1 := float64(depth + 1)
	total := 0.0
	for i := depth - 1; i >= 0; i-- {
		if one != 0 {
			tmp := next * d1 / (float64(i+1) * one)
			total += tmp
			next = path[i].pweight - tmp*zero*float64(depth-i)/d1
		} else if zero != 0 {
			total += path[i].pweight / zero / (float64(depth-i) / d1)
		}
	}
	return total
}
