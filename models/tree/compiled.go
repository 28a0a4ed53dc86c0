package tree

import (
	"fmt"
	"math"
)

// cnode is a node of a compiled ensemble. The right child of a node is
// always left+1, and a row goes right when r = [x >= threshold] |
// ([x is NaN] & nanRight) is 1, so one step is next = left + r with no
// branch. A leaf loops to itself: threshold -Inf, left = self-1 and
// nanRight 1 make r = 1 for every value.
type cnode struct {
	threshold float64
	left      int
	feature   int32
	nanRight  int32
}

// pnode is an internal node of a perfect tree in heap order: the children
// of node i are 2i+1 and 2i+2, so a step is i = 2i+1+r and needs no child
// index; r is computed as for cnode.
type pnode struct {
	threshold float64
	feature   int32
	nanRight  int32
}

// perfectTree is a tree of depth D padded to a perfect binary tree: a leaf
// above depth D is copied to every slot below it, so every walk takes
// exactly D steps. nodes has 2^D entries (the last unused) and leaves 2^D,
// so indices can be masked with len-1.
type perfectTree struct {
	nodes  []pnode
	leaves []float64
}

// maxPerfectDepth bounds the trees padded to perfect trees (2^D nodes);
// deeper trees are walked through child indices.
const maxPerfectDepth = 8

// Compiled is an Ensemble laid out for fast batch scoring. It gives exactly
// the margins of Ensemble.Margin: the same outcome of every float
// comparison and the same additions in the same order (base, then tree 0,
// tree 1, ...). It is safe for concurrent use.
//
// Scoring is bit-sliced (see quant.go) when every feature has at most 254
// distinct thresholds, which a model trained with 256 bins always has: 64
// rows at a time, each node test becomes a 64-bit mask computed once per
// block from per-feature threshold codes, and each tree of depth <= 6 is
// evaluated for the 64 rows with word operations; deeper trees are walked
// row by row over the codes. Otherwise (an imported model with finer
// thresholds) the float walk is used: trees of depth up to maxPerfectDepth
// are stored as perfect trees in heap order, deeper ones have all their
// nodes in one array with siblings adjacent, and each tree is walked a
// fixed number of steps (its depth) for eight rows at once, so the walks'
// memory latencies overlap.
type Compiled struct {
	base        float64
	numFeatures int
	nodes       []cnode
	value       []float64 // per node; the leaf value at leaves, 0 elsewhere
	roots       []int
	depths      []int32
	perfect     []perfectTree // per tree; nodes nil for deep trees
	quant       *quantized    // the bit-sliced scorer; nil when it does not apply (then the float walk is used)
}

// fillPerfect writes tree t's subtree at orig into heap slot pos at depth d
// of a perfect tree of depth D.
func fillPerfect(t *Tree, orig, pos, d, D int, pt *perfectTree) {
	if d == D {
		pt.leaves[pos-(1<<D-1)] = t.Value[orig]
		return
	}
	l, r := orig, orig
	if !t.IsLeaf(orig) {
		nr := int32(1)
		if t.DefaultLeft[orig] {
			nr = 0
		}
		pt.nodes[pos] = pnode{threshold: t.Threshold[orig], feature: t.Feature[orig], nanRight: nr}
		l, r = int(t.Left[orig]), int(t.Right[orig])
	}
	fillPerfect(t, l, 2*pos+1, d+1, D, pt)
	fillPerfect(t, r, 2*pos+2, d+1, D, pt)
}

