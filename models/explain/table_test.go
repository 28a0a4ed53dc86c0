package explain

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestWriteCSV(t *testing.T) {
	l := &Linear{Mean: []float64{0, 0}, Scale: []float64{1, 1}, Coef: []float64{0.002, -0.5}, Intercept: -1}
	cols := [][]float64{{1240, 0, math.NaN()}, {1, 3, 0}}
	infos := []FeatureInfo{
		{Name: "rent_arrears_90d", Description: "rent arrears", Unit: "GBP", WindowDays: 90},
		{Name: "support_visits", Description: "support visits", Unit: "count"},
	}
	var buf bytes.Buffer
	err := WriteCSV(context.Background(), &buf, l, cols, CSVOptions{
		Infos: infos, KeyNames: []string{"resident_id"}, Keys: [][]string{{"R1", "R2", "R3"}}, Reasons: 1, Contributions: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"resident_id", "margin", "shap_rent_arrears_90d", "shap_support_visits", "shap_bias", "raising_1", "lowering_1"},
		{"R1", "", "2.48", "-0.5", "-1", "Rent arrears of £1,240 in the last 90 days raised the risk", "Support visits of 1 lowered the risk"},
		{"R2", "", "0", "-1.5", "-1", "", "Support visits of 3 lowered the risk"},
		{"R3", "", "0", "0", "-1", "", ""},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(recs), len(want), buf.String())
	}
	for i := range want {
		for j := range want[i] {
			if j == 1 && i > 0 {
				// The margin is the sum of the row's contributions.
				m, err := strconv.ParseFloat(recs[i][1], 64)
				if err != nil {
					t.Fatal(err)
				}
				s := 0.0
				for _, c := range recs[i][2:5] {
					v, _ := strconv.ParseFloat(c, 64)
					s += v
				}
				if math.Abs(m-s) > 1e-12 {
					t.Fatalf("line %d: margin %g, contributions sum to %g", i, m, s)
				}
				continue
			}
			if recs[i][j] != want[i][j] {
				t.Fatalf("line %d, column %d: %q, want %q", i, j, recs[i][j], want[i][j])
			}
		}
	}

	bad := []struct {
		name string
		o    CSVOptions
		cols [][]float64
	}{
		{"infos", CSVOptions{Infos: infos[:1]}, cols},
		{"keys", CSVOptions{Infos: infos, KeyNames: []string{"id"}}, cols},
		{"key rows", CSVOptions{Infos: infos, KeyNames: []string{"id"}, Keys: [][]string{{"R1"}}}, cols},
		{"columns", CSVOptions{Infos: infos}, cols[:1]},
	}
	for _, tc := range bad {
		if err := WriteCSV(context.Background(), &bytes.Buffer{}, l, tc.cols, tc.o); err == nil {
			t.Errorf("%s: no error", tc.name)
		} else if !strings.Contains(err.Error(), "explain:") {
			t.Errorf("%s: error %q lacks context", tc.name, err)
		}
	}
}

// TestWriteCSVAsOf: with each row's as-of date the reasons name months, not
// day counts.
func TestWriteCSVAsOf(t *testing.T) {
	l := &Linear{Mean: []float64{0}, Scale: []float64{1}, Coef: []float64{-0.001}, Intercept: -1}
	infos := []FeatureInfo{{Name: "days_since_crisis", Unit: "days", Template: "A crisis in the household {when}"}}
	cols := [][]float64{{907, 907}}
	var buf bytes.Buffer
	err := WriteCSV(context.Background(), &buf, l, cols, CSVOptions{Infos: infos, Reasons: 1,
		AsOf: []time.Time{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[1][2] != "A crisis in the household in July 2022 lowered the risk" || recs[2][2] != "A crisis in the household in July 2021 lowered the risk" {
		t.Fatalf("reasons %q", recs)
	}
	if err := WriteCSV(context.Background(), &bytes.Buffer{}, l, cols, CSVOptions{Infos: infos, AsOf: []time.Time{{}}}); err == nil {
		t.Fatal("one as-of date for two rows accepted")
	}
}
