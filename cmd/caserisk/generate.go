package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"caserisk/features/synth"
)

func newGenerateCmd() *cobra.Command {
	var (
		residents   int
		seed        uint64
		asOf        string
		out         string
		yearsBefore int
		raw         bool
	)
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate a synthetic borough: every contract file plus the oracle",
		Long: `Generate a synthetic borough's joined resident data: every file the data
contract names, written through the contract, with history from --years-before
years before the as-of date to 12 months after it (the label window).

Also writes DIR/oracle/residents.csv (resident_id,p_escalation,escalated: the
true escalation probability at the as-of date and the realised outcome),
DIR/oracle/tenancies.csv (tenancy_id,fraud: the true fraud state at the as-of
date) and DIR/manifest.json (arguments, versions, row counts). The same
arguments give byte-identical output.

With --raw, also writes the raw extracts the borough's systems would hold
before record linkage (there is no Residents Index in them): for every
source DIR/raw/<service>.csv (the service's rows under the source's own
record_id) and DIR/raw/<service>_people.csv (the source's person records,
with duplicates and realistic errors in names, dates of birth and
addresses), DIR/raw/properties.csv and DIR/raw/manifest.json (counts and
corruption rates), and the truth DIR/oracle/links.csv
(source,record_id,resident_id). ` + "`caserisk link --raw DIR/raw`" + ` reads them.`,
		Example: "  caserisk generate --residents 20000 --seed 7 --as-of 2025-01-01 --out data/borough",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "seed", "as-of", "out"); err != nil {
				return err
			}
			day, err := time.Parse(time.DateOnly, asOf)
			if err != nil {
				return usagef("generate: --as-of %q: want a date YYYY-MM-DD", asOf)
			}
			cfg := synth.Config{
				Residents:   residents,
				Seed:        seed,
				AsOf:        day,
				YearsBefore: yearsBefore,
				Version:     version,
			}
			if err := cfg.Validate(); err != nil {
				return usagef("generate: %v", err)
			}
			if isatty.IsTerminal(os.Stderr.Fd()) {
				cfg.Progress = os.Stderr
			}
			m, err := synth.Generate(cmd.Context(), cfg, out)
			if err != nil {
				return err
			}
			total := 0
			for _, n := range m.Rows {
				total += n
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d rows in %d files to %s (history %s to %s)\n",
				total, len(m.Rows), out, m.HistoryStart, m.HistoryEnd)
			if !raw {
				return nil
			}
			rcfg := synth.RawConfig{Seed: seed, Progress: cfg.Progress}
			rm, err := synth.GenerateRaw(cmd.Context(), rcfg, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d person records in %d sources to %s (truth in %s)\n",
				rm.Records, len(rm.Sources), filepath.Join(out, "raw"), filepath.Join(out, "oracle", "links.csv"))
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&residents, "residents", 240000, "residents at the as-of date")
	f.Uint64Var(&seed, "seed", 0, "random seed (required)")
	f.StringVar(&asOf, "as-of", "", "as-of date, YYYY-MM-DD (required)")
	f.StringVar(&out, "out", "", "output directory (required)")
	f.IntVar(&yearsBefore, "years-before", 4, "years of history before the as-of date")
	f.BoolVar(&raw, "raw", false, "also write the raw extracts before linkage (DIR/raw) and their truth (DIR/oracle/links.csv)")
	return cmd
}
