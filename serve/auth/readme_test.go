package auth

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestREADMEPolicyTable keeps the README's purpose table in step with the
// default policy it is generated from (caserisk users policy --markdown).
func TestREADMEPolicyTable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Skipf("no README beside the module: %v", err)
	}
	const begin, end = "<!-- policy:begin -->\n", "<!-- policy:end -->"
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README.md has no policy:begin/policy:end block")
	}
	var want bytes.Buffer
	if err := DefaultPolicy().WriteMarkdown(&want); err != nil {
		t.Fatal(err)
	}
	if got := s[i+len(begin) : j]; got != want.String() {
		t.Fatalf("README's policy table is stale; regenerate it with `caserisk users policy --markdown`:\n%s", want.String())
	}
}
