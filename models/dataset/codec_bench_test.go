package dataset

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"math"
	"strconv"
	"testing"
	"time"
)

// readWithEncodingCSV is the straightforward reader that ReadCSV is
// measured against: encoding/csv records (ReuseRecord), ids and dates kept
// as strings, every other cell through strconv.ParseFloat, empty as NaN.
func readWithEncodingCSV(data []byte, keys int) (int, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return 0, err
	}
	strs := make([][]string, keys)
	nums := make([][]float64, len(head)-keys)
	rows := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return 0, err
		}
		for j := range keys {
			strs[j] = append(strs[j], rec[j])
		}
		for j, f := range rec[keys:] {
			v := math.NaN()
			if f != "" {
				if v, err = strconv.ParseFloat(f, 64); err != nil {
					return 0, err
				}
			}
			nums[j] = append(nums[j], v)
		}
		rows++
	}
}

// BenchmarkReadCSVVsEncodingCSV measures why ReadCSV is hand-written: it
// reads a 200,000 × 40 feature table against encoding/csv with
// strconv.ParseFloat (one thread, the library's way), each three times,
// and reports the medians and ratios (on one thread and on all).
func BenchmarkReadCSVVsEncodingCSV(b *testing.B) {
	const rows, cols = 200_000, 40
	data := benchCSV(rows, cols)
	b.SetBytes(int64(len(data)))
	median := func(f func() error) float64 {
		var secs []float64
		for range 3 {
			start := time.Now()
			if err := f(); err != nil {
				b.Fatal(err)
			}
			secs = append(secs, time.Since(start).Seconds())
		}
		return medianOf(secs)
	}
	for range b.N {
		lib := median(func() error {
			n, err := readWithEncodingCSV(data, 2)
			if err == nil && n != rows {
				b.Fatalf("%d rows", n)
			}
			return err
		})
		ours := func(threads int) float64 {
			return median(func() error {
				_, err := ReadCSV(context.Background(), "bench.csv", data, Options{Label: "label_escalation", Threads: threads})
				return err
			})
		}
		one, all := ours(1), ours(0)
		b.ReportMetric(lib, "encoding/csv-s")
		b.ReportMetric(one, "ours-1-thread-s")
		b.ReportMetric(all, "ours-s")
		b.ReportMetric(lib/one, "x-faster-1-thread")
		b.ReportMetric(lib/all, "x-faster")
	}
}
