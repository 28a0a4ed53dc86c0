package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestGenerateExitCodes(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "borough")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"negative residents", []string{"generate", "--residents", "-5", "--seed", "1", "--as-of", "2025-01-01", "--out", out}, 2},
		{"bad date", []string{"generate", "--residents", "50", "--seed", "1", "--as-of", "2025-13-01", "--out", out}, 2},
		{"not a date", []string{"generate", "--seed", "1", "--as-of", "yesterday", "--out", out}, 2},
		{"missing out", []string{"generate", "--residents", "50", "--seed", "1", "--as-of", "2025-01-01"}, 2},
		{"missing seed", []string{"generate", "--residents", "50", "--as-of", "2025-01-01", "--out", out}, 2},
		{"bad years", []string{"generate", "--residents", "50", "--seed", "1", "--as-of", "2025-01-01", "--years-before", "0", "--out", out}, 2},
		{"not a number", []string{"generate", "--residents", "many", "--seed", "1", "--as-of", "2025-01-01", "--out", out}, 2},
		{"stray argument", []string{"generate", "extra", "--seed", "1", "--as-of", "2025-01-01", "--out", out}, 2},
		{"unwritable out", []string{"generate", "--residents", "50", "--seed", "1", "--as-of", "2025-01-01", "--out", "/proc/caserisk-no"}, 1},
		{"ok", []string{"generate", "--residents", "50", "--seed", "1", "--as-of", "2025-01-01", "--out", out}, 0},
		{"raw", []string{"generate", "--residents", "50", "--seed", "1", "--as-of", "2025-01-01", "--out", out, "--raw"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(context.Background(), tt.args); got != tt.want {
				t.Fatalf("caserisk %v: exit code %d, want %d", tt.args, got, tt.want)
			}
		})
	}
	for _, name := range []string{"residents.csv", "repairs.csv", "manifest.json", "oracle/residents.csv", "oracle/tenancies.csv",
		"raw/repairs.csv", "raw/repairs_people.csv", "raw/properties.csv", "raw/manifest.json", "oracle/links.csv"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
}
