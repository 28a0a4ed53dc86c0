package artifact

import (
	"context"
	"fmt"

	"caserisk/models/dataset"
	"caserisk/models/explain"
)

// Explainer returns the model's exact explainer: TreeSHAP for gbdt, the
// linear contributions (with the model's imputation) for logistic.
// Contributions are in the margin's units (log-odds) and sum with the bias
// to the margin.
func (m *Model) Explainer() (explain.Contributor, error) {
	switch m.Algorithm {
	case GBDT:
		return explain.TreeSHAP(m.Ensemble), nil
	case Logistic:
		l := m.Logistic
		lin := &explain.Linear{Mean: l.Mean, Scale: l.Scale, Coef: l.Coef, Intercept: l.Intercept}
		if m.Imputation != nil {
			lin.Impute, lin.Indicators = m.Imputation.Values, m.Imputation.Indicators
		}
		if err := lin.Validate(); err != nil {
			return nil, fmt.Errorf("model file: %w", err)
		}
		return lin, nil
	}
	return nil, fmt.Errorf("model file: unknown algorithm %q", m.Algorithm)
}

// FeatureInfos returns the descriptions of the model's features, in model
// order, as the explainer's reasons need them (with the clause that phrases
// a value that was not recorded).
func (m *Model) FeatureInfos() []explain.FeatureInfo {
	infos := make([]explain.FeatureInfo, len(m.Features))
	for i, f := range m.Features {
		infos[i] = explain.FeatureInfo{Name: f.Name, Description: f.Description, Unit: f.Unit,
			WindowDays: f.WindowDays, Service: f.Service, Aggregation: f.Aggregation,
			Template: f.Template, ZeroTemplate: f.ZeroTemplate, Missing: f.Missing,
			Direction: f.Direction, Range: f.Range}
	}
	return infos
}

// Columns returns the table's feature columns in the model's order, or a
// *SchemaError naming the missing and extra columns.
func (m *Model) Columns(t *dataset.Table) ([][]float64, error) {
	idx, err := m.FeatureIndex(t)
	if err != nil {
		return nil, err
	}
	cols := make([][]float64, len(idx))
	for j, c := range idx {
		cols[j] = t.Cols[c]
	}
	return cols, nil
}

// GlobalImportance ranks the model's features by mean absolute
// contribution over at most maxRows evenly spaced rows of the table (all
// rows when maxRows is 0), with total split gain for gbdt models.
func (m *Model) GlobalImportance(ctx context.Context, t *dataset.Table, maxRows int) ([]explain.Importance, error) {
	cols, err := m.Columns(t)
	if err != nil {
		return nil, fmt.Errorf("importance on %s: %w", t.Source, err)
	}
	c, err := m.Explainer()
	if err != nil {
		return nil, err
	}
	imp, err := explain.GlobalImportance(ctx, c, m.Ensemble, m.Names(), explain.EvenlySpaced(cols, maxRows))
	if err != nil {
		return nil, fmt.Errorf("importance on %s: %w", t.Source, err)
	}
	return imp, nil
}
