package synth_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"caserisk/features/synth"
)

// Generate a small borough with three years of history before the as-of
// date; the history runs on to the end of the 12-month label window.
func ExampleGenerate() {
	dir, err := os.MkdirTemp("", "borough")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	cfg := synth.Config{
		Residents:   500,
		Seed:        42,
		AsOf:        time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC),
		YearsBefore: 3,
	}
	m, err := synth.Generate(context.Background(), cfg, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("contract %s, history %s to %s, %d files\n", m.ContractVersion, m.HistoryStart, m.HistoryEnd, len(m.Rows))
	fmt.Println(m.OracleFiles)
	// Output:
	// contract 1.0.0, history 2021-04-01 to 2025-04-01, 24 files
	// [oracle/residents.csv oracle/tenancies.csv]
}
