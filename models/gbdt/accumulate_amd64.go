//go:build amd64 && !purego

package gbdt

// accumulateIdx adds, for each row r of rows[:n], grad[r] to the bin of r
// in every feature's histogram: h points at d consecutive [256]gradPair
// and the bins of row r are bins[r*d : r*d+d]. It is written in assembly
// (accumulate_amd64.s) for two things Go does not do: it adds a gradient
// pair with one 16-byte SSE2 add, and it prefetches the bins and gradient
// of the row 16 ahead, so scattered rows cost no cache-miss stall. ADDPD
// rounds each lane exactly as two scalar additions would, so the sums are
// the same as accumulate's, bit for bit.
//
//go:noescape
func accumulateIdx(h *[256]gradPair, bins *byte, d int, rows *int32, n int, grad *gradPair)

// accumulateRows adds the gradient pairs of rows (ascending) to h. Each
// bin's sum runs over the rows in their order. buf is not needed here.
func accumulateRows(h hist, bins []uint8, d int, rows []int32, grad []gradPair, _ *gatherBuf) {
	if len(rows) == 0 || d == 0 {
		return
	}
	h = h[:d]
	// The assembly does no bounds checks: with rows ascending, checking the
	// first and the last row covers them all.
	first, last := int(rows[0]), int(rows[len(rows)-1])
	if first < 0 || last >= len(grad) || (last+1)*d > len(bins) {
		panic("gbdt: accumulateRows: rows out of range")
	}
	accumulateIdx(&h[0], &bins[0], d, &rows[0], len(rows), &grad[0])
}
