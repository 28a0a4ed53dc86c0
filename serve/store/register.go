package store

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"caserisk/models/artifact"
)

// ArtifactTarget returns the target of a model file's target field, which
// caserisk train sets to the label column's name ("label_complex_case");
// the bare target name is accepted too.
func ArtifactTarget(s string) (Target, error) {
	return ParseTarget(strings.TrimPrefix(s, "label_"))
}

// ModelFromFile reads a model file, checks it with artifact.Parse (format,
// checksum, structure) and that it predicts target, and returns the
// registration: the file's bytes as the artifact and its held-out
// validation report as the metrics.
func ModelFromFile(path string, target Target, bands Bands, by string) (NewModel, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return NewModel{}, fmt.Errorf("read model: %w", err)
	}
	m, err := artifact.Parse(b)
	if err != nil {
		return NewModel{}, fmt.Errorf("model %s: %w", path, err)
	}
	if t, err := ArtifactTarget(m.Target); err != nil || t != target {
		return NewModel{}, fmt.Errorf("model %s: %w", path,
			invalidf("target", "the model predicts %q, not %q", m.Target, target))
	}
	metrics := json.RawMessage("{}")
	if m.Validation != nil {
		v, err := json.Marshal(map[string]any{"validation": m.Validation, "algorithm": m.Algorithm,
			"training_rows": m.Training.Rows, "label_rate": m.Training.LabelRate, "checksum": m.Checksum})
		if err != nil {
			return NewModel{}, fmt.Errorf("model %s: encode metrics: %w", path, err)
		}
		metrics = v
	}
	return NewModel{Target: target, Path: path, Artifact: b, Metrics: metrics, Bands: bands, RegisteredBy: by}, nil
}
