package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"caserisk/features/contract"
)

func newContractCmd() *cobra.Command {
	var markdown bool
	cmd := &cobra.Command{
		Use:   "contract",
		Short: "Print the data contract for the joined resident data",
		Long: `Print the data contract: every file of the joined resident data, its columns,
types, units, allowed codes, required columns and time semantics.`,
		Example: "  caserisk contract --markdown > CONTRACT.md",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c := contract.Default()
			if markdown {
				return c.WriteMarkdown(cmd.OutOrStdout())
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "data contract %s\n", c.Version)
			for _, f := range c.Files {
				fmt.Fprintf(w, "  %-30s %-8s %2d columns  date %s\n", f.Name, f.Kind, len(f.Columns), f.EventDate)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print the full reference as Markdown")
	cmd.SetErr(os.Stderr)
	return cmd
}
