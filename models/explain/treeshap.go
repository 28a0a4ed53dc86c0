package explain

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
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

// maxGroupHeight is the height of the subtrees at the bottom of a tree
// whose leaves are tabulated together: their contributions depend only on
// which path features above the subtree the row satisfies and on the row's
// decision at each split inside it.
const maxGroupHeight = 2

// maxGroupTable is the most values one group's table may hold (64 KiB). A
// subtree whose table would be larger is split into smaller groups, down to
// single leaves; a leaf whose own table would be larger (more than 9 path
// features) computes its contributions per row, in O(d²) instead of O(d).
const maxGroupTable = 1 << 13

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
	masks   []uint64 // per node: path features the row fails on the way there
	dec     []uint64 // per split node: 1 when the row goes left
	scratch []float64
	ws      workspace
}

func (x *Explainer) newState() *rowState {
	return &rowState{masks: make([]uint64, x.maxNode), dec: make([]uint64, x.maxNode),
		scratch: make([]float64, maxPathFeatures)}
}

// fastTree is one tree compiled for TreeSHAP.
type fastTree struct {
	splits []split // internal nodes, parents before children
	groups []group
}

// split is an internal node. bit marks, in the masks of the nodes below,
// the path position of the node's feature.
type split struct {
	threshold   float64
	bit         uint64
	feature     int32
	node        int32
	left, right int32
	defaultLeft uint64 // 1 when a missing value goes left
}

// group is a subtree at the bottom of a tree (possibly one leaf) with the
// summed contributions of its leaves tabulated for every combination of
// the path features above it the row satisfies (prefix bits) and the row's
// decisions at its splits.
type group struct {
	root     int32
	prefix   uint64    // one bit per distinct feature on the path to root
	internal []int32   // the group's split nodes; decision k is index bit k
	feat     []int32   // features contributed to: the path's, then the group's own
	table    []float64 // rows of len(feat) values, indexed prefix<<len(internal) | decisions
	leaf     *leafPath // a lone leaf with no table: computed per row
}

// leafPath is a leaf with the distinct features on its path from the root.
type leafPath struct {
	feat  []int32   // path features in order of first use
	z     []float64 // zero fractions: product of cover ratios per feature
	value float64
}

// TreeSHAP compiles ensemble e for fast, exact TreeSHAP, tabulating the
// trees on all cores. The trees must be valid (e.Validate) and must not
// change while the Explainer is in use.
func TreeSHAP(e *tree.Ensemble) *Explainer {
	x := &Explainer{nfeat: e.NumFeatures, bias: e.Base}
	compiled := make([]fastTree, len(e.Trees))
	ok := make([]bool, len(e.Trees))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(e.Trees)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(e.Trees); i = int(next.Add(1) - 1) {
				compiled[i], ok[i] = compileTree(&e.Trees[i])
			}
		}()
	}
	wg.Wait()
	for i := range e.Trees {
		t := &e.Trees[i]
		x.bias += expectedValue(t, 0)
		x.maxNode = max(x.maxNode, t.Len())
		if ok[i] {
			x.trees = append(x.trees, compiled[i])
		} else {
			x.slow = append(x.slow, t)
		}
	}
	x.states.New = func() any { return x.newState() }
	return x
}

// NumFeatures returns the number of features the model takes.
func (x *Explainer) NumFeatures() int { return x.nfeat }

// Bias returns the expected margin: the ensemble's base plus each tree's
// cover-weighted mean output. It is the last element of every output row.
func (x *Explainer) Bias() float64 { return x.bias }

// nodePath is what compileTree knows of a node: the distinct features on
// the path from the root to it, in order of first use, their zero
// fractions, and for a split the position of its feature on that path.
type nodePath struct {
	feat []int32
	z    []float64
	pos  int
}

