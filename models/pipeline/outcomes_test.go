package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"caserisk/features/contract"
	"caserisk/models/target"
)

func inv(id, tenancy, referral, closed, outcome string) Investigation {
	v := Investigation{ID: id, TenancyID: tenancy, ResidentID: "R1", UPRN: 100000000001, Referral: contract.MustParseDay(referral),
		Source: "data_match", Closed: contract.NoDay, Outcome: outcome}
	if closed != "" {
		v.Closed = contract.MustParseDay(closed)
	}
	return v
}

func TestReconcile(t *testing.T) {
	extract := []Investigation{
		inv("FI1", "T1", "2022-01-10", "2022-04-01", "no_fraud"),
		inv("FI2", "T2", "2022-01-10", "2022-04-01", "fraud_confirmed"),
		inv("FI3", "T3", "2022-01-10", "", ""), // still open
	}
	tests := []struct {
		name                         string
		exported                     Investigation
		added, duplicates, conflicts int
	}{
		{"another tenancy", inv("CASE-1", "T9", "2022-01-01", "2022-03-01", "fraud_confirmed"), 1, 0, 0},
		{"same tenancy, a later period", inv("CASE-2", "T1", "2023-01-01", "2023-03-01", "fraud_confirmed"), 1, 0, 0},
		{"same tenancy and period, same outcome", inv("CASE-3", "T2", "2022-01-01", "2022-03-01", "fraud_confirmed"), 0, 1, 0},
		{"same tenancy and period, another outcome", inv("CASE-4", "T1", "2022-01-01", "2022-03-01", "fraud_confirmed"), 0, 0, 1},
		{"an open investigation does not conflict", inv("CASE-5", "T3", "2022-01-01", "2022-03-01", "no_fraud"), 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			add, rec := Reconcile(extract, []Investigation{tt.exported})
			if len(add) != tt.added || rec.Added != tt.added || len(rec.Duplicates) != tt.duplicates || len(rec.Conflicts) != tt.conflicts || rec.Exported != 1 {
				t.Fatalf("added %d, reconciliation %+v; want %d added, %d duplicates, %d conflicts", len(add), rec, tt.added, tt.duplicates, tt.conflicts)
			}
			if tt.conflicts == 1 {
				p := rec.Conflicts[0]
				if p.ExtractID != "FI1" || p.ExportedID != "CASE-4" || p.ExtractOutcome != "no_fraud" || p.ExportedOutcome != "fraud_confirmed" {
					t.Errorf("conflict %+v", p)
				}
			}
		})
	}
}

func TestFraudOutcomesRoundTripThroughTheContract(t *testing.T) {
	labels := []Outcome{
		{Target: target.TenancyFraud, CaseID: 7, EntityID: "T1", ResidentID: "R1", AsOf: "2024-01-01", Outcome: "fraud_confirmed", Label: 1,
			ClosedAt: contract.MustParseDay("2024-03-05").Time()},
		{Target: target.TenancyFraud, CaseID: 8, EntityID: "T404", ResidentID: "R2", AsOf: "2024-01-01", Outcome: "no_fraud",
			ClosedAt: contract.MustParseDay("2024-02-01").Time()},
	}
	rows, missing, err := FraudOutcomes(labels, map[string]int64{"T1": 100000000001})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(missing) != 1 || missing[0] != 8 {
		t.Fatalf("rows %+v, missing %v", rows, missing)
	}
	var buf bytes.Buffer
	if err := WriteInvestigations(&buf, rows); err != nil {
		t.Fatal(err)
	}
	want := "investigation_id,tenancy_id,resident_id,uprn,referral_date,referral_source,closed_date,outcome,fraud_type\n" +
		"CASE-7,T1,R1,100000000001,2024-01-01,data_match,2024-03-05,fraud_confirmed,\n"
	if buf.String() != want {
		t.Fatalf("written:\n%s\nwant\n%s", buf.String(), want)
	}
	path := filepath.Join(t.TempDir(), "fraud_investigations.csv")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, rejects, err := ReadInvestigations(path)
	if err != nil || len(rejects) != 0 || len(back) != 1 {
		t.Fatalf("read back %+v, rejects %v, %v", back, rejects, err)
	}
	back[0].Line = 0
	if back[0] != rows[0] {
		t.Errorf("read back %+v, want %+v", back[0], rows[0])
	}
	if _, _, err := FraudOutcomes([]Outcome{{Target: target.ComplexCase, CaseID: 3}}, nil); err == nil || !strings.Contains(err.Error(), "case 3") {
		t.Errorf("a complex-case label: %v", err)
	}
}

func TestAppendKeepsTheExtractAndItsColumnOrder(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.csv")
	// Another column order, and no final newline.
	extract := "tenancy_id,investigation_id,resident_id,uprn,referral_date,referral_source,closed_date,outcome,fraud_type\n" +
		"T1,FI1,R1,100000000001,2022-01-10,tip_off,2022-04-01,no_fraud,subletting"
	if err := os.WriteFile(src, []byte(extract), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "fraud_investigations.csv")
	if err := appendInvestigations(dst, src, []Investigation{inv("CASE-1", "T2", "2023-01-01", "2023-02-01", "fraud_confirmed")}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(dst)
	want := extract + "\nT2,CASE-1,R1,100000000001,2023-01-01,data_match,2023-02-01,fraud_confirmed,\n"
	if string(got) != want {
		t.Fatalf("merged:\n%s\nwant\n%s", got, want)
	}
	rows, rejects, err := ReadInvestigations(dst)
	if err != nil || len(rejects) != 0 || len(rows) != 2 || rows[1].Line != 3 {
		t.Fatalf("merged file reads as %+v, rejects %v, %v", rows, rejects, err)
	}
}

func FuzzReadInvestigations(f *testing.F) {
	f.Add([]byte("investigation_id,tenancy_id,resident_id,uprn,referral_date,referral_source,closed_date,outcome,fraud_type\n" +
		"FI1,T1,R1,100000000001,2022-01-10,tip_off,2022-04-01,no_fraud,subletting\n"))
	f.Add([]byte("investigation_id,tenancy_id\nFI1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "f.csv")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		rows, rejects, err := ReadInvestigations(path)
		if err != nil {
			return
		}
		for _, r := range rejects {
			if r.Line < 2 {
				t.Fatalf("a reject without its line: %+v", r)
			}
		}
		// What reads back writes as a valid file when it has what the
		// contract requires.
		for _, v := range rows {
			if v.ID == "" || v.TenancyID == "" {
				t.Fatalf("a row without its required ids: %+v", v)
			}
		}
	})
}
