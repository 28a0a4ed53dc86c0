package tree

//go:generate go run gen_kernels.go

import (
	"math"
	"math/bits"
	"slices"
	"sync"
)

// The bit-sliced scorer scores blocks of 64 rows. Each node's test, "value
// >= threshold, or missing when the node's default is right", is the same
// for every node that shares the feature, threshold and default, so it is
// computed once per block as a 64-bit mask with one bit per row. A tree of
// depth d <= 6 (shallower leaves padded down to depth d) is then evaluated
// for all 64 rows at once by a generated kernel (kernels_gen.go): the rows
// going right at level k are a multiplexer over the level's node masks,
// selected by the decisions above it, 3 word operations a node; the
// decisions are turned into leaf indices eight rows at a time and each
// row's leaf value is added to its margin. No step waits on a value loaded
// by the step before, unlike a tree walk, so the work is bound by
// throughput rather than latency. Deeper trees are walked row by row over
// per-row byte codes.
//
// The masks come from per-feature codes: a value's code is the number of
// the feature's distinct thresholds that are <= it, so "value >= the j-th
// smallest threshold" is exactly "code >= j" (the same float comparison as
// Tree.Next, made once per value). The code is found by a bucket lookup
// and one or two comparisons (or a branch-free binary search), the rows of
// each code are collected in one word, and a suffix OR over codes gives
// every threshold's mask. Margins are summed as Ensemble.Margin sums them:
// base, then each tree in order, in float64, so they are equal bit for bit.

const (
	// maxBucketSteps is the most comparisons after a bucket lookup
	// (gen_kernels.go has the same constant).
	maxBucketSteps = 4
	// numBuckets is the number of buckets of a feature's bucket lookup.
	numBuckets = 1024
	// blockRows is the number of rows scored together, one per bit.
	blockRows = 64
	// maxBitDepth bounds the trees evaluated bit-sliced: a tree of depth D
	// is padded to 2^D leaves. Deeper trees are walked row by row over
	// the codes.
	maxBitDepth = 6
	// maxCodeThresholds is the most distinct thresholds a feature may have
	// for codes to fit in a byte: codes 0..K for values, and for the deep
	// walk K+1 for a value seen by a default-left node and 255 and 0 for a
	// missing one.
	maxCodeThresholds = 254
)

// quantized is an ensemble compiled for bit-sliced scoring.
type quantized struct {
	slots []qslot
	// nmasks is the number of threshold masks of a block; mask 0 is the
	// test of padding nodes (whose children are the same) and mask 1 is
	// unused.
	nmasks int

	// Shallow trees (depth <= maxBitDepth), tree t at trees[t] when
	// kind[t] is 0: heap-ordered node masks (index 1..2^D-1) and leaves.
	trees []btree
	// Deep trees, walked row by row over codes; kind[t] = 1.
	deep  []qdeep
	kind  []uint8 // per tree in ensemble order: 0 shallow, 1 deep
	codes bool    // whether blocks need per-row codes (there are deep trees)

	scratch sync.Pool // of *scratch, reused across calls
}

// qslot is a feature the ensemble splits on.
type qslot struct {
	feature int
	cuts    *[512]float64 // sorted distinct thresholds padded with NaN
	k       int           // number of distinct thresholds
	steps   int           // comparisons of a binary search: 2^steps > k
	// When bsteps > 0, a value's code is start[bucket(v, lo, scale)] plus
	// the number of cuts <= v among the next 2^bsteps-1: every cut in
	// bucket b is among the first 2^bsteps-1 from start[b], which counts
	// the cuts in buckets below b.
	bsteps    int
	start     *[numBuckets]uint8
	lo, scale float64
	// The masks of "code >= j" for j = 1..k are at ge+j-1 when hasGE, and
	// those of "code >= j or missing" at gem+j-1 when hasGEM.
	ge, gem       int
	hasGE, hasGEM bool
}

// btree is a shallow tree laid out as a perfect tree of depth d.
type btree struct {
	d      int
	mask   []uint16  // 2^d entries; mask[n] is node n's right-going mask, n = 1..2^d-1
	leaves []float64 // 2^d
}

