package contract

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite CONTRACT.md from the contract")

// TestMarkdownUpToDate keeps the committed reference in step with the code.
func TestMarkdownUpToDate(t *testing.T) {
	var b bytes.Buffer
	if err := Default().WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("CONTRACT.md", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("CONTRACT.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Fatal("CONTRACT.md is stale: run `go test ./features/contract -run TestMarkdownUpToDate -update`")
	}
}

// TestContractIsWellFormed checks the invariants the loader and builder rely on.
func TestContractIsWellFormed(t *testing.T) {
	c := Default()
	if n := len(c.Services()); n < 16 {
		t.Errorf("%d service files, want at least 16", n)
	}
	names := map[string]bool{}
	for _, f := range c.Files {
		if names[f.Name] || names[f.Service] {
			t.Errorf("%s: name or service key repeated", f.Name)
		}
		names[f.Name], names[f.Service] = true, true
		if !strings.HasSuffix(f.Name, ".csv") {
			t.Errorf("%s: not a .csv name", f.Name)
		}
		cols := map[string]Column{}
		for _, col := range f.Columns {
			if _, dup := cols[col.Name]; dup {
				t.Errorf("%s: column %s repeated", f.Name, col.Name)
			}
			cols[col.Name] = col
			if (col.Type == Code) != (len(col.Codes) > 0) {
				t.Errorf("%s.%s: codes are for Code columns only, and every Code column needs codes", f.Name, col.Name)
			}
			for old, cur := range col.Legacy {
				found := false
				for _, c := range col.Codes {
					found = found || c == cur
				}
				if !found {
					t.Errorf("%s.%s: legacy code %s maps to unknown %s", f.Name, col.Name, old, cur)
				}
			}
			if col.Description == "" {
				t.Errorf("%s.%s: no description", f.Name, col.Name)
			}
		}
		for _, k := range append(append([]string{}, f.Key...), f.EventDate, f.EndDate, f.RecordedDate, f.TypeColumn, f.AmountColumn) {
			if k == "" {
				continue
			}
			if _, ok := cols[k]; !ok {
				t.Errorf("%s: names column %s that it does not have", f.Name, k)
			}
		}
		if f.Service != "properties" {
			if col, ok := cols["resident_id"]; !ok || !col.Required {
				t.Errorf("%s: no required resident_id", f.Name)
			}
		}
		if f.AddressBased {
			if _, ok := cols["uprn"]; !ok {
				t.Errorf("%s: address-based without uprn", f.Name)
			}
		}
		if (f.Kind == Periods) != (f.EndDate != "") {
			t.Errorf("%s: period files, and only they, have an end date", f.Name)
		}
	}
	for _, e := range Escalations() {
		f, ok := c.File(e.Service)
		if !ok {
			t.Fatalf("escalation names unknown service %s", e.Service)
		}
		col, ok := f.Column(e.Column)
		if !ok || !strings.Contains(","+strings.Join(col.Codes, ",")+",", ","+e.Code+",") {
			t.Errorf("escalation %v names an unknown column or code", e)
		}
	}
}
