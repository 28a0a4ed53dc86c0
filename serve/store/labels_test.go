package store

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"
)

func TestWriteLabelsCSV(t *testing.T) {
	tests := []struct {
		name   string
		labels []Label
		rows   int
	}{
		{"none", nil, 1},
		{"two", []Label{
			{Kind: TenancyFraud, CaseID: 3, EntityID: "T1", ResidentID: "R1", AsOf: "2025-03-31", ModelVersion: 2, Score: 0.25,
				Outcome: OutcomeFraudConfirmed, Label: 1, ClosedAt: time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)},
			{Kind: TenancyFraud, CaseID: 4, EntityID: "T,2", ResidentID: "R2", AsOf: "2025-03-31", ModelVersion: 2, Score: 0.1,
				Outcome: OutcomeNoFraud, Label: 0, ClosedAt: time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)},
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteLabelsCSV(&buf, tt.labels); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil || len(recs) != tt.rows {
				t.Fatalf("read back %d rows, %v; want %d", len(recs), err, tt.rows)
			}
			if tt.rows == 3 && (recs[2][1] != "T,2" || recs[1][4] != "1" || recs[2][4] != "0" || recs[1][9] != "2025-06-01T09:00:00Z") {
				t.Errorf("rows %q", recs)
			}
		})
	}
}
