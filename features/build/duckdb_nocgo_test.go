//go:build !cgo

package build

import "testing"

// TestParquetEqualsCSVInDuckDB needs DuckDB's Go driver, which is cgo.
func TestParquetEqualsCSVInDuckDB(t *testing.T) {
	t.Skip("DuckDB's Go driver needs cgo (a C compiler and CGO_ENABLED=1): the Parquet is not checked with an independent reader")
}
