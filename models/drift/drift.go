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
func NewProfile(values []float64, bins int) (*Profile, error) {
	if bins < 2 {
		return nil, fmt.Errorf("drift: %d bins, want at least 2", bins)
	}
	if len(values) == 0 {
		return nil, errors.New("drift: no values to profile")
	}
	present := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) {
			present = append(present, v)
		}
	}
	slices.Sort(present)
	p := &Profile{Rows: len(values)}
	for q := 1; q < bins && len(present) > 0; q++ {
		e := present[(len(present)*q)/bins]
		if len(p.Edges) == 0 || e > p.Edges[len(p.Edges)-1] {
			p.Edges = append(p.Edges, e)
		}
	}
	counts, missing := p.count(values)
	p.Share = shares(counts, len(values))
	p.Missing = float64(missing) / float64(len(values))
	return p, nil
}

// bin returns the bin of a present value.
func (p *Profile) bin(v float64) int {
	return sort.SearchFloat64s(p.Edges, v)
}

func (p *Profile) count(values []float64) (counts []int, missing int) {
	counts = make([]int, len(p.Edges)+1)
	for _, v := range values {
		if math.IsNaN(v) {
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
