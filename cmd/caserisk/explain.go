package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"caserisk/features/contract"
	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/explain"
)

// The glue between model files and models/explain for score --explain and
// evaluate --importance.

// writeExplained writes the scores of every row of tab with, as asked,
// each feature's contribution and the bias, and k raising and k lowering
// reasons. Key columns are copied, protected characteristics are not.
func writeExplained(ctx context.Context, w io.Writer, m *artifact.Model, tab *dataset.Table, probs []float64, contributions bool, k int) error {
	cols, err := m.Columns(tab)
	if err != nil {
		return fmt.Errorf("explain %s: %w", tab.Source, err)
	}
	c, err := m.Explainer()
	if err != nil {
		return err
	}
	o := explain.CSVOptions{Infos: m.FeatureInfos(), Scores: probs, Contributions: contributions, Reasons: k}
	for _, key := range tab.Keys {
		if !slices.Contains(tab.Audit, key.Name) {
			o.KeyNames = append(o.KeyNames, key.Name)
			o.Keys = append(o.Keys, key.Values)
		}
	}
	if asOf, ok := tab.Key(dataset.AsOf); ok && k > 0 {
		// Reasons count dates back from each row's as-of date.
		o.AsOf = make([]time.Time, len(asOf))
		for i, v := range asOf {
			d, err := contract.ParseDay(v)
			if err != nil {
				return fmt.Errorf("explain %s: row %d: as_of %q: %w", tab.Source, i+1, v, err)
			}
			o.AsOf[i] = d.Time()
		}
	}
	if err := explain.WriteCSV(ctx, w, c, cols, o); err != nil {
		return fmt.Errorf("explain %s: %w", tab.Source, err)
	}
	return nil
}

// printImportance writes the n most important features as a table.
func printImportance(w io.Writer, imp []explain.Importance, n int, trees bool) {
	fmt.Fprintf(w, "%-44s %12s", "feature (by mean |contribution|, log-odds)", "mean |SHAP|")
	if trees {
		fmt.Fprintf(w, " %12s", "total gain")
	}
	fmt.Fprintln(w)
	for _, f := range imp[:min(n, len(imp))] {
		fmt.Fprintf(w, "%-44s %12.4f", f.Feature, f.MeanAbsSHAP)
		if trees {
			fmt.Fprintf(w, " %12.1f", f.Gain)
		}
		fmt.Fprintln(w)
	}
}