// compileTree walks t from the root, recording each node's path features
// and zero fractions, then covers the tree with groups and tabulates them.
// It reports false when a path has too many distinct features for masks.
func compileTree(t *tree.Tree) (fastTree, bool) {
	var ft fastTree
	paths := make([]nodePath, t.Len())
	// Breadth-first, so that a parent's mask is set before its children's.
	queue := []int{0}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if t.IsLeaf(n) {
			continue
		}
		p := &paths[n]
		feature := t.Feature[n]
		p.pos = len(p.feat)
		for j, g := range p.feat {
			if g == feature {
				p.pos = j
				break
			}
		}
		if p.pos >= maxPathFeatures {
			return fastTree{}, false
		}
		l, r := int(t.Left[n]), int(t.Right[n])
		ft.splits = append(ft.splits, split{
			threshold: t.Threshold[n], bit: 1 << p.pos, feature: feature, node: int32(n),
			left: int32(l), right: int32(r), defaultLeft: b2u(t.DefaultLeft[n]),
		})
		for _, c := range [2]int{l, r} {
			feat := append(append([]int32(nil), p.feat...), feature)[:max(p.pos+1, len(p.feat))]
			z := append(append([]float64(nil), p.z...), 1)[:len(feat)]
			z[p.pos] *= zeroFraction(t, n, c)
			paths[c] = nodePath{feat: feat, z: z}
			queue = append(queue, c)
		}
	}
	height := make([]int, t.Len())
	var measure func(n int) int
	measure = func(n int) int {
		if !t.IsLeaf(n) {
			height[n] = 1 + max(measure(int(t.Left[n])), measure(int(t.Right[n])))
		}
		return height[n]
	}
	measure(0)
	var ws workspace
	var cover func(n int)
	cover = func(n int) {
		if height[n] <= maxGroupHeight {
			if g, ok := buildGroup(t, paths, n, &ws); ok {
				ft.groups = append(ft.groups, g)
				return
			}
		}
		if t.IsLeaf(n) {
			p := paths[n]
			ft.groups = append(ft.groups, group{root: int32(n), prefix: lowBits(len(p.feat)), feat: p.feat,
				leaf: &leafPath{feat: p.feat, z: p.z, value: t.Value[n]}})
			return
		}
		cover(int(t.Left[n]))
		cover(int(t.Right[n]))
	}
	cover(0)
	return ft, true
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// lowBits returns a mask of the lowest d bits.
func lowBits(d int) uint64 {
	if d >= 64 {
		return math.MaxUint64
	}
	return uint64(1)<<d - 1
}

// groupStep is a split inside a group on the way to one of its leaves.
type groupStep struct {
	k    int  // the split's index in group.internal
	left bool // whether the leaf is to its left
	pos  int  // the split feature's position on the leaf's path
}

