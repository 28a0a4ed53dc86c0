package artifact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"caserisk/models/calibrate"
	"caserisk/models/dataset"
	"caserisk/models/gbdt"
	"caserisk/models/logistic"
	"caserisk/models/metrics"
	"caserisk/models/tree"
)

// synthetic returns a labelled table whose label depends on two of three
// features (the third is noise), with some values missing, some labels
// empty, two as-of dates and two rows per resident.
func synthetic(t testing.TB, rows int, seed uint64) *dataset.Table {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	var b strings.Builder
	b.WriteString("resident_id,as_of,arrears_gbp,repairs_90d,noise,label_escalation,label_fraud\n")
	for i := range rows {
		a := rng.ExpFloat64() * 300
		r := float64(rng.IntN(6))
		z := 0.006*a + 0.5*r - 3 + rng.NormFloat64()*0.5
		y := "0"
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			y = "1"
		}
		if rng.Float64() < 0.03 {
			y = ""
		}
		as := fmt.Sprintf("%.2f", a)
		if rng.Float64() < 0.1 {
			as = ""
		}
		fmt.Fprintf(&b, "R%05d,%s,%s,%g,%.3f,%s,\n", i/2, []string{"2023-04-01", "2024-04-01"}[i%2], as, r, rng.NormFloat64(), y)
	}
	tab, err := dataset.ReadCSV(context.Background(), "synthetic.csv", []byte(b.String()), dataset.Options{Label: "label_escalation"})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func fitOptions(algo string) FitOptions {
	p := gbdt.DefaultParams()
	p.Rounds, p.MaxDepth, p.LearningRate, p.EarlyStoppingRounds = 30, 3, 0.2, 5
	lo := logistic.DefaultOptions()
	mo := metrics.DefaultOptions()
	mo.Bootstrap = -1
	return FitOptions{
		Algorithm: algo, GBDT: p, Logistic: lo, Seed: 1, Metrics: mo, HeldOut: "test",
		Created: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), Version: "test",
	}
}

