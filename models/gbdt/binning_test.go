package gbdt

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestFeatureCuts(t *testing.T) {
	for _, c := range []struct {
		name    string
		vals    []float64
		maxBins int
		want    []float64
	}{
		{"empty", nil, 255, nil},
		{"constant", []float64{3, 3, 3}, 255, nil},
		{"few-distinct", []float64{2, 1, 3, 1}, 255, []float64{1.5, 2.5}},
		{"two-bins", []float64{1, 2, 3, 4, 5, 6, 7, 8}, 2, []float64{4.5}},
		{"heavy-value", []float64{0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, 3, []float64{0.5, 2.5}},
		{"adjacent-floats", []float64{1, math.Nextafter(1, 2)}, 255, []float64{math.Nextafter(1, 2)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := featureCuts(slices.Clone(c.vals), c.maxBins)
			if !slices.Equal(got, c.want) {
				t.Errorf("featureCuts(%v, %d) = %v, want %v", c.vals, c.maxBins, got, c.want)
			}
		})
	}
}

// checkBins verifies the property that makes float thresholds exact: for
// every value x and split bin s, binOf(x) <= s exactly when x < cuts[s-1];
// NaN is in the missing bin.
func checkBins(t *testing.T, vals, cuts []float64, maxBins int) {
	t.Helper()
	if len(cuts) > maxBins-1 {
		t.Fatalf("%d cuts for at most %d bins", len(cuts), maxBins)
	}
	for i := 1; i < len(cuts); i++ {
		if !(cuts[i] > cuts[i-1]) {
			t.Fatalf("cuts not strictly increasing at %d: %v", i, cuts)
		}
	}
	pc := padCuts(cuts)
	for _, x := range vals {
		b := binOf(x, pc)
		if math.IsNaN(x) {
			if b != missingBin {
				t.Fatalf("NaN in bin %d", b)
			}
			continue
		}
		if b < 1 || int(b) > len(cuts)+1 {
			t.Fatalf("value %v in bin %d of %d", x, b, len(cuts)+1)
		}
		for s := 1; s <= len(cuts); s++ {
			if (int(b) <= s) != (x < cuts[s-1]) {
				t.Fatalf("value %v in bin %d, but x < cuts[%d] = %v is %v", x, b, s-1, cuts[s-1], x < cuts[s-1])
			}
		}
	}
}

// FuzzBinning bins arbitrary finite values and NaNs with an arbitrary bin
// budget and checks the threshold property.
func FuzzBinning(f *testing.F) {
	f.Add(uint8(255), []byte{})
	f.Add(uint8(3), []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40, 1, 0, 0, 0, 0, 0, 0xf8, 0x7f})
	f.Fuzz(func(t *testing.T, budget uint8, data []byte) {
		maxBins := 2 + int(budget)%254
		var vals, finite []float64
		for ; len(data) >= 8; data = data[8:] {
			x := math.Float64frombits(binary.LittleEndian.Uint64(data))
			if math.IsInf(x, 0) {
				continue // refused by Train
			}
			vals = append(vals, x)
			if !math.IsNaN(x) {
				finite = append(finite, x)
			}
		}
		cuts := featureCuts(slices.Clone(finite), maxBins)
		checkBins(t, vals, cuts, maxBins)
	})
}

func TestBinOfManyValues(t *testing.T) {
	cols, _ := synth(5000, 2, 0.1, 30) // feature 1 has missing values
	var finite []float64
	for _, x := range cols[1] {
		if !math.IsNaN(x) {
			finite = append(finite, x)
		}
	}
	for _, maxBins := range []int{2, 16, 255} {
		cuts := featureCuts(slices.Clone(finite), maxBins)
		if maxBins == 255 && len(cuts) != 254 {
			t.Errorf("%d cuts for 4500 distinct values and 255 bins, want 254", len(cuts))
		}
		checkBins(t, cols[1], cuts, maxBins)
	}
}

// TestBinOf4MatchesBinOf checks the four-at-a-time search against binOf,
// NaN and values beyond the cuts included.
func TestBinOf4MatchesBinOf(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, ncuts := range []int{0, 1, 7, 254} {
		cuts := make([]float64, ncuts)
		for i := range cuts {
			cuts[i] = float64(i) - float64(ncuts)/2
		}
		pc := padCuts(cuts)
		x := make([]float64, 4000)
		for i := range x {
			switch i % 7 {
			case 0:
				x[i] = math.NaN()
			case 1:
				x[i] = float64(rng.IntN(ncuts+3)) - float64(ncuts)/2 - 1 // on a cut
			default:
				x[i] = (rng.Float64() - 0.5) * float64(ncuts+4)
			}
		}
		for i := 0; i+4 <= len(x); i += 4 {
			b0, b1, b2, b3 := binOf4(x[i], x[i+1], x[i+2], x[i+3], pc)
			for k, b := range []uint8{b0, b1, b2, b3} {
				if want := binOf(x[i+k], pc); b != want {
					t.Fatalf("%d cuts: binOf4 gives %d for %v, binOf %d", ncuts, b, x[i+k], want)
				}
			}
		}
	}
}
