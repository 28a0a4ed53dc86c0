package main

import (
	"fmt"

	"os"
	"runtime/debug"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"caserisk/features/build"
	"caserisk/features/contract"
	"caserisk/features/spec"
)

// memoryLimit is the default soft memory limit of a features build: a
// million-resident borough fits well within it on a 2-core, 6 GB machine.
const memoryLimit = 4 << 30

// gcPercent is the default GOGC of a features build.
const gcPercent = 400

func newFeaturesCmd() *cobra.Command {
	var (
		dir, asOf, entity, out, specPath, extract string
		strict, listSignals, allowBroken          bool
	)
	cmd := &cobra.Command{
		Use:   "features",
		Short: "Build point-in-time features (and labels) for residents or tenancies",
		Long: `Build one row per entity per as-of date from the joined resident data in
--data: residents living in the borough on the date (--entity resident), or
council tenancies running on it (--entity tenancy). Only what was known on
the as-of date feeds the features. Labels are filled where the data reaches
12 months past the as-of date and empty otherwise.

Writes --out (.csv or .parquet; any other extension is refused) with
the same values in both formats: feature values are rounded once as they are
computed (4 decimals, 2 for GBP), the CSV writes each in the shortest form
that reads back as the same float64, and the Parquet holds the same DOUBLEs
in the CSV's column order, with as_of a DATE. Beside it: OUT.meta.json (the
features' descriptions, units and explanation templates, the label and audit
columns, and per-file input counts) and OUT.rejects.csv (every row not used:
file, line, column, value, reason), and prints per file the rows read,
rejected and lines lost. --strict stops at the first row that breaks the
contract instead, with exit code 1.

A file that cannot be read as a whole (a duplicate or missing required
header column, or a quote left open that runs over the lines after it)
fails the command with exit code 1, naming the file, line and reason;
--allow-broken-files goes on without its lost lines (counted in the
summary and the meta file).`,
		Example: `  caserisk features --data data/borough --as-of 2023-01-01,2023-07-01 --entity resident --out train.csv
  caserisk features --data data/borough --as-of 2024-01-01 --entity tenancy --out fraud.parquet
  caserisk features --list-signals`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if listSignals {
				for _, e := range []string{spec.Resident, spec.Tenancy} {
					fmt.Fprintf(cmd.OutOrStdout(), "%s signals:\n", e)
					for _, m := range build.Signals(e) {
						fmt.Fprintf(cmd.OutOrStdout(), "  %-40s %-6s %s\n", m.Name, m.Unit, m.Description)
					}
				}
				return nil
			}
			if err := requireFlags(cmd, "data", "as-of", "out"); err != nil {
				return err
			}
			opts := build.Options{Dir: dir, Entity: entity, Strict: strict, AllowBrokenFiles: allowBroken}
			if entity != spec.Resident && entity != spec.Tenancy {
				return usagef("features: --entity %q: want resident or tenancy", entity)
			}
			for _, s := range strings.Split(asOf, ",") {
				d, err := contract.ParseDay(strings.TrimSpace(s))
				if err != nil {
					return usagef("features: --as-of: %v", err)
				}
				opts.AsOf = append(opts.AsOf, d)
			}
			if extract != "" {
				d, err := contract.ParseDay(extract)
				if err != nil {
					return usagef("features: --extract-date: %v", err)
				}
				opts.ExtractDate = d
			}
			c := contract.Default()
			if specPath != "" {
				sp, err := spec.Load(specPath, c)
				if err != nil {
					return err
				}
				opts.Spec = sp
			}
			stderr := cmd.ErrOrStderr()
			if f, ok := stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
				opts.Progress = stderr
			}
			// The build allocates much short-lived garbage (one string per
			// CSV row) beside a large live heap: collect less often, under a
			// soft memory limit. GOGC and GOMEMLIMIT override these.
			if os.Getenv("GOMEMLIMIT") == "" {
				debug.SetMemoryLimit(memoryLimit)
			}
			if os.Getenv("GOGC") == "" {
				debug.SetGCPercent(gcPercent)
			}
			t, err := build.Build(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if err := t.WriteFiles(out); err != nil {
				return err
			}
			t.Summary(stderr)
			fmt.Fprintf(stderr, "wrote %s, %s.meta.json, %s.rejects.csv (%d rows not used)\n", out, out, out, len(t.Rejects))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "data", "", "directory of contract CSV files (required)")
	f.StringVar(&asOf, "as-of", "", "as-of date(s), YYYY-MM-DD, comma-separated (required)")
	f.StringVar(&entity, "entity", spec.Resident, "resident or tenancy")
	f.StringVar(&out, "out", "", "output table: .csv or .parquet (required)")
	_ = cmd.MarkFlagDirname("data")
	f.StringVar(&specPath, "spec", "", "feature spec YAML (default: the spec built into caserisk)")
	f.StringVar(&extract, "extract-date", "", "last day the data covers (default: derived from the files)")
	f.BoolVar(&strict, "strict", false, "stop at the first row that breaks the contract")
	addAllowBrokenFlag(f, &allowBroken)
	f.BoolVar(&listSignals, "list-signals", false, "list the named cross-service signals a spec may use, and exit")
	cmd.SetErr(os.Stderr)

	return cmd
}
