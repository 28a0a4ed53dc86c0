package main

import (
	"context"
	"fmt"
	"os"
	"slices"

	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/explain"
)

// The glue between model files and models/explain for score --explain and
// evaluate --importance.

// featureInfos returns the descriptions of the model's features, with the
// missing-value clause that phrases a value that was not recorded.
func featureInfos(m *artifact.Model) []explain.FeatureInfo {
	infos := m.FeatureInfos()
	for i, f := range m.Features {
		infos[i].Missing = f.Missing
	}
	return infos
}

// writeExplanations writes path: per row the table's key columns (not the
// protected characteristics), the margin, the bias, each feature's
// contribution and k raising and k lowering reasons.
func writeExplanations(ctx context.Context, m *artifact.Model, tab *dataset.Table, path string, k int) (err error) {
	cols, err := m.Columns(tab)
	if err != nil {
		return fmt.Errorf("explain %s: %w", tab.Source, err)
	}
	o := explain.CSVOptions{Infos: featureInfos(m), Reasons: k}
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
	if err := explain.WriteCSV(ctx, f, m.Explainer(), cols, o); err != nil {
		return fmt.Errorf("explain %s into %s: %w", tab.Source, path, err)
	}
	return nil
}
