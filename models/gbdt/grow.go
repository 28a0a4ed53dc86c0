package gbdt

import (
	"context"
	"math"

	"caserisk/models/tree"
)

// partBlockRows is the block size of the parallel row partition. Blocks only
// change who moves which rows, never the result: the partition is stable.
const partBlockRows = 16384

// mergeFeatures is the number of features per task when block histograms
// are merged.
const mergeFeatures = 8

// node is a node of the tree being grown.
type node struct {
	id         int32 // index in the tree's arrays
	begin, end int   // its rows are grower.idx[begin:end]
	sum        gradPair
	depth      int
	lo, hi     float64 // monotone bounds on its value
	h          hist    // nil until built, and after it is released
	split      splitInfo
}

// grower grows one tree at a time over a binned training set. Its buffers
// are reused from tree to tree.
type grower struct {
	p       Params
	threads int
	bm      *binMatrix
	cuts    [][]float64
	sp      splitter
	pool    histPool

	grad []gradPair // per row, for the current round
	idx  []int32    // row ids, each node's rows contiguous and ascending
	tmp  []int32    // scratch for the partition
	nidx int        // rows of the current tree: idx[:nidx]

	feats []int32 // split candidates for the current tree

	// The tree being grown, and per node the split's bin (for binned
	// traversal) and, for leaves, the node holding its rows.
	t        *tree.Tree
	splitBin []uint8
	leaves   []*node
}

// newNode appends an empty node to the tree and returns its index.
func (g *grower) newNode(cover float64) int32 {
	t := g.t
	t.Left = append(t.Left, -1)
	t.Right = append(t.Right, -1)
	t.Feature = append(t.Feature, -1)
	t.Threshold = append(t.Threshold, 0)
	t.DefaultLeft = append(t.DefaultLeft, false)
	t.Value = append(t.Value, 0)
	t.Cover = append(t.Cover, cover)
	t.Gain = append(t.Gain, 0)
	g.splitBin = append(g.splitBin, 0)
	return int32(len(t.Left) - 1)
}

// makeLeaf gives node n its final value.
func (g *grower) makeLeaf(n *node) {
	g.t.Value[n.id] = g.p.LearningRate * g.sp.weight(n.sum, n.lo, n.hi)
	g.leaves = append(g.leaves, n)
	g.pool.put(n.h)
	n.h = nil
}

// canSplit reports whether a node at depth may still be split.
func (g *grower) canSplit(depth int) bool {
	return g.p.MaxDepth == 0 || depth < g.p.MaxDepth
}

// splittable reports whether node n could be split: it is above the depth
// limit and has enough rows and hessian for two children.
func (g *grower) splittable(n *node) bool {
	return g.canSplit(n.depth) && n.end-n.begin >= 2 && n.sum.h > 0 && n.sum.h >= 2*g.p.MinChildWeight
}

// grow builds a tree on the rows idx[:nidx] with the gradients in g.grad.
// The returned tree's leaves hold learning-rate-scaled values; g.leaves
// lists the leaves with their rows.
func (g *grower) grow(ctx context.Context) (*tree.Tree, error) {
	g.t = &tree.Tree{}
	g.splitBin = g.splitBin[:0]
	g.leaves = g.leaves[:0]

	sum := g.sumRows(g.idx[:g.nidx])
	root := &node{begin: 0, end: g.nidx, sum: sum, lo: math.Inf(-1), hi: math.Inf(1)}
	root.id = g.newNode(sum.h)
	if g.splittable(root) {
		if err := g.buildHists(ctx, []*node{root}); err != nil {
			return nil, err
		}
		root.split = g.sp.best(root.h, root.sum, root.lo, root.hi, g.feats)
	}
	var err error
	if g.p.Growth == GrowthLossguide {
		err = g.growLossguide(ctx, root)
	} else {
		err = g.growDepthwise(ctx, root)
	}
	if err != nil {
		for _, n := range g.leaves {
			g.pool.put(n.h)
		}
		return nil, err
	}
	return g.t, nil
}

// growDepthwise splits level by level.
func (g *grower) growDepthwise(ctx context.Context, root *node) error {
	level := []*node{root}
	leaves := 1
	for len(level) > 0 {
		var splitting, next []*node
		for _, n := range level {
			if n.split.valid && g.canSplit(n.depth) && (g.p.MaxLeaves == 0 || leaves < g.p.MaxLeaves) {
				splitting = append(splitting, n)
				leaves++
			} else {
				g.makeLeaf(n)
			}
		}
		if len(splitting) == 0 {
			break
		}
		next, err := g.splitNodes(ctx, splitting, next)
		if err != nil {
			return err
		}
		level = next
	}
	return nil
}

