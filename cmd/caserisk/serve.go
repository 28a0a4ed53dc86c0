package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"caserisk/serve/api"
	"caserisk/serve/api/champion"
	"caserisk/serve/batch"
	"caserisk/serve/core"
	"caserisk/serve/store"
	"caserisk/serve/web"
)

func newServeCmd() *cobra.Command {
	var (
		dbURL, addr, modelsDir, dataDir, logFormat, logLevel, by, policyPath string
		bands                                                                store.Bands
		capacity, maxRows, maxReasons                                        int
		pages                                                                bool
		maxBody                                                              int64
		authCache, refresh, grace, drain                                     time.Duration
		oidcf                                                                *oidcFlags
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the scoring API (Gin) over the store",
		Long: `serve runs the scoring service: the JSON API under /api/v1 (OpenAPI
document at /api/v1/openapi.json), /healthz, /readyz and /metrics.

The database (--db) is the source of truth: the registry says which model
is each target's champion, and the service loads it from the stored
artifact. Migrations are applied at start. A promotion through the API
swaps the champion at once; one made with 'caserisk models promote' is
picked up within --refresh. Neither needs a restart or fails a request.

Any number of 'caserisk serve' replicas may run on one PostgreSQL database
behind a load balancer, with no sticky sessions: web sessions, sign-ins
and their rate limits are kept in the database, and each replica LISTENs
for the others' changes, so a promotion or a disabled user is seen by
every replica within a second (on SQLite, within --refresh and
--auth-cache). Score runs and the single-view load are claimed in the
database, so one runs at a time across replicas. README.md, "Running
replicas", has the HAProxy configuration.

--models DIR imports model artifacts at start: every DIR/*.json that the
registry does not hold yet is registered as a candidate for the target it
names, with the --band-high/--band-medium thresholds (by default relative
to the model's training label rate, as 'caserisk models register' does). A target with no
champion at all gets the newest imported version as champion; otherwise
promotion stays a deliberate act.

The web pages (package web: queues, cases, residents, models, users and
the audit log) are served beside the API unless --pages=false; they apply
the same purpose rules and audit log. Staff sign in through the council's
OpenID Connect provider when --oidc-issuer is given (with --oidc-client-id,
--oidc-redirect-url, --oidc-role-map and the client secret in
--oidc-client-secret-file or CASERISK_OIDC_CLIENT_SECRET): a user is made
or updated at each sign-in, with the role of their groups. Access tokens
(caserisk users add) sign in too: they are for the API's machine clients,
service accounts and the demo.

--data DIR enables POST /api/v1/score-runs over that directory of contract
CSV files.

SIGTERM or Ctrl-C drains: /readyz answers 503 at once, the service serves
on for --drain-delay (so a load balancer checking /readyz stops sending it
requests; by default 5 s on PostgreSQL and none on SQLite, which runs one
process), then stops taking connections and lets requests in flight
finish (up to --grace). Logs are structured (log/slog)
on stderr and never hold personal data.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := newLogger(logFormat, logLevel)
			if err != nil {
				return usagef("%s: %v", cmd.CommandPath(), err)
			}
			if cmd.Flags().Changed("band-high") != cmd.Flags().Changed("band-medium") {
				return usagef("%s: give both --band-high and --band-medium, or neither", cmd.CommandPath())
			}
			if err := champion.ValidateBands(bands); bands != (store.Bands{}) && err != nil {
				return usagef("%s: --band-high/--band-medium: %v", cmd.CommandPath(), err)
			}
			oc, err := oidcf.config(cmd, os.Getenv)
			if err != nil {
				return usagef("%s: %v", cmd.CommandPath(), err)
			}
			if oc != nil && !pages {
				return usagef("%s: --oidc-issuer signs in to the pages: drop --pages=false", cmd.CommandPath())
			}
			ctx := cmd.Context()
			st, err := store.Open(ctx, dbURL)
			if err != nil {
				return err
			}
			defer st.Close()
			pol, err := readPolicy(policyPath)
			if err != nil {
				return usagef("%s: --policy: %v", cmd.CommandPath(), err)
			}
			if modelsDir != "" {
				c, err := core.New(core.Config{Store: st, Policy: pol, Logger: log})
				if err != nil {
					return err
				}
				imported, err := c.ImportModels(ctx, core.Operator(by), modelsDir, bands)
				if cerr := c.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
				for _, m := range imported {
					log.Info("model artifact", "file", m.Path, "target", string(m.Target), "version", m.Version,
						"registered", m.New, "promoted", m.Promoted)
				}
			}
			cfg := api.Config{Store: st, Load: champion.LoadArtifact, Logger: log, Policy: pol, MaxBodyBytes: maxBody,
				MaxRows: maxRows, MaxReasons: maxReasons, AuthCacheTTL: authCache, RefreshEvery: refresh, ShutdownGrace: grace,
				DrainDelay: drain}
			if !cmd.Flags().Changed("drain-delay") && st.Dialect() == store.SQLite {
				cfg.DrainDelay = 0 // one process: no balancer to wait for
			}
			if pages {
				cfg.Pages = web.MountWith(web.Options{Logger: log, OIDC: oc})
			}
			if dataDir != "" {
				r, err := batch.New(batch.Config{Store: st, Load: champion.LoadArtifact, DataDir: dataDir, Capacity: capacity, Logger: log})
				if err != nil {
					return err
				}
				cfg.Runner = r
			}
			srv, err := api.New(ctx, cfg)
			if err != nil {
				return err
			}
			defer srv.Close()
			return srv.Run(ctx, addr)
		},
	}
	addStoreFlag(cmd, &dbURL)
	addByFlag(cmd, &by, "imports models")
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "HOST:PORT to listen on")
	f.StringVar(&policyPath, "policy", "", "a purpose policy file (caserisk users policy prints the default to edit); default: the built-in policy")
	f.StringVar(&modelsDir, "models", "", "directory of model artifacts (*.json) to register at start")
	f.StringVar(&dataDir, "data", "", "directory of contract CSV files for score runs from the API")
	f.Float64Var(&bands.High, "band-high", 0, "for imported models: calibrated probability at and above which a live score is high (default 4x the training label rate, at most 0.9)")
	f.Float64Var(&bands.Medium, "band-medium", 0, "for imported models: calibrated probability at and above which a live score is medium (default 2x the training label rate, at most 0.6)")
	f.IntVar(&capacity, "capacity", 100, "cases a score run from the API opens per target when the request does not say")
	f.IntVar(&maxRows, "max-rows", api.DefaultMaxRows, "most rows in one POST /score (the default fits the default --max-body)")
	f.IntVar(&maxReasons, "max-reasons", 10, "most reasons per row in one POST /score")
	f.Int64Var(&maxBody, "max-body", api.DefaultMaxBodyBytes, "largest request body in bytes")
	f.DurationVar(&authCache, "auth-cache", 10*time.Second, "how long a verified token is trusted before the database is asked again")
	f.DurationVar(&refresh, "refresh", 5*time.Second, "how often the registry is re-read for champions promoted elsewhere")
	f.DurationVar(&grace, "grace", 15*time.Second, "how long shutdown waits for requests in flight")
	f.DurationVar(&drain, "drain-delay", 5*time.Second, "on SIGTERM, how long to serve on after /readyz turns 503, before closing the listener (longer than the load balancer takes to mark the replica down; default none on SQLite)")
	f.BoolVar(&pages, "pages", true, "serve the web pages for caseworkers, fraud officers, data scientists and administrators beside the API")
	oidcf = addOIDCFlags(cmd)
	f.StringVar(&logFormat, "log-format", "json", "log format: json or text")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

// newLogger returns a slog logger on stderr.
func newLogger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want json or text", format)
}
