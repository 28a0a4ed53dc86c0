package main

import (
	"github.com/spf13/cobra"

	"caserisk/features/contract"
	"caserisk/serve/demo"
)

func newDemoCmd() *cobra.Command {
	o := demo.Defaults()
	var asOf, logLevel string
	var noServe bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the main job end to end on a synthetic borough, then serve it",
		Long: `Run caserisk's main job on the embedded default and serve the result:

  1. generate a synthetic borough (--residents, default 20,000, at least
     4,000; 240,000 is a Camden-sized borough)
  2. link its raw extracts into a Residents Index and measure the linkage
     against the generator's true links
  3. retrain with the retraining pipeline (caserisk pipeline) and an embedded
     config written to DIR/pipeline.yaml: point-in-time features for residents
     and council tenancies at four as-of dates six months apart and a hold-out
     at --as-of; gradient-boosted and logistic parameters for both predictions
     (complex case, tenancy fraud) chosen by temporal cross-validation;
     calibrated candidates evaluated on the hold-out with their reports (HTML,
     fairness audit, model card, ATRS record); every candidate registered in
     SQLite (DIR/caserisk.db); the run id, its manifest and the
     cross-validation and hold-out figures printed
  4. promote the better candidate of each pair by hold-out average precision
  5. score every resident and tenancy as of --as-of and open the review and
     fraud queues (the top --capacity of each)
  6. load the linkage's clerical review queue for the data steward
  7. create one user per role and print their tokens
  8. serve the API and the web pages on --addr until Ctrl-C

Everything lands in --dir; a second run reuses every step whose inputs have
not changed (the pipeline run included: same inputs, same run id). The data
is synthetic: no real person is in it.`,
		Example: "  caserisk demo\n  caserisk demo --residents 240000 --dir demo-full",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := contract.ParseDay(asOf)
			if err != nil {
				return usagef("demo: --as-of: %v", err)
			}
			if o.Residents < demo.MinResidents {
				return usagef("demo: --residents %d: the demo needs at least %d residents (below that the tenancy-fraud hold-out holds too few closed investigations to evaluate a model on)",
					o.Residents, demo.MinResidents)
			}
			if o.Capacity <= 0 {
				return usagef("demo: --capacity must be positive")
			}
			log, err := newLogger("text", logLevel)
			if err != nil {
				return usagef("demo: %v", err)
			}
			o.AsOf, o.Serve, o.Version, o.Logger, o.Out = d, !noServe, version, log, cmd.OutOrStdout()
			res, err := demo.Run(cmd.Context(), o)
			if err != nil {
				if cmd.Context().Err() != nil {
					cmd.Println("demo: stopped")
					return nil
				}
				return err
			}
			if noServe {
				return res.WriteSummary(cmd.OutOrStdout())
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", o.Dir, "folder for everything the demo makes")
	f.IntVar(&o.Residents, "residents", o.Residents, "residents in the synthetic borough (240000 for a Camden-sized one)")
	f.Uint64Var(&o.Seed, "seed", o.Seed, "seed of the synthetic borough and the models")
	f.StringVar(&asOf, "as-of", o.AsOf.String(), "the demo's today: the score run's date (the data runs a year past it)")
	f.IntVar(&o.Capacity, "capacity", o.Capacity, "cases each queue opens")
	f.StringVar(&o.Addr, "addr", o.Addr, "HOST:PORT the service listens on")
	f.BoolVar(&noServe, "no-serve", false, "stop after setting up, print a JSON summary")
	f.StringVar(&logLevel, "log-level", "warn", "service log level: debug, info, warn or error")
	return cmd
}
