package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"caserisk/serve/audit"
	"caserisk/serve/core"
)

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check the scoring service's tamper-evident audit log",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newAuditVerifyCmd())
	return cmd
}

func newAuditVerifyCmd() *cobra.Command {
	var dbURL, by string
	var heads []string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Walk the audit log's hash chain; exit 1 naming the first bad row",
		Long: `Walk the audit log from its first row and check that ids have no gap, that
each row's prev_hash is the hash of the row before and that each row's hash
matches its content. Exit 0 and print the number of rows and the chain's
head hash when it holds; exit 1 naming the first row that does not.

Keep the printed head hash somewhere else (a ticket, a signed e-mail): the
chain alone cannot show rows cut off its end, but --head HASH makes verify
fail when the row with that hash is no longer in the log.`,
		Example: "  caserisk audit verify --db sqlite://./caserisk.db --head 5d4e0a48a739…(the full hash)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCore(cmd.Context(), dbURL, by, func(c *core.Core, a core.Actor) error {
				var opts []audit.VerifyOption
				for _, h := range heads {
					opts = append(opts, audit.ExpectHead(h))
				}
				sum, err := c.VerifyAudit(cmd.Context(), a, opts...)
				var be *audit.BrokenError
				if errors.As(err, &be) {
					return fmt.Errorf("audit log is NOT intact: first bad row %d: %s (%d rows before it verified)", be.ID, be.Reason, sum.Rows)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "audit log intact: %d rows, head %s\n", sum.Rows, sum.LastHash)
				return nil
			})
		},
	}
	addStoreFlag(cmd, &dbURL)
	addByFlag(cmd, &by, "verifies the log")
	cmd.Flags().StringArrayVar(&heads, "head", nil, "a head hash printed by an earlier verify that must still be in the log (repeatable)")
	return cmd
}
