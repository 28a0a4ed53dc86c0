package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/explain"
)

// The glue between model files and models/explain, shared by score
// --explain and evaluate --importance.

// modelExplainer returns the explainer of a model file's model (TreeSHAP
// for gbdt, exact linear contributions for logistic) and the descriptions
// of its features in model order.
func modelExplainer(m *artifact.Model) (explain.Contributor, []explain.FeatureInfo) {
	infos := make([]explain.FeatureInfo, len(m.Features))
	for i, f := range m.Features {
		infos[i] = explain.FeatureInfo{Name: f.Name, Description: f.Description, Unit: f.Unit,
			WindowDays: f.WindowDays, Service: f.Service, Aggregation: f.Aggregation,
			Template: f.Template, ZeroTemplate: f.ZeroTemplate, Missing: f.Missing}
	}
	if m.Algorithm == artifact.Logistic {
		l := m.Logistic
		return &explain.Linear{Mean: l.Mean, Scale: l.Scale, Coef: l.Coef, Intercept: l.Intercept,
			Impute: m.Imputation.Values, Indicators: m.Imputation.Indicators}, infos
	}
	return explain.TreeSHAP(m.Ensemble), infos
}

// modelColumns returns the table's feature columns in the model's order.
func modelColumns(m *artifact.Model, tab *dataset.Table) ([][]float64, error) {
	idx, err := m.FeatureIndex(tab)
	if err != nil {
		return nil, err
	}
	cols := make([][]float64, len(idx))
	for j, c := range idx {
		cols[j] = tab.Cols[c]
	}
	return cols, nil
}

// writeExplanations writes path: per row the table's key columns (not the
// protected characteristics), the margin, the bias, each feature's
// contribution and k raising and k lowering reasons.
func writeExplanations(ctx context.Context, m *artifact.Model, tab *dataset.Table, path string, k int) (err error) {
	cols, err := modelColumns(m, tab)
	if err != nil {
		return fmt.Errorf("explain %s: %w", tab.Source, err)
	}
	c, infos := modelExplainer(m)
	o := explain.CSVOptions{Infos: infos, Reasons: k}
	for _, key := range tab.Keys {
		if !slices.Contains(tab.Audit, key.Name) {
			o.KeyNames = append(o.KeyNames, key.Name)
			o.Keys = append(o.Keys, key.Values)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("explain: %w", cerr)
		}
	}()
	if err := explain.WriteCSV(ctx, f, c, cols, o); err != nil {
		return fmt.Errorf("explain %s into %s: %w", tab.Source, path, err)
	}
	return nil
}

// modelImportance ranks the model's features by mean absolute contribution
// over the table, with total split gain for gbdt models.
func modelImportance(ctx context.Context, m *artifact.Model, tab *dataset.Table) ([]explain.Importance, error) {
	cols, err := modelColumns(m, tab)
	if err != nil {
		return nil, fmt.Errorf("importance on %s: %w", tab.Source, err)
	}
	c, _ := modelExplainer(m)
	imp, err := explain.GlobalImportance(ctx, c, m.Ensemble, m.Names(), cols)
	if err != nil {
		return nil, fmt.Errorf("importance on %s: %w", tab.Source, err)
	}
	return imp, nil
}

// printImportance writes the n most important features as a table.
func printImportance(w io.Writer, imp []explain.Importance, n int, trees bool) {
	fmt.Fprintf(w, "%-40s %14s", "feature importance", "mean |SHAP|")
	if trees {
		fmt.Fprintf(w, " %14s", "total gain")
	}
	fmt.Fprintln(w)
	for _, f := range imp[:min(n, len(imp))] {
		fmt.Fprintf(w, "%-40s %14.4f", f.Feature, f.MeanAbsSHAP)
		if trees {
			fmt.Fprintf(w, " %14.1f", f.Gain)
		}
		fmt.Fprintln(w)
	}
}
