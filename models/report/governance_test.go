package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func facts() Facts {
	return Facts{Name: "complex_case gbdt", Target: "complex_case", Algorithm: "gbdt", Version: "3",
		Created: "2026-11-27T00:00:00Z", Engine: "caserisk test", Features: 72,
		Services:  []string{"council_tax", "rent_account", "childrens_social_care"},
		TrainAsOf: []string{"2023-01-01", "2023-07-01"}, TrainRows: 40000, TrainLabel: 0.041,
		EvalAsOf: []string{"2024-01-01"}, Calibration: "platt", AuditColumns: []string{"sex", "ward"}}
}

func TestModelCardAndATRSComeFromTheirInputs(t *testing.T) {
	in := sample(4000)
	in.Baseline = nil
	r, err := Build(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	g := &Governance{Organisation: "Example Borough Council", Contact: "data.protection@example.gov.uk"}
	var card bytes.Buffer
	if err := WriteModelCard(&card, facts(), r, g); err != nil {
		t.Fatal(err)
	}
	s := card.String()
	for _, want := range []string{"council_tax, rent_account, childrens_social_care", "2023-01-01, 2023-07-01", "2024-01-01",
		"Example Borough Council", "data.protection@example.gov.uk", NotProvided,
		fmt.Sprintf("| ROC-AUC | %.4f |", r.Model.Metrics.ROCAUC.Value)} {
		if !strings.Contains(s, want) {
			t.Errorf("model card lacks %q", want)
		}
	}
	for _, f := range r.Fairness.Flags() {
		if !strings.Contains(s, f) {
			t.Errorf("model card lacks fairness flag %q", f)
		}
	}
	a := NewATRS(facts(), r, g)
	var js, md bytes.Buffer
	if err := a.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	var back ATRS
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Tier2) != 5 || back.Tier2["1_owner_and_responsibility"]["senior_responsible_owner"] != NotProvided {
		t.Errorf("tier 2 = %v", back.Tier2)
	}
	if !strings.Contains(back.Tier2["4_tool_specification"]["data_sources"], "rent_account") ||
		!strings.Contains(md.String(), "### Owner and responsibility") {
		t.Errorf("ATRS lacks data sources or section headings:\n%s", md.String())
	}
}

func TestLoadGovernanceRejectsUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "g.yaml")
	os.WriteFile(p, []byte("organisation: Example\ncontcat: someone\n"), 0o644)
	if _, err := LoadGovernance(p); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("got %v, want an error naming line 2", err)
	}
	os.WriteFile(p, []byte("organisation: Example\ncontact: a@b\n"), 0o644)
	g, err := LoadGovernance(p)
	if err != nil || g.Contact != "a@b" {
		t.Errorf("%v %+v", err, g)
	}
}
