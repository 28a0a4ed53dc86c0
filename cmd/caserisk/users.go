package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/core"
)

func newUsersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Add, list and disable the scoring service's users",
		Long: `Users of the scoring service and their roles: caseworker (complex-case scores
and cases), fraud_officer (tenancy-fraud scores and cases), data_scientist
(models and metrics, no named resident), data_steward (the record-linkage
clerical review queue, with the two records' details, and nothing else),
admin (models, users, audit log).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newUsersAddCmd(), newUsersListCmd(), newUsersDisableCmd(), newUsersPolicyCmd())
	return cmd
}

func newUsersAddCmd() *cobra.Command {
	var dbURL, name, role, by string
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Add a user and print their bearer token once",
		Long: `Add a user with a role and print a new bearer token on standard output. The
token is shown only this once: the database keeps its SHA-256 and an
identifying prefix, never the token.`,
		Example: "  caserisk users add --db sqlite://./caserisk.db --name j.smith --role caseworker",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "name", "role"); err != nil {
				return err
			}
			r, err := auth.ParseRole(role)
			if err != nil {
				return usagef("%s: --role: %v", cmd.CommandPath(), err)
			}
			return withCore(cmd.Context(), dbURL, by, func(c *core.Core, a core.Actor) error {
				u, secret, err := c.AddUser(cmd.Context(), a, name, r)
				if err != nil {
					return cliError(cmd, err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "added user %d (%s, %s); the token below is shown once, keep it safe:\n", u.ID, u.Name, u.Role)
				fmt.Fprintln(cmd.OutOrStdout(), secret)
				return nil
			})
		},
	}
	addStoreFlag(cmd, &dbURL)
	addByFlag(cmd, &by, "adds the user")
	cmd.Flags().StringVar(&name, "name", "", "the user's account name (required)")
	cmd.Flags().StringVar(&role, "role", "", "caseworker, fraud_officer, data_scientist, data_steward or admin (required)")
	return cmd
}

func newUsersListCmd() *cobra.Command {
	var dbURL string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List users and their roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCore(cmd.Context(), dbURL, "", func(c *core.Core, a core.Actor) error {
				us, err := c.Users(cmd.Context(), a)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tNAME\tROLE\tCREATED\tSTATE")
				for _, u := range us {
					state := "active"
					if u.Disabled {
						state = "disabled"
					}
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", u.ID, u.Name, u.Role, u.Created.Format(time.RFC3339), state)
				}
				return w.Flush()
			})
		},
	}
	addStoreFlag(cmd, &dbURL)
	return cmd
}

func newUsersDisableCmd() *cobra.Command {
	var dbURL, name, by string
	var enable bool
	cmd := &cobra.Command{
		Use:     "disable",
		Short:   "Disable a user (their tokens stop working at once), or --enable them again",
		Example: "  caserisk users disable --db sqlite://./caserisk.db --name j.smith",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "name"); err != nil {
				return err
			}
			return withCore(cmd.Context(), dbURL, by, func(c *core.Core, a core.Actor) error {
				u, err := c.UserByName(cmd.Context(), a, name)
				if err != nil {
					return err
				}
				if err := c.SetDisabled(cmd.Context(), a, u.ID, !enable); err != nil {
					return cliError(cmd, err)
				}
				action := audit.UserDisable
				if enable {
					action = audit.UserEnable
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: user %d (%s)\n", action, u.ID, u.Name)
				return nil
			})
		},
	}
	addStoreFlag(cmd, &dbURL)
	addByFlag(cmd, &by, "disables the user")
	cmd.Flags().StringVar(&name, "name", "", "the user's account name (required)")
	cmd.Flags().BoolVar(&enable, "enable", false, "re-enable the user instead")
	return cmd
}

func newUsersPolicyCmd() *cobra.Command {
	var check string
	var markdown bool
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Print the default purpose rules (which role may see what) as YAML, or --check a policy file",
		Long: `Print the purpose rules the service applies by default: for each role, its
purpose (written to the audit log with every access), its permissions, the
services whose events it sees on a resident's single view and the resident
details it sees (name, date of birth, sex, address, date of death). What is
not listed is not shown. Save and edit the output to change the rules and
serve it with 'caserisk serve --policy FILE'; --check FILE reports the first
mistake in such a file with its line and column; --markdown prints the
README's table.`,
		Example: "  caserisk users policy > policy.yaml\n  caserisk users policy --check policy.yaml\n  caserisk serve --policy policy.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if check == "" && markdown {
				return auth.DefaultPolicy().WriteMarkdown(cmd.OutOrStdout())
			}
			if check == "" {
				return auth.DefaultPolicy().WriteYAML(cmd.OutOrStdout())
			}
			f, err := os.Open(check)
			if err != nil {
				return err
			}
			defer f.Close()
			p, err := auth.ParsePolicy(f)
			if err != nil {
				return fmt.Errorf("%s: %w", check, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d roles, valid\n", check, len(p))
			return nil
		},
	}
	cmd.Flags().StringVar(&check, "check", "", "a policy file to check instead of printing the default")
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print the default as the README's Markdown table")
	return cmd
}

// readPolicy reads a policy file (auth.ParsePolicy), or returns the default
// for "".
func readPolicy(path string) (auth.Policy, error) {
	if path == "" {
		return auth.DefaultPolicy(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := auth.ParsePolicy(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
