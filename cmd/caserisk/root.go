package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"caserisk/features/contract"
)

// usageError marks a mistake in how the command was called (exit code 2),
// as opposed to a failure while doing the work (exit code 1).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "caserisk",
		Short: "Predictive case-risk analytics for a council's joined resident data",
		Long: `caserisk turns a council's joined resident data (the Residents Index) into
preventative action: point-in-time features, gradient-boosted and logistic
models, and a scoring service whose every score comes with its reasons.

Scores support a person's decision; they never act alone.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Unknown subcommands are usage errors.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for caserisk", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		if w := where(cmd); w != "" {
			err = fmt.Errorf("%s: %w", w, err)
		}
		return &usageError{err}
	})
	// caserisk completion bash|zsh|fish|powershell prints a completion
	// script (cobra's); flags that take files complete to their extensions.
	root.CompletionOptions.HiddenDefaultCmd = false
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error { return checkOutput(cmd) }

	// One line per subcommand; each lives in its own file.
	root.AddCommand(
		newContractCmd(),
		newModelsCmd(),
		newUsersCmd(),
		newAuditCmd(),
		newGenerateCmd(),
		newLinkCmd(),
		newFeaturesCmd(),
		newValidateCmd(),
		newTrainCmd(),
		newScoreCmd(),
		newEvaluateCmd(),
		newBaselineCmd(),
		newServeCmd(),
		newScoreRunCmd(),
		newImportCmd(),
		newReportCmd(),
		newDriftCmd(),
		newDemoCmd(),
		newPipelineCmd(),
		newLabelsCmd(),
		newInspectCmd(),
	)
	for _, c := range root.Commands() {
		wrapArgs(c)
	}
	markOutputs(root)
	return root
}

// where names a command in an error message by its path below caserisk
// ("features", "models register"): main prints "caserisk: " once before it.
func where(cmd *cobra.Command) string {
	return strings.TrimPrefix(strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()), " ")
}

// wrapArgs makes argument-count errors usage errors (exit code 2) for a
// command and its children. Commands check their required flags with
// requireFlags, which also returns a usage error.
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		inner := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := inner(cmd, args); err != nil {
				return &usageError{fmt.Errorf("%s: %w", where(cmd), err)}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// requireFlags returns a usage error naming the flags that were not set.
func requireFlags(cmd *cobra.Command, names ...string) error {
	var missing []string
	for _, n := range names {
		if !cmd.Flags().Changed(n) {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) > 0 {
		return usagef("%s: missing required flag(s): %s", where(cmd), strings.Join(missing, ", "))
	}
	return nil
}

// addAllowBrokenFlag adds --allow-broken-files, shared by the commands that
// read extracts.
func addAllowBrokenFlag(f *pflag.FlagSet, v *bool) {
	f.BoolVar(v, "allow-broken-files", false,
		"go on when an extract cannot be read as a whole (bad header, broken quoting); its lost lines are counted")
}

// checkExtracts reads every one of files in dir, prints the per-file
// summary (rows read, rejected, lines lost) to w, and fails on a file that
// cannot be read as a whole unless allow.
func checkExtracts(ctx context.Context, w io.Writer, dir string, files []*contract.File, allow bool) error {
	scans, err := contract.Scan(ctx, dir, files, runtime.GOMAXPROCS(0))
	if err != nil {
		return fmt.Errorf("read the extracts in %s: %w", dir, err)
	}
	counts := make([]contract.FileCount, len(scans))
	for i, s := range scans {
		counts[i] = s.FileCount
	}
	fmt.Fprintf(w, "extracts in %s:\n", dir)
	contract.WriteSummary(w, counts)
	if err := contract.Check(counts, allow); err != nil {
		return fmt.Errorf("the extracts in %s: %w", dir, err)
	}
	return nil
}

// contractFiles returns the joined data's files, in contract order.
func contractFiles() []*contract.File {
	c := contract.Default()
	out := make([]*contract.File, len(c.Files))
	for i := range c.Files {
		out[i] = &c.Files[i]
	}
	return out
}
