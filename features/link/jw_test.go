package link

import (
	"math/rand/v2"
	"testing"

	edlib "github.com/hbollon/go-edlib"
)

func TestJaroWinklerMatchesEdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alpha := "ABCDEFGHIJ "
	rnd := func(max int) string {
		n := rng.IntN(max + 1)
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[rng.IntN(len(alpha))]
		}
		return string(b)
	}
	for i := 0; i < 200000; i++ {
		lim := 12
		if i%100 == 0 {
			lim = 90 // the long path
		}
		a, b := rnd(lim), rnd(lim)
		if i%3 == 0 && len(a) > 2 { // near copies
			bb := []byte(a)
			bb[rng.IntN(len(bb))] = alpha[rng.IntN(len(alpha))]
			b = string(bb)
		}
		got, want := jaroWinkler(a, b), edlib.JaroWinklerSimilarity(a, b)
		if got != want {
			t.Fatalf("jaroWinkler(%q, %q) = %v, edlib %v", a, b, got, want)
		}
	}
}

func TestJaroWinklerKnown(t *testing.T) {
	for _, c := range []struct {
		a, b string
		lo   float32
		hi   float32
	}{
		{"MARTHA", "MARHTA", 0.96, 0.962},
		{"DWAYNE", "DUANE", 0.84, 0.841},
		{"", "X", 0, 0},
		{"SAME", "SAME", 1, 1},
		{"ABC", "XYZ", 0, 0},
	} {
		if got := jaroWinkler(c.a, c.b); got < c.lo || got > c.hi {
			t.Errorf("jaroWinkler(%q, %q) = %v, want in [%v, %v]", c.a, c.b, got, c.lo, c.hi)
		}
	}
}

var benchNames = []string{"OLIVER", "OLIVRE", "MUHAMMAD", "MOHAMMED", "MARGARET", "MAGGIE", "OBRIEN",
	"OBRIAN", "KOWALSKI", "KOWALSKY", "ADEYEMI", "ADEYEMMI", "CHEN", "CHAN", "BETHANY", "BETH"}

func BenchmarkJaroWinkler(b *testing.B) {
	b.Run("bytes", func(b *testing.B) {
		var s float32
		for i := 0; i < b.N; i++ {
			s += jaroWinkler(benchNames[i%len(benchNames)], benchNames[(i*7+3)%len(benchNames)])
		}
		_ = s
	})
	b.Run("edlib", func(b *testing.B) {
		var s float32
		for i := 0; i < b.N; i++ {
			s += edlib.JaroWinklerSimilarity(benchNames[i%len(benchNames)], benchNames[(i*7+3)%len(benchNames)])
		}
		_ = s
	})
}
