package contract

import (
	"regexp"
	"testing"
)

// TestEveryCodeHasWords: every code of an event type column, and every
// snake_case or abbreviated code of any code column, has words; and the
// words name only codes the contract lists, so neither side drifts.
func TestEveryCodeHasWords(t *testing.T) {
	c := Default()
	snake := regexp.MustCompile(`[a-z]+_[a-z_]+`)
	for _, f := range c.Files {
		for _, col := range f.Columns {
			if col.Type != Code {
				continue
			}
			for _, code := range col.Codes {
				w, ok := Words(f.Service, col.Name, code)
				if !ok && (NeedsWords(code) || col.Name == f.TypeColumn) {
					t.Errorf("%s.%s: code %q has no words", f.Name, col.Name, code)
				}
				if ok && (w == "" || snake.MatchString(w)) {
					t.Errorf("%s.%s: the words of %q are %q", f.Name, col.Name, code, w)
				}
			}
		}
	}
	for service, cols := range codeWords {
		f, ok := c.File(service)
		if !ok {
			t.Errorf("words for unknown service %q", service)
			continue
		}
		for name, codes := range cols {
			col, ok := f.Column(name)
			if !ok || col.Type != Code {
				t.Errorf("words for %s.%s, which is not a code column", service, name)
				continue
			}
			known := map[string]bool{}
			for _, k := range col.Codes {
				known[k] = true
			}
			for k := range codes {
				if !known[k] {
					t.Errorf("words for %s.%s code %q, which the contract does not list", service, name, k)
				}
			}
		}
	}
}

func TestEventTitle(t *testing.T) {
	c := Default()
	for _, tc := range []struct{ service, typ, want string }{
		{"council_tax", "missed_payment", "Council tax: missed an instalment"},
		{"environmental_services", "fly_tipping_report", "Environmental services: fly-tipping reported"},
		{"homelessness", "main_duty", "Homelessness: main housing duty owed"},
		{"electoral_register", "", "Electoral register"},
		{"anti_social_behaviour", "noise", "Anti-social behaviour: noise"},
		{"homelessness", "not_a_code", "Homelessness"},
	} {
		got, ok := c.EventTitle(tc.service, tc.typ)
		if !ok || got != tc.want {
			t.Errorf("EventTitle(%s, %s) = %q, %v; want %q", tc.service, tc.typ, got, ok, tc.want)
		}
	}
	if _, ok := c.EventTitle("no_such_service", "x"); ok {
		t.Error("an unknown service has a title")
	}
}
