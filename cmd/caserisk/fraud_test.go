package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFraudWholeStock runs a fraud officer's data scientist's commands on a
// small synthetic borough: train --pu learns from every tenancy; evaluate
// --oracle and report --oracle judge it over the whole stock against each
// tenancy's true fraud state, beside the investigated rows' metrics, and
// say the labels are too few to trust.
func TestFraudWholeStock(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 12,000-resident borough; skipped with -short")
	}
	dir := t.TempDir()
	b := filepath.Join(dir, "borough")
	if out, err := execute("generate", "--residents", "12000", "--seed", "5", "--as-of", "2025-01-01", "--out", b); err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	train, hold := filepath.Join(dir, "train.csv"), filepath.Join(dir, "hold.csv")
	for _, f := range [][]string{{train, "2022-07-01,2023-01-01,2023-07-01,2024-01-01"}, {hold, "2025-01-01"}} {
		if out, err := execute("features", "--data", b, "--as-of", f[1], "--entity", "tenancy", "--out", f[0]); err != nil {
			t.Fatalf("features: %v\n%s", err, out)
		}
	}
	model := filepath.Join(dir, "pu.json")
	out, err := execute("train", "--data", train, "--label", "label_tenancy_fraud", "--pu", "--valid-after", "2023-07-01",
		"--rounds", "40", "--max-depth", "3", "--learning-rate", "0.1", "--bootstrap", "20", "--out", model)
	if err != nil {
		t.Fatalf("train --pu: %v\n%s", err, out)
	}
	for _, want := range []string{"positive-unlabelled", "c = P(labelled | positive)", "validation over all"} {
		if !strings.Contains(out, want) {
			t.Errorf("train --pu output lacks %q:\n%s", want, out)
		}
	}
	oracle := filepath.Join(b, "oracle", "tenancies.csv")
	out, err = execute("evaluate", "--model", model, "--data", hold, "--oracle", oracle, "--bootstrap", "20", "--importance", "0")
	if err != nil {
		t.Fatalf("evaluate --oracle: %v\n%s", err, out)
	}
	for _, want := range []string{"warning: these metrics cannot be trusted", "(not shown: top", "every row, labelled or not",
		"against the oracle's truth", "selection bias:"} {
		if !strings.Contains(out, want) {
			t.Errorf("evaluate --oracle output lacks %q:\n%s", want, out)
		}
	}
	out, err = execute("evaluate", "--model", model, "--data", hold, "--oracle", oracle, "--bootstrap", "-1", "--importance", "0", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Oracle struct {
			Stock struct {
				Rows   int `json:"rows"`
				Oracle struct {
					TopK []struct {
						K int `json:"k"`
					} `json:"top_k"`
				} `json:"oracle"`
			} `json:"stock"`
		} `json:"oracle"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &ev); err != nil {
		t.Fatal(err)
	}
	if st := ev.Oracle.Stock; st.Rows == 0 || len(st.Oracle.TopK) == 0 || st.Oracle.TopK[len(st.Oracle.TopK)-1].K > st.Rows {
		t.Errorf("evaluate --json whole stock: %+v", st)
	}
	rep := filepath.Join(dir, "report")
	if out, err := execute("report", "--model", model, "--data", hold, "--oracle", oracle, "--capacity", "100", "--bootstrap", "20", "--out", rep); err != nil {
		t.Fatalf("report --oracle: %v\n%s", err, out)
	}
	html, err := os.ReadFile(filepath.Join(rep, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Judged on every row: the whole stock", "Against the oracle's truth", "Too few labels to trust these metrics"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}
