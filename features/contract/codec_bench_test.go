package contract

import (
	"bytes"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"testing"
	"time"
)

// rentRows writes n rent-account rows (the busiest file) with Writer.
func rentRows(b *testing.B, n int) []byte {
	f, _ := Default().File("rent_account")
	var buf bytes.Buffer
	w := NewWriter(&buf, f)
	if err := w.WriteHeader(); err != nil {
		b.Fatal(err)
	}
	writeRentRows(b, w, n)
	return buf.Bytes()
}

func writeRentRows(b *testing.B, w *Writer, n int) {
	d := MakeDay(2024, 4, 1)
	for i := range n {
		w.SetString("tenancy_id", "T0000"+strconv.Itoa(10000+i%5000))
		w.SetString("resident_id", "R0000"+strconv.Itoa(10000+i%7000))
		w.SetInt("uprn", 100000097419+int64(i%5000))
		w.SetDate("event_date", d+Day(i%700))
		w.SetCode("event_type", "payment")
		w.SetCode("payment_method", "direct_debit")
		w.SetFloat("amount_gbp", 563.33+float64(i%100), 2)
		w.SetFloat("balance_gbp", -120.5+float64(i%300), 2)
		if err := w.WriteRow(); err != nil {
			b.Fatal(err)
		}
	}
}

func median3(b *testing.B, f func() error) float64 {
	var secs []float64
	for range 3 {
		start := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		secs = append(secs, time.Since(start).Seconds())
	}
	slices.Sort(secs)
	return secs[1]
}

// BenchmarkReaderVsEncodingCSV measures why the contract's CSV reader is
// hand-written: splitting 1,000,000 rent-account rows into fields with
// Reader.readRecord against encoding/csv's Reader (ReuseRecord), medians
// of three and their ratio; and, for scale, the whole validating
// Reader.Next.
func BenchmarkReaderVsEncodingCSV(b *testing.B) {
	data := rentRows(b, 1_000_000)
	f, _ := Default().File("rent_account")
	b.SetBytes(int64(len(data)))
	for range b.N {
		lib := median3(b, func() error {
			r := csv.NewReader(bytes.NewReader(data))
			r.ReuseRecord = true
			for {
				if _, err := r.Read(); err == io.EOF {
					return nil
				} else if err != nil {
					return err
				}
			}
		})
		ours := median3(b, func() error {
			r, err := NewReader(bytes.NewReader(data), "rent_account.csv", f)
			if err != nil {
				return err
			}
			for {
				if _, err := r.readRecord(); err == io.EOF {
					return nil
				} else if err != nil {
					return err
				}
			}
		})
		next := median3(b, func() error {
			r, err := NewReader(bytes.NewReader(data), "rent_account.csv", f)
			if err != nil {
				return err
			}
			for {
				if _, err := r.Next(); err == io.EOF {
					return nil
				} else if err != nil {
					return err
				}
			}
		})
		b.ReportMetric(lib, "encoding/csv-s")
		b.ReportMetric(ours, "ours-s")
		b.ReportMetric(lib/ours, "x-faster")
		b.ReportMetric(next, "validating-s")
	}
}

// BenchmarkWriterVsEncodingCSV measures why the contract's Writer is
// hand-written: 1,000,000 rent-account rows through Writer against the
// same cells formatted with strconv and written with encoding/csv (the
// outputs byte for byte the same), medians of three and their ratio.
func BenchmarkWriterVsEncodingCSV(b *testing.B) {
	const n = 1_000_000
	f, _ := Default().File("rent_account")
	ours := rentRows(b, n)
	lib := func(out io.Writer) error {
		cw := csv.NewWriter(out)
		head := make([]string, len(f.Columns))
		for i, c := range f.Columns {
			head[i] = c.Name
		}
		if err := cw.Write(head); err != nil {
			return err
		}
		d := MakeDay(2024, 4, 1)
		rec := make([]string, len(f.Columns))
		for i := range n {
			clear(rec)
			for k, c := range f.Columns {
				switch c.Name {
				case "tenancy_id":
					rec[k] = "T0000" + strconv.Itoa(10000+i%5000)
				case "resident_id":
					rec[k] = "R0000" + strconv.Itoa(10000+i%7000)
				case "uprn":
					rec[k] = strconv.FormatInt(100000097419+int64(i%5000), 10)
				case "event_date":
					rec[k] = (d + Day(i%700)).String()
				case "event_type":
					rec[k] = "payment"
				case "payment_method":
					rec[k] = "direct_debit"
				case "amount_gbp":
					rec[k] = strconv.FormatFloat(563.33+float64(i%100), 'f', 2, 64)
				case "balance_gbp":
					rec[k] = strconv.FormatFloat(-120.5+float64(i%300), 'f', 2, 64)
				}
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	var check bytes.Buffer
	if err := lib(&check); err != nil {
		b.Fatal(err)
	}
	if !bytes.Equal(check.Bytes(), ours) {
		b.Fatalf("the two writers' outputs differ:\n%.300s\n%.300s", check.Bytes(), ours)
	}
	for range b.N {
		l := median3(b, func() error { return lib(io.Discard) })
		o := median3(b, func() error {
			w := NewWriter(io.Discard, f)
			if err := w.WriteHeader(); err != nil {
				return err
			}
			writeRentRows(b, w, n)
			return nil
		})
		b.ReportMetric(l, "encoding/csv-s")
		b.ReportMetric(o, "ours-s")
		b.ReportMetric(l/o, "x-faster")
	}
}