func trained(t testing.TB, algo string) (*Model, *dataset.Table) {
	t.Helper()
	tab := synthetic(t, 3000, 1)
	// The same seed as the halves of the held-out rows, as the CLI does.
	tr, va, err := tab.SplitFraction(0.3, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Fit(context.Background(), tr, va, fitOptions(algo))
	if err != nil {
		t.Fatal(err)
	}
	return m, va
}

func TestFit(t *testing.T) {
	for _, algo := range []string{GBDT, Logistic} {
		t.Run(algo, func(t *testing.T) {
			m, va := trained(t, algo)
			if m.Validation == nil || m.Calibration == nil || m.Calibration.Method != calibrate.Platt {
				t.Fatalf("validation %v calibration %v", m.Validation, m.Calibration)
			}
			if auc := m.Validation.Report.ROCAUC.Value; auc < 0.75 {
				t.Errorf("validation AUC %.3f, want > 0.75 on a learnable label", auc)
			}
			tr := m.Training
			if tr.Unlabelled == 0 || tr.Tuning+tr.Evaluated == 0 || tr.Tuning+tr.Evaluated > va.Len() {
				t.Errorf("training record %+v", tr)
			}
			if len(tr.AsOf) != 2 || len(tr.SHA256) != 64 {
				t.Errorf("as-of %v sha %q", tr.AsOf, tr.SHA256)
			}
			if got := m.ImportanceRanking(); len(got) == 0 || got[0] == "noise" {
				t.Errorf("importance ranking %v puts noise first", got)
			}
			// Batch and single-row scoring agree.
			probs, margins, err := m.Scores(context.Background(), va)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 50 {
				x := va.Row(i, nil)
				if z := m.Margin(x); math.Abs(z-margins[i]) > 1e-12 {
					t.Fatalf("row %d: margin %v, batch %v", i, z, margins[i])
				}
				if p := m.Score(x); math.Abs(p-probs[i]) > 1e-12 || p <= 0 || p >= 1 {
					t.Fatalf("row %d: score %v, batch %v", i, p, probs[i])
				}
			}
		})
	}
}

func TestFitDeterministic(t *testing.T) {
	a, _ := trained(t, GBDT)
	b, _ := trained(t, GBDT)
	if a.Checksum != "" || b.Checksum != "" {
		t.Fatal("checksum set before marshal")
	}
	// Only the recorded wall-clock time may differ.
	a.Training.Seconds, b.Training.Seconds = 0, 0
	sa, _ := a.Sum()
	sb, _ := b.Sum()
	if sa != sb {
		t.Error("the same data, options and seed gave different models")
	}
}

func TestFitErrors(t *testing.T) {
	tab := synthetic(t, 400, 2)
	tests := []struct {
		name string
		edit func(*FitOptions)
		held *dataset.Table
		want string
	}{
		{"calibration without held-out", func(o *FitOptions) { o.Calibration = calibrate.Isotonic }, nil, "isotonic calibration needs held-out rows"},
		{"early stopping without held-out", func(o *FitOptions) {}, nil, "early stopping needs held-out rows"},
		{"unknown monotone feature", func(o *FitOptions) { o.Monotone = map[string]int8{"nope": 1} }, tab, `monotone constraint on "nope"`},
		{"unknown algorithm", func(o *FitOptions) { o.Algorithm = "svm" }, tab, `unknown algorithm "svm"`},
		{"tiny held-out", func(o *FitOptions) {}, tab.Subset([]int{0, 1, 2}), "too few to split"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := fitOptions(GBDT)
			tc.edit(&o)
			_, err := Fit(context.Background(), tab, tc.held, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, algo := range []string{GBDT, Logistic} {
		t.Run(algo, func(t *testing.T) {
			m, va := trained(t, algo)
			path := filepath.Join(t.TempDir(), "model.json")
			if err := m.Save(path); err != nil {
				t.Fatal(err)
			}
			back, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if back.Checksum != m.Checksum {
				t.Errorf("checksum %s, want %s", back.Checksum, m.Checksum)
			}
			want, _, _ := m.Scores(context.Background(), va)
			got, _, err := back.Scores(context.Background(), va)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("row %d: loaded model scores %v, trained model %v", i, got[i], want[i])
				}
			}
			// Saving the loaded model again gives the same bytes.
			b1, _ := os.ReadFile(path)
			b2, err := back.Marshal()
			if err != nil || !bytes.Equal(b1, b2) {
				t.Errorf("re-marshalled model differs (err %v)", err)
			}
			// The file is exactly encoding/json's encoding of the model.
			if plain, err := json.Marshal(back); err != nil || !bytes.Equal(b1, append(plain, '\n')) {
				t.Errorf("the file is not json.Marshal of the model (err %v)", err)
			}
			if !rawChecksumMatches(b1, m.Checksum) {
				t.Error("the checksum does not match the file's own bytes")
			}
			// Reformatted (indented) the file still loads, checked against
			// its re-encoded content; changed, it does not.
			var ind bytes.Buffer
			if err := json.Indent(&ind, b1, "", "  "); err != nil {
				t.Fatal(err)
			}
			if rawChecksumMatches(ind.Bytes(), m.Checksum) {
				t.Error("an indented file matched the checksum byte for byte")
			}
			if _, err := Parse(ind.Bytes()); err != nil {
				t.Errorf("indented model: %v", err)
			}
			changed := bytes.Replace(ind.Bytes(), []byte(`"rows": `), []byte(`"rows": 1`), 1)
			if _, err := Parse(changed); !errors.Is(err, ErrChecksum) {
				t.Errorf("changed indented model: %v", err)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	m, _ := trained(t, GBDT)
	good, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var lastThreshold string
	// Change one leaf value's last digit: a tiny, plausible corruption.
	if i := bytes.Index(good, []byte(`"value":[`)); i >= 0 {
		lastThreshold = string(good[i : i+40])
	}
	tamper := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("model JSON lacks %q", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	leaf := []byte(lastThreshold)
	for k := len(leaf) - 1; k >= 0; k-- {
		if leaf[k] >= '0' && leaf[k] <= '8' {
			leaf[k]++
			break
		}
	}
	tests := []struct {
		name string
		data []byte
		want string
		is   error
	}{
		{"tampered leaf", tamper(lastThreshold, string(leaf)), "checksum mismatch", ErrChecksum},
		{"tampered target", tamper(`"target":"label_escalation"`, `"target":"label_fraud"`), "checksum mismatch", ErrChecksum},
		{"newer version", tamper(`"format_version":1`, `"format_version":2`), "model format version 2 is newer than this caserisk reads (1): upgrade caserisk", nil},
		{"zero version", tamper(`"format_version":1`, `"format_version":0`), "unknown model format version 0", nil},
		{"other format", tamper(`"format":"caserisk-model"`, `"format":"xgboost"`), `not a caserisk model: format is "xgboost"`, nil},
		{"unknown field", tamper(`"target":`, `"extra":1,"target":`), `unknown field "extra"`, nil},
		{"not json", []byte("{"), "not a caserisk model", nil},
		{"no checksum", tamper(`"checksum":"`+m.Checksum+`"`, `"checksum":""`), "no checksum", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
	if _, err := Parse(good); err != nil {
		t.Fatalf("untouched model rejected: %v", err)
	}
}

func TestValidateStructure(t *testing.T) {
	m, _ := trained(t, GBDT)
	bad := *m
	ens := *m.Ensemble
	ens.NumFeatures = 2
	bad.Ensemble = &ens
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "ensemble expects 2 features, the model lists 3") {
		t.Errorf("error = %v", err)
	}
	bad = *m
	bad.Features = append([]Feature{}, m.Features...)
	bad.Features[1].Name = bad.Features[0].Name
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("error = %v", err)
	}
	// A checksummed file with a broken structure is still refused.
	bad = *m
	bad.Calibration = &calibrate.Calibrator{Method: "magic"}
	if _, err := bad.Marshal(); err != nil {
		t.Fatal(err)
	}
	b, _ := bad.Marshal()
	if _, err := Parse(b); err == nil || !strings.Contains(err.Error(), "calibration") {
		t.Errorf("error = %v", err)
	}
}

func TestFeatureIndexMismatch(t *testing.T) {
	m, _ := trained(t, GBDT)
	src := "resident_id,repairs_90d,arrears_gbp,tenure_years,rooms\nR1,1,2,3,4\n"
	tab, err := dataset.ReadCSV(context.Background(), "other.csv", []byte(src), dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.FeatureIndex(tab)
	want := "table does not match the model's features: missing 1 column(s) the model needs: noise; 2 extra column(s) the model does not know: tenure_years, rooms"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
	var se *SchemaError
	if !errors.As(err, &se) || len(se.Missing) != 1 {
		t.Errorf("not a *SchemaError: %T", err)
	}
	// The same columns in another order are fine.
	src = "noise,repairs_90d,arrears_gbp\n1,2,3\n"
	tab, _ = dataset.ReadCSV(context.Background(), "reordered.csv", []byte(src), dataset.Options{})
	idx, err := m.FeatureIndex(tab)
	if err != nil || fmt.Sprint(idx) != "[2 1 0]" {
		t.Errorf("index %v, error %v", idx, err)
	}
}

func ExampleModel_FeatureIndex() {
	m := &Model{Features: []Feature{{FeatureMeta: dataset.FeatureMeta{Name: "a"}}, {FeatureMeta: dataset.FeatureMeta{Name: "b"}}}}
	tab, _ := dataset.ReadCSV(context.Background(), "x.csv", []byte("b,c\n1,2\n"), dataset.Options{})
	_, err := m.FeatureIndex(tab)
	fmt.Println(err)
	// Output: table does not match the model's features: missing 1 column(s) the model needs: a; 1 extra column(s) the model does not know: c
}

// FuzzParse feeds arbitrary bytes to the model parser: it must return a
// model or an error, never panic, and a model it accepts must validate and
// score a row.
func FuzzParse(f *testing.F) {
	m := &Model{
		Algorithm: GBDT, Target: "label_y",
		Features: []Feature{{FeatureMeta: dataset.FeatureMeta{Name: "a"}, Cuts: []float64{0.5}}},
		Ensemble: &tree.Ensemble{Base: -1, NumFeatures: 1, Trees: []tree.Tree{{
			Left: []int32{1, -1, -1}, Right: []int32{2, -1, -1}, Feature: []int32{0, -1, -1},
			Threshold: []float64{0.5, 0, 0}, DefaultLeft: []bool{true, false, false},
			Value: []float64{0, -0.2, 0.3}, Cover: []float64{2, 1, 1}, Gain: []float64{1, 0, 0},
		}}},
		Calibration: &calibrate.Calibrator{Method: calibrate.Platt, A: -1, B: 0.1},
	}
	good, err := m.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format":"caserisk-model","format_version":1}`))
	f.Add([]byte(`{"format":"caserisk-model","format_version":99}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid model: %v", err)
		}
		x := make([]float64, len(m.Features))
		if p := m.Score(x); !(p >= 0 && p <= 1) {
			t.Fatalf("score %v outside [0, 1]", p)
		}
	})
}
