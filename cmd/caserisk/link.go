package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"caserisk/features/contract"
	"caserisk/features/link"
	"caserisk/features/link/assemble"
	"caserisk/features/link/review"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// linkageDir is the subdirectory of link's output holding the linkage's
// own files (pairs, review queue, model, statistics, evaluation), apart from
// the joined data in contract form.
const linkageDir = "linkage"

func newLinkCmd() *cobra.Command {
	var (
		raw, out, configPath, decisionsPath, oracle, linksFrom string
		workers                                                int
		asJSON, allowBroken                                    bool
	)
	cmd := &cobra.Command{
		Use:   "link",
		Short: "Link raw source extracts into residents (the Residents Index) and write the joined data",
		Long: `Link the person records of a council's source systems into residents and
write the joined data in the data contract's form, ready for 'caserisk features'.

--raw DIR holds the raw extracts (see "Raw extracts" in CONTRACT.md): for each
source, <service>.csv with record_id, and <service>_people.csv, the source's
person records; plus properties.csv. 'caserisk generate --raw' writes one.

Linkage is Fellegi–Sunter, as in Splink: blocking rules find candidate pairs;
each field is compared at levels (exact, Jaro–Winkler bands, nicknames, date
swaps, postcode sector, ...); m and u probabilities are estimated without
labels (u from random pairs, m by expectation–maximisation), or fixed or
seeded from --config; pairs at or above the threshold are linked, strongest
first, and a guard refuses merges that would join records with strong
evidence against being one person (chains through twins, say).

OUT receives residents.csv, residences.csv (inferred from dated UPRNs),
properties.csv and every service file with resident_id, plus manifest.json,
and OUT/linkage/: pairs.csv (scored pairs with each field's level and match
weight: why two records were linked), review.csv (the clerical review queue:
one pair for each of the most uncertain decisions near the threshold that
would join two residents or split one, at most review.size of them, 500 by
default: a data steward's week) and review.json (what the queue leaves to
the model, counted), model.json (m, u and weights), stats.json, and
links.csv (each raw record's resident_id: the index's key table, which
--links-from takes).

--decisions FILE reuses a reviewer's decisions (a filled review.csv, or the
file 'caserisk link review' writes): accepted pairs are linked, rejected
pairs never end in one resident.

--oracle FILE (a generated borough's oracle/links.csv) reports pairwise and
cluster precision, recall and F1, false merges and missed links, and writes
OUT/linkage/evaluation.json.

--links-from FILE skips linkage and joins with a given mapping
(source,record_id,resident_id): a council's existing master-data links, or the
oracle's true links to compare with.

Every raw extract is read first and counted per file (rows read, rejected,
lines lost) on standard error; a file that cannot be read as a whole (a
duplicate or missing required header column, a quote left open that runs
over the lines after it) stops the command with exit code 1 unless
--allow-broken-files (a people or service file whose header is broken
stops it even then: linkage cannot go on without it).

Nothing personal is printed or logged: counts and ids only.`,
		Example: `  caserisk generate --residents 20000 --seed 7 --as-of 2025-01-01 --out data/borough --raw
  caserisk link --raw data/borough/raw --out data/linked --oracle data/borough/oracle/links.csv
  caserisk link review --raw data/borough/raw --queue data/linked/linkage/review.csv --decisions decisions.csv
  caserisk link --raw data/borough/raw --out data/linked --decisions decisions.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "raw", "out"); err != nil {
				return err
			}
			if linksFrom != "" && (configPath != "" || decisionsPath != "") {
				return usagef("link: --links-from joins with a given mapping; it takes no --config or --decisions")
			}
			ctx := cmd.Context()
			stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
			var progress io.Writer
			if f, ok := stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
				progress = stderr
			}
			start := time.Now()
			if err := checkExtracts(ctx, stderr, raw, contract.Default().RawFiles(), allowBroken); err != nil {
				return fmt.Errorf("link: %w", err)
			}
			if err := os.MkdirAll(filepath.Join(out, linkageDir), 0o755); err != nil {
				return fmt.Errorf("link: %w", err)
			}

			var ids map[assemble.Key]string
			var res *link.Result
			if linksFrom != "" {
				m, err := link.ReadTruth(linksFrom)
				if err != nil {
					return fmt.Errorf("link: --links-from: %w", err)
				}
				ids = m
			} else {
				cfg := link.DefaultConfig()
				if configPath != "" {
					c, err := link.ReadConfig(configPath)
					if err != nil {
						return usagef("link: --config: %v", err)
					}
					cfg = c
				}
				if workers > 0 {
					cfg.Workers = workers
				}
				var decisions []link.Decision
				if decisionsPath != "" {
					d, err := readDecisionsFile(decisionsPath)
					if err != nil {
						return usagef("link: --decisions: %v", err)
					}
					decisions = d
				}
				recs, err := link.ReadRecords(ctx, raw)
				if err != nil {
					return fmt.Errorf("link: %w", err)
				}
				res, err = link.Link(ctx, recs, cfg, decisions)
				if err != nil {
					return fmt.Errorf("link: %w", err)
				}
				if err := res.WriteFiles(filepath.Join(out, linkageDir)); err != nil {
					return fmt.Errorf("link: %w", err)
				}
				ids = res.ResidentIDs()
			}

			rep, err := assemble.Write(ctx, raw, out, ids, assemble.Options{Workers: workers, Progress: progress})
			if err != nil {
				return fmt.Errorf("link: %w", err)
			}

			summary := linkSummary{Seconds: time.Since(start).Seconds(), Residents: rep.Residents, Residences: rep.Residences}
			if res != nil {
				s := res.Stats
				summary.Stats = &s
			}
			if oracle != "" {
				truth, err := link.ReadTruth(oracle)
				if err != nil {
					return fmt.Errorf("link: --oracle: %w", err)
				}
				if res == nil {
					return usagef("link: --oracle evaluates a linkage; with --links-from there is none")
				}
				m := link.Evaluate(res, truth)
				summary.Evaluation = &m
				if err := link.WriteEvaluation(filepath.Join(out, linkageDir), m); err != nil {
					return fmt.Errorf("link: %w", err)
				}
			}
			if asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(summary)
			}
			printLinkSummary(stdout, out, &summary)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&raw, "raw", "", "directory of raw source extracts (required)")
	f.StringVar(&out, "out", "", "output directory for the joined data (required)")
	f.StringVar(&configPath, "config", "", "linkage settings as YAML (see 'caserisk link config')")
	f.StringVar(&decisionsPath, "decisions", "", "clerical review decisions to reuse (CSV)")
	f.StringVar(&oracle, "oracle", "", "true links (a generated borough's oracle/links.csv): report precision and recall")
	f.StringVar(&linksFrom, "links-from", "", "join with this mapping (source,record_id,resident_id) instead of linking")
	f.IntVar(&workers, "workers", 0, "goroutines (0: as many as cores); the output does not depend on it")
	f.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	addAllowBrokenFlag(f, &allowBroken)
	cmd.AddCommand(newLinkReviewCmd(), newLinkConfigCmd())
	return cmd
}

// linkSummary is what 'caserisk link' prints: counts only.
type linkSummary struct {
	Seconds    float64       `json:"seconds"`
	Residents  int           `json:"residents"`
	Residences int           `json:"residences"`
	Stats      *link.Stats   `json:"linkage,omitempty"`
	Evaluation *link.Metrics `json:"evaluation,omitempty"`
}

func printLinkSummary(w io.Writer, out string, s *linkSummary) {
	if st := s.Stats; st != nil {
		fmt.Fprintf(w, "linked %d person records (%d distinct) through %d candidate pairs into %d residents; %d merges refused by the guard\n",
			st.Records, st.Nodes, st.CandidatePairs, st.Clusters, st.Refused)
	}
	fmt.Fprintf(w, "wrote %d residents and %d residences with every service file to %s (linkage files in %s) in %.1f s\n",
		s.Residents, s.Residences, out, filepath.Join(out, linkageDir), s.Seconds)
	if m := s.Evaluation; m != nil {
		fmt.Fprintf(w, "against the oracle: pairwise precision %.4f, recall %.4f, F1 %.4f; clusters precision %.4f, recall %.4f; "+
			"%d false merges (%d people wrongly joined), %d people split; blocking recall %.4f\n",
			m.Precision, m.Recall, m.F1, m.ClusterPrecision, m.ClusterRecall, m.FalseMerges, m.PeopleWronglyJoined, m.MissedLinks, m.BlockingRecall)
	}
	if st := s.Stats; st != nil {
		r := st.Review
		fmt.Fprintf(w, "review queue: %d pairs, one for each of the most uncertain of %d decisions that %d pairs near the threshold come down to; %d decisions left as the model made them (%d kept as one resident, %d as two)\n",
			r.Queued, r.Decisions, r.NearThreshold, r.ByModel, r.ByModelLinked, r.ByModelApart)
		if m := s.Evaluation; m != nil {
			fmt.Fprintf(w, "against the oracle, %d of the %d queued decisions are the model's mistakes (%d of all %d decisions near the threshold)\n",
				m.ReviewQueuedWrong, m.ReviewQueued, m.ReviewDecisionsWrong, m.ReviewDecisions)
		}
	}
}

func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	b := bufio.NewWriterSize(f, 1<<20)
	if err := write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := b.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func readDecisionsFile(path string) ([]link.Decision, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return link.ReadDecisions(f, path)
}

func newLinkConfigCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Print the default linkage settings as YAML, to edit and pass with --config",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			enc := yaml.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent(2)
			if err := enc.Encode(link.DefaultConfig()); err != nil {
				return err
			}
			return enc.Close()
		},
	}
}

func newLinkReviewCmd() *cobra.Command {
	var raw, queue, decisions string
	var limit int
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Review the queue of pairs near the threshold: accept or reject each, kept for the next link run",
		Long: `Walk the clerical review queue (OUT/linkage/review.csv from 'caserisk link'):
one pair for each of the most uncertain decisions to join two residents or
split one, the most uncertain first. For each pair not yet decided, show the two
person records side by side with each field's comparison level and match
weight, and ask: accept (one person), reject (two people), skip, or quit.

Decisions are appended to --decisions FILE at once (ids and the decision only,
no personal details), so quitting loses nothing; pairs already in it are not
asked again. Pass the file to 'caserisk link --decisions FILE': accepted pairs
are linked and rejected pairs kept apart on every later run.

The records' details are shown to the reviewer on this terminal only; they are
never written to the decisions file or logged. Review with the access your
council's information governance grants for clerical review.

To review in the web app instead, load the queue into the service's database
with 'caserisk link review import'; a data steward works it at
/linkage/review, and 'caserisk link review export' writes the decisions in the
form --decisions reads.`,
		Example: "  caserisk link review --raw data/borough/raw --queue data/linked/linkage/review.csv --decisions decisions.csv",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "raw", "queue", "decisions"); err != nil {
				return err
			}
			return runReview(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), raw, queue, decisions, limit)
		},
	}
	f := cmd.Flags()
	f.StringVar(&raw, "raw", "", "directory of raw source extracts the queue was made from (required)")
	f.StringVar(&queue, "queue", "", "the review queue, OUT/linkage/review.csv (required)")
	f.StringVar(&decisions, "decisions", "", "decisions file to append to; created if absent (required)")
	f.IntVar(&limit, "limit", 0, "stop after this many decisions (0: the whole queue)")
	cmd.AddCommand(newLinkReviewImportCmd(), newLinkReviewExportCmd())
	return cmd
}

// runReview is the interactive review: it asks about each undecided pair of
// the queue on w, reads answers from in, and appends each decision to the
// decisions file at once.
func runReview(ctx context.Context, in io.Reader, w io.Writer, raw, queuePath, decisionsPath string, limit int) error {
	queue, err := review.ReadQueue(queuePath)
	if err != nil {
		return fmt.Errorf("link review: %w", err)
	}
	decided, err := review.ReadDecisions(decisionsPath)
	if err != nil {
		return fmt.Errorf("link review: %w", err)
	}
	todo := review.Pending(queue, decided)
	if len(todo) == 0 {
		fmt.Fprintf(w, "nothing to review: the %d pairs of the queue are all decided in %s\n", len(queue), decisionsPath)
		return nil
	}
	people, err := review.People(ctx, raw, review.Keys(todo))
	if err != nil {
		return fmt.Errorf("link review: %w", err)
	}
	app, err := review.OpenAppender(decisionsPath)
	if err != nil {
		return fmt.Errorf("link review: %w", err)
	}
	defer app.Close()

	sc := bufio.NewScanner(in)
	n := 0
	fmt.Fprintf(w, "%d pairs to review (%d already decided)\n", len(todo), len(queue)-len(todo))
	for i, p := range todo {
		if limit > 0 && n >= limit {
			break
		}
		a, okA := people[p.A]
		b, okB := people[p.B]
		showPair(w, i+1, len(todo), &p, personOrNil(a, okA), personOrNil(b, okB))
		verdict := ask(w, sc)
		if verdict == "quit" {
			break
		}
		if verdict == "skip" {
			continue
		}
		if err := app.Append(review.Decision{A: p.A, B: p.B, Accept: verdict == "accept", At: time.Now()}); err != nil {
			return fmt.Errorf("link review: %w", err)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("link review: reading answers: %w", err)
	}
	fmt.Fprintf(w, "%d decisions added to %s; pass it to 'caserisk link --decisions' to use them\n", n, decisionsPath)
	return app.Close()
}

// ask asks for a verdict until it gets one: accept, reject, skip or quit
// (also at the end of the input).
func ask(w io.Writer, sc *bufio.Scanner) string {
	for {
		fmt.Fprint(w, "[a]ccept: one person, [r]eject: two people, [s]kip, [q]uit? ")
		if !sc.Scan() {
			return "quit"
		}
		switch strings.ToLower(strings.TrimSpace(sc.Text())) {
		case "a", "accept":
			return "accept"
		case "r", "reject":
			return "reject"
		case "s", "skip":
			return "skip"
		case "q", "quit":
			return "quit"
		}
	}
}

func personOrNil(p review.Person, ok bool) *review.Person {
	if !ok {
		return nil
	}
	return &p
}

func showPair(w io.Writer, n, total int, p *review.Pair, a, b *review.Person) {
	now := "not linked"
	if p.Linked {
		now = "linked"
	}
	fmt.Fprintf(w, "\npair %d of %d: match weight %.3f, probability %s (%s now)\n", n, total, p.Weight,
		strconv.FormatFloat(p.Prob, 'g', -1, 64), now)
	fmt.Fprintf(w, "  %-14s %-32s %-32s\n", "", p.A.Source+" "+p.A.RecordID, p.B.Source+" "+p.B.RecordID)
	va, vb := cells(a), cells(b)
	for i, c := range review.DetailColumns() {
		fmt.Fprintf(w, "  %-14s %-32s %-32s\n", c, va[i], vb[i])
	}
	fmt.Fprintln(w, "  comparison     level                            weight")
	for _, f := range p.Fields {
		fmt.Fprintf(w, "  %-14s %-32s %.3f  %s\n", f.Name, f.Level, f.Weight, review.LevelText(f.Name, f.Level))
	}
}

// cells returns a record's details for display: "—" for a missing value,
// "(record not found)" for a record the raw extracts lack.
func cells(p *review.Person) []string {
	out := make([]string, len(review.DetailColumns()))
	for i := range out {
		out[i] = "(record not found)"
		if p != nil {
			out[i] = cmp.Or(p.Values()[i], "—")
		}
	}
	return out
}

func newLinkReviewImportCmd() *cobra.Command {
	var dbURL, raw, queue, by string
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Load a review queue, with its records' details, into the service's database for review in the web app",
		Long: `Load the clerical review queue of a 'caserisk link' run (OUT/linkage/review.csv)
into the service's database, with the details of the person records it names
read from --raw and the queue's summary (review.json beside it: what it
leaves to the model), so that a data steward can review it at /linkage/review.

The import replaces the queue and the details held before (only the records
of the current queue are kept); decisions already made are kept, and a pair
imported again keeps its decision. The import is written to the audit log.
Nothing personal is printed: counts only.`,
		Example: "  caserisk link review import --db sqlite://./caserisk.db --raw data/borough/raw --queue data/linked/linkage/review.csv",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "raw", "queue"); err != nil {
				return err
			}
			ctx := cmd.Context()
			queuePairs, err := review.ReadQueue(queue)
			if err != nil {
				return fmt.Errorf("link review import: %w", err)
			}
			summary, err := review.ReadSummary(queue)
			if err != nil {
				return fmt.Errorf("link review import: %w", err)
			}
			people, err := review.People(ctx, raw, review.Keys(queuePairs))
			if err != nil {
				return fmt.Errorf("link review import: %w", err)
			}
			imp := store.LinkReviewFrom(queuePairs, summary, people)
			return withCore(ctx, dbURL, by, func(co *core.Core, a core.Actor) error {
				c, err := co.ImportLinkReview(ctx, a, imp)
				if err != nil {
					return fmt.Errorf("link review import: %w", err)
				}
				missing := 2*len(queuePairs) - countSides(queuePairs, people)
				fmt.Fprintf(cmd.OutOrStdout(), "imported %d pairs with the details of %d records (%d pair sides not found in %s); %d decided, %d left\n",
					c.Pairs, len(imp.People), missing, raw, c.Decided, c.Left())
				if sm := c.Summary; sm != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "the queue holds the %d most uncertain of %d decisions to join or split residents (%d pairs near the threshold); %d decisions are left as the model made them\n",
						c.Pairs, sm.Decisions, sm.NearThreshold, sm.ByModel)
				}
				return nil
			})
		},
	}
	addStoreFlag(cmd, &dbURL)
	addByFlag(cmd, &by, "imports the queue")
	f := cmd.Flags()
	f.StringVar(&raw, "raw", "", "directory of raw source extracts the queue was made from (required)")
	f.StringVar(&queue, "queue", "", "the review queue, OUT/linkage/review.csv (required)")
	return cmd
}

// countSides counts the pairs' records whose details were found.
func countSides(pairs []review.Pair, people map[assemble.Key]review.Person) int {
	n := 0
	for _, p := range pairs {
		for _, k := range []assemble.Key{p.A, p.B} {
			if _, ok := people[k]; ok {
				n++
			}
		}
	}
	return n
}

func newLinkReviewExportCmd() *cobra.Command {
	var dbURL, out, by string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the decisions made in the web app as a decisions file for 'caserisk link --decisions'",
		Long: `Write every decision reviewers made in the web app (including those on pairs
no longer in the imported queue), oldest first, as a decisions file: the two
records' keys, accept or reject, and when (no personal details, no reviewer
names; those stay in the database and its audit log). Pass the file to
'caserisk link --decisions'. The export is written to the audit log.`,
		Example: "  caserisk link review export --db sqlite://./caserisk.db --out decisions.csv\n" +
			"  caserisk link --raw data/borough/raw --out data/linked --decisions decisions.csv",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "out"); err != nil {
				return err
			}
			ctx := cmd.Context()
			return withCore(ctx, dbURL, by, func(c *core.Core, a core.Actor) error {
				ds, err := c.LinkDecisions(ctx, a)
				if err != nil {
					return fmt.Errorf("link review export: %w", err)
				}
				rows := make([]review.Decision, len(ds))
				for i, d := range ds {
					rows[i] = review.Decision{A: assemble.Key{Source: d.A.Source, RecordID: d.A.RecordID},
						B: assemble.Key{Source: d.B.Source, RecordID: d.B.RecordID}, Accept: d.Verdict == store.LinkAccept, At: d.At}
				}
				if err := writeFileWith(out, func(w io.Writer) error { return review.WriteDecisions(w, rows) }); err != nil {
					return fmt.Errorf("link review export: %w", err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %d decisions to %s; pass it to 'caserisk link --decisions'\n", len(rows), out)
				return nil
			})
		},
	}
	addStoreFlag(cmd, &dbURL)
	addByFlag(cmd, &by, "exports the decisions")
	cmd.Flags().StringVar(&out, "out", "", "decisions file to write (required)")
	return cmd
}
