package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A borough too small for the demo is refused before any work, naming the
// minimum.
func TestDemoRefusesATooSmallBorough(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"demo", "--no-serve", "--residents", "3999", "--dir", dir})
	err := root.ExecuteContext(context.Background())
	if exitCode(err) != 2 || err == nil || !strings.Contains(err.Error(), "at least 4000 residents") {
		t.Fatalf("exit %d, want 2, error %v; output:\n%s", exitCode(err), err, out.String())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the refused demo made %s (%v)", dir, err)
	}
}
