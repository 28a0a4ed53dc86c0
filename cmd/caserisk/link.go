package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"caserisk/features/contract"
	"caserisk/features/link"
	"caserisk/features/link/assemble"
)

// linkageDir is the subdirectory of link's output holding the linkage's
// own files (pairs, review queue, model, statistics, evaluation), apart from
// the joined data in contract form.
const linkageDir = "linkage"

func newLinkCmd() *cobra.Command {
	var (
		raw, out, configPath, decisionsPath, oracle, linksFrom string
		workers                                                int
		asJSON                                                 bool
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
pairs near the threshold), model.json (m, u and weights), stats.json, and
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
				if err := writeLinkage(filepath.Join(out, linkageDir), res); err != nil {
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
				if err := writeJSONFile(filepath.Join(out, linkageDir, "evaluation.json"), m); err != nil {
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
}

// writeLinkage writes the linkage's own files into dir.
func writeLinkage(dir string, res *link.Result) error {
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"pairs.csv", res.WritePairs},
		{"review.csv", res.WriteReview},
		{"model.json", res.WriteModel},
	} {
		if err := writeFileWith(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	if err := writeLinks(filepath.Join(dir, "links.csv"), res.ResidentIDs()); err != nil {
		return err
	}
	return writeJSONFile(filepath.Join(dir, "stats.json"), res.Stats)
}

// writeLinks writes the mapping from each raw person record to its resident
// (source,record_id,resident_id, the oracle's layout, sorted), so a later run
// can join with it through --links-from.
func writeLinks(path string, ids map[assemble.Key]string) error {
	keys := make([]assemble.Key, 0, len(ids))
	for k := range ids {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b assemble.Key) int {
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		return strings.Compare(a.RecordID, b.RecordID)
	})
	return writeFileWith(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(contract.RawLinksHeader()); err != nil {
			return err
		}
		for _, k := range keys {
			if err := cw.Write([]string{k.Source, k.RecordID, ids[k]}); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
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

func writeJSONFile(path string, v any) error {
	return writeFileWith(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
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

// decisionsHeader is the header of the decisions file 'link review' keeps.
var decisionsHeader = []string{"source_a", "record_id_a", "source_b", "record_id_b", "decision", "decided_at"}

func newLinkReviewCmd() *cobra.Command {
	var raw, queue, decisions string
	var limit int
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Review the pairs near the threshold: accept or reject each, kept for the next link run",
		Long: `Walk the clerical review queue (OUT/linkage/review.csv from 'caserisk link'),
closest to the threshold first. For each pair not yet decided, show the two
person records side by side with each field's comparison level and match
weight, and ask: accept (one person), reject (two people), skip, or quit.

Decisions are appended to --decisions FILE at once (ids and the decision only,
no personal details), so quitting loses nothing; pairs already in it are not
asked again. Pass the file to 'caserisk link --decisions FILE': accepted pairs
are linked and rejected pairs kept apart on every later run.

The records' details are shown to the reviewer on this terminal only; they are
never written to the decisions file or logged. Review with the access your
council's information governance grants for clerical review.`,
		Example: "  caserisk link review --raw data/borough/raw --queue data/linked/linkage/review.csv --decisions decisions.csv",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "raw", "queue", "decisions"); err != nil {
				return err
			}
			return runReview(cmd.InOrStdin(), cmd.OutOrStdout(), raw, queue, decisions, limit)
		},
	}
	f := cmd.Flags()
	f.StringVar(&raw, "raw", "", "directory of raw source extracts the queue was made from (required)")
	f.StringVar(&queue, "queue", "", "the review queue, OUT/linkage/review.csv (required)")
	f.StringVar(&decisions, "decisions", "", "decisions file to append to; created if absent (required)")
	f.IntVar(&limit, "limit", 0, "stop after this many decisions (0: the whole queue)")
	return cmd
}

// queuePair is one row of the review queue.
type queuePair struct {
	line   int
	a, b   assemble.Key
	weight string
	prob   string
	linked bool        // the run that made the queue linked the two
	fields [][3]string // field, level, weight
}

func readQueue(path string) ([]queuePair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: %w", path, err)
	}
	col := func(name string) (int, error) {
		i := slices.Index(head, name)
		if i < 0 {
			return 0, fmt.Errorf("%s:1: header lacks column %s: is this a review queue from 'caserisk link'?", path, name)
		}
		return i, nil
	}
	var at [7]int
	for i, n := range []string{"source_a", "record_id_a", "source_b", "record_id_b", "match_weight", "match_probability", "linked"} {
		if at[i], err = col(n); err != nil {
			return nil, err
		}
	}
	var fieldCols [][3]int // name index unused; level col, weight col
	var fieldNames []string
	for i, h := range head {
		if name, ok := strings.CutSuffix(h, "_level"); ok {
			if w := slices.Index(head, name+"_weight"); w >= 0 {
				fieldCols = append(fieldCols, [3]int{0, i, w})
				fieldNames = append(fieldNames, name)
			}
		}
	}
	var out []queuePair
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := cr.FieldPos(0)
		p := queuePair{line: line,
			a:      assemble.Key{Source: rec[at[0]], RecordID: rec[at[1]]},
			b:      assemble.Key{Source: rec[at[2]], RecordID: rec[at[3]]},
			weight: rec[at[4]], prob: rec[at[5]], linked: rec[at[6]] == "Y"}
		if p.a.Source == "" || p.a.RecordID == "" || p.b.Source == "" || p.b.RecordID == "" {
			return nil, fmt.Errorf("%s:%d: a pair without both sources and record ids", path, line)
		}
		for k, fc := range fieldCols {
			p.fields = append(p.fields, [3]string{fieldNames[k], rec[fc[1]], rec[fc[2]]})
		}
		out = append(out, p)
	}
}

// pairKey orders a pair's two keys so (a, b) and (b, a) are one pair.
func pairKey(a, b assemble.Key) [2]assemble.Key {
	if a.Source > b.Source || (a.Source == b.Source && a.RecordID > b.RecordID) {
		a, b = b, a
	}
	return [2]assemble.Key{a, b}
}

// rawPerson is what review shows of a person record.
type rawPerson map[string]string

// readPeopleFor reads the raw person records named by keys.
func readPeopleFor(raw string, keys map[assemble.Key]bool) (map[assemble.Key]rawPerson, error) {
	bySource := map[string]bool{}
	for k := range keys {
		bySource[k.Source] = true
	}
	out := map[assemble.Key]rawPerson{}
	for _, f := range contract.Default().RawSources() {
		if !bySource[f.Service] {
			continue
		}
		pf := contract.RawPeople(f)
		r, err := contract.Open(raw, pf)
		if err != nil {
			return nil, err
		}
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			var re *contract.RowError
			if errors.As(err, &re) {
				continue // the linkage run reported it; review shows what it can
			}
			if err != nil {
				r.Close()
				return nil, err
			}
			k := assemble.Key{Source: f.Service, RecordID: row.Str[0]}
			if !keys[k] {
				continue
			}
			p := rawPerson{}
			for i, c := range pf.Columns {
				p[c.Name] = row.Str[i]
			}
			out[k] = p
		}
		if err := r.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func runReview(in io.Reader, w io.Writer, raw, queuePath, decisionsPath string, limit int) error {
	queue, err := readQueue(queuePath)
	if err != nil {
		return fmt.Errorf("link review: %w", err)
	}
	done := map[[2]assemble.Key]bool{}
	if _, err := os.Stat(decisionsPath); err == nil {
		ds, err := readDecisionsFile(decisionsPath)
		if err != nil {
			return fmt.Errorf("link review: %w", err)
		}
		for _, d := range ds {
			done[pairKey(d.A, d.B)] = true
		}
	}
	var todo []queuePair
	keys := map[assemble.Key]bool{}
	for _, p := range queue {
		if done[pairKey(p.a, p.b)] {
			continue
		}
		todo = append(todo, p)
		keys[p.a], keys[p.b] = true, true
	}
	if len(todo) == 0 {
		fmt.Fprintf(w, "nothing to review: the %d pairs of the queue are all decided in %s\n", len(queue), decisionsPath)
		return nil
	}
	people, err := readPeopleFor(raw, keys)
	if err != nil {
		return fmt.Errorf("link review: %w", err)
	}

	f, err := os.OpenFile(decisionsPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("link review: %w", err)
	}
	defer f.Close()
	cw := csv.NewWriter(f)
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		if err := cw.Write(decisionsHeader); err != nil {
			return fmt.Errorf("link review: %w", err)
		}
	}

	sc := bufio.NewScanner(in)
	decided := 0
	fmt.Fprintf(w, "%d pairs to review (%d already decided)\n", len(todo), len(queue)-len(todo))
	for i, p := range todo {
		if limit > 0 && decided >= limit {
			break
		}
		showPair(w, i+1, len(todo), p, people[p.a], people[p.b])
		var verdict string
	ask:
		for {
			fmt.Fprint(w, "[a]ccept: one person, [r]eject: two people, [s]kip, [q]uit? ")
			if !sc.Scan() {
				verdict = "quit"
				break
			}
			switch strings.ToLower(strings.TrimSpace(sc.Text())) {
			case "a", "accept":
				verdict = "accept"
				break ask
			case "r", "reject":
				verdict = "reject"
				break ask
			case "s", "skip":
				verdict = "skip"
				break ask
			case "q", "quit":
				verdict = "quit"
				break ask
			}
		}
		if verdict == "quit" {
			break
		}
		if verdict == "skip" {
			continue
		}
		if err := cw.Write([]string{p.a.Source, p.a.RecordID, p.b.Source, p.b.RecordID, verdict, time.Now().UTC().Format(time.RFC3339)}); err != nil {
			return fmt.Errorf("link review: %w", err)
		}
		cw.Flush() // kept at once: quitting loses nothing
		if err := cw.Error(); err != nil {
			return fmt.Errorf("link review: %w", err)
		}
		decided++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("link review: reading answers: %w", err)
	}
	fmt.Fprintf(w, "%d decisions added to %s; pass it to 'caserisk link --decisions' to use them\n", decided, decisionsPath)
	return f.Close()
}

// reviewFields are the person-record columns review shows, in order.
var reviewFields = []string{"given_name", "family_name", "date_of_birth", "sex", "address", "postcode", "uprn", "ni_number", "date_of_death"}

func showPair(w io.Writer, n, total int, p queuePair, a, b rawPerson) {
	now := "not linked"
	if p.linked {
		now = "linked"
	}
	fmt.Fprintf(w, "\npair %d of %d: match weight %s, probability %s (%s now)\n", n, total, p.weight, p.prob, now)
	fmt.Fprintf(w, "  %-14s %-32s %-32s\n", "", p.a.Source+" "+p.a.RecordID, p.b.Source+" "+p.b.RecordID)
	for _, c := range reviewFields {
		fmt.Fprintf(w, "  %-14s %-32s %-32s\n", c, cell(a, c), cell(b, c))
	}
	fmt.Fprintln(w, "  comparison     level                            weight")
	for _, f := range p.fields {
		fmt.Fprintf(w, "  %-14s %-32s %s\n", f[0], f[1], f[2])
	}
}

func cell(p rawPerson, col string) string {
	if p == nil {
		return "(record not found)"
	}
	if v := p[col]; v != "" {
		return v
	}
	return "—"
}
