package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"caserisk/serve/core"
	"caserisk/serve/retraining"
	"caserisk/serve/store"
)

func newLabelsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "labels",
		Short: "Outcomes recorded in the case store, as training labels",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newLabelsExportCmd("export"))
	return cmd
}

// newLabelsExportCmd is caserisk labels export; caserisk models labels is
// the same command under its older name.
func newLabelsExportCmd(use string) *cobra.Command {
	var dbURL, target, out, by, data string
	cmd := &cobra.Command{
		Use:   use,
		Short: "Export closed cases' outcomes as labels in the data contract's shape",
		Long: `Write the outcomes of closed cases of a target for retraining. Outcomes that
say nothing about the target (not reachable, already known, insufficient
evidence) are left out. Labels come only from flagged cases, so they are
not a random sample.

tenancy_fraud: rows of the data contract's fraud_investigations.csv, one per
closed case (investigation_id CASE-<case id>, referral_date the as-of date of
the score run that flagged it, referral_source data_match, closed_date the day
it closed, outcome fraud_confirmed or no_fraud). Each tenancy's uprn comes from
--data's tenancies.csv; a case whose tenancy is not there is left out and
counted. A pipeline run (outcomes: {labels: FILE}) merges them with the
council's own investigations and reports duplicates and conflicts.

complex_case: the complex-case label is an escalation in the service
extracts, which a review outcome is not, so the outcomes are written in the
store's labels form: kind, entity_id, resident_id, as_of, label, outcome,
case_id, model_version, score, closed_at.

The export carries identifiers (no names, dates of birth or addresses) and is
recorded in the audit log.`,
		Example: `  caserisk labels export --db sqlite://./caserisk.db --target tenancy_fraud --data borough --out fraud-outcomes.csv
  caserisk labels export --db sqlite://./caserisk.db --target complex_case`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "target"); err != nil {
				return err
			}
			t, err := parseTargetFlag(cmd, target)
			if err != nil {
				return err
			}
			if t == store.TenancyFraud && data == "" {
				return usagef("%s: --target tenancy_fraud needs --data DIR (the extracts, for each tenancy's uprn)", cmd.CommandPath())
			}
			ctx := cmd.Context()
			return withCore(ctx, dbURL, by, func(c *core.Core, a core.Actor) error {
				// The export carries resident identifiers: the core audits it
				// (labels.export).
				var buf bytes.Buffer
				n, unplaced, err := retraining.ExportLabels(ctx, c, a, t, data, &buf)
				if err != nil {
					return err
				}
				if len(unplaced) > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: %d cases left out: their tenancy is not in %s/tenancies.csv (cases %v)\n", len(unplaced), data, unplaced)
				}
				if out == "" || out == "-" {
					_, err := cmd.OutOrStdout().Write(buf.Bytes())
					return err
				}
				if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
					return fmt.Errorf("labels export: %w", err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d %s outcomes to %s\n", n, t, out)
				return nil
			})
		},
	}
	addStoreFlag(cmd, &dbURL)
	cmd.Flags().StringVar(&target, "target", "", "complex_case or tenancy_fraud (required)")
	cmd.Flags().StringVar(&out, "out", "-", "the CSV file to write; - for standard output")
	cmd.Flags().StringVar(&data, "data", "", "the extracts' directory (tenancies.csv gives each tenancy's uprn; needed for tenancy_fraud)")
	addByFlag(cmd, &by, "exports the labels")
	return cmd
}
