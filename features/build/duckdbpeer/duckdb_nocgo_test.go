//go:build !cgo

package duckdbpeer

import "testing"

// TestDuckDBAgreesWithBuilder needs DuckDB's Go driver, which is cgo.
func TestDuckDBAgreesWithBuilder(t *testing.T) {
	t.Skip("DuckDB's Go driver needs cgo (a C compiler and CGO_ENABLED=1): the SQL peer is not checked")
}
