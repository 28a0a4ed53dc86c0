package explain

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"caserisk/models/tree"
)

// Contributor is a model that can explain a row: Contributions fills out
// (NumFeatures()+1 values) with the per-feature contributions and, last, the
// bias, so that their sum is the model's margin for x.
type Contributor interface {
	NumFeatures() int
	Contributions(x, out []float64)
}

// maxTableDepth is the longest unique path (number of distinct features from
// root to leaf) for which a leaf's contributions are tabulated for all 2^d
// subsets; a table then takes at most 2^8 × 8 values (16 KiB). Longer paths
// compute the same values per row, in O(d²) instead of O(d).
const maxTableDepth = 8

// maxPathFeatures is the most distinct features a root-to-leaf path may use
// for the subset masks (one bit each); trees with longer paths are explained
// by the reference algorithm.
const maxPathFeatures = 64

// Explainer computes exact path-dependent TreeSHAP values for a tree
// ensemble. It is safe for concurrent use.
type Explainer struct {
	nfeat   int
	bias    float64 // Base plus every tree's expected value
	trees   []fastTree
	slow    []*tree.Tree // trees with paths too long for masks
	maxNode int
	states  sync.Pool // *rowState for Contributions
}

// rowState is the scratch space for explaining one row at a time.
type rowState struct {
	masks   []uint64
	scratch []float64
	ws      workspace
}

func (x *Explainer) newState() *rowState {
	return &rowState{masks: make([]uint64, x.maxNode), scratch: make([]float64, maxPathFeatures)}
}

// fastTree is one tree compiled for TreeSHAP.
type fastTree struct {
	splits []split // internal nodes, parents before children
	leaves []leafPath
	nodes  int
}

// split is an internal node. bit marks, in the masks of the leaves below,
// the path position of the node's feature.
type split struct {
	threshold   float64
	bit         uint64
	feature     int32
	node        int32
	left, right int32
	defaultLeft bool
}

// leafPath is a leaf with the distinct features on its path from the root.
type leafPath struct {
	node  int32
	full  uint64    // one bit per path feature
	feat  []int32   // path features in order of first use
	z     []float64 // zero fractions: product of cover ratios per feature
	value float64
	table []float64 // 2^d rows of d contributions, nil above maxTableDepth
}

// TreeSHAP compiles ensemble e for fast, exact TreeSHAP. The trees must be
// valid (e.Validate); e is not retained.
func TreeSHAP(e *tree.Ensemble) *Explainer {
	x := &Explainer{nfeat: e.NumFeatures, bias: e.Base}
	for i := range e.Trees {
		t := &e.Trees[i]
		x.bias += expectedValue(t, 0)
		x.maxNode = max(x.maxNode, t.Len())
		ft, ok := compileTree(t)
		if !ok {
			x.slow = append(x.slow, t)
			continue
		}
		x.trees = append(x.trees, ft)
	}
	x.states.New = func() any { return x.newState() }
	return x
}

// NumFeatures returns the number of features the model takes.
func (x *Explainer) NumFeatures() int { return x.nfeat }

// Bias returns the expected margin: the ensemble's base plus each tree's
// cover-weighted mean output. It is the last element of every output row.
func (x *Explainer) Bias() float64 { return x.bias }

// compileTree walks t from the root, recording each leaf's path features and
// zero fractions and each split's path position, and tabulates the leaves.
func compileTree(t *tree.Tree) (fastTree, bool) {
	ft := fastTree{nodes: t.Len()}
	type frame struct {
		node int
		feat []int32
		z    []float64
	}
	// Breadth-first, so that a parent's mask is set before its children's.
	queue := []frame{{node: 0}}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		if t.IsLeaf(f.node) {
			ft.leaves = append(ft.leaves, leafPath{node: int32(f.node), feat: f.feat, z: f.z, value: t.Value[f.node]})
			continue
		}
		feature := t.Feature[f.node]
		pos := len(f.feat)
		for j, g := range f.feat {
			if g == feature {
				pos = j
				break
			}
		}
		if pos >= maxPathFeatures {
			return fastTree{}, false
		}
		l, r := int(t.Left[f.node]), int(t.Right[f.node])
		ft.splits = append(ft.splits, split{
			threshold: t.Threshold[f.node], bit: 1 << pos, feature: feature, node: int32(f.node),
			left: int32(l), right: int32(r), defaultLeft: t.DefaultLeft[f.node],
		})
		for _, c := range [2]int{l, r} {
			feat := append(append([]int32(nil), f.feat...), feature)[:max(pos+1, len(f.feat))]
			z := append(append([]float64(nil), f.z...), 1)[:len(feat)]
			z[pos] *= zeroFraction(t, f.node, c)
			queue = append(queue, frame{node: c, feat: feat, z: z})
		}
	}
	size := 0
	for i := range ft.leaves {
		if d := len(ft.leaves[i].feat); d <= maxTableDepth {
			size += d << d
		}
	}
	store := make([]float64, size)
	var ws workspace
	for i := range ft.leaves {
		lp := &ft.leaves[i]
		d := len(lp.feat)
		lp.full = uint64(1)<<d - 1
		if d == 64 {
			lp.full = math.MaxUint64
		}
		if d > maxTableDepth {
			continue
		}
		lp.table, store = store[:d<<d:d<<d], store[d<<d:]
		for hot := uint64(0); hot <= lp.full; hot++ {
			ws.leafContributions(lp.z, lp.value, hot, lp.table[int(hot)*d:int(hot+1)*d])
		}
	}
	return ft, true
}