// qdeep is a deep tree over codes: siblings adjacent, a leaf loops to
// itself (code 0 sends every row right, to left+1 = itself).
type qdeep struct {
	depth int
	nodes []qnode
	value []float64
}

// qnode is a node of a deep tree: it sends a row right when byte off of
// the row's codes is >= code.
type qnode struct {
	left int32
	off  int32
	code uint8
}

// quantize compiles a valid ensemble for bit-sliced scoring, or returns nil
// when some feature has more than maxCodeThresholds distinct thresholds.
func quantize(e *Ensemble) *quantized {
	// Distinct thresholds per feature; -0 and +0 are one threshold, as
	// they compare equal.
	norm := func(v float64) float64 {
		if v == 0 {
			return 0
		}
		return v
	}
	th := map[int32][]float64{}
	for ti := range e.Trees {
		t := &e.Trees[ti]
		for i := range t.Left {
			if !t.IsLeaf(i) {
				th[t.Feature[i]] = append(th[t.Feature[i]], norm(t.Threshold[i]))
			}
		}
	}
	var feats []int32
	for f := range th {
		feats = append(feats, f)
	}
	slices.Sort(feats)
	q := &quantized{nmasks: 2}
	slotOf := map[int32]int{}
	for u, f := range feats {
		s := slices.Compact(slices.Sorted(slices.Values(th[f])))
		if len(s) > maxCodeThresholds {
			return nil
		}
		steps := bits.Len(uint(len(s)))
		cuts := new([512]float64)
		copy(cuts[:], s)
		for i := len(s); i < len(cuts); i++ {
			cuts[i] = math.NaN() // v >= NaN is false: never counted
		}
		sl := qslot{feature: int(f), cuts: cuts, k: len(s), steps: steps}
		sl.buckets(s)
		q.slots = append(q.slots, sl)
		slotOf[f] = u
	}
	// code returns the slot and threshold rank (from 1) of internal node i.
	code := func(t *Tree, i int) (u, j int) {
		u = slotOf[t.Feature[i]]
		cuts := q.slots[u].cuts[:q.slots[u].k]
		j, _ = slices.BinarySearch(cuts, norm(t.Threshold[i]))
		return u, j + 1
	}
	// Which mask tables each slot needs, then where they go.
	for ti := range e.Trees {
		t := &e.Trees[ti]
		if t.Depth() > maxBitDepth {
			continue
		}
		for i := range t.Left {
			if !t.IsLeaf(i) {
				sl := &q.slots[slotOf[t.Feature[i]]]
				sl.hasGE = sl.hasGE || t.DefaultLeft[i]
				sl.hasGEM = sl.hasGEM || !t.DefaultLeft[i]
			}
		}
	}
	for u := range q.slots {
		sl := &q.slots[u]
		if sl.hasGE {
			sl.ge = q.nmasks
			q.nmasks += sl.k
		}
		if sl.hasGEM {
			sl.gem = q.nmasks
			q.nmasks += sl.k
		}
	}
	if q.nmasks > 1<<16 {
		return nil // node mask indices are 16 bits
	}
	// maskOf returns the mask index of internal node i.
	maskOf := func(t *Tree, i int) uint16 {
		u, j := code(t, i)
		if t.DefaultLeft[i] {
			return uint16(q.slots[u].ge + j - 1)
		}
		return uint16(q.slots[u].gem + j - 1)
	}
	nu := len(q.slots)
	for ti := range e.Trees {
		t := &e.Trees[ti]
		d := t.Depth()
		if d <= maxBitDepth {
			bt := btree{d: d, mask: make([]uint16, 1<<d), leaves: make([]float64, 1<<d)}
			var fill func(orig, pos, level int)
			fill = func(orig, pos, level int) {
				if level == d {
					bt.leaves[pos-(1<<d)] = t.Value[orig]
					return
				}
				l, r := orig, orig
				if !t.IsLeaf(orig) {
					bt.mask[pos] = maskOf(t, orig)
					l, r = int(t.Left[orig]), int(t.Right[orig])
				} // else a padding node: mask 0, both children the same
				fill(l, 2*pos, level+1)
				fill(r, 2*pos+1, level+1)
			}
			fill(0, 1, 0)
			q.trees = append(q.trees, bt)
			q.kind = append(q.kind, 0)
			continue
		}
		q.codes = true
		dt := qdeep{depth: d, nodes: []qnode{{}}, value: []float64{0}}
		type item struct{ orig, at int }
		queue := []item{{0, 0}}
		for len(queue) > 0 {
			it := queue[0]
			queue = queue[1:]
			if t.IsLeaf(it.orig) {
				dt.nodes[it.at] = qnode{left: int32(it.at - 1)}
				dt.value[it.at] = t.Value[it.orig]
				continue
			}
			left := len(dt.nodes)
			dt.nodes = append(dt.nodes, qnode{}, qnode{})
			dt.value = append(dt.value, 0, 0)
			// Byte u of a row's codes is its code, 255 when missing: >= j
			// exactly when the value goes right at a default-right node.
			// Byte nu+u is the code plus one, 0 when missing: >= j+1
			// exactly when it goes right at a default-left node.
			u, j := code(t, it.orig)
			n := qnode{left: int32(left), off: int32(u), code: uint8(j)}
			if t.DefaultLeft[it.orig] {
				n.off, n.code = int32(nu+u), uint8(j+1)
			}
			dt.nodes[it.at] = n
			queue = append(queue, item{int(t.Left[it.orig]), left}, item{int(t.Right[it.orig]), left + 1})
		}
		q.deep = append(q.deep, dt)
		q.kind = append(q.kind, 1)
	}
	return q
}

