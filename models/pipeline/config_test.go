package pipeline

import (
	"strings"
	"testing"
)

const minimal = `data: borough
results: out
train_as_of: [2022-01-01, 2022-07-01, 2023-01-01]
holdout_as_of: 2024-01-01
targets: [complex_case]
capacity: 10
algorithms:
  logistic:
    l2: [1]
`

func TestExampleConfigParses(t *testing.T) {
	c, err := ParseConfig("example.yaml", Example())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrainAsOf) != 6 || c.Capacity != 100 || c.Seed != 7 || len(c.settings()) != 5 {
		t.Errorf("example: %d dates, capacity %d, seed %d, %d settings", len(c.TrainAsOf), c.Capacity, c.Seed, len(c.settings()))
	}
}

func TestConfigErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name, replace, with, want string
	}{
		{"unknown key", "capacity: 10", "capacity: 10\ncapacty: 10", "line 7: field capacty not found"},
		{"unknown grid key", "l2: [1]", "l2: [1]\n    l3: [1]", "line 10: field l3 not found"},
		{"bad date", "2022-07-01", "2022-13-01", "line 3, column 27: \"2022-13-01\" is not a date"},
		{"dates out of order", "2023-01-01]", "2021-01-01]", "line 3: train_as_of: 2021-01-01 is not after 2022-07-01"},
		{"too few dates", "[2022-01-01, 2022-07-01, 2023-01-01]", "[2022-01-01, 2022-07-01]", "line 3: train_as_of: give at least three dates"},
		{"hold-out too early", "holdout_as_of: 2024-01-01", "holdout_as_of: 2022-12-01", "line 4: holdout_as_of 2022-12-01 must be after"},
		{"unknown target", "[complex_case]", "[complex_cases]", "line 5: targets: \"complex_cases\""},
		{"capacity", "capacity: 10", "capacity: 0", "line 6: capacity: want a positive number"},
		{"no algorithm", "algorithms:\n  logistic:\n    l2: [1]\n", "algorithms: {}\n", "line 7: algorithms: give a grid"},
		{"bad gbdt", "algorithms:\n", "algorithms:\n  gbdt:\n    max_depth: [-1]\n", "line 8: algorithms: gbdt:"},
		{"negative penalty", "l2: [1]", "l2: [-1]", "line 8: algorithms: logistic: penalties"},
		{"both outcome sources", "capacity: 10", "capacity: 10\noutcomes:\n  db: sqlite://x.db\n  labels: x.csv", "line 7: outcomes: give exactly one"},
		{"ratio flag", "capacity: 10", "capacity: 10\nfairness:\n  ratio_flag: 1.5", "line 8: fairness: ratio_flag 1.5"},
		{"select_by", "capacity: 10", "capacity: 10\nselect_by: accuracy", "line 7: select_by: \"accuracy\""},
		{"missing data", "data: borough\n", "", "line 1: data: the extracts' directory is required"},
		{"cv_max_rows", "capacity: 10", "capacity: 10\ncv_max_rows: -5", "line 7: cv_max_rows: -5"},
		{"register", "capacity: 10", "capacity: 10\nregister: some", "line 7: register: \"some\": want best or all"},
		{"oracle of another target", "capacity: 10", "capacity: 10\nreports:\n  oracle:\n    tenancy_fraud: o.csv", "line 9: reports: oracle: \"tenancy_fraud\" is not one of the targets"},
		{"governance typo", "capacity: 10", "capacity: 10\nreports:\n  governance:\n    organization: x", "line 9: field organization not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(minimal, tt.replace, tt.with, 1)
			if src == minimal {
				t.Fatalf("the replacement %q did not apply", tt.replace)
			}
			_, err := ParseConfig("p.yaml", []byte(src))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "p.yaml: ") {
				t.Fatalf("error %v, want p.yaml: ...%s", err, tt.want)
			}
		})
	}
	if _, err := ParseConfig("p.yaml", []byte(minimal)); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
}

func TestGridExpandsEveryCombination(t *testing.T) {
	c, err := ParseConfig("p.yaml", []byte(strings.Replace(minimal, "algorithms:\n",
		"algorithms:\n  gbdt:\n    max_depth: [2, 3]\n    learning_rate: [0.1, 0.3]\n    rounds: [5]\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range c.settings() {
		names = append(names, s.Algorithm+" "+s.Name)
	}
	want := []string{
		"gbdt rounds=5 max_depth=2 learning_rate=0.1 min_child_weight=1 subsample=1 lambda=1",
		"gbdt rounds=5 max_depth=2 learning_rate=0.3 min_child_weight=1 subsample=1 lambda=1",
		"gbdt rounds=5 max_depth=3 learning_rate=0.1 min_child_weight=1 subsample=1 lambda=1",
		"gbdt rounds=5 max_depth=3 learning_rate=0.3 min_child_weight=1 subsample=1 lambda=1",
		"logistic l2=1 l1=0",
	}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Errorf("settings:\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add(Example())
	f.Add([]byte("data: [\n"))
	f.Add([]byte("train_as_of: [x]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig("fuzz.yaml", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// A config that parses is usable: sorted dates, a hold-out after
		// them, at least one setting.
		if len(c.TrainAsOf) < 3 || c.HoldoutAsOf.Day <= c.TrainAsOf[len(c.TrainAsOf)-1].Day || len(c.settings()) == 0 || c.Capacity <= 0 {
			t.Fatalf("accepted an unusable config: %+v", c)
		}
	})
}
