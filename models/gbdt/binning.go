package gbdt

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// missingBin is the bin of a missing (NaN) value; values use bins 1..nb.
const missingBin = 0

// binSampleRows caps the number of rows whose values decide the cut points,
// as LightGBM's bin_construct_sample_cnt (200,000) does. Every row is binned
// with the resulting cuts, so the sample only affects where the cuts fall:
// with 255 bins, 100,000 rows put about 400 sampled values in each bin,
// enough to place a quantile within a fraction of a bin's width, at half
// the sorting time.
const binSampleRows = 100_000

// rowBlock is the number of rows per block in row-parallel loops whose
// results do not depend on how rows are grouped (binning, gradients).
const rowBlock = 8192

// binMatrix is a data set quantised to bins, stored row-major so that the
// bins of one row share a cache line when histograms are built.
type binMatrix struct {
	n, d int
	bins []uint8   // bins[i*d+j] is the bin of row i, feature j
	cols [][]uint8 // cols[j][i] is the same bin, column-major for the partition
}

// row returns the bins of row i.
func (m *binMatrix) row(i int) []uint8 {
	off := i * m.d
	return m.bins[off : off+m.d : off+m.d]
}

// paddedCuts holds one feature's cut points padded with +Inf to 256 entries,
// for a branch-light binary search.
type paddedCuts [256]float64

func padCuts(cuts []float64) *paddedCuts {
	var p paddedCuts
	for i := range p {
		p[i] = math.Inf(1)
	}
	copy(p[:], cuts)
	return &p
}

// binOf returns the bin of value x: missingBin for NaN, else 1 + the number
// of cuts <= x. So bin(x) <= s exactly when x < cuts[s-1], which is what lets
// a split on bins be written as the float threshold cuts[s-1]. There are at
// most 254 finite cuts, so c[254] and c[255] are +Inf and the result is at
// most 255 for finite x.
func binOf(x float64, c *paddedCuts) uint8 {
	if x != x {
		return missingBin
	}
	// Each probe's outcome is read from the flags (SETcc), not branched on:
	// the comparisons are as unpredictable as the data.
	k := 0
	for step := 128; step > 0; step >>= 1 {
		k += le(c[(k+step-1)&255], x) * step
	}
	return uint8(k + 1)
}

// binOf4 is binOf of four values, searched together: the four chains of
// dependent probes overlap, where one chain alone waits on each load.
func binOf4(x0, x1, x2, x3 float64, c *paddedCuts) (b0, b1, b2, b3 uint8) {
	k0, k1, k2, k3 := 0, 0, 0, 0
	for step := 128; step > 0; step >>= 1 {
		k0 += le(c[(k0+step-1)&255], x0) * step
		k1 += le(c[(k1+step-1)&255], x1) * step
		k2 += le(c[(k2+step-1)&255], x2) * step
		k3 += le(c[(k3+step-1)&255], x3) * step
	}
	b0, b1, b2, b3 = uint8(k0+1), uint8(k1+1), uint8(k2+1), uint8(k3+1)
	if x0 != x0 {
		b0 = missingBin
	}
	if x1 != x1 {
		b1 = missingBin
	}
	if x2 != x2 {
		b2 = missingBin
	}
	if x3 != x3 {
		b3 = missingBin
	}
	return
}

// le is 1 when a <= b, else 0, without a branch.
func le(a, b float64) int {
	var r int
	if a <= b {
		r = 1
	}
	return r
}

