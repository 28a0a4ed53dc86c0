package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repairsRows returns n valid repairs rows starting at job number from.
func repairsRows(from, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "J%d,R1,100000000001,2024-02-%02d,reported,plumbing,urgent\n", from+i, i%28+1)
	}
	return b.String()
}

// TestReaderCountsEveryLine: a rejected record loses every physical line
// it spans; a quote left open (to the end of the file, or closed lines
// later so the record has the wrong fields) breaks the file as a whole; a
// well-formed record over several lines and a bad value on one line do
// not.
func TestReaderCountsEveryLine(t *testing.T) {
	f := mustFile(t, "repairs.csv")
	for _, tc := range []struct {
		name                 string
		body                 string
		rows, rejected, lost int
		faultLine            int // 0: no fault
	}{
		{"clean", repairsRows(1, 5), 5, 0, 0, 0},
		{"bad value", repairsRows(1, 2) + "J9,R1,100000000001,2024-13-01,reported,,\n" + repairsRows(3, 2), 5, 1, 1, 0},
		{"unclosed quote on line 3", repairsRows(1, 1) + "\"J2,R1,100000000001,2024-02-01,reported,,\n" + repairsRows(3, 546), 2, 1, 547, 3},
		{"quote closed lines later", repairsRows(1, 1) + "J2,\"R1,100000000001,2024-02-01,reported,,\n" + repairsRows(3, 3) +
			"J6,R1\",100000000001,2024-02-01,reported,,\n" + repairsRows(7, 2), 4, 1, 5, 3},
		{"single-line quote fault", repairsRows(1, 1) + "J2,R\"1,100000000001,2024-02-01,reported,,\n" + repairsRows(3, 1), 3, 1, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(repairsHeader+tc.body), "repairs.csv", f)
			if err != nil {
				t.Fatal(err)
			}
			for {
				_, err := r.Next()
				if err != nil && !errors.As(err, new(*RowError)) {
					break
				}
			}
			c := r.Counts()
			if c.Rows != tc.rows || c.Rejected != tc.rejected || c.Lost != tc.lost {
				t.Errorf("counts %+v, want rows %d rejected %d lost %d", c, tc.rows, tc.rejected, tc.lost)
			}
			lines := strings.Count(tc.body, "\n")
			if c.Rows+c.Lost-c.Rejected > lines {
				t.Errorf("%d rows and %d lost lines in %d lines", c.Rows, c.Lost, lines)
			}
			if c.Lost > lines {
				t.Errorf("lost %d of %d lines", c.Lost, lines)
			}
			fault := r.Fault()
			switch {
			case tc.faultLine == 0 && fault != nil:
				t.Errorf("fault %v, want none", fault)
			case tc.faultLine != 0 && (fault == nil || fault.Line != tc.faultLine || c.Fault == ""):
				t.Errorf("fault %v (%q), want one at line %d", fault, c.Fault, tc.faultLine)
			case tc.faultLine != 0 && !strings.Contains(c.Fault, fmt.Sprintf("repairs.csv:%d", tc.faultLine)):
				t.Errorf("fault %q does not name the file and line", c.Fault)
			}
			err = Check([]FileCount{c}, false)
			if (err != nil) != (tc.faultLine != 0) {
				t.Errorf("Check: %v", err)
			}
			if Check([]FileCount{c}, true) != nil {
				t.Error("Check with allow failed")
			}
		})
	}
}

// TestQuotedLineBreakInText: a line break inside a quoted text field is
// one well-formed record, not a fault.
func TestQuotedLineBreakInText(t *testing.T) {
	f := mustFile(t, "properties.csv")
	src := "uprn,address,postcode,ward,property_type,tenure,bedrooms,council_tax_band\n" +
		"100000000001,\"1 High St\nLondon\",NW1 1AA,Kilburn,flat,council,2,C\n" +
		"100000000002,2 High St,NW1 1AA,Kilburn,flat,council,2,C\n"
	r, err := NewReader(strings.NewReader(src), "properties.csv", f)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := r.Next(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	if c := r.Counts(); c.Rows != 2 || c.Rejected != 0 || c.Lost != 0 || r.Fault() != nil {
		t.Errorf("counts %+v, fault %v", c, r.Fault())
	}
}

// TestScanCountsUnreadFiles: a file whose header repeats a column is not
// read, and every data line of it is counted lost, with the fault; the
// summary shows it.
func TestScanCountsUnreadFiles(t *testing.T) {
	dir := t.TempDir()
	bad := strings.Replace(repairsHeader, "trade", "event_date", 1) + repairsRows(1, 548)
	if err := os.WriteFile(filepath.Join(dir, "repairs.csv"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "properties.csv"), []byte("uprn,address,postcode,ward,property_type,tenure,bedrooms,council_tax_band\n"+
		"100000000001,\"1 High St, London\",NW1 1AA,Kilburn,flat,council,2,C\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := Default()
	files := []*File{mustFile(t, "repairs.csv"), mustFile(t, "properties.csv"), mustFile(t, "residents.csv")}
	scans, err := Scan(context.Background(), dir, files, 2)
	if err != nil {
		t.Fatal(err)
	}
	if s := scans[0]; !s.Present || s.Rows != 0 || s.Lost != 548 || !strings.Contains(s.Fault, "repairs.csv:1: column event_date: column appears twice") {
		t.Errorf("repairs scan %+v", s)
	}
	if s := scans[1]; !s.Present || s.Rows != 1 || s.Fault != "" || s.First != NoDay {
		t.Errorf("properties scan %+v", s)
	}
	if scans[2].Present {
		t.Errorf("residents.csv reported present")
	}
	counts := []FileCount{scans[0].FileCount, scans[1].FileCount, scans[2].FileCount}
	var be *BrokenFilesError
	if err := Check(counts, false); !errors.As(err, &be) || len(be.Files) != 1 || !strings.Contains(err.Error(), "repairs.csv") ||
		!strings.Contains(err.Error(), "--allow-broken-files") {
		t.Errorf("Check: %v", err)
	}
	var b bytes.Buffer
	WriteSummary(&b, counts)
	for _, want := range []string{"repairs.csv", "548  BROKEN: repairs.csv:1: column event_date: column appears twice", "residents.csv                     absent", "total"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
	// The same through ValidateDir.
	rep, err := ValidateDir(context.Background(), dir, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range rep.Files {
		if fr.File == "repairs.csv" && (fr.Lost != 548 || fr.Fault == "") {
			t.Errorf("validate report %+v", fr)
		}
	}
	// A scan of a good file gives its date range.
	if err := os.WriteFile(filepath.Join(dir, "repairs.csv"), []byte(repairsHeader+repairsRows(1, 40)), 0o644); err != nil {
		t.Fatal(err)
	}
	scans, err = Scan(context.Background(), dir, files[:1], 1)
	if err != nil {
		t.Fatal(err)
	}
	if s := scans[0]; s.Rows != 40 || s.First.String() != "2024-02-01" || s.Last.String() != "2024-02-28" {
		t.Errorf("dates %s to %s over %d rows", s.First, s.Last, s.Rows)
	}
}
