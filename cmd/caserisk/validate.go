package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"caserisk/features/contract"
)

func newValidateCmd() *cobra.Command {
	var (
		dir    string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a directory of joined resident data against the data contract",
		Long: `Read every file of the data contract in --data and report, per file, the rows
read, rejected and lines lost, with the first errors (file, line, column,
value, reason).
Exits 1 when a required file is missing or any row breaks the contract.`,
		Example: "  caserisk validate --data data/borough",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "data"); err != nil {
				return err
			}
			rep, err := contract.ValidateDir(cmd.Context(), dir, contract.Default())
			if err != nil {
				return fmt.Errorf("validate %s: %w", dir, err)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(w, "data contract %s: %s\n", rep.ContractVersion, dir)
				for _, f := range rep.Files {
					if !f.Present {
						req := ""
						if contract.RequiredFile(f.File) {
							req = " (required)"
						}
						fmt.Fprintf(w, "  %-28s absent%s\n", f.File, req)
						continue
					}
					fmt.Fprintf(w, "  %-28s %9d rows  %6d rejected  %6d lines lost\n", f.File, f.Rows, f.Rejected, f.Lost)
					if f.Fault != "" {
						fmt.Fprintf(w, "    BROKEN: %s\n", f.Fault)
					}
					for _, e := range f.Errors {
						fmt.Fprintf(w, "    %s\n", e.Error())
					}
					if f.Rejected > len(f.Errors) {
						fmt.Fprintf(w, "    ... and %d more\n", f.Rejected-len(f.Errors))
					}
				}
			}
			if !rep.OK() {
				return fmt.Errorf("validate %s: the data breaks the contract (see above)", dir)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "data", "", "directory of contract CSV files (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
