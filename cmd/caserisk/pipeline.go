package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"caserisk/models/pipeline"
	"caserisk/serve/core"
	"caserisk/serve/retraining"
	"caserisk/serve/store"
)

func newPipelineCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Retrain: features, temporal cross-validation, evaluation, reports and registration in one run",
		Long: `The retraining pipeline reads a YAML config (caserisk pipeline example prints
a documented one), builds point-in-time features from the extracts merged with
the outcomes recorded in the case store, picks parameters by temporal
cross-validation, fits calibrated candidates, evaluates them and the current
champion on the temporal hold-out, writes a report per candidate and registers
the best candidate per target (every candidate with register: all) through the
application core, audited as model.register. It never promotes: a person does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newPipelineRunCmd(), newPipelineShowCmd(), newPipelineExampleCmd())
	return cmd
}

func newPipelineRunCmd() *cobra.Command {
	var config, dbURL string
	var quiet, allowBroken, force bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the pipeline (reusing finished steps of a run with the same inputs)",
		Long: `Run the pipeline of --config. The run id comes from the inputs (the config,
every input file's SHA-256, the outcomes and the code version): running the
same inputs again reuses each finished step, so an interrupted run resumes.
--db sets the registry the best candidates are registered in (overriding the
config's registry).

The extracts in the config's data directory are read first and counted per
file (rows read, rejected, lines lost) on standard error; a file that cannot
be read as a whole stops the run with exit code 1 unless --allow-broken-files.

With a registry, a run holds the registry's claim on its results directory
while it runs (renewed every 2 s): a second run on the same results is
refused with who holds it and until when; a run that died lets the claim
lapse within 10 s, and running again resumes at its finished steps. --force
takes over the claim of a run still alive (audited).`,
		Example: "  caserisk pipeline run --config pipeline.yaml --db sqlite://./caserisk.db",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "config"); err != nil {
				return err
			}
			b, err := os.ReadFile(config)
			if err != nil {
				return usagef("%s: --config: %v", cmd.CommandPath(), err)
			}
			c, err := pipeline.LoadConfig(config)
			if err != nil {
				return usagef("%s: %v", cmd.CommandPath(), err)
			}
			by := "pipeline"
			if u, err := user.Current(); err == nil && u.Username != "" {
				by = "pipeline:" + u.Username
			}
			if err := checkExtracts(cmd.Context(), cmd.ErrOrStderr(), c.Data, contractFiles(), allowBroken); err != nil {
				return fmt.Errorf("pipeline: %w", err)
			}
			regURL := c.Registry
			if cmd.Flags().Changed("db") {
				regURL = dbURL
			}
			ctx := cmd.Context()
			if regURL != "" {
				release, cctx, err := claimPipeline(ctx, regURL, c.Results, by, force)
				if err != nil {
					return fmt.Errorf("pipeline: %w", err)
				}
				defer release()
				ctx = cctx
			}
			var outURL string
			if c.Outcomes != nil {
				outURL = c.Outcomes.DB
			}
			var m *pipeline.Manifest
			err = withAdapters(ctx, by, []string{regURL, outURL}, map[string]*retraining.Adapter{}, func(ad map[string]*retraining.Adapter) error {
				o := pipeline.Options{Config: c, ConfigBytes: b, Version: version, Out: cmd.OutOrStdout(), AllowBrokenFiles: allowBroken}
				if regURL != "" {
					o.Registry = ad[regURL]
				}
				if outURL != "" {
					o.Outcomes = ad[outURL]
				}
				if f, ok := cmd.ErrOrStderr().(*os.File); ok && !quiet && isatty.IsTerminal(f.Fd()) {
					o.Progress = f
				}
				var err error
				m, err = pipeline.Run(ctx, o)
				return err
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\nshow it again with: caserisk pipeline show --results %s %s\n", c.Results, m.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "the pipeline config (YAML; required)")
	cmd.Flags().StringVar(&dbURL, "db", "", "registry database URL (default: the config's registry)")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no per-file progress from the feature builder")
	addAllowBrokenFlag(cmd.Flags(), &allowBroken)
	cmd.Flags().BoolVar(&force, "force", false, "take over the claim of a pipeline run on the same results that is still running (audited)")
	return cmd
}

func newPipelineShowCmd() *cobra.Command {
	var results, config string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show RUN",
		Short: "Print a run's manifest: inputs, candidates, hold-out metrics, champion comparison",
		Example: `  caserisk pipeline show --config pipeline.yaml 20250101-3f2a9c1d4e5b
  caserisk pipeline show pipeline-runs/runs/20250101-3f2a9c1d4e5b --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if config != "" {
				c, err := pipeline.LoadConfig(config)
				if err != nil {
					return usagef("%s: %v", cmd.CommandPath(), err)
				}
				results = c.Results
			}
			m, err := pipeline.ReadManifest(results, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(m); err != nil {
					return fmt.Errorf("pipeline show: %w", err)
				}
				return nil
			}
			return m.WriteSummary(cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&results, "results", "", "the results directory holding runs/RUN")
	cmd.Flags().StringVar(&config, "config", "", "take the results directory from this config")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the whole manifest as JSON")
	return cmd
}

func newPipelineExampleCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "example",
		Short: "Print a documented example config",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := cmd.OutOrStdout().Write(pipeline.Example())
			return err
		},
	}
}

// withAdapters opens the application core on each store URL (once per
// distinct URL; "" is skipped) and runs f with the retraining pipeline's
// adapter on each, acting as the operator by.
func withAdapters(ctx context.Context, by string, urls []string, got map[string]*retraining.Adapter, f func(map[string]*retraining.Adapter) error) error {
	if len(urls) == 0 {
		return f(got)
	}
	u := urls[0]
	if u == "" || got[u] != nil {
		return withAdapters(ctx, by, urls[1:], got, f)
	}
	return withCore(ctx, u, by, func(c *core.Core, a core.Actor) error {
		got[u] = retraining.New(c, a)
		return withAdapters(ctx, by, urls[1:], got, f)
	})
}

// claimPipeline takes the registry's claim on a results directory for a
// pipeline run: it returns the release and the context the run works
// under (cancelled if the claim is lost).
func claimPipeline(ctx context.Context, registry, results, by string, force bool) (func(), context.Context, error) {
	abs, err := filepath.Abs(results)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, registry)
	if err != nil {
		return nil, nil, err
	}
	c, err := core.New(core.Config{Store: st})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	cl, err := st.Claim(ctx, "pipeline/"+abs, c.ClaimOptions(ctx, core.Operator(by), "pipeline run", force))
	if err != nil {
		c.Close()
		st.Close()
		return nil, nil, err
	}
	return func() {
		cl.Release()
		c.Close()
		st.Close()
	}, cl.Context(), nil
}
