package artifact

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

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

// profileTraining records the drift profiles of the labelled training
// rows, the features' in parallel. margins, when not nil, are the training
// rows' margins (gbdt's tracked ones); otherwise the rows are scored.
func (m *Model) profileTraining(ctx context.Context, tr *dataset.Table, margins []float64, threads int) error {
	d := &DriftProfiles{Bins: driftBins, Features: make(map[string]*drift.Profile, len(tr.Names))}
	profiles := make([]*drift.Profile, len(tr.Names)+1)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(threads, 1))
	g.Go(func() error {
		// The score's profile; scoring, when needed, runs its own batches.
		var probs []float64
		if margins != nil {
			if len(margins) != tr.Len() {
				return fmt.Errorf("fit: %d training margins for %d rows", len(margins), tr.Len())
			}
			probs = make([]float64, len(margins))
			for i, z := range margins {
				probs[i] = m.Prob(z)
			}
		} else {
			var err error
			if probs, _, err = m.Scores(gctx, tr); err != nil {
				return fmt.Errorf("fit: scoring the training rows for the drift profile: %w", err)
			}
		}
		p, err := drift.NewProfile(probs, driftBins)
		if err != nil {
			return fmt.Errorf("fit: drift profile of the score: %w", err)
		}
		profiles[len(tr.Names)] = p
		return nil
	})
	for j, name := range tr.Names {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			p, err := drift.NewProfile(tr.Cols[j], driftBins)
			if err != nil {
				return fmt.Errorf("fit: drift profile of %s: %w", name, err)
			}
			profiles[j] = p
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for j, name := range tr.Names {
		d.Features[name] = profiles[j]
	}
	d.Score = profiles[len(tr.Names)]
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
