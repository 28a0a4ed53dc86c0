package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
)

// forEachBackendB runs f as a sub-benchmark per backend.
func forEachBackendB(b *testing.B, f func(b *testing.B, s Store)) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s, _ := be.open(b)
			f(b, s)
		})
	}
}

// BenchmarkAppendAudit measures appending audit rows one per write and in
// groups of 64 (as the API's auditor batches them); rows/s is reported.
func BenchmarkAppendAudit(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			forEachBackendB(b, func(b *testing.B, s Store) {
				ctx := context.Background()
				recs := make([]audit.Record, batch)
				for i := range recs {
					recs[i] = auditRec(i)
				}
				const writes = 300
				b.ResetTimer()
				for range b.N {
					for range writes {
						if _, err := s.AppendAudit(ctx, recs...); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(writes*batch*b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		})
	}
}

// BenchmarkResidentScores measures the GET /residents/{id}/risk read: a
// resident's latest scores for one target in a 20,000-row run.
func BenchmarkResidentScores(b *testing.B) {
	forEachBackendB(b, func(b *testing.B, s Store) {
		ctx := context.Background()
		if _, err := s.RegisterModel(ctx, testModel(ComplexCase)); err != nil {
			b.Fatal(err)
		}
		const n = 20000
		if _, _, err := s.RecordScoreRun(ctx, NewRun{Target: ComplexCase, AsOf: "2025-03-31", ModelVersion: 1,
			Capacity: 100, Scores: testScores(n, "B")}); err != nil {
			b.Fatal(err)
		}
		const reads = 2000
		b.ResetTimer()
		for range b.N {
			for i := range reads {
				rs, err := s.ResidentScores(ctx, fmt.Sprintf("RB%04d", i*7%n+1), ComplexCase)
				if err != nil || len(rs) != 1 {
					b.Fatalf("%v, %d scores", err, len(rs))
				}
			}
		}
		b.ReportMetric(float64(reads*b.N)/b.Elapsed().Seconds(), "reads/s")
	})
}

// BenchmarkRecordScoreRun measures storing a 50,000-row score run with its
// cases: scores without households (one case per entity) and scores in
// households of two, their members far apart in rank (one case per
// household).
func BenchmarkRecordScoreRun(b *testing.B) {
	for _, households := range []bool{false, true} {
		name := "entities"
		if households {
			name = "households"
		}
		b.Run(name, func(b *testing.B) {
			forEachBackendB(b, func(b *testing.B, s Store) {
				ctx := context.Background()
				if _, err := s.RegisterModel(ctx, testModel(ComplexCase)); err != nil {
					b.Fatal(err)
				}
				const n = 50000
				scores := testScores(n, "S")
				if households {
					for i := range scores {
						scores[i].Household = fmt.Sprint(i * 7919 % (n / 2))
					}
				}
				b.ResetTimer()
				for i := range b.N {
					r, _, err := s.RecordScoreRun(ctx, NewRun{Target: ComplexCase, AsOf: fmt.Sprintf("2025-01-%02d", i%28+1),
						ModelVersion: 1, Capacity: 500, Scores: scores})
					if err != nil {
						b.Fatal(err)
					}
					if i == 0 && r.CasesOpened != 500 {
						b.Fatalf("%d cases opened, want 500", r.CasesOpened)
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "scores/s")
			})
		})
	}
}

// BenchmarkAuthenticate measures a token lookup without the API's cache.
func BenchmarkAuthenticate(b *testing.B) {
	forEachBackendB(b, func(b *testing.B, s Store) {
		ctx := context.Background()
		tok, _ := auth.NewToken(nil)
		if _, err := s.CreateUserWithToken(ctx, "bench", auth.Caseworker, tok); err != nil {
			b.Fatal(err)
		}
		const reads = 2000
		b.ResetTimer()
		for range b.N {
			for range reads {
				if _, err := auth.Authenticate(ctx, s, tok.Secret); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(reads*b.N)/b.Elapsed().Seconds(), "lookups/s")
	})
}

// BenchmarkIngestEvents measures loading 200,000 timeline events in one
// single-view load.
func BenchmarkIngestEvents(b *testing.B) {
	forEachBackendB(b, func(b *testing.B, s Store) {
		ctx := context.Background()
		const n = 200000
		es := make([]Event, n)
		for i := range es {
			es[i] = Event{ResidentID: fmt.Sprintf("R%06d", i%20000), Service: "rent_account", Date: "2024-05-01",
				Type: "payment", UPRN: 100000000000 + int64(i%9000), Amount: 12.5, HasAmount: true}
		}
		var commit time.Duration
		b.ResetTimer()
		for range b.N {
			in, err := s.BeginIngest(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for start := 0; start < n; start += 10000 {
				if err := in.AddEvents(ctx, es[start:start+10000]); err != nil {
					b.Fatal(err)
				}
			}
			start := time.Now()
			if err := in.Commit(); err != nil {
				b.Fatal(err)
			}
			commit += time.Since(start)
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		// The longest the live tables are write-locked: the copy at Commit.
		b.ReportMetric(float64(commit.Milliseconds())/float64(b.N), "commit-ms")
	})
}