// workspace holds the scratch buffers of leafContributions.
type workspace struct {
	w, e, e1, hz []float64
}

// leafContributions writes to out the TreeSHAP contributions of one leaf
// (value v, path zero fractions z) for a row that satisfies the splits of
// exactly the path features in the mask hot.
//
// Restricted to one leaf, the path-dependent game is f(S) = v · Π_{j∈S} o_j ·
// Π_{j∉S} z_j with o_j = 1 for hot features and 0 otherwise, so only subsets
// of the hot set H count. With weights w(s) = s!(d−s−1)!/d!, c = Π_{j∉H} z_j
// and e_k the elementary symmetric polynomials of the hot zero fractions:
//
//	cold feature:  φ = −v · c · Σ_s w(s) · e_{|H|−s}(z_H)
//	hot feature j: φ = v · (1 − z_j) · c · Σ_s w(s) · e_{|H|−1−s}(z_{H∖j})
//
// which uses no division, so zero covers are harmless.
func (ws *workspace) leafContributions(z []float64, v float64, hot uint64, out []float64) {
	d := len(z)
	ws.w = ws.w[:0]
	// w(s) = s!(d-s-1)!/d!, built by w(0) = 1/d, w(s) = w(s-1)·s/(d-s).
	for s := 0; s < d; s++ {
		if s == 0 {
			ws.w = append(ws.w, 1/float64(d))
		} else {
			ws.w = append(ws.w, ws.w[s-1]*float64(s)/float64(d-s))
		}
	}
	cold := 1.0
	ws.hz = ws.hz[:0]
	for j := 0; j < d; j++ {
		if hot&(1<<j) != 0 {
			ws.hz = append(ws.hz, z[j])
		} else {
			cold *= z[j]
		}
	}
	h := len(ws.hz)
	ws.e = append(ws.e[:0], 1)
	for _, zj := range ws.hz {
		ws.e = append(ws.e, 0)
		for k := len(ws.e) - 1; k >= 1; k-- {
			ws.e[k] += zj * ws.e[k-1]
		}
	}
	coldPhi := 0.0
	if h < d {
		s := 0.0
		for k := 0; k <= h; k++ {
			s += ws.w[k] * ws.e[h-k]
		}
		coldPhi = -v * cold * s
	}
	for j := 0; j < d; j++ {
		if hot&(1<<j) == 0 {
			out[j] = coldPhi
			continue
		}
		zj := z[j]
		// e1 = elementary symmetric polynomials without z_j.
		ws.e1 = append(ws.e1[:0], 1)
		for k := 1; k < h; k++ {
			ws.e1 = append(ws.e1, ws.e[k]-zj*ws.e1[k-1])
		}
		s := 0.0
		for k := 0; k < h; k++ {
			s += ws.w[k] * ws.e1[h-1-k]
		}
		out[j] = v * (1 - zj) * cold * s
	}
}

// add accumulates the tree's contributions for row x into phi. masks has at
// least t.nodes elements; for each node it collects the path features whose
// splits x fails on the way there.
func (t *fastTree) add(x, phi []float64, masks []uint64, ws *workspace, scratch []float64) {
	masks[0] = 0
	for i := range t.splits {
		s := &t.splits[i]
		m := masks[s.node]
		v := x[s.feature]
		goLeft := v < s.threshold
		if v != v {
			goLeft = s.defaultLeft
		}
		if goLeft {
			masks[s.left], masks[s.right] = m, m|s.bit
		} else {
			masks[s.left], masks[s.right] = m|s.bit, m
		}
	}
	for i := range t.leaves {
		lp := &t.leaves[i]
		hot := lp.full &^ masks[lp.node]
		d := len(lp.feat)
		var row []float64
		if lp.table != nil {
			row = lp.table[int(hot)*d : int(hot)*d+d]
		} else {
			row = scratch[:d]
			ws.leafContributions(lp.z, lp.value, hot, row)
		}
		for j, f := range lp.feat {
			phi[f] += row[j]
		}
	}
}

