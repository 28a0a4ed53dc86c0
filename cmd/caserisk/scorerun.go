package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"caserisk/features/contract"
	"caserisk/serve/api/champion"
	"caserisk/serve/batch"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

func newScoreRunCmd() *cobra.Command {
	var (
		dbURL, dataDir, asOf, targets, by, logFormat string
		capacity, reasons                            int
		skipIngest, force, allowBroken               bool
	)
	cmd := &cobra.Command{
		Use:   "score-run",
		Short: "Score every resident and tenancy as of a date with the champions and open cases",
		Long: `score-run loads the Residents Index and each resident's events into the
store (the single view), builds point-in-time features for residents and
council tenancies as of --as-of, scores every one with each target's
champion, stores the scores with their reasons, ranks and bands, and opens
cases for the top --capacity of each list.

Bands in a run are by rank: 1..capacity high (a case each), up to three
times capacity medium, the rest low.

A run is idempotent per target, as-of date and champion version: repeating
it prints the stored run and changes nothing.

--as-of must lie within what the extracts cover: from when their history
starts to their extract date (exit code 2 names the range). Every extract is
read first and counted per file (rows read, rejected, lines lost); a file
that cannot be read as a whole stops the run with exit code 1 unless
--allow-broken-files. --skip-ingest keeps the single view in the store but
still builds the features from the files.

One score run runs at a time. While a run lives it renews its claim every
2 s; a second run is refused (exit 1) with who holds the claim and until
when. A run that died (kill -9, a lost machine) lets its claim lapse within
10 s, and running the same command again takes it and redoes the work: the
same scores, no duplicate case. --force takes over the claim of a run that
is still alive (it stops at its next write); the takeover is audited.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "data", "as-of"); err != nil {
				return err
			}
			var ts []store.Target
			if targets != "" {
				for _, name := range strings.Split(targets, ",") {
					t, err := parseTargetFlag(cmd, strings.TrimSpace(name))
					if err != nil {
						return err
					}
					ts = append(ts, t)
				}
			}
			if capacity < 0 {
				return usagef("%s: --capacity must not be negative", cmd.CommandPath())
			}
			log, err := newLogger(logFormat, "info")
			if err != nil {
				return usagef("%s: %v", cmd.CommandPath(), err)
			}
			ctx := cmd.Context()
			return withStore(ctx, dbURL, func(st store.Store) error {
				stderr := cmd.ErrOrStderr()
				r, err := batch.New(batch.Config{Store: st, Load: champion.LoadArtifact, DataDir: dataDir, Capacity: capacity,
					Reasons: reasons, SkipIngest: skipIngest, AllowBrokenFiles: allowBroken, Logger: log,
					OnFiles: func(fc []contract.FileCount) {
						fmt.Fprintf(stderr, "extracts in %s:\n", dataDir)
						contract.WriteSummary(stderr, fc)
					}})
				if err != nil {
					return err
				}
				c, err := core.New(core.Config{Store: st, Runner: r, Logger: log})
				if err != nil {
					return err
				}
				defer c.Close()
				runs, err := c.ScoreRun(ctx, core.Operator(by), core.ScoreRunRequest{AsOf: asOf, Capacity: capacity, Targets: ts, Force: force})
				if err != nil {
					var fe *store.FieldError
					if asFieldError(err, &fe) && (fe.Field == "as_of" || fe.Field == "capacity") {
						return usagef("%s: --%s: %s", cmd.CommandPath(), strings.ReplaceAll(fe.Field, "_", "-"), fe.Msg)
					}
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
				fmt.Fprintln(w, "RUN\tTARGET\tAS OF\tMODEL\tSCORED\tCAPACITY\tCASES OPENED")
				for _, run := range runs {
					fmt.Fprintf(w, "%d\t%s\t%s\tv%d\t%d\t%d\t%d\n", run.ID, run.Target, run.AsOf, run.ModelVersion, run.Rows, run.Capacity, run.CasesOpened)
				}
				return w.Flush()
			})
		},
	}
	addStoreFlag(cmd, &dbURL)
	addByFlag(cmd, &by, "runs the scoring")
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", "", "directory of contract CSV files (required)")
	f.StringVar(&asOf, "as-of", "", "the as-of date YYYY-MM-DD (required)")
	f.IntVar(&capacity, "capacity", 100, "cases to open per target: the top of each list")
	f.StringVar(&targets, "targets", "", "comma-separated targets (default both)")
	f.IntVar(&reasons, "reasons", 5, "reasons stored per score")
	f.BoolVar(&skipIngest, "skip-ingest", false, "keep the single view already in the store (features are still built from --data)")
	f.BoolVar(&force, "force", false, "take over the claim of a score run that is still running (audited)")
	addAllowBrokenFlag(f, &allowBroken)
	f.StringVar(&logFormat, "log-format", "text", "progress log format: json or text")
	return cmd
}

// asFieldError reports whether err wraps a store field error.
func asFieldError(err error, dst **store.FieldError) bool { return errors.As(err, dst) }
