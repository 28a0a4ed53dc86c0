// Package drift measures how far a newer feature table has moved from the
// data a model was trained on, with the population stability index (PSI).
//
// A Profile summarises one variable's training distribution as quantile
// bins (deciles by default) plus a bin for missing values; it is small
// enough to travel inside a model artifact, so drift can be measured later
// from the model and the new table alone. PSI = Σ (new − ref) · ln(new / ref)
// over the bins. The usual reading: below 0.1 stable, 0.1–0.25 a moderate
// shift worth a look, above 0.25 a major shift.
package drift

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Profile is a variable's reference distribution: Edges are the upper
// bounds of all but the last bin (a value v falls in the first bin whose
// edge is ≥ v), Share the reference share of each bin, and Missing the
// share of missing values.
type Profile struct {
	Edges   []float64 `json:"edges"`
	Share   []float64 `json:"share"`
	Missing float64   `json:"missing"`
	Rows    int       `json:"rows"`
}

// NewProfile builds a profile of values (NaN = missing) with up to bins
// quantile bins. Repeated quantiles merge, so a variable with few distinct
// values gets one bin per value. Values above the training range fall in
// the last bin, which may be empty in the reference: new data there is drift.
//
// The edges are exact order statistics of the present values (the value
// of rank ⌊n·q/bins⌋ in ascending order, −0 counted as 0), found by radix
// selection in linear time rather than by sorting.
func NewProfile(values []float64, bins int) (*Profile, error) {
	if bins < 2 {
		return nil, fmt.Errorf("drift: %d bins, want at least 2", bins)
	}
	if len(values) == 0 {
		return nil, errors.New("drift: no values to profile")
	}
	keys := make([]uint64, 0, len(values))
	for _, v := range values {
		if v == v { // not NaN
			keys = append(keys, orderKey(v))
		}
	}
	p := &Profile{Rows: len(values)}
	if len(keys) > 0 {
		ranks := make([]int, bins-1)
		for q := 1; q < bins; q++ {
			ranks[q-1] = (len(keys) * q) / bins
		}
		for _, k := range orderStats(keys, ranks) {
			if e := fromOrderKey(k); len(p.Edges) == 0 || e > p.Edges[len(p.Edges)-1] {
				p.Edges = append(p.Edges, e)
			}
		}
	}
	counts, missing := p.count(values)
	p.Share = shares(counts, len(values))
	p.Missing = float64(missing) / float64(len(values))
	return p, nil
}