// Contributions writes the TreeSHAP values of row x to out: one per feature,
// then the bias; they sum to the ensemble's margin for x. It panics if x does
// not have NumFeatures values or out does not have one more.
func (x *Explainer) Contributions(row, out []float64) {
	x.checkLen(len(row), len(out))
	st := x.states.Get().(*rowState)
	x.addRow(row, out, st.masks, &st.ws, st.scratch)
	x.states.Put(st)
}

func (x *Explainer) checkLen(nx, nout int) {
	if nx != x.nfeat {
		panic(fmt.Sprintf("explain: row has %d values, model has %d features", nx, x.nfeat))
	}
	if nout != x.nfeat+1 {
		panic(fmt.Sprintf("explain: output has %d values, want %d (features + bias)", nout, x.nfeat+1))
	}
}

// addRow sets out to the contributions of row, tree by tree.
func (x *Explainer) addRow(row, out []float64, masks []uint64, ws *workspace, scratch []float64) {
	clear(out)
	for i := range x.trees {
		x.trees[i].add(row, out, masks, ws, scratch)
	}
	x.addSlow(row, out)
	out[x.nfeat] = x.bias
}

// addSlow adds the contributions of the trees compiled without masks.
func (x *Explainer) addSlow(row, out []float64) {
	if len(x.slow) == 0 {
		return
	}
	tmp := make([]float64, x.nfeat+1)
	for _, t := range x.slow {
		e := tree.Ensemble{NumFeatures: x.nfeat, Trees: []tree.Tree{*t}}
		// Lengths were checked by the caller, so this cannot fail.
		_ = TreeSHAPReference(&e, row, tmp)
		for j := 0; j < x.nfeat; j++ {
			out[j] += tmp[j]
		}
	}
}

// blockRows is how many rows a worker explains tree by tree, so that one
// tree's tables stay in cache while it serves them all.
const blockRows = 128

// ContributionsBatch explains many rows at once, on all cores. X holds the
// rows one after another (n × NumFeatures values) and out receives n ×
// (NumFeatures+1) values in the same order, each row laid out as by
// Contributions. The result does not depend on the number of cores. It stops
// early with ctx's error when ctx is cancelled.
func (x *Explainer) ContributionsBatch(ctx context.Context, X, out []float64) error {
	if x.nfeat == 0 {
		return fmt.Errorf("explain: model has no features")
	}
	if len(X)%x.nfeat != 0 {
		return fmt.Errorf("explain: %d values are not whole rows of %d features", len(X), x.nfeat)
	}
	n := len(X) / x.nfeat
	if len(out) != n*(x.nfeat+1) {
		return fmt.Errorf("explain: output has %d values, want %d rows × %d", len(out), n, x.nfeat+1)
	}
	blocks := (n + blockRows - 1) / blockRows
	workers := min(runtime.GOMAXPROCS(0), blocks)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := x.newState()
			for ctx.Err() == nil {
				b := int(next.Add(1) - 1)
				if b >= blocks {
					return
				}
				lo, hi := b*blockRows, min((b+1)*blockRows, n)
				x.block(X[lo*x.nfeat:hi*x.nfeat], out[lo*(x.nfeat+1):hi*(x.nfeat+1)], st)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("explain: batch of %d rows: %w", n, err)
	}
	return nil
}

// block explains a few rows tree by tree. Each row still sees the trees in
// the same order as in Contributions, so the sums are bit-for-bit the same.
func (x *Explainer) block(X, out []float64, st *rowState) {
	nf, no := x.nfeat, x.nfeat+1
	rows := len(X) / nf
	clear(out)
	for i := range x.trees {
		t := &x.trees[i]
		for r := 0; r < rows; r++ {
			t.add(X[r*nf:(r+1)*nf], out[r*no:(r+1)*no], st.masks, &st.ws, st.scratch)
		}
	}
	for r := 0; r < rows; r++ {
		x.addSlow(X[r*nf:(r+1)*nf], out[r*no:(r+1)*no])
		out[r*no+nf] = x.bias
	}
}

// tableBytes reports the memory the contribution tables take (for tests and
// capacity planning).
func (x *Explainer) tableBytes() int {
	n := 0
	for i := range x.trees {
		for j := range x.trees[i].leaves {
			n += 8 * len(x.trees[i].leaves[j].table)
		}
	}
	return n
}
