package main

import (
	"os"
	"path/filepath"
	"testing"

	"caserisk/models/artifact"
)

// xgbOneTree is a one-split XGBoost JSON model over features a and b.
const xgbOneTree = `{"learner": {"feature_names": ["a", "b"],
  "learner_model_param": {"base_score": "5E-1", "num_class": "0", "num_feature": "2", "num_target": "1"},
  "objective": {"name": "binary:logistic"},
  "gradient_booster": {"name": "gbtree", "model": {"tree_info": [0], "trees": [{
    "left_children": [1, -1, -1], "right_children": [2, -1, -1], "split_indices": [1, 0, 0],
    "split_conditions": [0.5, -0.25, 0.75], "default_left": [1, 0, 0], "sum_hessian": [10, 4, 6],
    "loss_changes": [3, 0, 0], "split_type": [0, 0, 0], "tree_param": {"num_nodes": "3"}}]}}},
  "version": [1, 7, 4]}`

func TestImportCmd(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	model := write("m.json", xgbOneTree)
	meta := write("f.meta.json", `{"features": [{"name": "b", "description": "repair requests", "unit": "count"}]}`)
	broken := write("broken.json", `{"learner": `)
	out := filepath.Join(dir, "model.json")
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"imports", []string{"import", "--from", "xgboost", model, "--out", out, "--target", "label_x", "--meta", meta}, 0},
		{"no --out", []string{"import", "--from", "xgboost", model}, 2},
		{"no model", []string{"import", "--from", "xgboost", "--out", out}, 2},
		{"unknown format", []string{"import", "--from", "lightgbm", model, "--out", out}, 2},
		{"missing file", []string{"import", "--from", "xgboost", filepath.Join(dir, "nope.json"), "--out", out}, 1},
		{"broken JSON", []string{"import", "--from", "xgboost", broken, "--out", out}, 1},
		{"metadata for other features", []string{"import", "--from", "xgboost", model, "--out", out,
			"--meta", write("other.meta.json", `{"features": [{"name": "zzz"}]}`)}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, _ := runOut(t, tc.args...); code != tc.code {
				t.Fatalf("exit code %d, want %d", code, tc.code)
			}
		})
	}
	m, err := artifact.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Target != "label_x" || m.Features[1].Description != "repair requests" || m.Margin([]float64{0, 1}) != 0.75 {
		t.Fatalf("imported model: target %q, features %+v", m.Target, m.Features)
	}
}
