package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"caserisk/serve/core"
	"caserisk/serve/store"
)

// defaultStoreURL is the --db default of the store commands: $CASERISK_DB
// when set, else a SQLite file in the working directory.
func defaultStoreURL() string {
	if v := os.Getenv("CASERISK_DB"); v != "" {
		return v
	}
	return store.DefaultURL
}

// addStoreFlag adds the --db flag.
func addStoreFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVar(dst, "db", defaultStoreURL(),
		"database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB (default $CASERISK_DB, else "+store.DefaultURL+")")
}

// addByFlag adds the --by flag naming who acts, by default the OS account.
func addByFlag(cmd *cobra.Command, dst *string, what string) {
	name := "cli"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = "cli:" + u.Username
	}
	cmd.Flags().StringVar(dst, "by", name, "who "+what+", for the registry and the audit log")
}

// parseTargetFlag turns --target into a store.Target, a usage error when unknown.
func parseTargetFlag(cmd *cobra.Command, s string) (store.Target, error) {
	t, err := store.ParseTarget(s)
	if err != nil {
		return "", usagef("%s: --target: %v", cmd.CommandPath(), err)
	}
	return t, nil
}

// withStore opens the store, runs f, and closes it.
func withStore(ctx context.Context, url string, f func(store.Store) error) error {
	s, err := store.Open(ctx, url)
	if err != nil {
		return err
	}
	defer s.Close()
	return f(s)
}

// withCore opens the store and the application core, runs f as the
// operator named by, and closes both (writing the audit rows still queued).
// Commands act through the core, so the CLI applies the rules and the audit
// vocabulary the API and the pages do.
func withCore(ctx context.Context, url, by string, f func(*core.Core, core.Actor) error) error {
	return withStore(ctx, url, func(s store.Store) error {
		c, err := core.New(core.Config{Store: s})
		if err != nil {
			return err
		}
		ferr := f(c, core.Operator(by))
		return errors.Join(ferr, c.Close())
	})
}

// cliError turns a core error the user caused into a usage error (exit 2).
func cliError(cmd *cobra.Command, err error) error {
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, core.ErrArtifact) {
		return usagef("%s: %v", cmd.CommandPath(), err)
	}
	return err
}

func newModelsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "Register, promote and list models in the scoring service's registry",
		Long: `The model registry holds every model version per target (complex_case,
tenancy_fraud) with its artifact, metrics and band thresholds. A target has
at most one champion, the model that scores; promoting a version retires the
previous champion in the same transaction, and the service picks the new
champion up without a restart.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newModelsRegisterCmd(), newModelsPromoteCmd(), newModelsListCmd(), newModelsLabelsCmd())
	return cmd
}

func newModelsRegisterCmd() *cobra.Command {
	var dbURL, target, by, reportDir string
	var bands store.Bands
	cmd := &cobra.Command{
		Use:   "register MODEL.json",
		Short: "Add a trained model file to the registry as a candidate",
		Long: `Register a model file (from caserisk train) as the next candidate version of
its target. The file is checked (format, checksum, structure, target) and
stored in the database whole, so the service needs no file at run time.

