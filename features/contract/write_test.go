package contract

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"testing"
	"time"
)

// testFile is a small file using every column type.
func testFile() *File {
	return &File{
		Name: "t.csv", Service: "t",
		Columns: []Column{
			{Name: "id", Type: String, Required: true},
			{Name: "n", Type: Int},
			{Name: "x", Type: Float},
			{Name: "d", Type: Date},
			{Name: "c", Type: Code, Codes: []string{"a", "b"}, Legacy: map[string]string{"OLD": "a"}},
			{Name: "y", Type: Bool},
		},
	}
}

func TestWriterRows(t *testing.T) {
	tests := []struct {
		name    string
		set     func(w *Writer)
		want    string // the written line, without the newline
		wantErr string // a substring of the error, if one is expected
	}{
		{"all types", func(w *Writer) {
			w.SetString("id", "R1")
			w.SetInt("n", -42)
			w.SetFloat("x", 1234.5, 2)
			w.SetDate("d", 20089) // 2025-01-01
			w.SetCode("c", "b")
			w.SetBool("y", true)
		}, "R1,-42,1234.50,2025-01-01,b,Y", ""},
		{"missing optional values", func(w *Writer) { w.SetString("id", "R2") }, "R2,,,,,", ""},
		{"legacy code accepted", func(w *Writer) { w.SetString("id", "R3"); w.SetCode("c", "OLD") }, "R3,,,,OLD,", ""},
		{"quoting", func(w *Writer) { w.SetString("id", `Flat 1, "The Lodge"`) }, `"Flat 1, ""The Lodge""",,,,,`, ""},
		{"date before 1970", func(w *Writer) { w.SetString("id", "R4"); w.SetDate("d", -1) }, "R4,,,1969-12-31,,", ""},
		{"leap day", func(w *Writer) { w.SetString("id", "R5"); w.SetDate("d", 19782) }, "R5,,,2024-02-29,,", ""},
		{"required missing", func(w *Writer) { w.SetInt("n", 1) }, "", "t.csv: row 1: column id: required value missing"},
		{"required empty", func(w *Writer) { w.SetString("id", "") }, "", "column id: required value missing"},
		{"bad code", func(w *Writer) { w.SetString("id", "R"); w.SetCode("c", "z") }, "", `column c: code "z" is not allowed`},
		{"wrong type", func(w *Writer) { w.SetString("id", "R"); w.SetInt("c", 3) }, "", "column c: column is code, value is integer"},
		{"unknown column", func(w *Writer) { w.SetString("id", "R"); w.SetString("zz", "v") }, "", "column zz: no such column"},
		{"line break", func(w *Writer) { w.SetString("id", "a\nb") }, "", "column id: value contains a line break"},
		{"not finite", func(w *Writer) { w.SetString("id", "R"); w.SetFloat("x", math.Inf(1), 2) }, "", "column x: value +Inf is not a finite decimal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w := NewWriter(&b, testFile())
			tt.set(w)
			err := w.WriteRow()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				if b.Len() != 0 {
					t.Fatalf("wrote %q after an error", b.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSuffix(b.String(), "\n"); got != tt.want {
				t.Fatalf("row = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriterHeaderRepeatAndReset(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b, testFile())
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	if err := w.RepeatRow(); err == nil {
		t.Fatal("RepeatRow before any row: want an error")
	}
	var b2 bytes.Buffer
	w = NewWriter(&b2, testFile())
	w.SetString("id", "R1")
	w.SetInt("n", 7)
	if err := w.WriteRow(); err != nil {
		t.Fatal(err)
	}
	if err := w.RepeatRow(); err != nil {
		t.Fatal(err)
	}
	// Values do not leak into the next row.
	w.SetString("id", "R2")
	if err := w.WriteRow(); err != nil {
		t.Fatal(err)
	}
	if got, want := b2.String(), "R1,7,,,,\nR1,7,,,,\nR2,,,,,\n"; got != want {
		t.Fatalf("rows = %q, want %q", got, want)
	}
	if w.Rows() != 3 {
		t.Fatalf("Rows() = %d, want 3", w.Rows())
	}
	if got := b.String(); got != "id,n,x,d,c,y\n" {
		t.Fatalf("header = %q", got)
	}
}

// Every file of the default contract can be written: each column's setter
// accepts a value of its type, and the header is the contract order.
func TestWriterDefaultContract(t *testing.T) {
	for _, f := range Default().Files {
		t.Run(f.Name, func(t *testing.T) {
			var b bytes.Buffer
			w := NewWriter(&b, &f)
			if err := w.WriteHeader(); err != nil {
				t.Fatal(err)
			}
			for _, c := range f.Columns {
				switch c.Type {
				case String:
					w.SetString(c.Name, "s")
				case Int:
					w.SetInt(c.Name, 100000000001)
				case Float:
					w.SetFloat(c.Name, 1.5, 2)
				case Date:
					w.SetDate(c.Name, 20000)
				case Code:
					w.SetCode(c.Name, c.Codes[0])
				case Bool:
					w.SetBool(c.Name, false)
				}
			}
			if err := w.WriteRow(); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&b).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Join(recs[0], ","), strings.Join(f.Header(), ","); got != want {
				t.Fatalf("header %q, want %q", got, want)
			}
			for i, v := range recs[1] {
				if v == "" {
					t.Errorf("column %s empty", f.Columns[i].Name)
				}
			}
		})
	}
}

// FuzzWriterString checks that any single-line string survives the CSV
// round trip through encoding/csv unchanged.
func FuzzWriterString(f *testing.F) {
	for _, s := range []string{"", "plain", "a,b", `q"uote`, " lead", "trail ", `",",`, "ünïcødé"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		w := NewWriter(&b, testFile())
		w.SetString("id", "x")
		w.SetString("id", s)
		err := w.WriteRow()
		if strings.ContainsAny(s, "\r\n") || s == "" {
			if err == nil {
				t.Fatalf("string %q: want an error", s)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(&b)
		r.LazyQuotes = false
		rec, err := r.Read()
		if err != nil {
			t.Fatalf("read back %q: %v", b.String(), err)
		}
		if rec[0] != s {
			t.Fatalf("round trip: got %q, want %q", rec[0], s)
		}
	})
}

// FuzzWriterDate checks that every writable date reads back as the same
// Day, and that dates outside the loader's range are refused.
func FuzzWriterDate(f *testing.F) {
	for _, d := range []int32{0, -1, 20089, 19782, -62091, 2932896, -1 << 31} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, d int32) {
		var b bytes.Buffer
		w := NewWriter(&b, testFile())
		w.SetString("id", "x")
		w.SetDate("d", Day(d))
		err := w.WriteRow()
		if Day(d) < MakeDay(1800, 1, 1) || Day(d) > MakeDay(9999, 12, 31) {
			if err == nil {
				t.Fatalf("day %d (%s): want an error", d, b.String())
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		field := strings.Split(strings.TrimSpace(b.String()), ",")[3]
		got, err := ParseDay(field)
		if err != nil || got != Day(d) {
			t.Fatalf("day %d wrote %q, read back %d (%v)", d, field, got, err)
		}
		if want := unixDay(d).Format("2006-01-02"); field != want {
			t.Fatalf("day %d wrote %q, want %q", d, field, want)
		}
	})
}

func ExampleWriter() {
	f, _ := Default().File("repairs")
	var b bytes.Buffer
	w := NewWriter(&b, f)
	_ = w.WriteHeader()
	w.SetString("repair_id", "J1")
	w.SetString("resident_id", "R000000101")
	w.SetInt("uprn", 100000007919)
	w.SetDate("event_date", 20089)
	w.SetCode("event_type", "reported")
	w.SetCode("trade", "damp_mould")
	if err := w.WriteRow(); err != nil {
		fmt.Println(err)
	}
	fmt.Print(b.String())
	// Output:
	// repair_id,resident_id,uprn,event_date,event_type,trade,priority
	// J1,R000000101,100000007919,2025-01-01,reported,damp_mould,
}

func unixDay(d int32) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// TestWriterLoaderRoundTrip writes a row of every contract file, with every
// column set, and reads it back through the validating loader: what the
// Writer writes, the loader accepts with the same values.
func TestWriterLoaderRoundTrip(t *testing.T) {
	for _, f := range Default().Files {
		t.Run(f.Name, func(t *testing.T) {
			var b bytes.Buffer
			w := NewWriter(&b, &f)
			if err := w.WriteHeader(); err != nil {
				t.Fatal(err)
			}
			want := make([]string, len(f.Columns))
			for i, c := range f.Columns {
				switch c.Type {
				case String:
					w.SetString(c.Name, "a, \"b\"")
					want[i] = "a, \"b\""
				case Int:
					w.SetInt(c.Name, 100000000042)
					want[i] = "100000000042"
				case Float:
					w.SetFloat(c.Name, -12.5, 2)
					want[i] = "-12.50"
				case Date:
					w.SetDate(c.Name, MakeDay(2024, 2, 29))
					want[i] = "2024-02-29"
				case Code:
					code := c.Codes[len(c.Codes)-1]
					want[i] = code
					if len(c.Legacy) > 0 {
						olds := make([]string, 0, len(c.Legacy))
						for old := range c.Legacy {
							olds = append(olds, old)
						}
						sort.Strings(olds)
						code, want[i] = olds[0], c.Legacy[olds[0]] // legacy codes are normalised on load
					}
					w.SetCode(c.Name, code)
				case Bool:
					w.SetBool(c.Name, true)
					want[i] = "Y"
				}
			}
			if err := w.WriteRow(); err != nil {
				t.Fatal(err)
			}
			r, err := NewReader(&b, f.Name, &f)
			if err != nil {
				t.Fatal(err)
			}
			row, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range f.Columns {
				if row.Str[i] != want[i] {
					t.Errorf("column %s: read %q, want %q", c.Name, row.Str[i], want[i])
				}
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("after the row: %v, want io.EOF", err)
			}
		})
	}
}

// BenchmarkWriterRow writes rent-account rows: the generator's busiest file.
func BenchmarkWriterRow(b *testing.B) {
	f, _ := Default().File("rent_account")
	w := NewWriter(io.Discard, f)
	d := MakeDay(2024, 4, 1)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.SetString("tenancy_id", "T000012301")
		w.SetString("resident_id", "R000012301")
		w.SetInt("uprn", 100000097419)
		w.SetDate("event_date", d)
		w.SetCode("event_type", "payment")
		w.SetCode("payment_method", "direct_debit")
		w.SetFloat("amount_gbp", 563.33, 2)
		w.SetFloat("balance_gbp", -120.5, 2)
		if err := w.WriteRow(); err != nil {
			b.Fatal(err)
		}
	}
}
