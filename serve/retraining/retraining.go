// Package retraining connects the retraining pipeline (models/pipeline) to
// the service. The pipeline registers candidates and reads recorded
// outcomes through two small interfaces of its own, pipeline.Registry and
// pipeline.OutcomeSource; Adapter implements both on the application core
// (serve/core), acting as one actor, so a registration is validated and
// audited (model.register) and reading the outcomes is audited
// (labels.export) exactly as from any other front end. ExportLabels writes
// the same outcomes for caserisk labels export.
package retraining

import (
	"context"
	"errors"
	"fmt"
	"io"

	"caserisk/models/pipeline"
	"caserisk/models/target"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// Adapter is the pipeline's registry and outcome source on the core.
type Adapter struct {
	c *core.Core
	a core.Actor
}

// New returns an adapter acting as a on c (core.Operator for a command).
func New(c *core.Core, a core.Actor) *Adapter { return &Adapter{c: c, a: a} }

var (
	_ pipeline.Registry      = (*Adapter)(nil)
	_ pipeline.OutcomeSource = (*Adapter)(nil)
)

// Champion returns the target's champion artifact and version, or
// pipeline.ErrNoChampion.
func (x *Adapter) Champion(ctx context.Context, t target.Name) ([]byte, int, error) {
	vs, err := x.c.ChampionVersions(ctx, x.a)
	if err != nil {
		return nil, 0, err
	}
	v, ok := vs[t]
	if !ok {
		return nil, 0, pipeline.ErrNoChampion
	}
	m, err := x.c.Model(ctx, x.a, t, v)
	if err != nil {
		return nil, 0, err
	}
	return m.Artifact, m.Version, nil
}

// Register registers the model file as a candidate with band thresholds
// from its training label rate and, when given, its fairness audit.
func (x *Adapter) Register(ctx context.Context, r pipeline.RegisterRequest) (int, bool, error) {
	nm, err := store.ModelFromFile(r.Path, r.Target, store.Bands{}, x.a.Name)
	if err != nil {
		return 0, false, err
	}
	if r.Fairness != nil {
		if nm, err = store.AttachFairness(nm, r.Fairness); err != nil {
			return 0, false, fmt.Errorf("model %s: %w", r.Path, err)
		}
	}
	m, created, err := x.c.Register(ctx, x.a, nm)
	if err != nil {
		return 0, false, err
	}
	return m.Version, created, nil
}

// Outcomes returns the closed cases of t whose outcome is a label.
func (x *Adapter) Outcomes(ctx context.Context, t target.Name) ([]pipeline.Outcome, error) {
	ls, err := x.c.Labels(ctx, x.a, t)
	if err != nil {
		return nil, err
	}
	return outcomes(ls), nil
}

func outcomes(ls []store.Label) []pipeline.Outcome {
	out := make([]pipeline.Outcome, len(ls))
	for i, l := range ls {
		out[i] = pipeline.Outcome{Target: l.Kind, CaseID: l.CaseID, EntityID: l.EntityID, ResidentID: l.ResidentID,
			AsOf: l.AsOf, Outcome: string(l.Outcome), Label: l.Label, ClosedAt: l.ClosedAt}
	}
	return out
}

// ExportLabels writes the outcomes recorded for a target, read through the
// core as a (audited as labels.export): for tenancy_fraud, rows of the data
// contract's fraud_investigations.csv (pipeline.FraudOutcomes), with each
// tenancy's uprn from dataDir's tenancies.csv; for complex_case, the
// store's labels CSV (store.WriteLabelsCSV). It returns the rows written
// and, for fraud, the cases left out because their tenancy is not in
// dataDir.
func ExportLabels(ctx context.Context, c *core.Core, a core.Actor, t target.Name, dataDir string, w io.Writer) (n int, unplaced []int64, err error) {
	var uprns map[string]int64
	if t == target.TenancyFraud {
		if dataDir == "" {
			return 0, nil, errors.New("export labels: tenancy_fraud rows need the extracts' directory, for each tenancy's uprn")
		}
		if uprns, err = pipeline.TenancyUPRNs(dataDir); err != nil {
			return 0, nil, fmt.Errorf("export labels: %w", err)
		}
	}
	labels, err := c.Labels(ctx, a, t)
	if err != nil {
		return 0, nil, fmt.Errorf("export labels: %w", err)
	}
	if t != target.TenancyFraud {
		return len(labels), nil, store.WriteLabelsCSV(w, labels)
	}
	rows, unplaced, err := pipeline.FraudOutcomes(outcomes(labels), uprns)
	if err != nil {
		return 0, nil, fmt.Errorf("export labels: %w", err)
	}
	return len(rows), unplaced, pipeline.WriteInvestigations(w, rows)
}