// orderKey maps a float64 that is not NaN to a uint64 in the same order
// (−0 and +0 to the same key).
func orderKey(v float64) uint64 {
	if v == 0 {
		v = 0 // −0 → +0
	}
	b := math.Float64bits(v)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// fromOrderKey inverts orderKey.
func fromOrderKey(k uint64) float64 {
	if k>>63 != 0 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// radixBits is the number of key bits one selection pass resolves.
const radixBits = 16

// orderStats returns the keys of the given ascending ranks (0-based) in
// keys, which it may reorder. Each pass counts the keys by their next
// radixBits bits and keeps only the buckets that hold a wanted rank, so the
// work is a few linear passes whatever the distribution.
func orderStats(keys []uint64, ranks []int) []uint64 {
	out := make([]uint64, len(ranks))
	s := &selector{hist: make([]int, 1<<radixBits), slot: make([]int16, 1<<radixBits)}
	for i := range s.slot {
		s.slot[i] = -1
	}
	s.selectRanks(keys, ranks, out, 64-radixBits)
	return out
}

// selector holds the scratch space of one orderStats call.
type selector struct {
	hist []int   // keys per bucket
	slot []int16 // bucket → index of its group, -1 for none
}

// selectRanks fills out[i] with the key of rank ranks[i] in keys, all of
// which agree on the bits above shift+radixBits.
func (s *selector) selectRanks(keys []uint64, ranks []int, out []uint64, shift int) {
	for {
		if len(keys) <= 256 {
			slices.Sort(keys)
			for i, r := range ranks {
				out[i] = keys[r]
			}
			return
		}
		if shift < 0 { // every bit resolved: the keys are all equal
			for i := range ranks {
				out[i] = keys[0]
			}
			return
		}
		const mask = 1<<radixBits - 1
		clear(s.hist)
		for _, k := range keys {
			s.hist[(k>>uint(shift))&mask]++
		}
		// The buckets holding wanted ranks, and the ranks within each.
		type group struct {
			bucket     int
			first, end int // ranks[first:end] fall in this bucket
			below      int // keys in lower buckets
			members    []uint64
		}
		var groups []group
		cum, ri := 0, 0
		for b := 0; b <= mask && ri < len(ranks); b++ {
			c := s.hist[b]
			j := ri
			for j < len(ranks) && ranks[j] < cum+c {
				j++
			}
			if j > ri {
				groups = append(groups, group{bucket: b, first: ri, end: j, below: cum})
				ri = j
			}
			cum += c
		}
		if len(groups) == 1 && s.hist[groups[0].bucket] == len(keys) {
			// Every key is in the one bucket: on to the next bits.
			shift -= radixBits
			continue
		}
		for g := range groups {
			groups[g].members = make([]uint64, 0, s.hist[groups[g].bucket])
			s.slot[groups[g].bucket] = int16(g)
		}
		for _, k := range keys {
			if g := s.slot[(k>>uint(shift))&mask]; g >= 0 {
				groups[g].members = append(groups[g].members, k)
			}
		}
		for _, g := range groups {
			s.slot[g.bucket] = -1
		}
		for _, g := range groups {
			sub := make([]int, g.end-g.first)
			for i, r := range ranks[g.first:g.end] {
				sub[i] = r - g.below
			}
			s.selectRanks(g.members, sub, out[g.first:g.end], shift-radixBits)
		}
		return
	}
}

// bin returns the bin of a present value: the number of edges below it.
func (p *Profile) bin(v float64) int {
	if len(p.Edges) > 16 {
		return sort.SearchFloat64s(p.Edges, v)
	}
	b := 0
	for _, e := range p.Edges {
		if e < v {
			b++
		}
	}
	return b
}

func (p *Profile) count(values []float64) (counts []int, missing int) {
	counts = make([]int, len(p.Edges)+1)
	for _, v := range values {
		if v != v { // NaN
			missing++
			continue
		}
		counts[p.bin(v)]++
	}
	return counts, missing
}

func shares(counts []int, n int) []float64 {
	s := make([]float64, len(counts))
	for i, c := range counts {
		s[i] = float64(c) / float64(n)
	}
	return s
}

// eps stands in for an empty bin's share so that PSI stays finite; it is
// the convention of most PSI implementations.
const eps = 1e-4

// PSI returns the population stability index of values against the profile.
func (p *Profile) PSI(values []float64) (float64, error) {
	if len(values) == 0 {
		return 0, errors.New("drift: no values to compare")
	}
	if len(p.Share) != len(p.Edges)+1 {
		return 0, fmt.Errorf("drift: profile has %d edges but %d shares", len(p.Edges), len(p.Share))
	}
	counts, missing := p.count(values)
	now := shares(counts, len(values))
	psi := term(p.Missing, float64(missing)/float64(len(values)))
	for i := range now {
		psi += term(p.Share[i], now[i])
	}
	return psi, nil
}

func term(ref, now float64) float64 {
	if ref == 0 && now == 0 {
		return 0
	}
	ref, now = math.Max(ref, eps), math.Max(now, eps)
	return (now - ref) * math.Log(now/ref)
}

// Level names the usual reading of a PSI value.
func Level(psi float64) string {
	switch {
	case psi < 0.1:
		return "stable"
	case psi < 0.25:
		return "moderate shift"
	default:
		return "major shift"
	}
}

// Shift is one variable's drift.
type Shift struct {
	Name  string  `json:"name"`
	PSI   float64 `json:"psi"`
	Level string  `json:"level"`
}

// Compare computes the PSI of each named column against its profile and
// returns the shifts sorted from the largest. Columns without a profile are
// an error: the caller names what it compares.
func Compare(profiles map[string]*Profile, columns map[string][]float64) ([]Shift, error) {
	var out []Shift
	for name, vals := range columns {
		p, ok := profiles[name]
		if !ok {
			return nil, fmt.Errorf("drift: no training profile for %s", name)
		}
		psi, err := p.PSI(vals)
		if err != nil {
			return nil, fmt.Errorf("drift: %s: %w", name, err)
		}
		out = append(out, Shift{Name: name, PSI: psi, Level: Level(psi)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].PSI != out[j].PSI {
			return out[i].PSI > out[j].PSI
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}
