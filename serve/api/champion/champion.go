// Package champion holds the model that currently scores each target and
// swaps it without a restart: a promotion loads the new model completely,
// then replaces an atomic pointer, so a request in flight finishes with the
// model it started with and the next request sees the new one.
package champion

import (
	"fmt"
	"math"
	"sync/atomic"
)

// Target names what a model predicts.
type Target string

const (
	// ComplexCase is the risk that a resident's household reaches a crisis
	// service (an escalation) within 12 months.
	ComplexCase Target = "complex_case"
	// TenancyFraud is the risk that a council tenancy is fraudulently held.
	TenancyFraud Target = "tenancy_fraud"
)

// Targets lists every target in a fixed order.
func Targets() []Target { return []Target{ComplexCase, TenancyFraud} }

// ParseTarget returns the target named s.
func ParseTarget(s string) (Target, error) {
	switch Target(s) {
	case ComplexCase, TenancyFraud:
		return Target(s), nil
	}
	return "", fmt.Errorf("unknown target %q (want complex_case or tenancy_fraud)", s)
}

// Reason is one plain-English reason for a score: the feature, its value,
// its contribution to the margin (log-odds) and the sentence shown to a
// caseworker.
type Reason struct {
	Feature      string  `json:"feature"`
	Value        float64 `json:"value"`
	Contribution float64 `json:"contribution"`
	Text         string  `json:"text"`
}

// Model is what the service needs from a trained model artifact.
// Implementations must be safe for concurrent use.
type Model interface {
	// Version is the artifact's registry version.
	Version() string
	// Features lists the input columns in the order Score expects them.
	Features() []string
	// Score returns the calibrated probability for row x (len(x) ==
	// len(Features()); NaN marks a missing value).
	Score(x []float64) float64
	// Reasons returns up to k reasons for row x's score, strongest first.
	Reasons(x []float64, k int) []Reason
}

// Bands maps a calibrated probability to a band: "high" at or above High,
// "medium" at or above Medium, else "low". The thresholds are chosen per
// target by the service's operator (they depend on how many cases the
// council's teams can take) and are stored with the champion.
type Bands struct {
	High   float64 `json:"high"`
	Medium float64 `json:"medium"`
}

// DefaultBands returns the thresholds used when none are configured.
func DefaultBands() Bands { return Bands{High: 0.5, Medium: 0.2} }

// Validate checks that 0 ≤ Medium ≤ High ≤ 1.
func (b Bands) Validate() error {
	if math.IsNaN(b.High) || math.IsNaN(b.Medium) || b.Medium < 0 || b.High > 1 || b.Medium > b.High {
		return fmt.Errorf("band thresholds must satisfy 0 <= medium (%g) <= high (%g) <= 1", b.Medium, b.High)
	}
	return nil
}

// Band returns the band of probability p.
func (b Bands) Band(p float64) string {
	switch {
	case p >= b.High:
		return "high"
	case p >= b.Medium:
		return "medium"
	}
	return "low"
}

// Champion is a loaded model ready to score one target.
type Champion struct {
	Target Target
	Model  Model
	Bands  Bands
	index  map[string]int
}

// New returns a champion for target t. It fails if the model lists a feature
// twice or the bands are invalid.
func New(t Target, m Model, b Bands) (*Champion, error) {
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("champion %s %s: %w", t, m.Version(), err)
	}
	feats := m.Features()
	idx := make(map[string]int, len(feats))
	for i, f := range feats {
		if _, dup := idx[f]; dup {
			return nil, fmt.Errorf("champion %s %s: feature %q listed twice", t, m.Version(), f)
		}
		idx[f] = i
	}
	return &Champion{Target: t, Model: m, Bands: b, index: idx}, nil
}

// Index returns the position of feature name in the model's rows.
func (c *Champion) Index(name string) (int, bool) {
	i, ok := c.index[name]
	return i, ok
}

// Features lists the model's inputs in row order.
func (c *Champion) Features() []string { return c.Model.Features() }

// NumFeatures returns the number of model inputs.
func (c *Champion) NumFeatures() int { return len(c.index) }

// Holder holds the current champion of each target. It is safe for
// concurrent use; the zero value is not usable, call NewHolder.
type Holder struct {
	complexCase  atomic.Pointer[Champion]
	tenancyFraud atomic.Pointer[Champion]
}

// NewHolder returns a holder with no champions.
func NewHolder() *Holder { return &Holder{} }

func (h *Holder) slot(t Target) *atomic.Pointer[Champion] {
	switch t {
	case ComplexCase:
		return &h.complexCase
	case TenancyFraud:
		return &h.tenancyFraud
	}
	return nil
}

// Get returns target t's champion, or nil if it has none.
func (h *Holder) Get(t Target) *Champion {
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
