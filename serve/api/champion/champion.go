// Package champion holds the model that currently scores each target and
// swaps it without a restart: a promotion loads the new model completely,
// then replaces an atomic pointer, so a request in flight finishes with the
// model it started with and the next request sees the new one.
package champion

import (
	"encoding/json"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"caserisk/serve/store"
)

// Reason is one plain-English reason for a score: the feature, its value
// (NaN when not known, written as null), its contribution to the margin
// (log-odds) and the sentence shown to a caseworker.
type Reason struct {
	Feature      string
	Value        float64
	Contribution float64
	Text         string
}

// reasonJSON is Reason's wire form.
type reasonJSON struct {
	Feature      string   `json:"feature"`
	Value        *float64 `json:"value"`
	Contribution float64  `json:"contribution"`
	Text         string   `json:"text"`
}

// MarshalJSON writes a missing value as null (JSON has no NaN).
func (r Reason) MarshalJSON() ([]byte, error) {
	w := reasonJSON{Feature: r.Feature, Contribution: r.Contribution, Text: r.Text}
	if !math.IsNaN(r.Value) && !math.IsInf(r.Value, 0) {
		w.Value = &r.Value
	}
	if math.IsNaN(w.Contribution) || math.IsInf(w.Contribution, 0) {
		w.Contribution = 0
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads a null value as NaN.
func (r *Reason) UnmarshalJSON(b []byte) error {
	var w reasonJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("reason: %w", err)
	}
	*r = Reason{Feature: w.Feature, Value: math.NaN(), Contribution: w.Contribution, Text: w.Text}
	if w.Value != nil {
		r.Value = *w.Value
	}
	return nil
}

// Model is what the service needs from a trained model artifact.
// Implementations must be safe for concurrent use.
type Model interface {
	// Features lists the input columns in the order Score expects them.
	Features() []string
	// Score returns the calibrated probability and the raw margin for row
	// x (len(x) == len(Features()); NaN marks a missing value).
	Score(x []float64) (prob, margin float64)
	// Reasons returns up to k reasons for row x's score, strongest first,
	// phrased with dates counted back from asOf, the date the row's
	// features describe (the zero time when unknown).
	Reasons(x []float64, k int, asOf time.Time) []Reason
}

// Loader turns a registered artifact (the model JSON stored in the
// registry) into a Model, checking that it predicts the registered target.
type Loader func(target store.Target, artifact []byte) (Model, error)

// ValidateBands checks that 0 ≤ Medium ≤ High ≤ 1.
func ValidateBands(b store.Bands) error {
	if math.IsNaN(b.High) || math.IsNaN(b.Medium) || b.Medium < 0 || b.High > 1 || b.Medium > b.High {
		return fmt.Errorf("band thresholds must satisfy 0 <= medium (%g) <= high (%g) <= 1", b.Medium, b.High)
	}
	return nil
}

// Champion is a loaded model ready to score one target.
type Champion struct {
	Target  store.Target
	Version int // the registry version
	Model   Model
	Bands   store.Bands // calibrated-probability band thresholds
	index   map[string]int
}

// New returns the champion for a registry entry. It fails if the model
// lists a feature twice or the bands are invalid.
func New(t store.Target, version int, m Model, b store.Bands) (*Champion, error) {
	if err := ValidateBands(b); err != nil {
		return nil, fmt.Errorf("champion %s v%d: %w", t, version, err)
	}
	feats := m.Features()
	idx := make(map[string]int, len(feats))
	for i, f := range feats {
		if _, dup := idx[f]; dup {
			return nil, fmt.Errorf("champion %s v%d: feature %q listed twice", t, version, f)
		}
		idx[f] = i
	}
	return &Champion{Target: t, Version: version, Model: m, Bands: b, index: idx}, nil
}

// Load builds the champion of a registry entry with load.
func Load(load Loader, m store.Model) (*Champion, error) {
	model, err := load(m.Target, m.Artifact)
	if err != nil {
		return nil, fmt.Errorf("load %s model v%d: %w", m.Target, m.Version, err)
	}
	return New(m.Target, m.Version, model, m.Bands)
}

// Index returns the position of feature name in the model's rows.
func (c *Champion) Index(name string) (int, bool) {
	i, ok := c.index[name]
	return i, ok
}

// IndexBytes is Index for a name held as bytes; it does not allocate.
func (c *Champion) IndexBytes(name []byte) (int, bool) {
	i, ok := c.index[string(name)]
	return i, ok
}

// Features lists the model's inputs in row order.
func (c *Champion) Features() []string { return c.Model.Features() }

// NumFeatures returns the number of model inputs.
func (c *Champion) NumFeatures() int { return len(c.index) }

// Holder holds the current champion of each target. It is safe for
// concurrent use; the zero value holds no champions.
type Holder struct {
	complexCase  atomic.Pointer[Champion]
	tenancyFraud atomic.Pointer[Champion]
}

func (h *Holder) slot(t store.Target) *atomic.Pointer[Champion] {
	switch t {
	case store.ComplexCase:
		return &h.complexCase
	case store.TenancyFraud:
		return &h.tenancyFraud
	}
	return nil
}

// Get returns target t's champion, or nil if it has none.
func (h *Holder) Get(t store.Target) *Champion {
	if s := h.slot(t); s != nil {
		return s.Load()
	}
	return nil
}

// Set makes c the champion of its target and returns the one it replaced
// (nil if none). Requests that already hold the old champion finish with it.
func (h *Holder) Set(c *Champion) (*Champion, error) {
	s := h.slot(c.Target)
	if s == nil {
		return nil, fmt.Errorf("champion: unknown target %q", c.Target)
	}
	return s.Swap(c), nil
}
