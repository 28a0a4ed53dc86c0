package explain

// EvenlySpaced returns at most n rows of a column-major table, evenly
// spaced from the first (every ⌈rows/n⌉-th row), so that global importance
// on a large table can be estimated from a deterministic sample. With n ≤ 0
// or at most n rows it returns cols itself.
func EvenlySpaced(cols [][]float64, n int) [][]float64 {
	if len(cols) == 0 || n <= 0 || len(cols[0]) <= n {
		return cols
	}
	rows := len(cols[0])
	step := (rows + n - 1) / n
	out := make([][]float64, len(cols))
	for j, col := range cols {
		out[j] = make([]float64, 0, (rows+step-1)/step)
		for i := 0; i < rows; i += step {
			out[j] = append(out[j], col[i])
		}
	}
	return out
}
