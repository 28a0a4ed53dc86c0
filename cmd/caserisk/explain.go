package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/explain"
)

// The glue between model files and models/explain for score --explain and
// evaluate --importance.

// writeExplanations writes path: per row the table's key columns (not the
// protected characteristics), the margin, the bias, each feature's
// contribution and k raising and k lowering reasons.
func writeExplanations(ctx context.Context, m *artifact.Model, tab *dataset.Table, path string, k int) error {
	cols, err := m.Columns(tab)
	if err != nil {
		return fmt.Errorf("explain %s: %w", tab.Source, err)
	}
	o := explain.CSVOptions{Infos: m.FeatureInfos(), Reasons: k}
	for _, key := range tab.Keys {
		if !slices.Contains(tab.Audit, key.Name) {
			o.KeyNames = append(o.KeyNames, key.Name)
			o.Keys = append(o.Keys, key.Values)
		}
	}
	// Write beside the target and rename, so a failed run never leaves a
	// partial file under the requested name.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	defer os.Remove(f.Name())
	c, err := m.Explainer()
	if err != nil {
		return err
	}
	if err := explain.WriteCSV(ctx, f, c, cols, o); err != nil {
		f.Close()
		return fmt.Errorf("explain %s into %s: %w", tab.Source, path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("explain: %w", err)
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
