package build

import "testing"

func BenchmarkZZProf(b *testing.B) {
	dir := benchBorough(b, 240_000)
	for i := 0; i < b.N; i++ {
		el, rows, peak := buildOnce(b, dir, day("2023-01-01"))
		b.Logf("%v %d %.2f", el, rows, float64(peak)/(1<<30))
	}
}
