//go:build !amd64 || purego

package gbdt

// accumulateRows adds the gradient pairs of rows (ascending) to h; amd64
// has an assembly version (not built with the purego tag).
func accumulateRows(h hist, bins []uint8, d int, rows []int32, grad []gradPair, buf *gatherBuf) {
	accumulateGo(h, bins, d, rows, grad, buf)
}
