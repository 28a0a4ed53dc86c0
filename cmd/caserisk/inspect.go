package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"caserisk/models/dataset"
	"caserisk/models/frame"
)

func newInspectCmd() *cobra.Command {
	var data, label string
	var rows int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect",
		Short: "Summarise each column of a feature table (CSV or Parquet)",
		Long: `Read --data as score and train read it (CSV, or Parquet by extension, with
its FILE.meta.json when present) and print one line per column: for keys
(ids, dates, audit columns) the missing and distinct values and the first
and last in text order; for features and the label the unit, the missing
values, and the mean, standard deviation, minimum, quartiles and maximum of
the values present, from gota's DataFrame.Describe.

The label is --label, or the one the metadata file names. Statistics are
over at most --rows evenly spaced rows (0: all rows): gota sorts each
column once per order statistic, about 15 s for 80,000 rows of an
84-column table on a loaded 2-core machine.`,
		Example: `  caserisk inspect --data features.parquet
  caserisk inspect --data features.csv --rows 0 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "data"); err != nil {
				return err
			}
			if rows < 0 {
				return usagef("%s: --rows %d: want a number of rows ≥ 0 (0 = all)", where(cmd), rows)
			}
			ctx := cmd.Context()
			st := startStatus(cmd)
			defer st.Stop()
			if label == "" {
				meta, err := dataset.ReadMeta(data)
				if err != nil {
					return err
				}
				if meta != nil && len(meta.Labels) == 1 {
					label = meta.Labels[0]
				}
			}
			st.Step("reading "+data, 0)
			tab, err := dataset.Read(ctx, data, dataset.Options{Label: label})
			if err != nil {
				return err
			}
			st.Step("describing the columns", 0)
			sum, err := frame.Describe(ctx, tab, rows)
			if err != nil {
				return err
			}
			st.Stop()
			if asJSON {
				return writeSummaryJSON(cmd.OutOrStdout(), sum)
			}
			return printSummary(cmd.OutOrStdout(), sum)
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "feature table: CSV, or Parquet by extension (required)")
	_ = cmd.MarkFlagFilename("data", "csv", "parquet")
	f.StringVar(&label, "label", "", "label column (default: the one FILE.meta.json names)")
	f.IntVar(&rows, "rows", 50000, "summarise at most this many evenly spaced rows (0 = all)")
	f.BoolVar(&asJSON, "json", false, "print the summary as JSON (NaN as null)")
	return cmd
}

// printSummary writes the summary as two tables: keys, then numbers.
func printSummary(w io.Writer, s *frame.Summary) error {
	fmt.Fprintf(w, "%s: %d rows", s.Source, s.Rows)
	if s.Described < s.Rows {
		fmt.Fprintf(w, "; statistics over %d evenly spaced rows (--rows 0 for all)", s.Described)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	missing := func(c frame.Column) string {
		if s.Described == 0 {
			return "0"
		}
		return fmt.Sprintf("%d (%.1f%%)", c.Missing, 100*float64(c.Missing)/float64(s.Described))
	}
	fmt.Fprintln(tw, "\nKEY\tROLE\tMISSING\tDISTINCT\tFIRST\tLAST")
	for _, c := range s.Columns {
		if c.Role == frame.RoleKey || c.Role == frame.RoleAudit {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", c.Name, c.Role, missing(c), c.Distinct, c.First, c.Last)
		}
	}
	fmt.Fprintln(tw, "\nCOLUMN\tROLE\tUNIT\tMISSING\tMEAN\tSTDDEV\tMIN\t25%\tMEDIAN\t75%\tMAX")
	for _, c := range s.Columns {
		if c.Role != frame.RoleFeature && c.Role != frame.RoleLabel {
			continue
		}
		unit := c.Unit
		if unit == "" {
			unit = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s", c.Name, c.Role, unit, missing(c))
		for _, v := range []float64{c.Mean, c.StdDev, c.Min, c.P25, c.Median, c.P75, c.Max} {
			fmt.Fprintf(tw, "\t%s", num(v))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Ignored) > 0 {
		fmt.Fprintf(w, "\nnot read: %s (other labels; name one with --label)\n", strings.Join(s.Ignored, ", "))
	}
	return nil
}

// num formats a statistic in at most 6 significant digits, "-" for NaN.
func num(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.6g", v)
}

// writeSummaryJSON writes the summary with NaN statistics as null.
func writeSummaryJSON(w io.Writer, s *frame.Summary) error {
	type stats struct {
		frame.Column
		Mean   *float64 `json:"mean"`
		StdDev *float64 `json:"stddev"`
		Min    *float64 `json:"min"`
		P25    *float64 `json:"p25"`
		Median *float64 `json:"median"`
		P75    *float64 `json:"p75"`
		Max    *float64 `json:"max"`
	}
	finite := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	cols := make([]stats, len(s.Columns))
	for i, c := range s.Columns {
		cols[i] = stats{c, finite(c.Mean), finite(c.StdDev), finite(c.Min), finite(c.P25), finite(c.Median), finite(c.P75), finite(c.Max)}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*frame.Summary
		Columns []stats `json:"columns"`
	}{s, cols})
}