// bucket maps a value that is not NaN monotonically (non-decreasing) to
// 0..numBuckets-1 with the same float operations at compile time and at scoring
// time, so a value is in the bucket of any cut it equals. The bucket of
// NaN is unspecified (int(NaN) depends on the machine); prepare ignores
// the code of a missing value.
func bucket(v, lo, scale float64) int {
	f := max(min(float64(v-lo)*scale, numBuckets-1), 0)
	return int(f) & (numBuckets - 1)
}

// buckets sets up the bucket lookup for sorted distinct cuts s when it
// takes fewer comparisons than a binary search.
func (sl *qslot) buckets(s []float64) {
	if len(s) < 4 {
		return
	}
	lo, hi := s[0], s[len(s)-1]
	scale := numBuckets / (hi - lo)
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) || math.IsInf(scale, 0) || math.IsNaN(scale) || scale <= 0 {
		return
	}
	var count [numBuckets]int
	for _, c := range s {
		count[bucket(c, lo, scale)]++
	}
	most := slices.Max(count[:])
	steps := bits.Len(uint(most))
	if steps >= maxBucketSteps+1 || steps+2 > sl.steps {
		return
	}
	sl.start = new([numBuckets]uint8)
	below := 0
	for b := range count {
		sl.start[b] = uint8(below)
		below += count[b]
	}
	sl.bsteps, sl.lo, sl.scale = steps, lo, scale
}

// scratch is the per-call working memory of the bit-sliced scorer.
type scratch struct {
	masks []uint64 // the threshold masks of the current block; len a power of two >= nmasks
	codes []uint8  // 2*len(slots) codes of each row (byte off of row r at off*blockRows+r), when there are deep trees
	vals  [blockRows]float64
	code  [blockRows]uint8
	out   [blockRows]float64
}

// getScratch returns working memory for one call, from the pool if it can.
func (q *quantized) getScratch() *scratch {
	if s, ok := q.scratch.Get().(*scratch); ok {
		return s
	}
	return q.newScratch()
}

func (q *quantized) newScratch() *scratch {
	n := 1
	for n < q.nmasks {
		n *= 2
	}
	s := &scratch{masks: make([]uint64, n)}
	if q.codes {
		s.codes = make([]uint8, 2*len(q.slots)*blockRows)
	}
	return s
}

// le is 1 when a <= b, else 0, read from the flags rather than branched on.
func le(a, b float64) int {
	var r int
	if a <= b {
		r = 1
	}
	return r
}