// Compile lays out a valid ensemble for batch scoring.
func Compile(e *Ensemble) (*Compiled, error) {
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("compiling ensemble: %w", err)
	}
	c := &Compiled{base: e.Base, numFeatures: e.NumFeatures}
	if c.quant = quantize(e); c.quant != nil {
		return c, nil
	}
	for ti := range e.Trees {
		t := &e.Trees[ti]
		root := len(c.nodes)
		c.roots = append(c.roots, root)
		// Breadth-first, giving each pair of children adjacent slots.
		type item struct{ orig, at, depth int }
		c.nodes = append(c.nodes, cnode{})
		c.value = append(c.value, 0)
		queue := []item{{0, root, 0}}
		depth := 0
		for len(queue) > 0 {
			it := queue[0]
			queue = queue[1:]
			depth = max(depth, it.depth)
			if t.IsLeaf(it.orig) {
				c.nodes[it.at] = cnode{threshold: math.Inf(-1), left: it.at - 1, nanRight: 1}
				c.value[it.at] = t.Value[it.orig]
				continue
			}
			left := len(c.nodes)
			c.nodes = append(c.nodes, cnode{}, cnode{})
			c.value = append(c.value, 0, 0)
			nr := int32(1)
			if t.DefaultLeft[it.orig] {
				nr = 0
			}
			c.nodes[it.at] = cnode{threshold: t.Threshold[it.orig], feature: t.Feature[it.orig], left: left, nanRight: nr}
			queue = append(queue,
				item{int(t.Left[it.orig]), left, it.depth + 1},
				item{int(t.Right[it.orig]), left + 1, it.depth + 1})
		}
		c.depths = append(c.depths, int32(depth))
		var pt perfectTree
		if depth <= maxPerfectDepth {
			pt = perfectTree{nodes: make([]pnode, 1<<depth), leaves: make([]float64, 1<<depth)}
			fillPerfect(t, 0, 0, 0, depth, &pt)
		}
		c.perfect = append(c.perfect, pt)
	}
	// Pad to a power of two so that masking an index with len-1, a no-op
	// for valid indices, lets the compiler drop the bounds checks.
	size := 1
	for size < len(c.nodes) {
		size *= 2
	}
	for len(c.nodes) < size {
		c.nodes = append(c.nodes, cnode{})
		c.value = append(c.value, 0)
	}
	return c, nil
}

// NumFeatures is the number of features a row must have.
func (c *Compiled) NumFeatures() int { return c.numFeatures }

// scoreBlock is the number of rows scored together: their values stay in
// cache while every tree is walked for them.
const scoreBlock = 64

// Margins writes the margin of each row to out (len(out) >= len(rows)).
// Every row must have at least NumFeatures values.
func (c *Compiled) Margins(rows [][]float64, out []float64) error {
	if len(out) < len(rows) {
		return fmt.Errorf("scoring %d rows into %d outputs", len(rows), len(out))
	}
	for i, x := range rows {
		if len(x) < c.numFeatures {
			return fmt.Errorf("row %d has %d features, the model needs %d", i, len(x), c.numFeatures)
		}
	}
	if q := c.quant; q != nil {
		s := q.getScratch()
		defer q.scratch.Put(s)
		for lo := 0; lo < len(rows); lo += blockRows {
			blk := rows[lo:min(lo+blockRows, len(rows))]
			q.prepare(s, len(blk), func(f int, vals []float64) {
				for r, x := range blk {
					vals[r] = x[f]
				}
			})
			o := out[lo : lo+len(blk)]
			for k := range o {
				o[k] = c.base
			}
			q.score(s, o)
		}
		return nil
	}
	stride := c.stride()
	buf := make([]float64, scoreBlock*stride)
	for lo := 0; lo < len(rows); lo += scoreBlock {
		hi := min(lo+scoreBlock, len(rows))
		for k, x := range rows[lo:hi] {
			copy(buf[k*stride:k*stride+c.numFeatures], x)
		}
		c.block(buf, stride, out[lo:hi])
	}
	return nil
}

// stride is the distance between rows in a block buffer: the number of
// features rounded up to a power of two, so that a block of scoreBlock
// rows has a power-of-two length too.
func (c *Compiled) stride() int {
	s := 1
	for s < c.numFeatures {
		s *= 2
	}
	return s
}

// MarginsColumns writes the margins of column-major data (cols[j][i] is
// feature j of row i) to out.
func (c *Compiled) MarginsColumns(cols [][]float64, out []float64) error {
	if len(cols) < c.numFeatures {
		return fmt.Errorf("data has %d features, the model needs %d", len(cols), c.numFeatures)
	}
	n := 0
	if len(cols) > 0 {
		n = len(cols[0])
	}
	for j, col := range cols {
		if len(col) != n {
			return fmt.Errorf("feature %d has %d rows, feature 0 has %d", j, len(col), n)
		}
	}
	if len(out) < n {
		return fmt.Errorf("scoring %d rows into %d outputs", n, len(out))
	}
	if q := c.quant; q != nil {
		s := q.getScratch()
		defer q.scratch.Put(s)
		for lo := 0; lo < n; lo += blockRows {
			hi := min(lo+blockRows, n)
			q.prepare(s, hi-lo, func(f int, vals []float64) { copy(vals, cols[f][lo:hi]) })
			o := out[lo:hi]
			for k := range o {
				o[k] = c.base
			}
			q.score(s, o)
		}
		return nil
	}
	stride := c.stride()
	buf := make([]float64, scoreBlock*stride)
	for lo := 0; lo < n; lo += scoreBlock {
		hi := min(lo+scoreBlock, n)
		for j, col := range cols[:c.numFeatures] {
			for k, v := range col[lo:hi] {
				buf[k*stride+j] = v
			}
		}
		c.block(buf, stride, out[lo:hi])
	}
	return nil
}

