package artifact

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"caserisk/models/dataset"
	"caserisk/models/explain"
)

// debianPython is the interpreter that has python3-xgboost (Debian's, not
// the pyenv build first on PATH).
const debianPython = "/usr/bin/python3"

// xgbScript trains a small binary:logistic model on float32 data with
// missing values and feature names, saves it, and writes the test rows with
// XGBoost's margins and contributions for them.
const xgbScript = `
import json, sys, numpy as np, xgboost as xgb
out = sys.argv[1]
rng = np.random.default_rng(7)
n, p = 600, 6
X = rng.normal(size=(n, p)).astype(np.float32)
X[:, 2] = np.round(X[:, 2] * 2).astype(np.float32)       # ties at thresholds
X[rng.random((n, p)) < 0.15] = np.nan
logit = 1.5 * np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1]) ** 2 + 0.8 * np.isnan(X[:, 3])
y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.float32)
names = ["rent_arrears_gbp", "repairs_90d", "household_size", "missed_payments_365d", "age_years", "has_social_worker"]
d = xgb.DMatrix(X, label=y, feature_names=names, missing=np.nan)
params = {"objective": "binary:logistic", "max_depth": 4, "eta": 0.3, "base_score": 0.3,
          "nthread": 1, "tree_method": "hist", "seed": 1}
b = xgb.train(params, d, 15)
b.save_model(out + "/m.json")
rows = X[:100]
dr = xgb.DMatrix(rows, feature_names=names, missing=np.nan)
margin = b.predict(dr, output_margin=True)
contribs = b.predict(dr, pred_contribs=True)
def num(v):
    return None if np.isnan(v) else float(v)
json.dump({"rows": [[num(v) for v in r] for r in rows],
           "margin": [float(v) for v in margin],
           "contribs": [[float(v) for v in r] for r in contribs]}, open(out + "/pred.json", "w"))
`

func requireXGBoost(t *testing.T) {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import xgboost, numpy").Run(); err != nil {
		t.Skipf("python3-xgboost not installed (%s -c 'import xgboost': %v); apt-get install python3-xgboost", debianPython, err)
	}
}