// featureCuts returns strictly increasing cut points that split the values
// (NaN-free; sorted in place) into at most
// maxValueBins bins of roughly equal count. With few distinct values, every
// distinct value gets its own bin and the cuts fall midway between
// neighbours.
func featureCuts(vals []float64, maxValueBins int) []float64 {
	if len(vals) == 0 {
		return nil
	}
	slices.Sort(vals)
	distinct := 1
	for i := 1; i < len(vals); i++ {
		if vals[i] != vals[i-1] {
			distinct++
		}
	}
	between := func(a, b float64) float64 {
		m := a + (b-a)/2
		if !(m > a) || m > b { // a and b are adjacent floats
			return b
		}
		return m
	}
	var cuts []float64
	if distinct <= maxValueBins {
		cuts = make([]float64, 0, distinct-1)
		for i := 1; i < len(vals); i++ {
			if vals[i] != vals[i-1] {
				cuts = append(cuts, between(vals[i-1], vals[i]))
			}
		}
		return cuts
	}
	// Greedy equal-count binning over runs of equal values: close a bin once
	// it holds its share of the rows not yet binned. A heavy value closes its
	// bin on its own.
	cuts = make([]float64, 0, maxValueBins-1)
	remaining, binsLeft, acc := len(vals), maxValueBins, 0
	for i := 0; i < len(vals) && binsLeft > 1; {
		j := i + 1
		for j < len(vals) && vals[j] == vals[i] {
			j++
		}
		if j == len(vals) {
			break
		}
		acc += j - i
		if float64(acc) >= float64(remaining)/float64(binsLeft) {
			cuts = append(cuts, between(vals[i], vals[j]))
			remaining -= acc
			acc = 0
			binsLeft--
		}
		i = j
	}
	return cuts
}

// computeCuts returns the cut points of every feature, chosen from a sample
// of at most binSampleRows rows drawn with rng.
func computeCuts(ctx context.Context, cols [][]float64, maxValueBins, threads int, rng *rand.Rand) ([][]float64, error) {
	n := len(cols[0])
	var sample []int32
	if n > binSampleRows {
		frac := float64(binSampleRows) / float64(n)
		sample = make([]int32, 0, binSampleRows+binSampleRows/10)
		for i := range n {
			if rng.Float64() < frac {
				sample = append(sample, int32(i))
			}
		}
	}
	cuts := make([][]float64, len(cols))
	err := forEach(ctx, threads, len(cols), func(j int) {
		col := cols[j]
		var vals []float64
		if sample == nil {
			vals = make([]float64, 0, n)
			for _, v := range col {
				if v == v {
					vals = append(vals, v)
				}
			}
		} else {
			vals = make([]float64, 0, len(sample))
			for _, i := range sample {
				if v := col[i]; v == v {
					vals = append(vals, v)
				}
			}
		}
		cuts[j] = featureCuts(vals, maxValueBins)
	})
	if err != nil {
		return nil, fmt.Errorf("choosing bin cut points: %w", err)
	}
	return cuts, nil
}

// binColumns quantises column-major data with the given cuts into a
// row-major matrix.
// With withCols it also keeps a column-major copy.
func binColumns(ctx context.Context, cols [][]float64, cuts [][]float64, threads int, withCols bool) (*binMatrix, error) {
	n, d := len(cols[0]), len(cols)
	padded := make([]*paddedCuts, d)
	for j := range cuts {
		padded[j] = padCuts(cuts[j])
	}
	m := &binMatrix{n: n, d: d, bins: make([]uint8, n*d)}
	if withCols {
		m.cols = make([][]uint8, d)
		for j := range m.cols {
			m.cols[j] = make([]uint8, n)
		}
	}
	nblocks := (n + rowBlock - 1) / rowBlock
	err := forEach(ctx, threads, nblocks, func(b int) {
		lo, hi := b*rowBlock, min((b+1)*rowBlock, n)
		var bs [rowBlock]uint8
		for j := range d {
			pc := padded[j]
			xs := cols[j][lo:hi]
			b := bs[:len(xs)]
			i := 0
			for ; i+4 <= len(xs); i += 4 {
				b[i], b[i+1], b[i+2], b[i+3] = binOf4(xs[i], xs[i+1], xs[i+2], xs[i+3], pc)
			}
			for ; i < len(xs); i++ {
				b[i] = binOf(xs[i], pc)
			}
			out := m.bins[lo*d+j:]
			for i, v := range b {
				out[i*d] = v
			}
			if withCols {
				copy(m.cols[j][lo:hi], b)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("binning %d rows: %w", n, err)
	}
	return m, nil
}