// stepNaN moves from node n one level down for value v. Both tests compile
// to flag reads (SETcc), not branches: which way a row goes is
// unpredictable.
func stepNaN(n *cnode, v float64) int {
	var ge, nan int32
	if v >= n.threshold {
		ge = 1
	}
	if v != v {
		nan = 1
	}
	return n.left + int(ge|(nan&n.nanRight))
}

// step is stepNaN for a value known not to be NaN.
func step(n *cnode, v float64) int {
	var ge int
	if v >= n.threshold {
		ge = 1
	}
	return n.left + ge
}

// block scores the first len(out) rows of buf (row-major, stride values a
// row; len(buf) = scoreBlock*stride, a power of two), tree by tree, eight
// rows at a time. Blocks without missing values take a leaner step. Node
// and value indices are masked with len-1 (a no-op, as both lengths are
// powers of two) so that the walk has no bounds checks.
func (c *Compiled) block(buf []float64, stride int, out []float64) {
	nrows := len(out)
	for k := range out {
		out[k] = c.base
	}
	hasNaN := false
	for _, v := range buf[:nrows*stride] {
		if v != v {
			hasNaN = true
			break
		}
	}
	nodes, value := c.nodes, c.value
	if len(nodes) == 0 || len(buf) == 0 || len(value) != len(nodes) {
		return
	}
	nm, bm := len(nodes)-1, len(buf)-1
	for t, root := range c.roots {
		depth := int(c.depths[t])
		if pt := &c.perfect[t]; pt.nodes != nil {
			walkPerfect(pt, depth, buf, stride, out, hasNaN)
			continue
		}
		k := 0
		for ; k+7 < nrows; k += 8 {
			o := k * stride
			i0, i1, i2, i3, i4, i5, i6, i7 := root, root, root, root, root, root, root, root
			if hasNaN {
				for range depth {
					n0, n1, n2, n3 := &nodes[i0&nm], &nodes[i1&nm], &nodes[i2&nm], &nodes[i3&nm]
					n4, n5, n6, n7 := &nodes[i4&nm], &nodes[i5&nm], &nodes[i6&nm], &nodes[i7&nm]
					i0 = stepNaN(n0, buf[(o+int(n0.feature))&bm])
					i1 = stepNaN(n1, buf[(o+stride+int(n1.feature))&bm])
					i2 = stepNaN(n2, buf[(o+2*stride+int(n2.feature))&bm])
					i3 = stepNaN(n3, buf[(o+3*stride+int(n3.feature))&bm])
					i4 = stepNaN(n4, buf[(o+4*stride+int(n4.feature))&bm])
					i5 = stepNaN(n5, buf[(o+5*stride+int(n5.feature))&bm])
					i6 = stepNaN(n6, buf[(o+6*stride+int(n6.feature))&bm])
					i7 = stepNaN(n7, buf[(o+7*stride+int(n7.feature))&bm])
				}
			} else {
				for range depth {
					n0, n1, n2, n3 := &nodes[i0&nm], &nodes[i1&nm], &nodes[i2&nm], &nodes[i3&nm]
					n4, n5, n6, n7 := &nodes[i4&nm], &nodes[i5&nm], &nodes[i6&nm], &nodes[i7&nm]
					i0 = step(n0, buf[(o+int(n0.feature))&bm])
					i1 = step(n1, buf[(o+stride+int(n1.feature))&bm])
					i2 = step(n2, buf[(o+2*stride+int(n2.feature))&bm])
					i3 = step(n3, buf[(o+3*stride+int(n3.feature))&bm])
					i4 = step(n4, buf[(o+4*stride+int(n4.feature))&bm])
					i5 = step(n5, buf[(o+5*stride+int(n5.feature))&bm])
					i6 = step(n6, buf[(o+6*stride+int(n6.feature))&bm])
					i7 = step(n7, buf[(o+7*stride+int(n7.feature))&bm])
				}
			}
			out[k] += value[i0&nm]
			out[k+1] += value[i1&nm]
			out[k+2] += value[i2&nm]
			out[k+3] += value[i3&nm]
			out[k+4] += value[i4&nm]
			out[k+5] += value[i5&nm]
			out[k+6] += value[i6&nm]
			out[k+7] += value[i7&nm]
		}
		for ; k < nrows; k++ {
			o, i := k*stride, root
			for range depth {
				n := &nodes[i&nm]
				i = stepNaN(n, buf[(o+int(n.feature))&bm])
			}
			out[k] += value[i&nm]
		}
	}
}