func TestReadXGBoostJSONMatchesXGBoost(t *testing.T) {
	requireXGBoost(t)
	dir := t.TempDir()
	cmd := exec.Command(debianPython, "-c", xgbScript, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("training with xgboost: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "m.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadXGBoostJSON(data, "m.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.FeatureNames, ","); got != "rent_arrears_gbp,repairs_90d,household_size,missed_payments_365d,age_years,has_social_worker" {
		t.Fatalf("feature names %s", got)
	}
	if m.Objective != "binary:logistic" || m.Version[0] < 1 || len(m.Ensemble.Trees) != 15 {
		t.Fatalf("objective %q, version %v, %d trees", m.Objective, m.Version, len(m.Ensemble.Trees))
	}
	if want := math.Log(0.3 / 0.7); math.Abs(m.Ensemble.Base-want) > 1e-6 {
		t.Fatalf("base margin %g, want logit(0.3) = %g", m.Ensemble.Base, want)
	}
	var pred struct {
		Rows     [][]*float64
		Margin   []float64
		Contribs [][]float64
	}
	raw, err := os.ReadFile(filepath.Join(dir, "pred.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &pred); err != nil {
		t.Fatal(err)
	}
	ex := explain.TreeSHAP(m.Ensemble)
	phi := make([]float64, 7)
	missing := 0
	for i, r := range pred.Rows {
		x := make([]float64, len(r))
		for j, v := range r {
			if v == nil {
				x[j] = math.NaN()
				missing++
			} else {
				x[j] = *v
			}
		}
		if got := m.Ensemble.Margin(x); math.Abs(got-pred.Margin[i]) > 1e-5 {
			t.Errorf("row %d: margin %.7g, XGBoost %.7g", i, got, pred.Margin[i])
		}
		ex.Contributions(x, phi)
		for j := range phi {
			if math.Abs(phi[j]-pred.Contribs[i][j]) > 1e-5 {
				t.Errorf("row %d, output %d: contribution %.7g, XGBoost %.7g", i, j, phi[j], pred.Contribs[i][j])
			}
		}
	}
	if missing == 0 {
		t.Fatal("test rows have no missing values")
	}
}

// minimalModel is a valid one-tree XGBoost model to break in the tests.
const minimalModel = `{"learner": {
  "feature_names": ["a", "b"],
  "learner_model_param": {"base_score": "5E-1", "num_class": "0", "num_feature": "2", "num_target": "1"},
  "objective": {"name": "binary:logistic"},
  "gradient_booster": {"name": "gbtree", "model": {"tree_info": [0], "trees": [{
    "left_children": [1, -1, -1], "right_children": [2, -1, -1], "split_indices": [1, 0, 0],
    "split_conditions": [0.5, -0.25, 0.75], "default_left": [1, 0, 0], "sum_hessian": [10, 4, 6],
    "loss_changes": [3, 0, 0], "split_type": [0, 0, 0], "tree_param": {"num_nodes": "3"}}]}}},
  "version": [1, 7, 4]}`

func TestReadXGBoostJSON(t *testing.T) {
	m, err := ReadXGBoostJSON([]byte(minimalModel), "min.json")
	if err != nil {
		t.Fatal(err)
	}
	e := m.Ensemble
	for _, c := range []struct {
		x    []float64
		want float64
	}{{[]float64{0, 0}, -0.25}, {[]float64{0, 0.5}, 0.75}, {[]float64{0, math.NaN()}, -0.25}} {
		if got := e.Margin(c.x); got != c.want {
			t.Errorf("margin(%v) = %g, want %g", c.x, got, c.want)
		}
	}
	if e.Trees[0].Gain[0] != 3 || e.Trees[0].Cover[2] != 6 {
		t.Errorf("gain %v, cover %v", e.Trees[0].Gain, e.Trees[0].Cover)
	}
	v3, err := ReadXGBoostJSON([]byte(strings.Replace(minimalModel, `"5E-1"`, `"[2.5E-1]"`, 1)), "v3.json")
	if err != nil {
		t.Fatalf("vector base_score: %v", err)
	}
	if want := math.Log(0.25 / 0.75); math.Abs(v3.Ensemble.Base-want) > 1e-7 {
		t.Errorf("base margin %g from [2.5E-1], want %g", v3.Ensemble.Base, want)
	}

	tests := []struct {
		name, from, to, want string
	}{
		{"syntax", `"num_feature": "2"`, `"num_feature": "2",,`, "min.json:3:"},
		{"type", `"split_indices": [1, 0, 0]`, `"split_indices": [1, "x", 0]`, "min.json:6:"},
		{"objective", `binary:logistic`, `multi:softprob`, `learner.objective.name is "multi:softprob"`},
		{"booster", `"name": "gbtree"`, `"name": "gblinear"`, "gradient_booster.name"},
		{"base score", `"5E-1"`, `"1.5"`, "base_score 1.5"},
		{"feature count", `["a", "b"]`, `["a"]`, "feature_names has 1 names"},
		{"duplicate names", `["a", "b"]`, `["a", "a"]`, "feature_names[1]"},
		{"child out of range", `"right_children": [2, -1, -1]`, `"right_children": [7, -1, -1]`, "trees[0]: right_children[0] is 7"},
		{"feature out of range", `"split_indices": [1, 0, 0]`, `"split_indices": [4, 0, 0]`, "split_indices[0] is 4"},
		{"short array", `"sum_hessian": [10, 4, 6]`, `"sum_hessian": [10, 4]`, "sum_hessian has 2 entries"},
		{"categorical", `"split_type": [0, 0, 0]`, `"split_type": [1, 0, 0]`, `categorical splits are not supported: the model was trained with enable_categorical=True and has 1 split(s) by category on "b" (trees[0] node 0`},
		// XGBoost 1.7 writes a categorical split's condition as a bare NaN.
		{"categorical with NaN", `"split_conditions": [0.5, -0.25, 0.75], "default_left": [1, 0, 0], "sum_hessian": [10, 4, 6],
    "loss_changes": [3, 0, 0], "split_type": [0, 0, 0]`, `"split_conditions": [NaN, -0.25, 0.75], "default_left": [1, 0, 0], "sum_hessian": [10, 4, 6],
    "loss_changes": [3, 0, 0], "split_type": [1, 0, 0], "categories": [0, 2], "categories_nodes": [0], "categories_segments": [0], "categories_sizes": [2]`, "categorical splits are not supported"},
		{"NaN threshold", `"split_conditions": [0.5,`, `"split_conditions": [NaN,`, "trees[0]: split_conditions[0] is NaN"},
		{"NaN cover", `"sum_hessian": [10, 4, 6]`, `"sum_hessian": [10, -Infinity, 6]`, "sum_hessian[1] is -Inf"},
		{"NaN in a name is text", `["a", "b"]`, `["NaN", "b"], "x": NaN,,`, "min.json:2:"},
		{"cycle", `"left_children": [1, -1, -1]`, `"left_children": [0, -1, -1]`, "reached twice"},
		{"default_left", `"default_left": [1, 0, 0]`, `"default_left": [2, 0, 0]`, "default_left value 2"},
		{"negative cover", `"sum_hessian": [10, 4, 6]`, `"sum_hessian": [10, -4, 6]`, "sum_hessian[1]"},
		{"multiclass", `"num_class": "0"`, `"num_class": "3"`, "num_class is 3"},
		{"empty", minimalModel, ``, "empty or truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(minimalModel, tc.from, tc.to, 1)
			if bad == minimalModel {
				t.Fatalf("replacement %q not found", tc.from)
			}
			_, err := ReadXGBoostJSON([]byte(bad), "min.json")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// catScript trains a model with a pandas categorical feature and
// enable_categorical=True (XGBoost 1.7 writes its category sets and a NaN
// split condition for each categorical split).
const catScript = `
import sys, numpy as np, pandas as pd, xgboost as xgb
rng = np.random.default_rng(0)
n = 1000
df = pd.DataFrame({"arrears_gbp": rng.normal(size=n), "tenure": pd.Categorical(rng.choice(["secure", "flexible", "introductory"], size=n))})
y = ((df.arrears_gbp > 0) ^ df.tenure.isin(["flexible"])).astype(int)
d = xgb.DMatrix(df, label=y, enable_categorical=True)
b = xgb.train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": 3, "max_cat_to_onehot": 1}, d, 4)
b.save_model(sys.argv[1])
`

// TestReadXGBoostJSONCategorical: a model XGBoost 1.7 trained with
// enable_categorical=True is refused with a message that says categorical
// splits are not supported, not with a JSON syntax error.
func TestReadXGBoostJSONCategorical(t *testing.T) {
	requireXGBoost(t)
	path := filepath.Join(t.TempDir(), "cat.json")
	if out, err := exec.Command(debianPython, "-c", catScript, path).CombinedOutput(); err != nil {
		t.Fatalf("xgboost: %v\n%s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("NaN")) || !bytes.Contains(data, []byte(`"categories_nodes"`)) {
		t.Fatalf("the model holds no bare NaN or no categories: XGBoost's format changed")
	}
	_, err = ReadXGBoostJSON(data, "cat.json")
	if err == nil {
		t.Fatal("a model with categorical splits was imported")
	}
	for _, want := range []string{"cat.json: categorical splits are not supported", "enable_categorical=True", `on "tenure"`, `feature_types marks "tenure" categorical`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "invalid") {
		t.Errorf("error %q blames the JSON", err)
	}
}

func TestReadXGBoostJSONPrunedNodes(t *testing.T) {
	// Node 1 is left over from pruning: unreachable, and dropped.
	pruned := strings.NewReplacer(
		`"left_children": [1, -1, -1]`, `"left_children": [2, -1, -1, -1]`,
		`"right_children": [2, -1, -1]`, `"right_children": [3, -1, -1, -1]`,
		`"split_indices": [1, 0, 0]`, `"split_indices": [1, 0, 0, 0]`,
		`"split_conditions": [0.5, -0.25, 0.75]`, `"split_conditions": [0.5, 9, -0.25, 0.75]`,
		`"default_left": [1, 0, 0]`, `"default_left": [1, 0, 0, 0]`,
		`"sum_hessian": [10, 4, 6]`, `"sum_hessian": [10, 0, 4, 6]`,
		`"loss_changes": [3, 0, 0]`, `"loss_changes": [3, 0, 0, 0]`,
		`"split_type": [0, 0, 0]`, `"split_type": [0, 0, 0, 0]`,
		`"num_nodes": "3"`, `"num_nodes": "4"`,
	).Replace(minimalModel)
	m, err := ReadXGBoostJSON([]byte(pruned), "pruned.json")
	if err != nil {
		t.Fatal(err)
	}
	if n := m.Ensemble.Trees[0].Len(); n != 3 {
		t.Fatalf("%d nodes kept, want 3", n)
	}
	if got := m.Ensemble.Margin([]float64{0, 1}); got != 0.75 {
		t.Fatalf("margin %g, want 0.75", got)
	}
}

// FuzzReadXGBoostJSON checks that any input either fails cleanly or gives an
// ensemble that validates and can be scored and explained.
func FuzzReadXGBoostJSON(f *testing.F) {
	f.Add([]byte(minimalModel))
	f.Add([]byte(strings.Replace(minimalModel, `"left_children": [1, -1, -1]`, `"left_children": [1, 1, -1]`, 1)))
	f.Add([]byte(`{"learner": {}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadXGBoostJSON(data, "fuzz.json")
		if err != nil {
			return
		}
		if err := m.Ensemble.Validate(); err != nil {
			t.Fatalf("accepted an invalid ensemble: %v", err)
		}
		if len(m.FeatureNames) != m.Ensemble.NumFeatures {
			t.Fatalf("%d names for %d features", len(m.FeatureNames), m.Ensemble.NumFeatures)
		}
		if m.Ensemble.NumFeatures > 1000 {
			return
		}
		x := make([]float64, m.Ensemble.NumFeatures)
		phi := make([]float64, len(x)+1)
		explain.TreeSHAP(m.Ensemble).Contributions(x, phi)
		s := 0.0
		for _, v := range phi {
			s += v
		}
		if mg := m.Ensemble.Margin(x); math.Abs(s-mg) > 1e-6*max(1, math.Abs(mg)) {
			t.Fatalf("contributions sum to %g, margin %g", s, mg)
		}
	})
}

func TestXGBoostModelArtifact(t *testing.T) {
	x, err := ReadXGBoostJSON([]byte(minimalModel), "min.json")
	if err != nil {
		t.Fatal(err)
	}
	meta := &dataset.Meta{Features: []dataset.FeatureMeta{{Name: "b", Description: "repair requests", Unit: "count"}}}
	opts := ImportOptions{Target: "label_arrears_90d", Source: "min.json", Meta: meta, Created: time.Unix(0, 0), Version: "test"}
	m, err := x.Model(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(b)
	if err != nil {
		t.Fatalf("imported model does not load: %v", err)
	}
	if back.Features[1].Description != "repair requests" || back.Features[0].Description != "" {
		t.Fatalf("features %+v", back.Features)
	}
	if back.Importance["b"] != 3 || back.Importance["a"] != 0 {
		t.Fatalf("importance %v", back.Importance)
	}
	for _, row := range [][]float64{{0, 0}, {0, 1}, {0, math.NaN()}} {
		if got, want := back.Margin(row), x.Ensemble.Margin(row); got != want {
			t.Fatalf("margin %v: %g after the round trip, %g before", row, got, want)
		}
	}
	if got := back.Score([]float64{0, 1}); math.Abs(got-1/(1+math.Exp(-0.75))) > 1e-15 {
		t.Fatalf("score %g, want the sigmoid of the margin", got)
	}

	bad := []struct {
		name string
		o    ImportOptions
	}{
		{"no target", ImportOptions{Source: "min.json"}},
		{"metadata for another model", ImportOptions{Target: "y", Source: "min.json",
			Meta: &dataset.Meta{Features: []dataset.FeatureMeta{{Name: "zzz"}}}}},
	}
	for _, tc := range bad {
		if _, err := x.Model(tc.o); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestFloat32Threshold(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	thresholds := []float32{0, 1, -1, 0.1, -0.1, 1e-30, -1e-30, math.SmallestNonzeroFloat32, math.MaxFloat32, 3.3333333, 16777216}
	for range 2000 {
		thresholds = append(thresholds, float32(r.NormFloat64()*math.Pow(10, float64(r.IntN(12)-6))))
	}
	for _, thr := range thresholds {
		b := float32Threshold(thr)
		// Values around the boundary and around thr itself.
		probes := []float64{b, math.Nextafter(b, math.Inf(-1)), math.Nextafter(b, math.Inf(1)), float64(thr),
			math.Nextafter(float64(thr), math.Inf(-1)), float64(math.Nextafter32(thr, float32(math.Inf(-1))))}
		for range 20 {
			probes = append(probes, b+(r.Float64()-0.5)*math.Abs(b)*1e-6)
		}
		for _, x := range probes {
			if got, want := x < b, float32(x) < thr; got != want {
				t.Fatalf("threshold %g (boundary %.17g): x = %.17g goes left = %v, XGBoost's float32 comparison says %v", thr, b, x, got, want)
			}
		}
	}
}
