package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"caserisk/features/contract"
	"caserisk/features/synth"
	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/target"
)

// borough writes a small synthetic borough (2,500 residents, data to
// 2026-01-01) and returns its directory.
func borough(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "borough")
	cfg := synth.Config{Residents: 2500, Seed: 3, AsOf: contract.MustParseDay("2025-01-01").Time(), YearsBefore: 4, Version: "test"}
	if _, err := synth.Generate(context.Background(), cfg, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// testConfig is a tiny grid on the small borough.
func testConfig(data, results, registry string, targets string) string {
	reg := ""
	if registry != "" {
		reg = "registry: " + registry + "\noutcomes:\n  db: " + registry + "\n"
	}
	return fmt.Sprintf(`data: %s
results: %s
train_as_of: [2022-07-01, 2023-01-01, 2023-07-01, 2024-01-01]
holdout_as_of: 2025-01-01
targets: [%s]
seed: 7
capacity: 50
algorithms:
  gbdt:
    rounds: [20]
    max_depth: [3, 4]
    learning_rate: [0.2]
    early_stopping_rounds: 10
  logistic:
    l2: [1]
%s`, data, results, targets, reg)
}

func run(t *testing.T, cfg string, opts ...func(*Options)) *Manifest {
	t.Helper()
	c, err := ParseConfig("test.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	o := Options{Config: c, ConfigBytes: []byte(cfg), Version: "test", Out: &out}
	for _, f := range opts {
		f(&o)
	}
	m, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return m
}

func modelBytes(t *testing.T, results string, m *Manifest) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, c := range m.Candidates {
		b, err := os.ReadFile(filepath.Join(results, c.Model))
		if err != nil {
			t.Fatal(err)
		}
		out[c.Target+"-"+c.Algorithm] = b
	}
	return out
}

func TestRunIsDeterministicAndResumes(t *testing.T) {
	t.Parallel()
	data := borough(t)
	resA, resB := t.TempDir(), t.TempDir()
	cfgA := testConfig(data, resA, "", "complex_case")
	a := run(t, cfgA)
	b := run(t, testConfig(data, resB, "", "complex_case"))
	if a.Fits == 0 || len(a.Candidates) != 2 {
		t.Fatalf("first run: %d fits, %d candidates", a.Fits, len(a.Candidates))
	}
	ma, mb := modelBytes(t, resA, a), modelBytes(t, resB, b)
	for k, ba := range ma {
		if !bytes.Equal(ba, mb[k]) {
			t.Errorf("%s: two runs of the same config on the same data wrote different model files", k)
		}
		if bytes.Contains(ba, []byte(`"seconds":0,`)) == false {
			t.Errorf("%s: the model file records a fitting time", k)
		}
		if !bytes.Contains(ba, []byte(`"created":"2025-01-01T00:00:00Z"`)) {
			t.Errorf("%s: the model's creation time is not the hold-out date", k)
		}
	}

	// The same inputs again: every step is reused and nothing is fitted.
	again := run(t, cfgA)
	if again.ID != a.ID || again.Fits != 0 {
		t.Fatalf("rerun: id %s (first %s), %d fits; want the same run and no fit", again.ID, a.ID, again.Fits)
	}
	for _, s := range again.Steps[:5] {
		if !s.Reused {
			t.Errorf("rerun: step %q was redone", s.Name)
		}
	}

	// An interrupted run: the logistic fit never finished. Resuming fits
	// exactly that model, to the same bytes.
	model := filepath.Join(resA, "runs", a.ID, "models", "complex_case-logistic.json")
	if err := os.Remove(model + ".done"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(model); err != nil {
		t.Fatal(err)
	}
	resumed := run(t, cfgA)
	if resumed.Fits != 1 {
		t.Errorf("resume: %d fits, want 1 (the missing model only)", resumed.Fits)
	}
	if got, _ := os.ReadFile(model); !bytes.Equal(got, ma["complex_case-logistic"]) {
		t.Errorf("resume: the refitted model differs from the first run's")
	}

	// A cancelled run stops at a step boundary and says how to resume.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, _ := ParseConfig("test.yaml", []byte(cfgA))
	if _, err := Run(ctx, Options{Config: c, ConfigBytes: []byte(cfgA), Version: "test"}); err == nil || !strings.Contains(err.Error(), "resume") {
		t.Errorf("cancelled run: %v", err)
	}

	// show prints the run.
	read, err := ReadManifest(resA, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := read.WriteSummary(&sb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"run " + a.ID, "residents.csv", "max_depth=", "l2=1 l1=0", "nothing registered"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("show lacks %q:\n%s", want, sb.String())
		}
	}
	if len(read.Outputs) == 0 || read.Data["residents.csv"] == "" {
		t.Errorf("manifest: %d outputs, residents.csv %q", len(read.Outputs), read.Data["residents.csv"])
	}
}

// memRegistry is a registry in memory, as a Registry must behave: the same
// bytes give the same version.
type memRegistry struct {
	reqs     []RegisterRequest
	versions map[string]int // target and file bytes → version
	next     map[target.Name]int
	champion map[target.Name]int
	files    map[target.Name]map[int][]byte
}

func newMemRegistry() *memRegistry {
	return &memRegistry{versions: map[string]int{}, next: map[target.Name]int{}, champion: map[target.Name]int{}, files: map[target.Name]map[int][]byte{}}
}

func (m *memRegistry) Champion(_ context.Context, t target.Name) ([]byte, int, error) {
	v, ok := m.champion[t]
	if !ok {
		return nil, 0, ErrNoChampion
	}
	return m.files[t][v], v, nil
}

func (m *memRegistry) Register(_ context.Context, r RegisterRequest) (int, bool, error) {
	b, err := os.ReadFile(r.Path)
	if err != nil {
		return 0, false, err
	}
	m.reqs = append(m.reqs, r)
	key := string(r.Target) + "\x00" + string(b)
	if v, ok := m.versions[key]; ok {
		return v, false, nil
	}
	m.next[r.Target]++
	v := m.next[r.Target]
	m.versions[key] = v
	if m.files[r.Target] == nil {
		m.files[r.Target] = map[int][]byte{}
	}
	m.files[r.Target][v] = b
	return v, true, nil
}

// The hold-out metrics in the manifest are what caserisk evaluate
// (artifact.Evaluate) reports for the registered artifact on the same
// rows; the best candidate is registered with its fairness audit, the
// same bytes again give the same version, register: all registers every
// candidate, and the champion is compared on the same rows.
func TestRegistersThroughTheRegistry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data, res := borough(t), t.TempDir()
	cfg := testConfig(data, res, "", "complex_case")
	reg := newMemRegistry()
	withReg := func(o *Options) { o.Registry = reg }
	m := run(t, cfg, withReg)
	if len(m.Registered) != 1 || m.Registered[0].Version != 1 || !m.Registered[0].New || m.Registered[0].Champion != nil {
		t.Fatalf("registered %+v", m.Registered)
	}
	var best *Candidate
	for i := range m.Candidates {
		if m.Candidates[i].Best {
			best = &m.Candidates[i]
		}
	}
	if best == nil || best.Algorithm != m.Registered[0].Algorithm {
		t.Fatalf("best candidate %+v, registered %+v", best, m.Registered[0])
	}
	if f := reg.reqs[0].Fairness; !bytes.Contains(f, []byte(`"characteristics"`)) {
		t.Errorf("registered without the report's fairness audit: %.200s", f)
	}
	art, err := artifact.Parse(reg.files[target.ComplexCase][1])
	if err != nil {
		t.Fatal(err)
	}
	tab, err := dataset.Read(ctx, filepath.Join(res, best.Data), dataset.Options{Label: art.Target})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := artifact.Evaluate(ctx, art, tab, m.Config.EvalOptions())
	if err != nil {
		t.Fatal(err)
	}
	h := best.Holdout
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"rows", float64(h.Rows), float64(ev.Report.N)},
		{"AUC", float64(h.AUC), ev.Report.ROCAUC.Value},
		{"average precision", float64(h.AP), ev.Report.AveragePrecision.Value},
		{"log-loss", float64(h.LogLoss), ev.Report.LogLoss.Value},
		{"precision at k", float64(h.PrecisionAtK), ev.Report.TopK[0].Precision.Value},
	} {
		if c.got != c.want || math.IsNaN(c.got) {
			t.Errorf("hold-out %s: manifest %v, evaluate %v", c.name, c.got, c.want)
		}
	}

	// The same run again: the same version, not a new one.
	if again := run(t, cfg, withReg); len(again.Registered) != 1 || again.Registered[0].Version != 1 || again.Registered[0].New {
		t.Errorf("rerun registered %+v, want v1 again, not new", again.Registered)
	}

	// v1 is the champion; another grid with register: all registers both
	// candidates and compares each with v1 on the same rows.
	reg.champion[target.ComplexCase] = 1
	m2 := run(t, strings.Replace(cfg, "rounds: [20]", "rounds: [15]", 1)+"register: all\n", withReg)
	if len(m2.Registered) != 2 {
		t.Fatalf("register: all registered %+v", m2.Registered)
	}
	for _, r := range m2.Registered {
		if !r.New || r.Version < 2 || r.Champion == nil || r.Champion.Version != 1 || r.Champion.Holdout == nil {
			t.Fatalf("registered %+v", r)
		}
		if r.Champion.Holdout.Rows != h.Rows || r.Champion.Holdout.AUC != h.AUC {
			t.Errorf("champion on the hold-out: %+v, want the first run's best %+v", r.Champion.Holdout, h)
		}
	}

	// Outcomes from a database need a source.
	c, err := ParseConfig("test.yaml", []byte(cfg+"outcomes:\n  db: sqlite://x.db\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, Options{Config: c, ConfigBytes: []byte("x"), Registry: reg}); err == nil || !strings.Contains(err.Error(), "outcomes") {
		t.Errorf("outcomes.db without a source: %v", err)
	}
}