// walkPerfect adds perfect tree pt's outputs for the rows of buf to out,
// eight rows at a time.
func walkPerfect(pt *perfectTree, depth int, buf []float64, stride int, out []float64, hasNaN bool) {
	nodes, leaves := pt.nodes, pt.leaves
	if len(nodes) == 0 || len(leaves) != len(nodes) || len(buf) == 0 {
		return
	}
	m, bm := len(nodes)-1, len(buf)-1
	first := m // heap index of the first leaf: 2^depth - 1
	nrows := len(out)
	k := 0
	for ; k+7 < nrows; k += 8 {
		o := k * stride
		var i0, i1, i2, i3, i4, i5, i6, i7 int
		if hasNaN {
			for range depth {
				n0, n1, n2, n3 := &nodes[i0&m], &nodes[i1&m], &nodes[i2&m], &nodes[i3&m]
				n4, n5, n6, n7 := &nodes[i4&m], &nodes[i5&m], &nodes[i6&m], &nodes[i7&m]
				i0 = 2*i0 + 1 + pstepNaN(n0, buf[(o+int(n0.feature))&bm])
				i1 = 2*i1 + 1 + pstepNaN(n1, buf[(o+stride+int(n1.feature))&bm])
				i2 = 2*i2 + 1 + pstepNaN(n2, buf[(o+2*stride+int(n2.feature))&bm])
				i3 = 2*i3 + 1 + pstepNaN(n3, buf[(o+3*stride+int(n3.feature))&bm])
				i4 = 2*i4 + 1 + pstepNaN(n4, buf[(o+4*stride+int(n4.feature))&bm])
				i5 = 2*i5 + 1 + pstepNaN(n5, buf[(o+5*stride+int(n5.feature))&bm])
				i6 = 2*i6 + 1 + pstepNaN(n6, buf[(o+6*stride+int(n6.feature))&bm])
				i7 = 2*i7 + 1 + pstepNaN(n7, buf[(o+7*stride+int(n7.feature))&bm])
			}
		} else {
			for range depth {
				n0, n1, n2, n3 := &nodes[i0&m], &nodes[i1&m], &nodes[i2&m], &nodes[i3&m]
				n4, n5, n6, n7 := &nodes[i4&m], &nodes[i5&m], &nodes[i6&m], &nodes[i7&m]
				i0 = 2*i0 + 1 + pstep(n0, buf[(o+int(n0.feature))&bm])
				i1 = 2*i1 + 1 + pstep(n1, buf[(o+stride+int(n1.feature))&bm])
				i2 = 2*i2 + 1 + pstep(n2, buf[(o+2*stride+int(n2.feature))&bm])
				i3 = 2*i3 + 1 + pstep(n3, buf[(o+3*stride+int(n3.feature))&bm])
				i4 = 2*i4 + 1 + pstep(n4, buf[(o+4*stride+int(n4.feature))&bm])
				i5 = 2*i5 + 1 + pstep(n5, buf[(o+5*stride+int(n5.feature))&bm])
				i6 = 2*i6 + 1 + pstep(n6, buf[(o+6*stride+int(n6.feature))&bm])
				i7 = 2*i7 + 1 + pstep(n7, buf[(o+7*stride+int(n7.feature))&bm])
			}
		}
		out[k] += leaves[(i0-first)&m]
		out[k+1] += leaves[(i1-first)&m]
		out[k+2] += leaves[(i2-first)&m]
		out[k+3] += leaves[(i3-first)&m]
		out[k+4] += leaves[(i4-first)&m]
		out[k+5] += leaves[(i5-first)&m]
		out[k+6] += leaves[(i6-first)&m]
		out[k+7] += leaves[(i7-first)&m]
	}
	for ; k < nrows; k++ {
		o, i := k*stride, 0
		for range depth {
			n := &nodes[i&m]
			i = 2*i + 1 + pstepNaN(n, buf[(o+int(n.feature))&bm])
		}
		out[k] += leaves[(i-first)&m]
	}
}

// pstep is 1 when a non-NaN value v goes right at node n, else 0.
func pstep(n *pnode, v float64) int {
	var ge int
	if v >= n.threshold {
		ge = 1
	}
	return ge
}

// pstepNaN is pstep for a value that may be NaN.
func pstepNaN(n *pnode, v float64) int {
	var ge, nan int32
	if v >= n.threshold {
		ge = 1
	}
	if v != v {
		nan = 1
	}
	return int(ge | (nan & n.nanRight))
}
