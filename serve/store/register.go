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

// DefaultBands returns band thresholds relative to the training label rate
// r (the average resident's or tenancy's risk): "high" from four times the
// average risk, "medium" from twice it, capped at 0.9 and 0.6 so that
// both bands stay reachable when the base rate is high. ok is false when r
// is not in (0, 1).
func DefaultBands(r float64) (b Bands, ok bool) {
	if !(r > 0 && r < 1) {
		return Bands{}, false
	}
	return Bands{High: min(4*r, 0.9), Medium: min(2*r, 0.6)}, true
}

// ModelFromFile reads a model file, checks it with artifact.Parse (format,
// checksum, structure) and that it predicts target, and returns the
// registration: the file's bytes as the artifact and its held-out
// validation report as the metrics, with too_few_labels (and the counts
// and minimums under labels) when its labels are too few to trust.
// Zero bands are replaced by DefaultBands of the model's training label
// rate (for a positive–unlabelled model, its estimated share of positives,
// which its probabilities are on the scale of).
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
	if bands == (Bands{}) {
		rate := m.Training.LabelRate
		if pu := m.Training.PU; pu != nil {
			rate = pu.Prior
		}
		var ok bool
		if bands, ok = DefaultBands(rate); !ok {
			return NewModel{}, fmt.Errorf("model %s: %w", path, invalidf("bands",
				"the model records no usable training label rate (%g) to set band thresholds from; give them explicitly", rate))
		}
	}
	metrics := json.RawMessage("{}")
	// too_few_labels (with the counts and thresholds under "labels") says
	// the model's metrics cannot be trusted: promotion asks to confirm.
	lc := m.LabelChecks()
	if m.Validation != nil || lc.TooFewLabels {
		fields := map[string]any{"algorithm": m.Algorithm, "training_rows": m.Training.Rows, "label_rate": m.Training.LabelRate,
			"checksum": m.Checksum, "too_few_labels": lc.TooFewLabels, "labels": lc}
		if m.Validation != nil {
			fields["validation"] = m.Validation
		}
		if m.Training.PU != nil {
			fields["positive_unlabelled"] = m.Training.PU
		}
		v, err := json.Marshal(fields)
		if err != nil {
			return NewModel{}, fmt.Errorf("model %s: encode metrics: %w", path, err)
		}
		metrics = v
	}
	return NewModel{Target: target, Path: path, Artifact: b, Metrics: metrics, Bands: bands, RegisteredBy: by}, nil
}

// AttachFairness adds a model's fairness audit (the fairness.json that
// `caserisk report` writes) to a registration's metrics under "fairness",
// so the registry shows performance by group beside the overall metrics.
func AttachFairness(nm NewModel, fairnessJSON []byte) (NewModel, error) {
	var audit map[string]json.RawMessage
	if err := json.Unmarshal(fairnessJSON, &audit); err != nil || audit["characteristics"] == nil {
		return nm, invalidf("fairness", "not a fairness audit (a JSON object with characteristics): %v", err)
	}
	m := map[string]json.RawMessage{}
	if len(nm.Metrics) > 0 {
		if err := json.Unmarshal(nm.Metrics, &m); err != nil {
			return nm, fmt.Errorf("attach fairness: the metrics are not a JSON object: %w", err)
		}
	}
	m["fairness"] = fairnessJSON
	b, err := json.Marshal(m)
	if err != nil {
		return nm, fmt.Errorf("attach fairness: %w", err)
	}
	nm.Metrics = b
	return nm, nil
}