Live scores are banded by calibrated probability: score ≥ --band-high is
"high", ≥ --band-medium is "medium", else "low". Without the flags the
thresholds are relative to the model's training label rate r (the average
risk): high from 4r (at most 0.9), medium from 2r (at most 0.6). Batch
score runs band by rank within capacity instead.`,
		Example: "  caserisk models register --db sqlite://./caserisk.db --target complex_case models/complex_case.json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "target"); err != nil {
				return err
			}
			t, err := parseTargetFlag(cmd, target)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("band-high") && !cmd.Flags().Changed("band-medium") {
				bands = store.Bands{} // derive from the model's label rate
			} else if !cmd.Flags().Changed("band-high") || !cmd.Flags().Changed("band-medium") {
				return usagef("%s: give both --band-high and --band-medium, or neither", cmd.CommandPath())
			}
			nm, err := store.ModelFromFile(args[0], t, bands, by)
			if errors.Is(err, store.ErrInvalid) {
				return usagef("%s: %v", cmd.CommandPath(), err)
			}
			if err != nil {
				return err
			}
			if reportDir != "" {
				fj, err := os.ReadFile(filepath.Join(reportDir, "fairness.json"))
				if err != nil {
					return fmt.Errorf("%s: --report: %w", cmd.CommandPath(), err)
				}
				if nm, err = store.AttachFairness(nm, fj); err != nil {
					return fmt.Errorf("%s: --report %s: %w", cmd.CommandPath(), reportDir, err)
				}
			}
			return withCore(cmd.Context(), dbURL, by, func(c *core.Core, a core.Actor) error {
				m, created, err := c.Register(cmd.Context(), a, nm)
				if err != nil {
					return cliError(cmd, err)
				}
				if !created {
					fmt.Fprintf(cmd.OutOrStdout(), "already registered: %s v%d has the same bytes (sha256 %.12s…); nothing added\n", m.Target, m.Version, m.SHA256)
					return nil
				}
				fmt.Fprintf(cmd.OutOrStdout(), "registered %s v%d (sha256 %.12s…) as a candidate\n", m.Target, m.Version, m.SHA256)
				return nil
			})
		},
	}
	addStoreFlag(cmd, &dbURL)
	addByFlag(cmd, &by, "registers the model")
	cmd.Flags().StringVar(&target, "target", "", "what the model predicts: complex_case or tenancy_fraud (required)")
	cmd.Flags().StringVar(&reportDir, "report", "", "the model's report folder (caserisk report --out): its fairness audit is registered with it")
	cmd.Flags().Float64Var(&bands.High, "band-high", 0, "calibrated probability at and above which a live score is banded high (default 4× the training label rate, at most 0.9)")
	cmd.Flags().Float64Var(&bands.Medium, "band-medium", 0, "calibrated probability at and above which a live score is banded medium (default 2× the training label rate, at most 0.6)")
	return cmd
}

func newModelsPromoteCmd() *cobra.Command {
	var dbURL, target, by string
	var version int
	cmd := &cobra.Command{
		Use:     "promote",
		Short:   "Make a model version its target's champion, retiring the previous one",
		Example: "  caserisk models promote --db sqlite://./caserisk.db --target complex_case --version 2 --by j.smith",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "target", "version"); err != nil {
				return err
			}
			t, err := parseTargetFlag(cmd, target)
			if err != nil {
				return err
			}
			if version <= 0 {
				return usagef("%s: --version must be a positive model version, got %d", cmd.CommandPath(), version)
			}
			return withCore(cmd.Context(), dbURL, by, func(c *core.Core, a core.Actor) error {
				m, err := c.Promote(cmd.Context(), a, t, version)
				if err != nil {
					return cliError(cmd, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s v%d is the champion (promoted by %s)\n", m.Target, m.Version, m.PromotedBy)
				return nil
			})
		},
	}
	addStoreFlag(cmd, &dbURL)
	addByFlag(cmd, &by, "promotes the model")
	cmd.Flags().StringVar(&target, "target", "", "complex_case or tenancy_fraud (required)")
	cmd.Flags().IntVar(&version, "version", 0, "the model version to promote (required)")
	return cmd
}

func newModelsListCmd() *cobra.Command {
	var dbURL, target string
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the registered models",
		Example: "  caserisk models list --db sqlite://./caserisk.db",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var t store.Target
			if target != "" {
				var err error
				if t, err = parseTargetFlag(cmd, target); err != nil {
					return err
				}
			}
			return withStore(cmd.Context(), dbURL, func(s store.Store) error {
				ms, err := s.Models(cmd.Context(), t)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "TARGET\tVERSION\tSTAGE\tSHA256\tBANDS (HIGH/MEDIUM)\tREGISTERED\tBY\tPROMOTED\tBY")
				for _, m := range ms {
					promoted := "-"
					if !m.PromotedAt.IsZero() {
						promoted = m.PromotedAt.Format(time.RFC3339)
					}
					fmt.Fprintf(w, "%s\t%d\t%s\t%.12s\t%.3g/%.3g\t%s\t%s\t%s\t%s\n", m.Target, m.Version, m.Stage, m.SHA256,
						m.Bands.High, m.Bands.Medium, m.RegisteredAt.Format(time.RFC3339), m.RegisteredBy, promoted, orDash(m.PromotedBy))
				}
				return w.Flush()
			})
		},
	}
	addStoreFlag(cmd, &dbURL)
	cmd.Flags().StringVar(&target, "target", "", "list only this target's models")
	return cmd
}

// newModelsLabelsCmd is the older name of caserisk labels export (one
// implementation, in labels.go).
func newModelsLabelsCmd() *cobra.Command {
	cmd := newLabelsExportCmd("labels")
	cmd.Short += " (the same as caserisk labels export)"
	return cmd
}

// orDash returns s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
