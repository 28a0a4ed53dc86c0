package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"caserisk/models/gbdt"
)

// writeSynthetic writes a feature table whose label follows a known
// probability, and the matching oracle file (resident_id,p_escalation,escalated).
func writeSynthetic(t *testing.T, dir, name string, rows int, seed uint64, asOf []string, extra bool) (table, oracle string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	var b, o strings.Builder
	b.WriteString("resident_id,as_of,audit_sex,arrears_gbp,repairs_90d,noise")
	if extra {
		b.WriteString(",tenure_years")
	}
	b.WriteString(",label_complex_case\n")
	o.WriteString("resident_id,p_escalation,escalated\n")
	for i := range rows {
		a := rng.ExpFloat64() * 300
		r := float64(rng.IntN(6))
		p := 1 / (1 + math.Exp(-(0.006*a + 0.5*r - 3.5)))
		y := 0
		if rng.Float64() < p {
			y = 1
		}
		id := fmt.Sprintf("S%d-%05d", seed, i/len(asOf))
		fmt.Fprintf(&b, "%s,%s,%s,%.2f,%g,%.3f", id, asOf[i%len(asOf)], []string{"F", "M"}[i%2], a, r, rng.NormFloat64())
		if extra {
			fmt.Fprintf(&b, ",%d", rng.IntN(30))
		}
		label := fmt.Sprint(y)
		if i%50 == 7 {
			label = "" // outcome not known
		}
		fmt.Fprintf(&b, ",%s\n", label)
		if len(asOf) == 1 {
			fmt.Fprintf(&o, "%s,%.6f,%d\n", id, p, y)
		}
	}
	table = filepath.Join(dir, name)
	if err := os.WriteFile(table, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	oracle = filepath.Join(dir, "oracle-"+name)
	if err := os.WriteFile(oracle, []byte(o.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return table, oracle
}

// execute runs the CLI in-process and returns its standard output and error.
func execute(args ...string) (string, error) {
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestTrainScoreEvaluate(t *testing.T) {
	dir := t.TempDir()
	train, _ := writeSynthetic(t, dir, "train.csv", 3000, 1, []string{"2023-01-01", "2023-07-01"}, false)
	test, oracle := writeSynthetic(t, dir, "test.csv", 800, 2, []string{"2024-01-01"}, false)
	extra, _ := writeSynthetic(t, dir, "extra.csv", 50, 3, []string{"2024-01-01"}, true)

	for _, algo := range []string{"gbdt", "logistic"} {
		t.Run(algo, func(t *testing.T) {
			model := filepath.Join(dir, algo+".json")
			args := []string{"train", "--data", train, "--label", "label_complex_case", "--algo", algo,
				"--valid-after", "2023-03-31", "--bootstrap", "20", "--out", model}
			if algo == "gbdt" {
				args = append(args, "--rounds", "40", "--max-depth", "3", "--early-stopping-rounds", "10", "--monotone", "arrears_gbp=+1")
			}
			out, err := execute(args...)
			if err != nil {
				t.Fatalf("train: %v\n%s", err, out)
			}
			for _, want := range []string{"trained " + algo + " on train.csv: 1500 labelled rows", "rows with an empty label_complex_case left out",
				"validation: AUC", "platt calibration"} {
				if !strings.Contains(out, want) {
					t.Errorf("train summary lacks %q:\n%s", want, out)
				}
			}

			preds := filepath.Join(dir, algo+"-preds.csv")
			if out, err := execute("score", "--model", model, "--data", test, "--out", preds); err != nil {
				t.Fatalf("score: %v\n%s", err, out)
			}
			b, err := os.ReadFile(preds)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if lines[0] != "resident_id,as_of,score,margin" || len(lines) != 801 {
				t.Fatalf("predictions: header %q, %d lines; want no audit column and 800 rows", lines[0], len(lines))
			}

			out, err = execute("evaluate", "--model", model, "--data", test, "--oracle", oracle, "--bootstrap", "20", "--json")
			if err != nil {
				t.Fatalf("evaluate: %v\n%s", err, out)
			}
			var ev struct {
				Rows, Unlabelled int
				Report           struct {
					ROCAUC struct{ Value float64 } `json:"roc_auc"`
				}
				Oracle struct {
					Rows           int
					LabelAgreement float64 `json:"label_agreement"`
					Model, Oracle  struct {
						ROCAUC struct{ Value float64 } `json:"roc_auc"`
					}
				}
			}
			if err := json.Unmarshal([]byte(out), &ev); err != nil {
				t.Fatalf("evaluate --json: %v\n%s", err, out)
			}
			if ev.Rows != 784 || ev.Unlabelled != 16 || ev.Oracle.Rows != 784 || ev.Oracle.LabelAgreement != 1 {
				t.Errorf("evaluation: %+v", ev)
			}
			if a := ev.Report.ROCAUC.Value; a < 0.7 || a != ev.Oracle.Model.ROCAUC.Value {
				t.Errorf("model AUC %v (on oracle rows %v)", a, ev.Oracle.Model.ROCAUC.Value)
			}
			if a := ev.Oracle.Oracle.ROCAUC.Value; a < 0.7 {
				t.Errorf("oracle AUC %v", a)
			}

			out, err = execute("evaluate", "--model", model, "--data", test, "--k", "10,50", "--bootstrap", "-1")
			if err != nil || !strings.Contains(out, "ROC AUC") || !strings.Contains(out, "reliability") {
				t.Errorf("evaluate: %v\n%s", err, out)
			}

			_, err = execute("score", "--model", model, "--data", extra, "--out", preds)
			if err == nil || !strings.Contains(err.Error(), "extra column(s) the model does not know: tenure_years") {
				t.Errorf("score with an extra column: %v", err)
			}
		})
	}
}

func TestTrainScoreEvaluateExitCodes(t *testing.T) {
	dir := t.TempDir()
	train, _ := writeSynthetic(t, dir, "train.csv", 600, 1, []string{"2023-01-01", "2023-07-01"}, false)
	model := filepath.Join(dir, "m.json")
	if code := run(context.Background(), []string{"train", "--data", train, "--label", "label_complex_case", "--rounds", "5", "--out", model}); code != 0 {
		t.Fatalf("train: exit %d", code)
	}
	b, _ := os.ReadFile(model)
	tampered := filepath.Join(dir, "tampered.json")
	os.WriteFile(tampered, bytes.Replace(b, []byte(`"target":"label_complex_case"`), []byte(`"target":"label_other"`), 1), 0o644)
	out := filepath.Join(dir, "out.json")
	tr := []string{"train", "--data", train, "--label", "label_complex_case", "--out", out}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"train without flags", []string{"train"}, 2},
		{"train unknown algo", append(tr, "--algo", "svm"), 2},
		{"train two hold-outs", append(tr, "--valid-frac", "0.2", "--valid-after", "2023-03-01"), 2},
		{"train bad fraction", append(tr, "--valid-frac", "1.5"), 2},
		{"train bad date", append(tr, "--valid-after", "March"), 2},
		{"train gbdt flag for logistic", append(tr, "--algo", "logistic", "--max-depth", "3"), 2},
		{"train bad monotone", append(tr, "--monotone", "arrears_gbp=2"), 2},
		{"train bad calibration", append(tr, "--calibration", "beta"), 2},
		{"train not a number", append(tr, "--rounds", "many"), 2},
		{"train bad learning rate", append(tr, "--learning-rate", "0"), 2},
		{"train negative l2", append(tr, "--algo", "logistic", "--l2", "-1"), 2},
		{"train stray argument", append(tr, "extra"), 2},
		{"train missing file", []string{"train", "--data", filepath.Join(dir, "none.csv"), "--label", "y", "--out", out}, 1},
		{"train missing label column", []string{"train", "--data", train, "--label", "label_fraud", "--out", out}, 1},
		{"score without model", []string{"score", "--data", train, "--out", out + ".csv"}, 2},
		{"score tampered model", []string{"score", "--model", tampered, "--data", train, "--out", out + ".csv"}, 1},
		{"score unwritable out", []string{"score", "--model", model, "--data", train, "--out", filepath.Join(dir, "no", "such", "dir.csv")}, 1},
		{"score to stdout", []string{"score", "--model", model, "--data", train, "--out", "-"}, 0},
		{"evaluate bad k", []string{"evaluate", "--model", model, "--data", train, "--k", "ten"}, 2},
		{"evaluate bad threshold", []string{"evaluate", "--model", model, "--data", train, "--threshold", "2"}, 2},
		{"evaluate oracle needs as-of", []string{"evaluate", "--model", model, "--data", train, "--oracle", train}, 1},
		{"evaluate ok", []string{"evaluate", "--model", model, "--data", train, "--bootstrap", "-1"}, 0},
		{"baseline without test", []string{"baseline", "--data", train, "--label", "label_complex_case"}, 2},
		{"baseline bad depth", []string{"baseline", "--data", train, "--test", train, "--label", "label_complex_case", "--max-depth", "0"}, 2},
		{"baseline ok", []string{"baseline", "--data", train, "--test", train, "--label", "label_complex_case", "--model", model, "--sample", "200"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(context.Background(), tc.args); got != tc.want {
				t.Fatalf("caserisk %v: exit code %d, want %d", tc.args, got, tc.want)
			}
		})
	}
}

func TestParseMonotone(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]int8
		err  string
	}{
		{"", nil, ""},
		{"a=+1,b=-1, c=0", map[string]int8{"a": 1, "b": -1, "c": 0}, ""},
		{"a", nil, `"a": want name=+1`},
		{"a=2", nil, "must be +1, -1 or 0"},
		{"a=1,a=-1", nil, "constrained twice"},
	}
	for _, tc := range tests {
		got, err := parseMonotone(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestHorizonNote(t *testing.T) {
	tests := []struct {
		train, held []string
		want        string
	}{
		{[]string{"2022-01-01", "2023-01-01"}, []string{"2024-01-01"}, ""},
		{[]string{"2023-01-01", "2023-07-01"}, []string{"2024-01-01"}, "training outcomes run to 2024-07-01, after the first held-out as_of 2024-01-01; train on as_of up to 2023-01-01"},
		{nil, []string{"2024-01-01"}, ""},
	}
	for _, tc := range tests {
		got := horizonNote(tc.train, tc.held)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("horizonNote(%v, %v) = %q, want %q", tc.train, tc.held, got, tc.want)
		}
	}
}

// TestTrainTimingAndProgress checks that the timing line names every step
// and that the steps add up to the total, that nothing but the summary is
// printed when standard error is not a terminal, and the progress lines
// themselves.
func TestTrainTimingAndProgress(t *testing.T) {
	dir := t.TempDir()
	train, _ := writeSynthetic(t, dir, "train.csv", 2000, 1, []string{"2023-01-01", "2023-07-01"}, false)
	out, err := execute("train", "--data", train, "--label", "label_complex_case", "--rounds", "20", "--valid-frac", "0.3",
		"--bootstrap", "10", "--out", filepath.Join(dir, "m.json"))
	if err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	if strings.Contains(out, "[1/20]") || strings.Contains(out, "read train.csv:") {
		t.Errorf("progress printed to a buffer, not a terminal:\n%s", out)
	}
	_, line, ok := strings.Cut(out, "time: ")
	if !ok {
		t.Fatalf("no timing line:\n%s", out)
	}
	var total float64
	if _, err := fmt.Sscanf(line, "%fs (", &total); err != nil {
		t.Fatalf("timing line %q: %v", line, err)
	}
	inner := line[strings.Index(line, "(")+1 : strings.Index(line, ")")]
	var sum float64
	var names []string
	for _, step := range strings.Split(inner, ", ") {
		var name string
		var secs float64
		if _, err := fmt.Sscanf(step, "%s %fs", &name, &secs); err != nil {
			t.Fatalf("step %q: %v", step, err)
		}
		names = append(names, name)
		sum += secs
	}
	if got := strings.Join(names, " "); got != "read split prepare fingerprint fit calibrate validate profile check save" {
		t.Errorf("steps %q", got)
	}
	// Each step is rounded to 0.01 s.
	if math.Abs(sum-total) > 0.006*float64(len(names)) {
		t.Errorf("steps add up to %.2f s, total %.2f s", sum, total)
	}

	var buf bytes.Buffer
	p := &trainProgress{w: &buf, every: 5}
	f := p.round("gbdt", 12, true)
	for r, l := range []float64{0.5, 0.4, 0.45, 0.3, 0.31, 0.32, 0.33, 0.34, 0.35, 0.36, 0.37, 0.38} {
		f(gbdt.RoundMetrics{Round: r, ValidLogLoss: l})
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "[1/12] tuning log-loss 0.500000 (best 0.500000 at round 1)") ||
		!strings.HasPrefix(lines[2], "[10/12] tuning log-loss 0.360000 (best 0.300000 at round 4)") || !strings.HasPrefix(lines[3], "[12/12]") {
		t.Errorf("progress lines:\n%s", buf.String())
	}
	if p.round("logistic", 12, true) != nil || (&trainProgress{every: 5}).round("gbdt", 12, true) != nil {
		t.Error("a progress callback for logistic or without a terminal")
	}
}
