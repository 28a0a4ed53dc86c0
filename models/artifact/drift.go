package artifact

import (
	"context"
	"fmt"

	"caserisk/models/dataset"
	"caserisk/models/drift"
)

// DriftProfiles summarise the training rows' distribution of every feature
// and of the score, so that `caserisk drift` can measure how far a newer
// table has moved from the model file and that table alone.
type DriftProfiles struct {
	Bins     int                       `json:"bins"`
	Features map[string]*drift.Profile `json:"features"`
	Score    *drift.Profile            `json:"score"`
}

// driftBins is the number of quantile bins per profile: deciles.
const driftBins = 10

// profileTraining records the drift profiles of the labelled training rows.
func (m *Model) profileTraining(ctx context.Context, tr *dataset.Table) error {
	d := &DriftProfiles{Bins: driftBins, Features: make(map[string]*drift.Profile, len(tr.Names))}
	for j, name := range tr.Names {
		p, err := drift.NewProfile(tr.Cols[j], driftBins)
		if err != nil {
			return fmt.Errorf("fit: drift profile of %s: %w", name, err)
		}
		d.Features[name] = p
	}
	probs, _, err := m.Scores(ctx, tr)
	if err != nil {
		return fmt.Errorf("fit: scoring the training rows for the drift profile: %w", err)
	}
	if d.Score, err = drift.NewProfile(probs, driftBins); err != nil {
		return fmt.Errorf("fit: drift profile of the score: %w", err)
	}
	m.Profiles = d
	return nil
}

// DriftReport compares a table with the training profiles.
type DriftReport struct {
	Rows     int           `json:"rows"`
	AsOf     []string      `json:"as_of,omitempty"`
	Score    drift.Shift   `json:"score"`
	Features []drift.Shift `json:"features"` // largest shift first
}

// Drift measures the population stability index of every feature and of
// the score between the training rows and t.
func (m *Model) Drift(ctx context.Context, t *dataset.Table) (*DriftReport, error) {
	if m.Profiles == nil {
		return nil, fmt.Errorf("drift: the model file has no training profiles (it predates them, or was imported): retrain it with this caserisk")
	}
	cols, err := m.Columns(t)
	if err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	byName := make(map[string][]float64, len(cols))
	for j, f := range m.Features {
		byName[f.Name] = cols[j]
	}
	shifts, err := drift.Compare(m.Profiles.Features, byName)
	if err != nil {
		return nil, err
	}
	probs, _, err := m.Scores(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("drift: scoring %s: %w", t.Source, err)
	}
	psi, err := m.Profiles.Score.PSI(probs)
	if err != nil {
		return nil, fmt.Errorf("drift: score: %w", err)
	}
	return &DriftReport{Rows: t.Len(), AsOf: t.AsOfDates(), Features: shifts,
		Score: drift.Shift{Name: "score", PSI: psi, Level: drift.Level(psi)}}, nil
}
