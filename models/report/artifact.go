package report

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"caserisk/features/contract"
	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/metrics"
)

// auditPrefix marks the feature table's audit columns (protected
// characteristics and ward): the audit reports them without the prefix.
const auditPrefix = "audit_"

// importanceRows caps the rows global importance is computed on: an evenly
// spaced sample of 50,000 rows ranks features as the whole table would.
// The directions check counts withheld reasons on the same rows.
const importanceRows = 50000

// ReasonsEachWay is how many reasons raising and how many lowering a score
// the directions check considers per row: the service stores and shows at
// most five reasons a score.
const ReasonsEachWay = 5

// ModelScores scores the labelled rows of t with m and returns the
// evaluation rows' calibrated probabilities, labels, and the table cut to
// those rows. Rows with an empty label are left out, as caserisk evaluate
// leaves them out, so the figures agree.
func ModelScores(ctx context.Context, m *artifact.Model, t *dataset.Table) (scores, labels []float64, labelled *dataset.Table, err error) {
	labelled, _ = t.DropUnlabelled()
	margins, err := m.Margins(ctx, labelled)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("report: scoring %s: %w", t.Source, err)
	}
	scores = make([]float64, len(margins))
	for i, mg := range margins {
		scores[i] = m.Prob(mg)
	}
	return scores, labelled.Label, labelled, nil
}

// FromArtifact prepares a report's input from a model and a labelled
// table: the model's scores and importance, the audit groups from the
// table's audit columns, and (when given) a baseline model's scores and an
// oracle's true probabilities joined on the table's id. name labels the model.
func FromArtifact(ctx context.Context, name string, m *artifact.Model, t *dataset.Table, baseline *artifact.Model, baselineName string,
	oracle *dataset.Table, capacity int, mo metrics.Options) (*Input, error) {
	scores, labels, lt, err := ModelScores(ctx, m, t)
	if err != nil {
		return nil, err
	}
	in := &Input{
		Title:    fmt.Sprintf("%s: %s model for %s on %s", name, m.Algorithm, strings.TrimPrefix(m.Target, "label_"), t.Source),
		Model:    Model{Name: name, Scores: scores},
		Labels:   labels,
		Capacity: capacity,
		Metrics:  mo,
		Groups:   map[string][]string{},
	}
	imp, err := m.GlobalImportance(ctx, lt, importanceRows)
	if err != nil {
		return nil, err
	}
	desc := map[string]string{}
	for _, f := range m.Features {
		if f.Description != "" {
			desc[f.Name] = strings.TrimSuffix(f.Description, ".")
		}
	}
	for _, f := range imp {
		label := f.Feature
		if d, ok := desc[f.Feature]; ok {
			label = d
		}
		in.Model.Importance = append(in.Model.Importance, Bar{Label: label, Value: f.MeanAbsSHAP})
	}
	in.Model.ImportanceMeasure = "mean |SHAP| (log-odds)"
	if in.Directions, err = m.CheckDirections(ctx, lt, importanceRows, ReasonsEachWay); err != nil {
		return nil, err
	}
	for _, k := range lt.Keys {
		if !strings.HasPrefix(k.Name, auditPrefix) {
			continue
		}
		in.Groups[strings.TrimPrefix(k.Name, auditPrefix)] = k.Values
	}
	in.GroupOrder = groupOrder(in.Groups)
	if baseline != nil {
		bs, _, _, err := ModelScores(ctx, baseline, t)
		if err != nil {
			return nil, fmt.Errorf("report: baseline: %w", err)
		}
		in.Baseline = &Model{Name: baselineName, Scores: bs}
	}
	if oracle != nil {
		if in.Oracle, err = joinOracle(lt, oracle); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// groupOrder lists the characteristics in the audit's usual order (sex,
// age band, ethnic group, disability, ward), then any others by name.
func groupOrder(groups map[string][]string) []string {
	var order, rest []string
	for _, c := range []string{"sex", "age_band", "ethnic_group", "disability", "ward"} {
		if _, ok := groups[c]; ok {
			order = append(order, c)
		}
	}
	for c := range groups {
		if !slices.Contains(order, c) {
			rest = append(rest, c)
		}
	}
	slices.Sort(rest)
	return append(order, rest...)
}

// joinOracle returns, for each row of t, the oracle's probability (the
// first p_* column) joined on the first of tenancy_id and resident_id that
// both tables have. Every row must be found: a ceiling measured on some
// rows only would not be comparable.
func joinOracle(t, oracle *dataset.Table) ([]float64, error) {
	var prob []float64
	var probName string
	for i, n := range oracle.Names {
		if strings.HasPrefix(n, "p_") {
			prob, probName = oracle.Cols[i], n
			break
		}
	}
	if prob == nil {
		return nil, fmt.Errorf("report: oracle %s has no probability column (p_*): it cannot give a ceiling", oracle.Source)
	}
	for _, key := range []string{"tenancy_id", "resident_id"} {
		tk, ok1 := keyValues(t, key)
		ok, ok2 := keyValues(oracle, key)
		if !ok1 || !ok2 {
			continue
		}
		at := make(map[string]float64, len(ok))
		for i, id := range ok {
			at[id] = prob[i]
		}
		out := make([]float64, len(tk))
		missing := 0
		for i, id := range tk {
			p, found := at[id]
			if !found || math.IsNaN(p) {
				missing++
				continue
			}
			out[i] = p
		}
		if missing > 0 {
			return nil, fmt.Errorf("report: %d of the %d rows of %s are not in the oracle %s (%s): the oracle describes the borough's as-of date only, so evaluate rows built as of that date",
				missing, len(tk), t.Source, oracle.Source, probName)
		}
		return out, nil
	}
	return nil, fmt.Errorf("report: %s and oracle %s share no id column (tenancy_id or resident_id)", t.Source, oracle.Source)
}

func keyValues(t *dataset.Table, name string) ([]string, bool) {
	for _, k := range t.Keys {
		if k.Name == name {
			return k.Values, true
		}
	}
	return nil, false
}

// FactsOf collects what the model file and the evaluation table say about
// the model, for the model card and the ATRS record.
func FactsOf(name string, m *artifact.Model, t *dataset.Table, groups []string) Facts {
	f := Facts{
		Name: name, Target: strings.TrimPrefix(m.Target, "label_"), Algorithm: m.Algorithm,
		Version: shortSum(m.Checksum), Created: m.Created, Engine: "caserisk " + m.CaseriskVersion,
		Params: m.Params, Features: len(m.Features), TrainAsOf: m.Training.AsOf, TrainRows: m.Training.Rows,
		TrainLabel: m.Training.LabelRate, EvalAsOf: t.AsOfDates(), DataSHA256: m.Training.SHA256,
		Calibration: "none", AuditColumns: groups,
	}
	if m.Calibration != nil {
		f.Calibration = m.Calibration.Method
	}
	// The services are the contract files the features read; signals that
	// combine several services name each file they read elsewhere.
	c := contract.Default()
	seen := map[string]bool{}
	for _, ft := range m.Features {
		file, ok := c.File(ft.Service)
		if ft.Service == "" || !ok || seen[file.Title] {
			continue
		}
		seen[file.Title] = true
		f.Services = append(f.Services, file.Title)
	}
	slices.Sort(f.Services)
	return f
}

func shortSum(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