// b2u is 1 for true, else 0, without a branch.
func b2u(b bool) uint64 {
	var r uint64
	if b {
		r = 1
	}
	return r
}

// prepare computes the threshold masks (and codes) of the n <= 64 rows
// whose values of feature f get(f, vals) writes to vals[:n].
func (q *quantized) prepare(s *scratch, n int, get func(f int, vals []float64)) {
	masks := s.masks
	nu := len(q.slots)
	vals := s.vals[:n]
	var byCode [256]uint64
	for u := range q.slots {
		sl := &q.slots[u]
		get(sl.feature, vals)
		if sl.bsteps > 0 {
			bucketSearches[sl.bsteps](sl, vals, &s.code)
		} else {
			searches[sl.steps](sl.cuts, vals, &s.code)
		}
		var miss uint64
		for r, v := range vals {
			miss |= b2u(v != v) << uint(r)
		}
		clear(byCode[:sl.k+1])
		for r := range vals {
			byCode[s.code[r&(blockRows-1)]] |= 1 << uint(r)
		}
		// A NaN's code means nothing: take its row out (missing values
		// are rare, so this loop is short).
		for m := miss; m != 0; m &= m - 1 {
			r := bits.TrailingZeros64(m)
			byCode[s.code[r&(blockRows-1)]] &^= 1 << uint(r)
		}
		if s.codes != nil {
			hi := s.codes[u*blockRows : u*blockRows+n]
			lo := s.codes[(nu+u)*blockRows : (nu+u)*blockRows+n]
			for r := range vals {
				if r < len(hi) && r < len(lo) {
					k := s.code[r&(blockRows-1)]
					nan := uint8(miss >> uint(r) & 1)
					hi[r] = k | -nan
					lo[r] = (k + 1) & (nan - 1)
				}
			}
		}
		// Suffix OR over codes: acc = the rows with code >= j.
		acc := uint64(0)
		switch {
		case sl.hasGE && sl.hasGEM:
			ge := masks[sl.ge : sl.ge+sl.k]
			gem := masks[sl.gem : sl.gem+sl.k]
			for j := len(ge); j >= 1; j-- {
				acc |= byCode[uint8(j)]
				ge[j-1] = acc
				if j-1 < len(gem) {
					gem[j-1] = acc | miss
				}
			}
		case sl.hasGEM:
			gem := masks[sl.gem : sl.gem+sl.k]
			for j := len(gem); j >= 1; j-- {
				acc |= byCode[uint8(j)]
				gem[j-1] = acc | miss
			}
		case sl.hasGE:
			ge := masks[sl.ge : sl.ge+sl.k]
			for j := len(ge); j >= 1; j-- {
				acc |= byCode[uint8(j)]
				ge[j-1] = acc
			}
		}
	}
}

// spread[b] has byte l equal to bit l of b.
var spread = func() (t [256]uint64) {
	for b := range t {
		for l := range 8 {
			t[b] |= uint64(b>>l&1) << (8 * l)
		}
	}
	return t
}()

// score adds every tree's output to out (len(out) <= 64) for the rows whose
// masks and codes s holds, tree by tree in ensemble order.
func (q *quantized) score(s *scratch, out []float64) {
	o := &s.out
	copy(o[:], out)
	bi, di := 0, 0
	for _, kind := range q.kind {
		if kind != 0 {
			q.walkDeep(&q.deep[di], s, o[:len(out)])
			di++
			continue
		}
		t := &q.trees[bi]
		bi++
		if t.d == 0 {
			v := t.leaves[0]
			for r := range o {
				o[r] += v
			}
			continue
		}
		kernels[t.d](t.mask, s.masks, t.leaves, o)
	}
	copy(out, o[:])
}

// walkDeep adds deep tree t's outputs to out, row by row over the codes.
func (q *quantized) walkDeep(t *qdeep, s *scratch, out []float64) {
	nodes, value := t.nodes, t.value
	codes := s.codes
	for r := range out {
		i := 0
		for range t.depth {
			nd := &nodes[i]
			i = int(nd.left) + int(b2u(codes[int(nd.off)*blockRows+r] >= nd.code))
		}
		out[r] += value[i]
	}
}
