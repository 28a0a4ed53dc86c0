package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPipelineAndLabelsCommands(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "c.db")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("data: x\nresults: y\nbogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"example", []string{"pipeline", "example"}, 0, "holdout_as_of: 2025-01-01"},
		{"run without config", []string{"pipeline", "run"}, 2, ""},
		{"run with an unknown key", []string{"pipeline", "run", "--config", bad}, 2, ""},
		{"show a missing run", []string{"pipeline", "show", "--results", dir, "nope"}, 1, ""},
		{"export without target", []string{"labels", "export", "--db", db}, 2, ""},
		{"fraud export needs the extracts", []string{"labels", "export", "--db", db, "--target", "tenancy_fraud"}, 2, ""},
		{"complex-case export", []string{"labels", "export", "--db", db, "--target", "complex_case"}, 0, "kind,entity_id,resident_id,as_of,label"},
		{"the older name", []string{"models", "labels", "--db", db, "--target", "complex_case"}, 0, "kind,entity_id,resident_id,as_of,label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := runOut(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tt.code, out)
			}
		})
	}
}
