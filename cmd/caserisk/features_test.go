package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
