package gbdt

import "encoding/binary"

// gradPair is the gradient and hessian of one row, or a sum of them.
type gradPair struct{ g, h float64 }

func (a gradPair) add(b gradPair) gradPair { return gradPair{a.g + b.g, a.h + b.h} }
func (a gradPair) sub(b gradPair) gradPair { return gradPair{a.g - b.g, a.h - b.h} }

// hist is a gradient histogram: for each feature, the sum of the gradient
// pairs of the rows in each bin. A fixed 256 bins per feature lets a uint8
// bin index the array without bounds checks.
type hist [][256]gradPair

// histBlockRows and maxHistBlocks decide how a node's rows are cut into
// blocks whose histograms are built in parallel and then merged in block
// order. Both depend only on the node's size, never on the thread count, so
// the floating-point sums come out the same however many threads run.
const (
	histBlockRows = 8192
	maxHistBlocks = 16
)

// histBlocks returns the number of blocks for a node of m rows.
func histBlocks(m int) int {
	return max(1, min((m+histBlockRows-1)/histBlockRows, maxHistBlocks))
}

// blockRange returns the bounds of block b of nb over m rows.
func blockRange(m, nb, b int) (lo, hi int) {
	return m * b / nb, m * (b + 1) / nb
}

// gatherChunk is the number of rows gathered at a time by accumulateSparse.
const gatherChunk = 64

// gatherBuf is per-task scratch for accumulateSparse.
type gatherBuf struct {
	bins []uint8    // gatherChunk*d
	grad []gradPair // gatherChunk
}

// accumulateGo adds the gradient pairs of rows (ascending) to h, choosing
// the kernel by how densely the rows cover their span of the data. It is
// accumulateRows where there is no assembly kernel.
func accumulateGo(h hist, bins []uint8, d int, rows []int32, grad []gradPair, buf *gatherBuf) {
	if len(rows) == 0 {
		return
	}
	span := int(rows[len(rows)-1]-rows[0]) + 1
	if 4*len(rows) < span {
		accumulateSparse(h, bins, d, rows, grad, buf)
	} else {
		accumulate(h, bins, d, rows, grad)
	}
}

// accumulateSparse is accumulate for rows scattered over the data: it first
// copies a chunk of rows' bins and gradients into a small buffer, a loop of
// independent loads whose cache misses overlap, then accumulates from the
// buffer, which stays in L1. Accumulating straight from scattered rows
// stalls on each row's cache miss, since one row is too much work for the
// CPU to run ahead to the next.
func accumulateSparse(h hist, bins []uint8, d int, rows []int32, grad []gradPair, buf *gatherBuf) {
	if len(buf.bins) < gatherChunk*d {
		buf.bins = make([]uint8, gatherChunk*d)
		buf.grad = make([]gradPair, gatherChunk)
	}
	h = h[:d]
	for c := 0; c < len(rows); c += gatherChunk {
		rs := rows[c:min(c+gatherChunk, len(rows))]
		gg := buf.grad[:len(rs)]
		for k, r := range rs {
			copyRow(buf.bins[k*d:k*d+d], bins[int(r)*d:int(r)*d+d])
			gg[k] = grad[r]
		}
		for k, g := range gg {
			row := buf.bins[k*d : k*d+d][:len(h)]
			for f := range h {
				e := &h[f][row[f]]
				e.g += g.g
				e.h += g.h
			}
		}
	}
}

// copyRow copies a short row eight bytes at a time; for rows of a few dozen
// bytes this beats a call to memmove.
func copyRow(dst, src []uint8) {
	src = src[:len(dst)]
	o := 0
	for ; o+8 <= len(dst); o += 8 {
		binary.LittleEndian.PutUint64(dst[o:], binary.LittleEndian.Uint64(src[o:]))
	}
	for ; o < len(dst); o++ {
		dst[o] = src[o]
	}
}

// accumulate adds the gradient pairs of rows to h (len(h) must be the
// number of features d of bins).
func accumulate(h hist, bins []uint8, d int, rows []int32, grad []gradPair) {
	h = h[:d]
	i := 0
	// Two rows per iteration: independent loads overlap while the stores of
	// one row's updates retire.
	for ; i+1 < len(rows); i += 2 {
		r0, r1 := int(rows[i]), int(rows[i+1])
		g0, g1 := grad[r0], grad[r1]
		row0 := bins[r0*d : r0*d+d : r0*d+d]
		row1 := bins[r1*d : r1*d+d : r1*d+d]
		row0, row1 = row0[:len(h)], row1[:len(h)]
		for f := range h {
			hf := &h[f]
			e0 := &hf[row0[f]]
			e0.g += g0.g
			e0.h += g0.h
			e1 := &hf[row1[f]]
			e1.g += g1.g
			e1.h += g1.h
		}
	}
	for ; i < len(rows); i++ {
		r := int(rows[i])
		g := grad[r]
		row := bins[r*d : r*d+d : r*d+d][:len(h)]
		for f := range h {
			e := &h[f][row[f]]
			e.g += g.g
			e.h += g.h
		}
	}
}

// addHist adds src to dst bin by bin.
func addHist(dst, src hist) {
	src = src[:len(dst)]
	for f := range dst {
		d, s := &dst[f], &src[f]
		for b := range d {
			d[b].g += s[b].g
			d[b].h += s[b].h
		}
	}
}

// subHist sets dst = dst - small bin by bin: it turns a parent's histogram
// into the histogram of the child whose sibling is small.
func subHist(dst, small hist) {
	small = small[:len(dst)]
	for f := range dst {
		d, s := &dst[f], &small[f]
		for b := range d {
			d[b].g -= s[b].g
			d[b].h -= s[b].h
		}
	}
}

// histPool recycles histograms of one shape. It is used only from the
// sequential parts of training, so it needs no lock.
type histPool struct {
	d    int
	free []hist
}

// get returns a histogram whose contents are undefined.
func (p *histPool) get() hist {
	if k := len(p.free); k > 0 {
		h := p.free[k-1]
		p.free = p.free[:k-1]
		return h
	}
	return make(hist, p.d)
}

// put returns h to the pool; nil is ignored.
func (p *histPool) put(h hist) {
	if h != nil {
		p.free = append(p.free, h)
	}
}
