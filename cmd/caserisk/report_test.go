package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestReportAgreesWithEvaluate: the report's figures are evaluate's figures
// for the same model and rows, and it writes every governance file.
func TestReportAgreesWithEvaluate(t *testing.T) {
	dir := t.TempDir()
	train, _ := writeSynthetic(t, dir, "train.csv", 2000, 1, []string{"2023-01-01", "2023-07-01"}, false)
	test, oracle := writeSynthetic(t, dir, "test.csv", 1500, 2, []string{"2024-01-01"}, false)
	model := filepath.Join(dir, "m.json")
	if out, err := execute("train", "--data", train, "--label", "label_complex_case", "--valid-after", "2023-03-31",
		"--rounds", "30", "--max-depth", "3", "--bootstrap", "20", "--out", model); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	out, err := execute("evaluate", "--model", model, "--data", test, "--bootstrap", "30", "--seed", "4", "--json")
	if err != nil {
		t.Fatalf("evaluate: %v\n%s", err, out)
	}
	var ev struct {
		Report json.RawMessage `json:"report"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &ev); err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(dir, "report")
	if out, err := execute("report", "--model", model, "--data", test, "--oracle", oracle, "--capacity", "100",
		"--bootstrap", "30", "--seed", "4", "--out", rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(rep, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rj struct {
		Model struct {
			Metrics map[string]json.RawMessage `json:"metrics"`
		} `json:"model"`
		Fairness struct {
			Characteristics []struct {
				Name string `json:"name"`
			} `json:"characteristics"`
		} `json:"fairness"`
	}
	if err := json.Unmarshal(b, &rj); err != nil {
		t.Fatal(err)
	}
	var evm map[string]json.RawMessage
	if err := json.Unmarshal(ev.Report, &evm); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"n", "roc_auc", "average_precision", "log_loss", "brier", "ece", "top_k", "reliability"} {
		var a, b any
		if err := json.Unmarshal(evm[k], &a); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if err := json.Unmarshal(rj.Model.Metrics[k], &b); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: evaluate %v, report %v", k, a, b)
		}
	}
	if len(rj.Fairness.Characteristics) != 1 || rj.Fairness.Characteristics[0].Name != "sex" {
		t.Errorf("fairness characteristics %+v, want the table's one audit column", rj.Fairness.Characteristics)
	}
	for _, f := range []string{"report.html", "fairness.json", "model_card.md", "atrs.json", "atrs.md"} {
		if fi, err := os.Stat(filepath.Join(rep, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	if code, _ := runOut(t, "report", "--model", model, "--data", test); code != 2 {
		t.Errorf("report without --out: exit code %d, want 2", code)
	}
}