// buildGroup tabulates the subtree at root as one group, or reports false
// when its table would exceed maxGroupTable values.
func buildGroup(t *tree.Tree, paths []nodePath, root int, ws *workspace) (group, bool) {
	d := len(paths[root].feat)
	g := group{root: int32(root), prefix: lowBits(d), feat: append([]int32(nil), paths[root].feat...)}
	type member struct {
		leafPath
		steps []groupStep
		col   []int // position on the leaf's path → column in the group's rows
	}
	var leaves []member
	var walk func(n int, steps []groupStep)
	walk = func(n int, steps []groupStep) {
		if t.IsLeaf(n) {
			p := paths[n]
			m := member{leafPath: leafPath{feat: p.feat, z: p.z, value: t.Value[n]}, steps: steps}
			for _, f := range p.feat {
				c := slices.Index(g.feat, f)
				if c < 0 {
					c = len(g.feat)
					g.feat = append(g.feat, f)
				}
				m.col = append(m.col, c)
			}
			leaves = append(leaves, m)
			return
		}
		k := len(g.internal)
		g.internal = append(g.internal, int32(n))
		pos := paths[n].pos
		walk(int(t.Left[n]), append(slices.Clip(steps), groupStep{k, true, pos}))
		walk(int(t.Right[n]), append(slices.Clip(steps), groupStep{k, false, pos}))
	}
	walk(root, nil)
	bitsN := d + len(g.internal)
	if bitsN > 20 || (len(g.feat)<<bitsN) > maxGroupTable {
		return group{}, false
	}
	m := len(g.feat)
	g.table = make([]float64, m<<bitsN)
	ni := len(g.internal)
	// A leaf's contributions depend only on its hot mask, which many
	// entries share (the decisions at splits off the leaf's path do not
	// change it): each leaf's are computed once per mask, on first use.
	type memo struct {
		done []bool
		phi  []float64 // per hot mask, the leaf's dl contributions
	}
	memos := make([]memo, len(leaves))
	for i, lf := range leaves {
		dl := len(lf.feat) // ≤ bitsN ≤ 20
		memos[i] = memo{done: make([]bool, 1<<dl), phi: make([]float64, dl<<dl)}
	}
	for idx := 0; idx < 1<<bitsN; idx++ {
		row := g.table[idx*m : (idx+1)*m]
		prefixHot := uint64(idx >> ni)
		for i, lf := range leaves {
			dl := len(lf.feat)
			hot := prefixHot | (lowBits(dl) &^ lowBits(d))
			for _, s := range lf.steps {
				if (idx>>s.k&1 == 1) != s.left {
					hot &^= 1 << s.pos
				}
			}
			mm := &memos[i]
			phi := mm.phi[int(hot)*dl : int(hot+1)*dl]
			if !mm.done[hot] {
				ws.leafContributions(lf.z, lf.value, hot, phi)
				mm.done[hot] = true
			}
			for j, c := range lf.col {
				row[c] += phi[j]
			}
		}
	}
	return g, true
}

// workspace holds the scratch buffers of leafContributions; w holds the
// Shapley weights of the last path length, kept while the length repeats.
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
	if len(ws.w) != d {
		ws.w = ws.w[:0]
		// w(s) = s!(d-s-1)!/d!, built by w(0) = 1/d, w(s) = w(s-1)·s/(d-s).
		for s := 0; s < d; s++ {
			if s == 0 {
				ws.w = append(ws.w, 1/float64(d))
			} else {
				ws.w = append(ws.w, ws.w[s-1]*float64(s)/float64(d-s))
			}
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

// add accumulates the tree's contributions for row x into phi. masks and
// dec have at least one element per node.
func (t *fastTree) add(x, phi []float64, masks, dec []uint64, ws *workspace, scratch []float64) {
	masks[0] = 0
	for i := range t.splits {
		s := &t.splits[i]
		m := masks[s.node]
		v := x[s.feature]
		// Branch-free: the direction is close to a coin toss per row.
		var left uint64
		if v < s.threshold {
			left = 1
		}
		if v != v {
			left = s.defaultLeft
		}
		dec[s.node] = left
		masks[s.left] = m | s.bit&(left-1)
		masks[s.right] = m | s.bit&-left
	}
	for i := range t.groups {
		g := &t.groups[i]
		hot := g.prefix &^ masks[g.root]
		var row []float64
		if g.table != nil {
			idx := hot << len(g.internal)
			for k, n := range g.internal {
				idx |= dec[n] << k
			}
			m := len(g.feat)
			row = g.table[int(idx)*m : int(idx)*m+m]
		} else {
			row = scratch[:len(g.feat)]
			ws.leafContributions(g.leaf.z, g.leaf.value, hot, row)
		}
		for j, f := range g.feat {
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
	x.addRow(row, out, st)
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
func (x *Explainer) addRow(row, out []float64, st *rowState) {
	clear(out)
	for i := range x.trees {
		x.trees[i].add(row, out, st.masks, st.dec, &st.ws, st.scratch)
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
const blockRows = 256

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
			t.add(X[r*nf:(r+1)*nf], out[r*no:(r+1)*no], st.masks, st.dec, &st.ws, st.scratch)
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
		for j := range x.trees[i].groups {
			n += 8 * len(x.trees[i].groups[j].table)
		}
	}
	return n
}
