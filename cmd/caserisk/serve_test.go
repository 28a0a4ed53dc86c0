package main

import (
	"path/filepath"
	"testing"
)

func TestServeAndScoreRunExitCodes(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "serve.db")
	data := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"score-run needs --data and --as-of", []string{"score-run", "--db", db}, 2},
		{"score-run bad date", []string{"score-run", "--db", db, "--data", data, "--as-of", "2024-02-30"}, 2},
		{"score-run bad target", []string{"score-run", "--db", db, "--data", data, "--as-of", "2024-01-01", "--targets", "fraud"}, 2},
		{"score-run negative capacity", []string{"score-run", "--db", db, "--data", data, "--as-of", "2024-01-01", "--capacity", "-1"}, 2},
		{"score-run without a champion", []string{"score-run", "--db", db, "--data", data, "--as-of", "2024-01-01"}, 1},
		{"serve bad log format", []string{"serve", "--db", db, "--log-format", "xml"}, 2},
		{"serve bad bands", []string{"serve", "--db", db, "--band-high", "0.1", "--band-medium", "0.5"}, 2},
		{"serve unknown flag", []string{"serve", "--db", db, "--port", "1"}, 2},
		{"serve bad address", []string{"serve", "--db", db, "--addr", "nowhere:-1", "--log-level", "error"}, 1},
		{"serve missing models dir", []string{"serve", "--db", db, "--models", filepath.Join(data, "none"), "--log-level", "error"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, out := runOut(t, tc.args...); code != tc.code {
				t.Fatalf("exit %d, want %d (%s)", code, tc.code, out)
			}
		})
	}
}
