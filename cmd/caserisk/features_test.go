package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"caserisk/serve/store"
)

// execFeatures runs the CLI and returns its exit code and error text.
func execFeatures(args ...string) (int, string) {
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return 0, out.String()
	}
	return exitCode(err), err.Error()
}

func TestFeaturesAndValidateExitCodes(t *testing.T) {
	mini := filepath.Join("..", "..", "features", "build", "testdata", "mini")
	dir := t.TempDir()
	out := filepath.Join(dir, "f.csv")
	badSpec := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badSpec, []byte("version: 1\nresident:\n  features:\n    - name: x\n      service: bins\n      agg: count\n      description: d\n      template: \"{value}\"\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"missing flags", []string{"features", "--data", mini}, 2, "--as-of, --out"},
		{"bad entity", []string{"features", "--data", mini, "--as-of", "2023-06-30", "--out", out, "--entity", "car"}, 2, "resident or tenancy"},
		{"bad date", []string{"features", "--data", mini, "--as-of", "2023-06-31", "--out", out}, 2, "--as-of"},
		{"bad spec", []string{"features", "--data", mini, "--as-of", "2023-06-30", "--out", out, "--spec", badSpec}, 1, "bad.yaml:5:"},
		{"strict", []string{"features", "--data", mini, "--as-of", "2023-06-30", "--out", out, "--strict"}, 1, "repairs.csv:6: column event_date"},
		{"ok", []string{"features", "--data", mini, "--as-of", "2023-06-30,2023-09-01", "--out", out}, 0, ""},
		{"ok tenancy parquet", []string{"features", "--data", mini, "--as-of", "2023-06-30", "--entity", "tenancy", "--out", filepath.Join(dir, "t.parquet")}, 0, ""},
		{"validate needs data", []string{"validate"}, 2, "--data"},
		{"validate finds the bad row", []string{"validate", "--data", mini}, 1, "breaks the contract"},
		{"list signals", []string{"features", "--list-signals"}, 0, "deceased_tenant_payments_continue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := execFeatures(tc.args...)
			if code != tc.want || !strings.Contains(msg, tc.msg) {
				t.Errorf("exit %d (%q), want %d with %q", code, msg, tc.want, tc.msg)
			}
		})
	}
	for _, f := range []string{out, out + ".meta.json", out + ".rejects.csv", filepath.Join(dir, "t.parquet.meta.json")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("not written: %v", err)
		}
	}
}

// TestFeaturesBrokenFile: a service file whose header repeats a column
// makes `caserisk features` exit 1 naming the file, and so does a quote
// left open; --allow-broken-files goes on.
func TestFeaturesBrokenFile(t *testing.T) {
	mini := filepath.Join("..", "..", "features", "build", "testdata", "mini")
	for _, tc := range []struct {
		name, want string
		corrupt    func(string) string
	}{
		{"duplicate header column", "repairs.csv:1: column event_date: column appears twice in the header",
			func(s string) string { return strings.Replace(s, "event_type", "event_date", 1) }},
		{"unclosed quote", "repairs.csv:3: quoted field is not closed before the end of the file", func(s string) string {
			lines := strings.SplitAfter(s, "\n")
			lines[2] = `"` + lines[2]
			return strings.Join(lines, "")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			entries, err := os.ReadDir(mini)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				b, _ := os.ReadFile(filepath.Join(mini, e.Name()))
				if e.Name() == "repairs.csv" {
					b = []byte(tc.corrupt(string(b)))
				}
				os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
			}
			out := filepath.Join(t.TempDir(), "f.csv")
			code, msg := execFeatures("features", "--data", dir, "--as-of", "2023-06-30", "--out", out)
			if code != 1 || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "--allow-broken-files") {
				t.Errorf("exit %d (%s), want 1 naming %s", code, msg, tc.want)
			}
			if code, msg := execFeatures("features", "--data", dir, "--as-of", "2023-06-30", "--out", out, "--allow-broken-files"); code != 0 {
				t.Errorf("with --allow-broken-files: exit %d (%s)", code, msg)
			}
		})
	}
}

// TestLinkAndPipelineRefuseBrokenFiles: link and pipeline read the
// extracts first and stop on a file that cannot be read as a whole,
// naming it.
func TestLinkAndPipelineRefuseBrokenFiles(t *testing.T) {
	raw := t.TempDir()
	if err := os.WriteFile(filepath.Join(raw, "properties.csv"), []byte("uprn,uprn,address\n1,1,x\n2,2,y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, msg := execFeatures("link", "--raw", raw, "--out", t.TempDir())
	if code != 1 || !strings.Contains(msg, "properties.csv:1: column uprn: column appears twice") {
		t.Errorf("link over a broken file: exit %d (%s)", code, msg)
	}
	cfg := filepath.Join(t.TempDir(), "p.yaml")
	if code, out := execFeatures("pipeline", "example"); code != 0 {
		t.Fatalf("pipeline example: %d %s", code, out)
	} else {
		out = strings.Replace(out, "data: ", "data: "+raw+" #", 1)
		os.WriteFile(cfg, []byte(out), 0o644)
	}
	code, msg = execFeatures("pipeline", "run", "--config", cfg)
	if code != 1 || !strings.Contains(msg, "properties.csv:1") {
		t.Errorf("pipeline over a broken file: exit %d (%s)", code, msg)
	}
}

// TestPipelineClaim: a pipeline run with a registry holds the claim on its
// results; a second run while it is held is refused naming the holder.
func TestPipelineClaim(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "results")
	db := "sqlite://" + filepath.Join(dir, "reg.db")
	_, ex := execFeatures("pipeline", "example")
	ex = strings.Replace(ex, "data: ", "data: "+t.TempDir()+" #", 1)
	ex = strings.Replace(ex, "results: ", "results: "+results+" #", 1)
	cfg := filepath.Join(dir, "p.yaml")
	os.WriteFile(cfg, []byte(ex), 0o644)
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cl, err := st.Claim(context.Background(), "pipeline/"+results, store.ClaimOptions{Holder: "the other pipeline"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Release()
	code, msg := execFeatures("pipeline", "run", "--config", cfg, "--db", db)
	if code != 1 || !strings.Contains(msg, "is held by the other pipeline") {
		t.Errorf("a pipeline run while another holds the claim: exit %d (%s)", code, msg)
	}
}