// growLossguide always splits the open leaf with the largest gain.
func (g *grower) growLossguide(ctx context.Context, root *node) error {
	open := []*node{root}
	leaves := 1
	for len(open) > 0 && (g.p.MaxLeaves == 0 || leaves < g.p.MaxLeaves) {
		// Pick the best gain; ties go to the earlier node.
		bi := -1
		for i, n := range open {
			if n.split.valid && g.canSplit(n.depth) && (bi < 0 || n.split.gain > open[bi].split.gain ||
				(n.split.gain == open[bi].split.gain && n.id < open[bi].id)) {
				bi = i
			}
		}
		if bi < 0 {
			break
		}
		n := open[bi]
		open = append(open[:bi], open[bi+1:]...)
		children, err := g.splitNodes(ctx, []*node{n}, nil)
		if err != nil {
			return err
		}
		open = append(open, children...)
		leaves++
	}
	for _, n := range open {
		g.makeLeaf(n)
	}
	return nil
}

// splitNodes applies each node's best split: it records the split in the
// tree, partitions the node's rows, builds the children's histograms (the
// smaller child directly, the larger by subtraction from the parent's) and
// finds the children's best splits. The children are appended to out.
func (g *grower) splitNodes(ctx context.Context, ns []*node, out []*node) ([]*node, error) {
	t := g.t
	type pair struct {
		parent, small, large *node
		needS, needL         bool // whether each child may be split
	}
	pairs := make([]pair, len(ns))
	for k, n := range ns {
		sp := &n.split
		llo, lhi, rlo, rhi := g.sp.childBounds(sp, n.lo, n.hi)
		l := &node{depth: n.depth + 1, sum: sp.left, lo: llo, hi: lhi}
		r := &node{depth: n.depth + 1, sum: sp.right, lo: rlo, hi: rhi}
		l.id = g.newNode(sp.left.h)
		r.id = g.newNode(sp.right.h)
		t.Left[n.id], t.Right[n.id] = l.id, r.id
		t.Feature[n.id] = int32(sp.feature)
		t.DefaultLeft[n.id] = sp.defaultLeft
		t.Gain[n.id] = sp.gain
		g.splitBin[n.id] = sp.bin
		if sp.bin == 0 {
			// Missing values alone go left: every value goes right.
			t.Threshold[n.id] = -math.MaxFloat64
		} else {
			t.Threshold[n.id] = g.cuts[sp.feature][sp.bin-1]
		}
		pairs[k] = pair{parent: n, small: l, large: r}
		out = append(out, l, r)
	}
	if err := g.partition(ctx, ns, func(k int) (*node, *node) { return pairs[k].small, pairs[k].large }); err != nil {
		return nil, err
	}

	// Histograms: the children that may split need one. Build the smaller
	// child's rows directly and derive the larger's from the parent's.
	var build []*node
	for k := range pairs {
		p := &pairs[k]
		if p.small.end-p.small.begin > p.large.end-p.large.begin {
			p.small, p.large = p.large, p.small
		}
		p.needS, p.needL = g.splittable(p.small), g.splittable(p.large)
		if !p.needS && !p.needL {
			g.pool.put(p.parent.h)
			p.parent.h = nil
			continue
		}
		p.small.h = g.pool.get()
		build = append(build, p.small)
	}
	if err := g.buildHists(ctx, build); err != nil {
		return nil, err
	}
	// The larger children's histograms by subtraction, then the best splits
	// of all children, in parallel.
	err := forEach(ctx, g.threads, len(pairs), func(k int) {
		p := &pairs[k]
		if p.parent.h != nil && p.needL {
			subHist(p.parent.h, p.small.h)
			p.large.h, p.parent.h = p.parent.h, nil
		}
	})
	if err != nil {
		return nil, err
	}
	for k := range pairs {
		p := &pairs[k]
		g.pool.put(p.parent.h) // not needed for the larger child
		p.parent.h = nil
		if !p.needS {
			g.pool.put(p.small.h)
			p.small.h = nil
		}
	}
	children := out[len(out)-2*len(ns):]
	err = forEach(ctx, g.threads, len(children), func(i int) {
		c := children[i]
		if c.h != nil {
			c.split = g.sp.best(c.h, c.sum, c.lo, c.hi, g.feats)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// partition reorders each split node's rows stably so that the left child's
// rows come first, and sets the children's row ranges. Nodes are cut into
// blocks of partBlockRows that are partitioned in parallel into g.tmp and
// then copied back in order.
func (g *grower) partition(ctx context.Context, ns []*node, children func(k int) (l, r *node)) error {
	type block struct {
		n      *node
		lo, hi int // rows idx[lo:hi]
		nl     int // rows going left
		dstL   int // where its left rows go in idx
		dstR   int // where its right rows go in idx
	}
	var blocks []block
	for _, n := range ns {
		m := n.end - n.begin
		nb := max(1, (m+partBlockRows-1)/partBlockRows)
		for b := range nb {
			lo, hi := blockRange(m, nb, b)
			blocks = append(blocks, block{n: n, lo: n.begin + lo, hi: n.begin + hi})
		}
	}
	err := forEach(ctx, g.threads, len(blocks), func(i int) {
		bl := &blocks[i]
		sp := &bl.n.split
		col := g.bm.cols[sp.feature]
		src := g.idx[bl.lo:bl.hi]
		dst := g.tmp[bl.lo:bl.hi]
		// A row goes left when its bin is in 1..sbin, or is the missing bin
		// 0 and missing values go left; with wrapping uint8 arithmetic that
		// is one comparison: b-lo < span.
		lo, span := uint8(1), sp.bin
		if sp.defaultLeft {
			lo, span = 0, sp.bin+1
		}
		// Left rows forward from the start of dst, right rows backward from
		// its end (reversed back when copied). Both slots are written and
		// one cursor moves, so there is no branch to mispredict.
		nl, nr := 0, len(dst)
		for _, r := range src {
			var l int
			if col[r]-lo < span {
				l = 1
			}
			dst[nl] = r
			dst[nr-1] = r
			nl += l
			nr -= 1 - l
		}
		bl.nl = nl
	})
	if err != nil {
		return err
	}
	// Destinations, and the children's ranges.
	for i, k := 0, 0; i < len(blocks); k++ {
		n := blocks[i].n
		nl := 0
		j := i
		for ; j < len(blocks) && blocks[j].n == n; j++ {
			nl += blocks[j].nl
		}
		l, r := children(k)
		l.begin, l.end = n.begin, n.begin+nl
		r.begin, r.end = n.begin+nl, n.end
		offL, offR := l.begin, r.begin
		for ; i < j; i++ {
			blocks[i].dstL, blocks[i].dstR = offL, offR
			offL += blocks[i].nl
			offR += (blocks[i].hi - blocks[i].lo) - blocks[i].nl
		}
	}
	return forEach(ctx, g.threads, len(blocks), func(i int) {
		bl := &blocks[i]
		tmp := g.tmp[bl.lo:bl.hi]
		copy(g.idx[bl.dstL:], tmp[:bl.nl])
		right := tmp[bl.nl:]
		out := g.idx[bl.dstR : bl.dstR+len(right)]
		for k, r := range right {
			out[len(out)-1-k] = r
		}
	})
}

// buildHists builds the histogram of each node (whose n.h is allocated) from
// its rows. Large nodes are cut into row blocks built in parallel into
// scratch histograms, then merged into n.h in block order.
func (g *grower) buildHists(ctx context.Context, ns []*node) error {
	if len(ns) == 0 {
		return nil
	}
	type task struct {
		n      *node
		lo, hi int
		h      hist
	}
	var tasks []task
	var firsts []int // index of each node's first task
	for _, n := range ns {
		if n.h == nil {
			n.h = g.pool.get()
		}
		m := n.end - n.begin
		nb := histBlocks(m)
		firsts = append(firsts, len(tasks))
		for b := range nb {
			lo, hi := blockRange(m, nb, b)
			h := n.h
			if b > 0 {
				h = g.pool.get()
			}
			tasks = append(tasks, task{n: n, lo: n.begin + lo, hi: n.begin + hi, h: h})
		}
	}
	d := g.bm.d
	err := forEach(ctx, g.threads, len(tasks), func(i int) {
		tk := &tasks[i]
		clear(tk.h)
		var buf gatherBuf
		accumulateRows(tk.h, g.bm.bins, d, g.idx[tk.lo:tk.hi], g.grad, &buf)
	})
	if err == nil {
		// Merge each node's block histograms into its first, a range of
		// mergeFeatures features per task so that a single large node (the
		// root) is merged on every thread. Each bin still adds the blocks
		// in block order.
		nf := (d + mergeFeatures - 1) / mergeFeatures
		err = forEach(ctx, g.threads, len(ns)*nf, func(t int) {
			first := firsts[t/nf]
			flo := (t % nf) * mergeFeatures
			fhi := min(flo+mergeFeatures, d)
			dst := tasks[first].h[flo:fhi]
			for i := first + 1; i < len(tasks) && tasks[i].n == tasks[first].n; i++ {
				addHist(dst, tasks[i].h[flo:fhi])
			}
		})
	}
	for k := range ns {
		first := firsts[k]
		for i := first + 1; i < len(tasks) && tasks[i].n == tasks[first].n; i++ {
			g.pool.put(tasks[i].h)
		}
	}
	return err
}

// sumRows returns the sum of the gradient pairs of rows, summed per fixed
// block and then across blocks in order (independent of the thread count).
func (g *grower) sumRows(rows []int32) gradPair {
	nb := (len(rows) + rowBlock - 1) / rowBlock
	parts := make([]gradPair, nb)
	_ = forEach(context.Background(), g.threads, nb, func(b int) {
		var s gradPair
		for _, r := range rows[b*rowBlock : min((b+1)*rowBlock, len(rows))] {
			s = s.add(g.grad[r])
		}
		parts[b] = s
	})
	var s gradPair
	for _, p := range parts {
		s = s.add(p)
	}
	return s
}

// leafOfBinned returns the leaf of tree t that a binned row reaches, using
// the split bins recorded while growing; it agrees with t.Leaf on the raw
// values by construction of the thresholds.
func leafOfBinned(t *tree.Tree, splitBin []uint8, row []uint8) int {
	i := 0
	for t.Left[i] >= 0 {
		b := row[t.Feature[i]]
		var left bool
		if b == missingBin {
			left = t.DefaultLeft[i]
		} else {
			left = b <= splitBin[i]
		}
		if left {
			i = int(t.Left[i])
		} else {
			i = int(t.Right[i])
		}
	}
	return i
}
